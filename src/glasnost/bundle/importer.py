"""Load a verified bundle into a store, keeping who audited what and never overwriting a stored result.

- A response whose key the store lacks is added; one stored with the same content is a duplicate (only
  provenance is added); a stored ``error`` is replaced (an error is not a result, as when resuming);
  any other difference is a conflict: the bundle's record is kept apart in ``bundle_conflicts``, the
  stored one stays, and the key is left out of the imported run's plan.
- A verdict by a judge the store has no current verdict from for that response is added; a different label
  or status by the same judge is a conflict, kept apart the same way. A verdict belongs to the bundle's
  response it judged (its ``response_digest``; records.verdict_provably_judged for bundles from before
  digests): one that does not is left out (``stale``), and one whose response the store keeps in another
  form is stored stale, so it is never used (the local response's own verdicts stay).
- The run is saved under its own id with ``imported_from`` set, or under ``<id>-<root[:12]>`` when the
  store already has another run of that id. Importing the same bundle again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from glasnost.bundle.verify import VerifiedBundle
from glasnost.records import Response, Verdict, canonical_json, response_digest, verdict_provably_judged
from glasnost.textsafe import safe_response
from glasnost.store.base import Store

_CONTENT = ("outcome", "text", "reasoning", "finish_reason", "http_status", "provider_refusal")


@dataclass
class ImportResult:
    run_id: str
    root: str
    auditor: str
    added: int = 0
    duplicates: int = 0
    replaced_errors: int = 0
    verdicts_added: int = 0
    stale_verdicts: int = 0  # the bundle's verdicts that did not judge the bundle's response: left out
    conflicts: list[dict] = field(default_factory=list)  # {"key", "kind", "judge"}
    already: bool = False


def content(r: Response) -> tuple:
    """What "the same response" means: the model's output and how it ended, not timings or usage."""
    return tuple(getattr(r, f) for f in _CONTENT)


def imported_from(vb: VerifiedBundle) -> str:
    return f"{vb.auditor} [{vb.fingerprint[:16]}] {vb.root}"


def _run_id(store: Store, vb: VerifiedBundle) -> str:
    runs = {m.run_id: m for m in store.list_runs()}
    for candidate in (vb.manifest.run_id, f"{vb.manifest.run_id}-{vb.root[:12]}"):
        existing = runs.get(candidate)
        if existing is None or (existing.imported_from or "").endswith(vb.root):
            return candidate
    return f"{vb.manifest.run_id}-{vb.root}"


def import_bundle(store: Store, vb: VerifiedBundle) -> ImportResult:
    previous = store.get_import(vb.root)
    if previous is not None:
        return ImportResult(run_id=previous["run_id"], root=vb.root, auditor=vb.auditor, already=True)
    run_id = _run_id(store, vb)
    result = ImportResult(run_id=run_id, root=vb.root, auditor=vb.auditor)
    conflict_rows: list[dict] = []
    verdict_by_key = {v.response_key: v for v in vb.verdicts}

    store.save_bank_snapshot(vb.bank)
    to_write: list[Response] = []
    conflicted: set[str] = set()
    for r in map(safe_response, vb.responses):  # the text boundary: repaired, capped, no known secret
        stored = store.get_response(r.key)
        if stored is None:
            to_write.append(r)
            result.added += 1
        elif content(stored) == content(r):
            result.duplicates += 1
        elif stored.outcome.value == "error":
            to_write.append(r)
            result.replaced_errors += 1
        else:
            conflicted.add(r.key)
            v = verdict_by_key.get(r.key)
            data = {"response": r.model_dump(mode="json"), "verdict": v.model_dump(mode="json") if v else None}
            conflict_rows.append(_conflict(r.key, vb.root, "response", "", data))
    store.put_responses(to_write)

    new_verdicts: list[Verdict] = []
    if vb.judge is not None:
        local = store.verdicts_for([v.response_key for v in vb.verdicts], vb.judge)
        published = {r.key: r for r in vb.responses}
        for v in vb.verdicts:
            if v.response_key in conflicted:
                continue
            judged = published.get(v.response_key)
            if judged is None or not _belongs(v, judged):
                result.stale_verdicts += 1
                continue
            v = v.model_copy(update={"response_digest": response_digest(judged)})
            mine = local.get(v.response_key)
            if mine is None:
                new_verdicts.append(v)
            elif (mine.label, mine.status) != (v.label, v.status):
                conflict_rows.append(_conflict(v.response_key, vb.root, "verdict", v.judge, v.model_dump(mode="json")))
    store.put_verdicts(new_verdicts)
    result.verdicts_added = len(new_verdicts)

    manifest = vb.manifest.model_copy(update={"run_id": run_id, "imported_from": imported_from(vb)})
    store.save_run(manifest)
    kept = [r.key for r in vb.responses if r.key not in conflicted]
    store.add_run_items(run_id, kept)
    store.add_provenance(
        [{"response_key": k, "root": vb.root, "auditor": vb.auditor, "fingerprint": vb.fingerprint} for k in kept]
    )
    store.add_conflicts(conflict_rows)
    result.conflicts = [{"key": c["response_key"], "kind": c["kind"], "judge": c["judge"]} for c in conflict_rows]
    # Recorded last: an import interrupted before this point is simply done again.
    store.record_import(
        {
            "root": vb.root,
            "run_id": run_id,
            "auditor": vb.auditor,
            "fingerprint": vb.fingerprint,
            "public_key": vb.public_key,
            "judge": vb.judge,
            "responses": len(vb.responses),
            "conflicts": len(conflict_rows),
        }
    )
    return result


def _belongs(v: Verdict, r: Response) -> bool:
    if v.response_digest is not None:
        return v.response_digest == response_digest(r)
    return verdict_provably_judged(v.label.value, v.status, r.outcome.value)


def _conflict(key: str, root: str, kind: str, judge: str, data: dict) -> dict:
    return {"response_key": key, "root": root, "kind": kind, "judge": judge, "data": canonical_json(data)}
