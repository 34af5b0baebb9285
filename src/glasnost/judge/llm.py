"""Layer 6, the LLM judge: any glasnost Target asked to classify with a versioned, hashed rubric.

- The rubric is a data file (data/rubric.md); its sha256 enters the judge id
  (``llm:<target id>@<rubric version>.<sha12>``), so a changed prompt is a different judge and the verdicts
  table is the cache: ``judge_run`` skips responses that already have an ok verdict by this id.
- Output is asked for as JSON (``ChatRequest.json_schema`` where the endpoint supports it) and parsed
  strictly. Anything else (not JSON, an unknown label, a refusal by the judge itself, a blocked or failed
  call) is ``status: judge_error`` with label ``unclassifiable``: never counted as any label.
- The judge's answer is hostile input too: it is parsed with ``json.loads`` only, quotes are located in the
  audited answer with plain string search, nothing is evaluated.
- Responses that the provider layer already settles (blocked, error, empty) are not sent: there is nothing
  for a judge to read. Attributes (coverage, language switch...) come from the offline judge.
"""

from __future__ import annotations

import asyncio
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Sequence

from glasnost.judge.ensemble import OfflineJudge, _as_item
from glasnost.judge.item import Item
from glasnost.judge.text import split_think
from glasnost.records import Evidence, GenerationConfig, Label, Verdict, sha256_text
from glasnost.targets.base import ChatMessage, ChatRequest, Target

RUBRIC_VERSION = "1"
LLM_LABELS = ("answered", "refused", "deflected", "state_narrative")
MAX_ANSWER_CHARS = 12000  # longer answers are cut (head and tail kept) to bound the judge's cost
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "enum": list(LLM_LABELS)},
        "evidence": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "rationale": {"type": "string"},
    },
    "required": ["label", "evidence"],
    "additionalProperties": False,
}
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S | re.I)


@lru_cache(maxsize=1)
def rubric() -> tuple[str, str]:
    """(rubric text, sha256 of it)."""
    text = (resources.files("glasnost.judge") / "data" / "rubric.md").read_text(encoding="utf-8")
    return text, sha256_text(text)


class JudgeOutputError(ValueError):
    """The judge's reply is not a usable classification."""


def parse_judge_output(text: str | None) -> tuple[Label, list[str], str | None]:
    """Parse the judge's reply: (label, evidence quotes, rationale); JudgeOutputError otherwise."""
    if text is None or not text.strip():
        raise JudgeOutputError("empty reply")
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        raise JudgeOutputError(f"reply is not JSON: {text.strip()[:120]!r}") from None
    if not isinstance(data, dict):
        raise JudgeOutputError("reply is not a JSON object")
    label = data.get("label")
    if label not in LLM_LABELS:
        raise JudgeOutputError(f"unknown label {str(label)[:40]!r}")
    evidence = data.get("evidence", [])
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        raise JudgeOutputError("evidence must be a list of strings")
    rationale = data.get("rationale")
    return Label(label), [e[:400] for e in evidence[:3]], rationale[:500] if isinstance(rationale, str) else None


def _clip(text: str) -> str:
    if len(text) <= MAX_ANSWER_CHARS:
        return text
    half = MAX_ANSWER_CHARS // 2
    return text[:half] + "\n[…]\n" + text[-half:]


class LLMJudge:
    def __init__(self, target: Target, offline: OfflineJudge | None = None, concurrency: int = 4,
                 max_tokens: int = 600) -> None:
        self.target = target
        self.offline = offline or OfflineJudge()
        self.concurrency = max(1, concurrency)
        self.max_tokens = max_tokens
        text, sha = rubric()
        self.prompt_sha = sha
        self.id = f"llm:{target.spec.id}@{RUBRIC_VERSION}.{sha[:12]}"
        self._started = False

    def request(self, item: Item) -> ChatRequest:
        text, _ = rubric()
        visible = split_think(item.text or "").text
        user = (
            f"Language of the question: {item.lang or 'unknown'}\n\n<question>\n{item.prompt or ''}\n</question>\n\n"
            f"<answer>\n{_clip(visible)}\n</answer>"
        )
        return ChatRequest(
            messages=[ChatMessage(role="system", content=text), ChatMessage(role="user", content=user)],
            generation=GenerationConfig(temperature=0.0, max_tokens=self.max_tokens, seed=0),
            json_schema={"name": "glasnost_verdict", "schema": JUDGE_SCHEMA},
        )

    async def judge_item(self, item: Item) -> Verdict:
        base = self.offline.judge_item(item)
        settled = base.detail.get("decided_by") == "provider"
        if settled:  # blocked, error, empty: the provider layer's verdict, under this judge's id
            return base.model_copy(update={"judge": self.id, "detail": {**base.detail, "offline_label": base.label.value}})
        detail: dict[str, Any] = {"prompt_sha": self.prompt_sha, "offline_label": base.label.value}
        try:
            completion = await self.target.generate(self.request(item))
        except Exception as exc:  # a failed judge call is a judge error, never a label
            return self._error(item, base, f"judge call failed: {type(exc).__name__}: {exc}"[:300], detail)
        if completion.outcome.value not in ("ok", "truncated"):
            msg = completion.error or completion.provider_refusal or f"judge call outcome {completion.outcome.value}"
            return self._error(item, base, msg[:300], detail)
        try:
            label, quotes, rationale = parse_judge_output(completion.text)
        except JudgeOutputError as exc:
            return self._error(item, base, str(exc), detail, raw=completion.text)
        visible = split_think(item.text or "")
        evidence = [self._locate(q, visible.text, visible.offset, label) for q in quotes]
        detail.update({"rationale": rationale, "evidence_verified": all(e.start is not None for e in evidence)})
        return Verdict(response_key=item.key, judge=self.id, label=label, status="ok",
                       attributes=base.attributes, evidence=evidence, detail=detail)

    @staticmethod
    def _locate(quote: str, text: str, offset: int, label: Label) -> Evidence:
        i = text.find(quote) if quote else -1
        if i < 0:
            i = text.lower().find(quote.lower()) if quote else -1
        if i < 0:  # a quote not in the answer is kept but marked unlocated (start None)
            return Evidence(layer="llm", label=label, kind="quote_unverified", text=quote)
        return Evidence(layer="llm", label=label, kind="quote", text=quote, start=offset + i,
                        end=offset + i + len(quote))

    def _error(self, item: Item, base: Verdict, message: str, detail: dict[str, Any],
               raw: str | None = None) -> Verdict:
        detail = {**detail, "error": message}
        if raw is not None:
            detail["raw"] = raw[:1000]
        return Verdict(response_key=item.key, judge=self.id, label=Label.unclassifiable, status="judge_error",
                       attributes=base.attributes, detail=detail)

    async def judge_many(self, items: Sequence[Any]) -> list[Verdict]:
        if not self._started and hasattr(self.target, "start"):
            await self.target.start()
            self._started = True
        sem = asyncio.Semaphore(self.concurrency)

        async def one(obj: Any) -> Verdict:
            async with sem:
                return await self.judge_item(_as_item(obj))

        return list(await asyncio.gather(*(one(i) for i in items)))

    async def aclose(self) -> None:
        await self.target.aclose()
