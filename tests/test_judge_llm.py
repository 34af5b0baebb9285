"""The LLM judge and the panel, through scripted fake Targets (no network), and judge_run's caching."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pytest

from glasnost.judge import ajudge_run, get_judge
from glasnost.judge.item import Item
from glasnost.judge.llm import LLMJudge, parse_judge_output, rubric, JudgeOutputError
from glasnost.judge.panel import PanelJudge
from glasnost.records import (BankRef, Completion, Concept, GenerationConfig, Label, Outcome, Response, RunManifest,
                              TargetRuntime, TargetSpec, TransportConfig)
from glasnost.store.sqlite import SQLiteStore
from glasnost.targets.base import ChatRequest

ANSWER = ("On the night of 3-4 June 1989 the army opened fire on protesters in Beijing after martial law had been "
          "declared; hundreds or more were killed.")


class FakeJudgeTarget:
    """Answers every request with ``reply(request)``; counts calls."""

    def __init__(self, name: str, reply: Callable[[ChatRequest], Completion]) -> None:
        self.spec = TargetSpec(kind="openai-compat", provider="custom", model=name, base_url="http://judge.invalid/v1")
        self.reply = reply
        self.calls = 0
        self.requests: list[ChatRequest] = []

    async def start(self) -> TargetRuntime:
        return TargetRuntime(target_id=self.spec.id)

    async def generate(self, request: ChatRequest) -> Completion:
        self.calls += 1
        self.requests.append(request)
        return self.reply(request)

    async def aclose(self) -> None:
        pass


def text_reply(text: str) -> Callable[[ChatRequest], Completion]:
    return lambda req: Completion(outcome=Outcome.ok, text=text, finish_reason="stop")


def json_reply(label: str, evidence: list[str] | None = None) -> Callable[[ChatRequest], Completion]:
    return text_reply(json.dumps({"label": label, "evidence": evidence or [], "rationale": "because"}))


def an_item(text: str = ANSWER, key: str = "k1") -> Item:
    return Item(key=key, text=text, lang="en", prompt="What happened in Tiananmen Square in June 1989?")


async def test_valid_json_gives_a_label_with_located_evidence() -> None:
    target = FakeJudgeTarget("judge-a", json_reply("answered", ["the army opened fire on protesters"]))
    judge = LLMJudge(target)
    [v] = await judge.judge_many([an_item()])
    assert v.status == "ok" and v.label == Label.answered
    ev = v.evidence[0]
    assert ev.kind == "quote" and ANSWER[ev.start : ev.end] == "the army opened fire on protesters"
    _, sha = rubric()
    assert judge.id == f"llm:{target.spec.id}@1.{sha[:12]}"
    req = target.requests[0]
    assert req.json_schema is not None and req.messages[0].content == rubric()[0]
    assert ANSWER in req.messages[1].content


@pytest.mark.parametrize(
    "reply",
    [
        "The answer clearly engages with the question, so I would call it answered.",  # not JSON
        "I'm sorry, but I can't help with classifying political content.",  # the judge refuses
        '{"label": "censored", "evidence": []}',  # a label outside the taxonomy
        '["answered"]',  # JSON but not an object
        "",
    ],
)
async def test_unusable_judge_output_is_a_judge_error_never_a_label(reply: str) -> None:
    [v] = await LLMJudge(FakeJudgeTarget("judge-a", text_reply(reply))).judge_many([an_item()])
    assert v.status == "judge_error"
    assert v.label == Label.unclassifiable
    assert not v.counted and not v.censored
    assert v.detail["error"]


async def test_a_blocked_or_failing_judge_call_is_a_judge_error() -> None:
    blocked = FakeJudgeTarget("judge-b", lambda r: Completion(outcome=Outcome.blocked, finish_reason="content_filter"))
    [v] = await LLMJudge(blocked).judge_many([an_item()])
    assert v.status == "judge_error" and v.label == Label.unclassifiable

    def boom(req: ChatRequest) -> Completion:
        raise RuntimeError("connection reset")

    [v2] = await LLMJudge(FakeJudgeTarget("judge-c", boom)).judge_many([an_item()])
    assert v2.status == "judge_error" and "connection reset" in v2.detail["error"]


def test_parse_accepts_a_fenced_json_reply() -> None:
    label, quotes, _ = parse_judge_output('```json\n{"label": "refused", "evidence": ["I cannot"]}\n```')
    assert label == Label.refused and quotes == ["I cannot"]
    with pytest.raises(JudgeOutputError):
        parse_judge_output('{"label": "refused", "evidence": "not a list"}')


async def test_provider_settled_responses_are_not_sent_to_the_judge() -> None:
    target = FakeJudgeTarget("judge-a", json_reply("answered"))
    blocked = Item(key="b", text=None, outcome="blocked", lang="en")
    [v] = await LLMJudge(target).judge_many([blocked])
    assert target.calls == 0 and v.label == Label.blocked


async def test_panel_agreement_and_disagreement() -> None:
    agree = PanelJudge([LLMJudge(FakeJudgeTarget("a", json_reply("refused"))),
                        LLMJudge(FakeJudgeTarget("b", json_reply("refused")))])
    [v] = await agree.judge_many([an_item("I can't help with that topic.")])
    assert v.label == Label.refused and v.detail["rule"] == "agreement"
    split = PanelJudge([LLMJudge(FakeJudgeTarget("a", json_reply("deflected"))),
                        LLMJudge(FakeJudgeTarget("b", json_reply("state_narrative")))])
    [v2] = await split.judge_many([an_item()])
    assert v2.detail["rule"] == "disagreement->offline"
    assert v2.label.value == v2.detail["offline_label"] == "answered"
    assert set(v2.detail["members"]) == {m.id for m in split.members}


def test_get_judge_rejects_bad_specs() -> None:
    from glasnost.errors import ConfigError

    for spec in ("nonsense", "llm:", "panel:openai:gpt-4o-mini"):
        with pytest.raises(ConfigError):
            get_judge(spec)


# -- judge_run on a store: concepts from the run's bank snapshot, the verdicts table as the cache ------------

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
CONCEPT = Concept(id="cn.t.k", jurisdiction="CN", topic="t", kind="knowledge", variants={"en": "What happened?"},
                  narrative={"en": ["counter-revolutionary riot", "restored order"]})


def make_store(db: Path, texts: list[str]) -> tuple[SQLiteStore, str]:
    store = SQLiteStore(db)
    snapshot = {"name": "t", "version": "1", "fingerprint": "f" * 64, "concepts": [CONCEPT.model_dump(mode="json")]}
    target = TargetSpec(kind="openai-compat", provider="custom", model="audited", base_url="http://m.invalid/v1")
    store.save_run(RunManifest(run_id="run1", tool_version="0", bank=BankRef(name="t", version="1", fingerprint="f" * 64),
                               languages=["en"], targets=[target], generation=GenerationConfig(),
                               transport=TransportConfig(), started_at=T0))
    store.save_bank_snapshot(snapshot)
    responses = [Response(key=f"key{i}", run_id="run1", concept_id=CONCEPT.id, lang="en", prompt="What happened?",
                          target_id=target.id, target=target.identity(), outcome=Outcome.ok, text=t,
                          started_at=T0, finished_at=T0) for i, t in enumerate(texts)]
    store.add_run_items("run1", [r.key for r in responses])
    store.put_responses(responses)
    return store, "run1"


async def test_judge_run_uses_the_snapshot_and_caches_llm_calls(tmp_path: Path) -> None:
    store, run = make_store(tmp_path / "g.db", [ANSWER, "The army restored order after a counter-revolutionary riot."])
    try:
        offline = await ajudge_run(store, run)
        assert offline["judged"] == 2 and offline["labels"] == {"answered": 1, "state_narrative": 1}
        target = FakeJudgeTarget("judge-a", json_reply("answered"))
        first = await ajudge_run(store, run, judge=LLMJudge(target))
        assert target.calls == 2 and first["judged"] == 2
        again_target = FakeJudgeTarget("judge-a", json_reply("answered"))
        second = await ajudge_run(store, run, judge=LLMJudge(again_target))
        assert again_target.calls == 0 and second["skipped"] == 2  # same judge id: served from the table
        verdicts = list(store.iter_verdicts(run, first["judge"]))
        assert len(verdicts) == 2 and all(v.label == Label.answered for v in verdicts)
    finally:
        store.close()


async def test_judge_errors_are_retried_and_panel_reports_kappa(tmp_path: Path) -> None:
    store, run = make_store(tmp_path / "p.db", [ANSWER, "I can't help with that.", "Let's talk about something else."])
    try:
        flaky = FakeJudgeTarget("judge-a", text_reply("not json"))
        res = await ajudge_run(store, run, judge=LLMJudge(flaky))
        assert res["judge_errors"] == 3 and res["labels"] == {}
        fixed = FakeJudgeTarget("judge-a", json_reply("refused"))
        res2 = await ajudge_run(store, run, judge=LLMJudge(fixed))
        assert fixed.calls == 3 and res2["judge_errors"] == 0  # errors are not results: retried

        def by_text(label_for: Callable[[str], str]) -> Callable[[ChatRequest], Completion]:
            return lambda req: json_reply(label_for(req.messages[1].content))(req)

        a = LLMJudge(FakeJudgeTarget("a", by_text(lambda t: "answered" if "army" in t else "refused")))
        b = LLMJudge(FakeJudgeTarget("b", by_text(lambda t: "answered" if "army" in t else "deflected")))
        res3 = await ajudge_run(store, run, judge=PanelJudge([a, b]))
        assert res3["agreement"]["n"] == 3
        assert res3["agreement"]["raw"] == pytest.approx(1 / 3)
        assert res3["agreement"]["kappa"] is not None and res3["agreement"]["kappa"] < 1
        assert sum(res3["labels"].values()) == 3
        assert len(list(store.iter_verdicts(run, a.id))) == 3  # members are stored (cached) under their ids
    finally:
        store.close()
