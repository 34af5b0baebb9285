"""Layer 1, provider signals: what the serving layer said, before anyone reads the text.

Decisions (docs/judge.md):
- outcome ``blocked``, a provider refusal field, a blocking finish reason (``content_filter``...), HTTP 451, or
  an error message that names moderation → ``blocked`` (attributed to the host, not the model);
- outcome ``error`` without such a message → ``error`` (a technical failure; never counted);
- outcome ``empty`` (a well-formed reply with no answer text) → no label here: the ensemble makes it
  ``refused`` with the ``empty`` attribute (issue 12). It is only ``blocked`` when a provider signal says so;
- outcome ``truncated`` → no label: the partial text is judged, ``truncated`` is an attribute.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from glasnost.judge.item import Item
from glasnost.judge.proposal import Proposal
from glasnost.records import Evidence, Label


@lru_cache(maxsize=1)
def _data() -> tuple[frozenset[str], frozenset[int], re.Pattern[str]]:
    raw = json.loads((resources.files("glasnost.judge") / "data" / "provider.json").read_text(encoding="utf-8"))
    reasons = frozenset(r.lower() for r in raw["block_finish_reasons"])
    statuses = frozenset(int(s) for s in raw["block_http_status"])
    pattern = re.compile("|".join(f"(?:{p})" for p in raw["block_error_patterns"]), re.I)
    return reasons, statuses, pattern


def is_moderation_message(error: str) -> bool:
    """Whether a provider error message says moderation stopped the request (a block, not a failure)."""
    return bool(_data()[2].search(error))


def _meta(kind: str, text: str | None, label: Label) -> Evidence:
    return Evidence(layer="provider", label=label, kind=kind, text=(text or "")[:300] or None, field="meta")


def provider_proposal(item: Item) -> Proposal:
    reasons, statuses, block_re = _data()
    finish = (item.finish_reason or "").lower()
    if item.outcome == "error":
        # The targets layer (or corpus.item_from_row) already told blocks from failures: an error stays an
        # error, whatever its message says (a proxy's "blocked by ..." 503 is not a verdict).
        return Proposal("provider", Label.error, [_meta("error", item.error or "no answer", Label.error)])
    if item.provider_refusal:
        return Proposal("provider", Label.blocked, [_meta("refusal_field", item.provider_refusal, Label.blocked)])
    if finish in reasons:
        return Proposal("provider", Label.blocked, [_meta("finish_reason", item.finish_reason, Label.blocked)])
    if item.http_status in statuses:
        return Proposal("provider", Label.blocked, [_meta("http_status", str(item.http_status), Label.blocked)])
    if item.error and block_re.search(item.error):
        # A moderation message on a result the targets layer kept (e.g. mid-stream, partial text withdrawn).
        return Proposal("provider", Label.blocked, [_meta("error_message", item.error, Label.blocked)])
    if item.outcome == "blocked":
        return Proposal("provider", Label.blocked, [_meta("outcome", "blocked", Label.blocked)])
    if item.outcome == "error" or (item.text is None and item.outcome != "empty"):
        return Proposal("provider", Label.error, [_meta("error", item.error or "no answer", Label.error)])
    return Proposal("provider", None, info={"truncated": item.outcome == "truncated" or finish == "length"})
