"""The judge: classifies responses into the verdict taxonomy, with evidence (docs/judge.md).

Public API:
- ``get_judge(spec="default")`` → a judge with ``id`` ("name@version") and ``async judge_many(items)``;
  the offline judge also has a synchronous ``judge(response, concept) -> Verdict``. Specs:
  ``default`` (offline ensemble of provider signals, canned lines, rules, facts/narrative, learned model),
  ``llm:TARGET`` (an LLM judge through any glasnost target spec), ``panel:TARGET,TARGET`` (two LLM judges,
  offline judge as tie-breaker), ``default+llm:TARGET`` (the offline judge; only its uncertain verdicts go to
  the LLM judge, judge/escalate.py).
- ``judge_run(store, run_id, spec="default", progress=None) -> dict`` (``ajudge_run`` inside an event loop).
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

from glasnost.errors import ConfigError
from glasnost.judge.ensemble import OfflineJudge, Thresholds
from glasnost.judge.item import Item
from glasnost.judge.runner import ajudge_run, judge_run
from glasnost.records import TransportConfig, Verdict


@runtime_checkable
class Judge(Protocol):
    id: str

    async def judge_many(self, items: Sequence[Any]) -> list[Verdict]: ...


def _llm(target_text: str, transport: TransportConfig | None) -> Any:
    from glasnost.judge.llm import LLMJudge
    from glasnost.targets.base import make_target
    from glasnost.targets.spec import parse_target

    spec = parse_target(target_text.strip())
    return LLMJudge(make_target(spec, transport))


def get_judge(spec: str = "default", transport: TransportConfig | None = None) -> Any:
    """Build a judge from its spec; ConfigError (one line) for an unknown one."""
    spec = (spec or "default").strip()
    if spec.startswith("default+llm:"):  # offline judge, uncertain verdicts escalated to an LLM judge
        from glasnost.judge.escalate import EscalatingJudge

        rest = spec[len("default+llm:"):]
        if not rest:
            raise ConfigError("judge 'default+llm:' needs a target, e.g. default+llm:openai:gpt-4o-mini")
        return EscalatingJudge(_llm(rest, transport))
    if spec in ("default", "offline") or spec.startswith("default@"):
        return OfflineJudge()
    if spec.startswith("llm:"):
        rest = spec[4:]
        if not rest:
            raise ConfigError("judge 'llm:' needs a target, e.g. llm:openai:gpt-4o-mini")
        return _llm(rest, transport)
    if spec.startswith("panel:"):
        from glasnost.judge.panel import PanelJudge

        parts = [p for p in spec[6:].split(",") if p.strip()]
        if len(parts) != 2:
            raise ConfigError("judge 'panel:' needs exactly two targets: panel:TARGET,TARGET")
        return PanelJudge([_llm(p, transport) for p in parts])
    raise ConfigError(f"unknown judge {spec!r}; use default, llm:TARGET, default+llm:TARGET or panel:TARGET,TARGET")


__all__ = ["Item", "Judge", "OfflineJudge", "Thresholds", "ajudge_run", "get_judge", "judge_run"]
