"""``--judge default+llm:TARGET``: the offline judge decides, and only its *uncertain* verdicts go to an LLM judge.

The offline verdict carries a calibrated confidence (judge/calibration.py); a verdict under the threshold is
marked ``uncertain``. Those, and only those, are sent to the LLM judge. The LLM's ok verdict replaces the
offline one (``detail["escalated"]``, with the offline label kept); a judge error never becomes a label: the
offline verdict stands, still marked uncertain, with the error in ``detail``. Everything the provider layer
settles (blocked, error, empty) is never sent. The id names both judges, so verdicts of different
combinations never mix.
"""

from __future__ import annotations

from typing import Any, Sequence

from glasnost.judge.ensemble import OfflineJudge, _as_item
from glasnost.judge.llm import LLMJudge
from glasnost.records import Verdict


class EscalatingJudge:
    def __init__(self, llm: LLMJudge, offline: OfflineJudge | None = None) -> None:
        self.llm = llm
        self.offline = offline or llm.offline or OfflineJudge()
        self.id = f"{self.offline.id}+{llm.id}"

    async def judge_many(self, items: Sequence[Any]) -> list[Verdict]:
        objs = [_as_item(i) for i in items]
        base = [self.offline.judge_item(item) for item in objs]
        todo = [i for i, v in enumerate(base) if v.attributes.uncertain and v.detail.get("decided_by") != "provider"]
        sent = await self.llm.judge_many([objs[i] for i in todo]) if todo else []
        out = [v.model_copy(update={"judge": self.id, "detail": {**v.detail, "escalated": False}}) for v in base]
        for i, llm_verdict in zip(todo, sent):
            offline = base[i]
            if llm_verdict.status != "ok":
                out[i] = offline.model_copy(update={"judge": self.id, "detail": {
                    **offline.detail, "escalated": True, "llm_error": llm_verdict.detail.get("error")}})
                continue
            out[i] = llm_verdict.model_copy(update={"judge": self.id, "attributes": offline.attributes, "detail": {
                **llm_verdict.detail, "escalated": True, "offline_label": offline.label.value,
                "offline_confidence": offline.confidence}})
        return out

    async def aclose(self) -> None:
        await self.llm.aclose()
