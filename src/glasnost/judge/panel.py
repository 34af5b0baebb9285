"""A panel of two LLM judges (meant to be of different origin, e.g. one US-built and one not).

The panel's verdict for a response:
- both members gave an ok verdict with the same label → that label;
- they disagree, or either had a judge error → the offline judge's label (``detail["rule"]`` says which
  case), with both members' labels kept in ``detail["members"]``. The offline judge is the tie-breaker
  because it is deterministic and its accuracy is measured.
Agreement between the members (raw and Cohen's kappa over responses both classified) is reported by
``judge_run``; members' verdicts are stored under their own ids, so they are cached individually.
"""

from __future__ import annotations

from typing import Any, Sequence

from glasnost.judge.ensemble import OfflineJudge, _as_item
from glasnost.judge.item import Item
from glasnost.judge.llm import LLMJudge
from glasnost.judge.metrics import cohen_kappa
from glasnost.records import Verdict


class PanelJudge:
    def __init__(self, members: Sequence[LLMJudge], offline: OfflineJudge | None = None) -> None:
        if len(members) != 2:
            raise ValueError("a panel has exactly two judges")
        self.members = list(members)
        self.offline = offline or OfflineJudge()
        self.id = "panel:" + "+".join(m.id for m in self.members)

    def combine(self, item: Item, member_verdicts: Sequence[Verdict | None]) -> Verdict:
        base = self.offline.judge_item(item)
        members = {
            m.id: ({"label": v.label.value, "status": v.status} if v is not None else {"status": "missing"})
            for m, v in zip(self.members, member_verdicts)
        }
        ok = [v for v in member_verdicts if v is not None and v.status == "ok"]
        detail: dict[str, Any] = {"members": members, "offline_label": base.label.value}
        if len(ok) == 2 and ok[0].label == ok[1].label:
            detail["rule"] = "agreement"
            evidence = [e for v in ok for e in v.evidence][:8]
            return Verdict(response_key=item.key, judge=self.id, label=ok[0].label, status="ok",
                           attributes=base.attributes, evidence=evidence, detail=detail)
        detail["rule"] = "disagreement->offline" if len(ok) == 2 else "member_error->offline"
        return Verdict(response_key=item.key, judge=self.id, label=base.label, status=base.status,
                       attributes=base.attributes, evidence=base.evidence, detail=detail)

    async def judge_many(self, items: Sequence[Any]) -> list[Verdict]:
        objs = [_as_item(i) for i in items]
        per_member = [await m.judge_many(objs) for m in self.members]
        return [self.combine(item, [pm[i] for pm in per_member]) for i, item in enumerate(objs)]

    async def aclose(self) -> None:
        for m in self.members:
            await m.aclose()


def agreement(a: Sequence[Verdict | None], b: Sequence[Verdict | None]) -> dict[str, Any]:
    """Raw agreement and Cohen's kappa between two judges over the responses both classified."""
    pairs = [(x.label.value, y.label.value) for x, y in zip(a, b)
             if x is not None and y is not None and x.status == "ok" and y.status == "ok"]
    n = len(pairs)
    return {
        "n": n,
        "raw": (sum(1 for x, y in pairs if x == y) / n) if n else None,
        "kappa": cohen_kappa([x for x, _ in pairs], [y for _, y in pairs]),
    }
