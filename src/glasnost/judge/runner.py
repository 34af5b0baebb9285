"""Judging a stored run: read its responses, look up concepts in the run's own bank snapshot, write verdicts.

Re-judging never calls the audited models: only the store and (for LLM judges) the judge's own target.
Verdicts are keyed by (response key, judge id) and carry the digest of the response content they judged; a
response that already has an ok verdict by this judge id on its current content is skipped (the verdicts
table is the cache of LLM calls). A judge_error verdict is retried: an error is not a result. A verdict of
a response replaced since (an ``error`` answered by a rerun or a bundle import) is stale: judged again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, Callable

from glasnost.judge.item import Item
from glasnost.records import Concept, Response, Verdict, response_digest
from glasnost.store.base import Store

BATCH = 256
Progress = Callable[[int, int], None]


def run_concepts(store: Store, run_id: str) -> tuple[str, dict[str, Concept]]:
    """(full run id, concepts by id) from the bank snapshot the run recorded."""
    manifest = store.get_run(run_id)
    snapshot = store.get_bank_snapshot(manifest.bank.fingerprint) or {}
    concepts = {}
    for raw in snapshot.get("concepts", []):
        c = Concept.model_validate(raw)
        concepts[c.id] = c
    return manifest.run_id, concepts


def stamped(verdicts: Any, responses: list[Response]) -> list[Verdict]:
    """Each verdict with the digest of the response it judged (read before judging, never after)."""
    digests = {r.key: response_digest(r) for r in responses}
    return [v.model_copy(update={"response_digest": digests[v.response_key]}) for v in verdicts]


def _items(responses: list[Response], concepts: dict[str, Concept]) -> list[Item]:
    return [Item.from_response(r, concepts.get(r.concept_id)) for r in responses]


def _stored_keys(store: Store, run_id: str) -> list[str]:
    """The keys of the run's plan that have a stored response, in plan order (no response is decoded)."""
    keys = store.run_keys(run_id)
    stored = store.stored_outcomes(keys)
    return [k for k in keys if k in stored]


async def _judge_pending(store: Store, run_id: str, judge: Any, concepts: dict[str, Concept],
                         progress: Progress | None, stored: list[str]) -> tuple[int, int]:
    # Which responses have an ok verdict is read from the verdicts' indexed columns, never by decoding them;
    # when most are judged already (judged while the audit ran), only the others are read, by key.
    done_keys = {k for k, _label, status in store.iter_verdict_labels(run_id, judge.id) if status == "ok"}
    pending = [k for k in stored if k not in done_keys]
    total = len(stored)
    judged = 0
    skipped = total - len(pending)
    batch: list[Response] = []

    async def flush() -> None:
        nonlocal judged
        if not batch:
            return
        verdicts = await judge.judge_many(_items(batch, concepts))
        store.put_verdicts(stamped(verdicts, batch))
        judged += len(batch)
        batch.clear()
        if progress:
            progress(judged + skipped, total)

    if len(pending) <= max(BATCH, total // 4):
        todo = (r for r in map(store.get_response, pending) if r is not None)
    else:
        todo = (r for r in store.iter_responses(run_id) if r.key not in done_keys)
    for response in todo:
        batch.append(response)
        if len(batch) >= BATCH:
            await flush()
    await flush()
    if progress:
        progress(judged + skipped, total)
    return judged, skipped


async def ajudge_run(store: Store, run_id: str, spec: str = "default", progress: Progress | None = None,
                     judge: Any = None) -> dict[str, Any]:
    from glasnost.judge import get_judge
    from glasnost.judge.panel import PanelJudge, agreement

    run_id, concepts = run_concepts(store, run_id)
    judge = judge if judge is not None else get_judge(spec)
    stored = _stored_keys(store, run_id)
    total = len(stored)
    result: dict[str, Any] = {"run_id": run_id, "judge": judge.id, "responses": total,
                              "stale": store.stale_verdicts(run_id, judge.id)}
    try:
        if isinstance(judge, PanelJudge):
            for member in judge.members:
                await _judge_pending(store, run_id, member, concepts, progress, stored)
            by_member = [{v.response_key: v for v in store.iter_verdicts(run_id, m.id)} for m in judge.members]
            verdicts: list[Verdict] = []
            pairs_a, pairs_b = [], []
            for response in store.iter_responses(run_id):
                a, b = (m.get(response.key) for m in by_member)
                pairs_a.append(a)
                pairs_b.append(b)
                combined = judge.combine(Item.from_response(response, concepts.get(response.concept_id)), [a, b])
                verdicts.append(combined.model_copy(update={"response_digest": response_digest(response)}))
                if len(verdicts) >= BATCH:
                    store.put_verdicts(verdicts)
                    verdicts = []
            store.put_verdicts(verdicts)
            result["agreement"] = agreement(pairs_a, pairs_b)
            result["members"] = [m.id for m in judge.members]
            result["judged"], result["skipped"] = total, 0
        else:
            result["judged"], result["skipped"] = await _judge_pending(store, run_id, judge, concepts, progress, stored)
    finally:
        closer = getattr(judge, "aclose", None)
        if closer is not None:
            await closer()
    labels: Counter[str] = Counter()
    errors = 0
    first_error: str | None = None
    for key, label, status in store.iter_verdict_labels(run_id, judge.id):  # indexed columns, nothing decoded
        if status == "judge_error":
            errors += 1
            if errors == 1:  # one line, bounded: a provider's message or an unparseable reply is quoted
                v = store.verdicts_for([key], judge.id).get(key)
                detail = v.detail.get("error") if v is not None else None
                first_error = " ".join(str(detail or "no reason recorded").split())[:300]
        else:
            labels[label] += 1
    result["labels"] = dict(labels)
    result["judge_errors"] = errors
    result["first_judge_error"] = first_error  # the reason, so a user can fix it (key, endpoint, model name)
    return result


def judge_run(store: Store, run_id: str, spec: str = "default", progress: Progress | None = None,
              judge: Any = None) -> dict[str, Any]:
    """Judge a run's responses and write verdicts; returns counts by label (and agreement for a panel).

    Synchronous wrapper around ``ajudge_run`` (use that one from inside an event loop)."""
    return asyncio.run(ajudge_run(store, run_id, spec, progress, judge))
