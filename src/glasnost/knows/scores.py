"""White-box probes of local targets: likelihoods of given continuations, computed without generating.

- ``options``: for each mcq concept and language, the log-likelihood of each option's text as the
  assistant's answer to the question (the chat template with the user turn, then the option), divided by
  its token count so that long options are not penalised for their length. The model "knows" when the
  correct option is the most likely one.
- ``prefill``: for each prefill pair of a knowledge concept, after the neutral prefix in the concept's
  language (raw text, no chat template: the weights' own continuation, not the assistant persona), the
  per-token log-likelihood of the documented continuation against the official-line one.

Each score is keyed like a work item (method, concept, language, text scored, target identity and, for
options, the system prompt) and stored once: running the same command again computes only missing or
failed scores. Sampling settings do not enter the key: nothing is sampled.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from glasnost.bank.load import Bank
from glasnost.knows.kinds import KindSelection
from glasnost.knows.mcq import option_texts
from glasnost.records import TargetSpec, sha256_json, utcnow
from glasnost.store.base import Store
from glasnost.targets.base import Target, build_messages

SCORE_KEY_VERSION = 1
COMMIT_EVERY = 32
Method = Literal["options", "prefill"]


@dataclass(frozen=True, slots=True)
class ScoreItem:
    key: str
    method: Method
    concept_id: str
    lang: str
    target: TargetSpec
    context: str  # the question (options) or the neutral prefix (prefill)
    continuations: tuple[str, ...]  # options in bank order, or (documented, official)
    correct: int  # index of the correct option / the documented continuation
    pair_index: int = 0
    system_prompt: str | None = None


class ScoreRecord(BaseModel):
    """One stored white-box score (model output is not involved: every string here comes from the bank)."""

    model_config = ConfigDict(extra="forbid")
    key: str
    run_id: str
    method: Method
    concept_id: str
    lang: str
    target_id: str
    target: dict[str, Any]
    pair_index: int = 0
    context: str
    continuations: list[str]
    correct: int
    loglik: list[float] | None = None  # mean log-likelihood per token of each continuation
    status: Literal["ok", "error"] = "ok"
    error: str | None = None
    created_at: str = Field(default_factory=lambda: utcnow().isoformat())


def score_key(method: str, concept_id: str, lang: str, context: str, continuations: tuple[str, ...],
              target: TargetSpec, system_prompt: str | None, pair_index: int) -> str:
    return sha256_json({
        "v": SCORE_KEY_VERSION, "method": method, "concept": concept_id, "lang": lang, "context": context,
        "continuations": list(continuations), "target": target.identity(),
        "system": (system_prompt or "") if method == "options" else "", "pair": pair_index,
    })


def plan_scores(bank: Bank, targets: list[TargetSpec], languages: list[str] | None, selection: KindSelection,
                system_prompt: str | None = None, limit: int | None = None) -> tuple[list[ScoreItem], list[str]]:
    """The white-box items of a run (local targets only) and one-line notes about what was skipped."""
    if not selection.white_box:
        return [], []
    wanted: list[tuple[str, Any, str, str, tuple[str, ...], int, int]] = []
    for probe in bank.probes(languages, None):  # validates the languages, keeps bank order
        concept = bank.by_id[probe.concept_id]
        lang = probe.lang
        if selection.options and concept.kind == "mcq" and concept.mcq is not None:
            options = option_texts(concept, lang)
            if options is not None:
                wanted.append(("options", concept, lang, concept.variants[lang], tuple(options),
                               concept.mcq.correct_index(), 0))
        if selection.prefill:
            for i, pair in enumerate(concept.prefill):
                parts = (pair.prefix.get(lang), pair.documented.get(lang), pair.official.get(lang))
                if all(parts):
                    wanted.append(("prefill", concept, lang, parts[0], (parts[1], parts[2]), 0, i))  # type: ignore[arg-type]
    if limit is not None:
        wanted = wanted[:limit]
    local = [t for t in targets if t.kind == "local"]
    others = [t.id for t in targets if t.kind != "local"]
    notes = []
    if wanted and others and selection.chat is not None:  # only when asked for by --kinds: else it is noise
        notes.append(f"prefill and option-likelihood probes need a local target (in-process weights); "
                     f"skipped for {', '.join(others)}")
    items = []
    for method, concept, lang, context, continuations, correct, pair in wanted:
        for target in local:
            system = system_prompt if method == "options" else None
            items.append(ScoreItem(
                score_key(method, concept.id, lang, context, continuations, target, system, pair), method,
                concept.id, lang, target, context, continuations, correct, pair, system,
            ))
    return items, notes


def pending_scores(store: Store, items: list[ScoreItem]) -> list[ScoreItem]:
    """Items whose score the store lacks or holds only as an error (an error is retried)."""
    stored = store.stored_score_status(item.key for item in items)
    return [item for item in items if stored.get(item.key) in (None, "error")]


async def _score(target: Target, item: ScoreItem) -> list[float]:
    scorer = getattr(target, "score_continuations", None)
    if scorer is None:
        raise TypeError(f"target {item.target.id} cannot score continuations (only local targets can)")
    if item.method == "options":
        prompt: Any = build_messages(item.context, item.system_prompt)
    else:
        prompt = item.context
    return list(await scorer(prompt, list(item.continuations), normalize=True))


def _record(run_id: str, item: ScoreItem, loglik: list[float] | None, error: str | None) -> ScoreRecord:
    return ScoreRecord(
        key=item.key, run_id=run_id, method=item.method, concept_id=item.concept_id, lang=item.lang,
        target_id=item.target.id, target=item.target.identity(), pair_index=item.pair_index,
        context=item.context, continuations=list(item.continuations), correct=item.correct, loglik=loglik,
        status="error" if error else "ok", error=error,
    )


async def execute_scores(store: Store, run_id: str, items: list[ScoreItem], targets: dict[str, Target]) -> dict[str, int]:
    """Compute and store the scores of ``items`` (already filtered to pending ones); returns counts by status.

    A failure of one score (a bad text, out of memory) is stored as an error with its one line and retried
    by the next run; it never stops the others. Finished scores are committed in small batches, so an
    interrupted run keeps them.
    """
    counts = {"ok": 0, "error": 0}
    batch: list[ScoreRecord] = []
    try:
        for item in items:
            target = targets.get(item.target.id)
            try:
                if target is None:
                    raise RuntimeError(f"target {item.target.id} was not started")
                record = _record(run_id, item, await _score(target, item), None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # recorded and retried later, like an error response
                record = _record(run_id, item, None, " ".join(f"{type(exc).__name__}: {exc}".split())[:300])
            counts[record.status] += 1
            batch.append(record)
            if len(batch) >= COMMIT_EVERY:
                _commit(store, batch)
                batch = []
    finally:
        _commit(store, batch)
    return counts


def _commit(store: Store, batch: list[ScoreRecord]) -> None:
    if batch:
        store.put_scores([
            {"key": r.key, "concept_id": r.concept_id, "lang": r.lang, "target_id": r.target_id,
             "method": r.method, "status": r.status, "data": r.model_dump(mode="json")}
            for r in batch
        ])


def iter_score_records(store: Store, run_id: str) -> list[ScoreRecord]:
    return [ScoreRecord.model_validate(row) for row in store.iter_scores(run_id)]
