"""Judging while the audit runs: verdicts land during the run, judge_run finds them cached, none is misattributed."""

from __future__ import annotations

import asyncio

import pytest

from glasnost.bank import load_bank
from glasnost.judge import OfflineJudge, get_judge, judge_run
from glasnost.records import Completion, GenerationConfig, Outcome, TargetRuntime, TargetSpec, TransportConfig
from glasnost.run import audit
from glasnost.run.judge_along import JudgeAlong, judges_offline
from glasnost.store import open_store

from helpers_runner import write_small_bank


class SlowTarget:
    """Answers after a short wait, so the run has several commits; remembers what was judged meanwhile."""

    def __init__(self, spec: TargetSpec, along: JudgeAlong | None = None, last: int = 0):
        self.spec = spec
        self.along = along
        self.last = last  # the number of requests: the last one waits until verdicts were computed meanwhile
        self.calls = 0
        self.verdicts_seen: list[int] = []

    async def start(self) -> TargetRuntime:
        return TargetRuntime(target_id=self.spec.id)

    async def generate(self, request) -> Completion:
        await asyncio.sleep(0.02)
        self.calls += 1
        if self.along is not None:
            for _ in range(500):  # at most 10 s on a loaded machine; judging is much faster than that
                self.along.feed([])  # collects what the worker finished (as each commit does)
                computed = self.along.written
                if computed or self.calls < self.last:
                    break
                await asyncio.sleep(0.02)
            self.verdicts_seen.append(computed)
        if "2" in request.prompt:
            return Completion(outcome=Outcome.error, error="HTTP 503 after retries")
        return Completion(outcome=Outcome.ok, text=f"I cannot discuss that. ({request.prompt})")

    async def aclose(self) -> None:
        pass


@pytest.fixture
def bank(tmp_path):
    return load_bank(str(write_small_bank(tmp_path / "bank.yaml", n=6)))


def _spec() -> TargetSpec:
    return TargetSpec(kind="openai-compat", provider="custom", base_url="http://slow.invalid/v1", model="slow")


def _plan(bank, t):
    return audit.prepare(bank, [t], ["en", "zh-Hans"], GenerationConfig(), TransportConfig(concurrency=1))


@pytest.mark.parametrize("use_process", [True, False])
def test_verdicts_are_written_during_the_run_and_judge_run_finds_them(tmp_path, bank, monkeypatch, use_process):
    t = _spec()
    plan = _plan(bank, t)
    store = open_store(tmp_path / "g.db")
    judge = get_judge("default")
    along = JudgeAlong(store, judge, plan.bank.by_id, use_process=use_process)
    target = SlowTarget(t, along, last=len(plan.items))

    async def fake_start(specs, transport):
        return {t.id: target}, [await target.start()]

    monkeypatch.setattr(audit, "start_targets", fake_start)
    asyncio.run(audit.execute_plan(store, plan, on_commit=along.feed))
    assert along.finish() == len(plan.items) and along.failed is None
    assert target.verdicts_seen[-1] > 0  # verdicts were stored while the last request was in flight
    result = judge_run(store, plan.run_id, judge=judge)
    assert result["judged"] == 0 and result["skipped"] == len(plan.items)

    # the same labels as judging after the run
    fresh = tmp_path / "fresh.db"
    other = open_store(fresh)
    target.along = None
    asyncio.run(audit.execute_plan(other, plan))
    judge_run(other, plan.run_id, judge=judge)
    labels = {v.response_key: (v.label, v.response_digest) for v in store.iter_verdicts(plan.run_id, judge.id)}
    again = {v.response_key: (v.label, v.response_digest) for v in other.iter_verdicts(plan.run_id, judge.id)}
    assert labels == again and len(labels) == len(plan.items)
    assert {lbl.value for lbl, _ in labels.values()} >= {"error"}  # errors are judged as errors, never counted


def test_a_verdict_of_a_response_other_than_the_stored_one_is_judged_again(tmp_path, bank, monkeypatch):
    t = _spec()
    plan = _plan(bank, t)
    store = open_store(tmp_path / "g.db")
    judge = get_judge("default")
    target = SlowTarget(t)

    async def fake_start(specs, transport):
        return {t.id: target}, [await target.start()]

    monkeypatch.setattr(audit, "start_targets", fake_start)
    along = JudgeAlong(store, judge, plan.bank.by_id)

    altered = []

    def feed_altered(batch):  # as if the store had repaired one row on its way in
        if not altered:
            altered.append(batch[0].key)
            batch = [batch[0].model_copy(update={"text": "something else"}), *batch[1:]]
        along.feed(batch)

    asyncio.run(audit.execute_plan(store, plan, on_commit=feed_altered))
    along.finish()
    result = judge_run(store, plan.run_id, judge=judge)
    assert result["judged"] == 1 and result["skipped"] == len(plan.items) - 1


def test_only_offline_judges_run_along():
    assert judges_offline(OfflineJudge())
    assert not judges_offline(None)
    assert not judges_offline(get_judge("llm:openai-compat:http://127.0.0.1:9/v1#judge"))


@pytest.mark.parametrize("use_process", [True, False])
def test_a_failing_judge_leaves_the_work_to_judge_run(tmp_path, bank, monkeypatch, use_process):
    t = _spec()
    plan = _plan(bank, t)
    store = open_store(tmp_path / "g.db")
    target = SlowTarget(t)

    class Broken:
        id = "broken@1"

        def judge_item(self, item):
            raise RuntimeError("model file missing")

    async def fake_start(specs, transport):
        return {t.id: target}, [await target.start()]

    monkeypatch.setattr(audit, "start_targets", fake_start)
    along = JudgeAlong(store, Broken(), plan.bank.by_id, use_process=use_process)
    asyncio.run(audit.execute_plan(store, plan, on_commit=along.feed))
    assert along.finish() == 0 and "model file missing" in along.failed
    assert store.outcome_counts(plan.run_id)["ok"] > 0  # the audit itself is untouched


def test_a_worker_whose_parent_is_gone_ends(tmp_path):
    """kill -9 of the run must not leave judge workers waiting forever (they hold the queue's both ends)."""
    import os
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time\n"
        "from glasnost.judge import OfflineJudge\n"
        "from glasnost.run.judge_along import JudgeAlong\n"
        "along = JudgeAlong(None, OfflineJudge(), {}, use_process=True)\n"
        "print(' '.join(str(w.pid) for w in along._workers), flush=True)\n"
        "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert pids
    parent.kill()
    parent.wait()

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # a zombie reaped by init later still answers kill(0): read its state
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(")")[-1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 15
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in pids)


def test_a_repeated_answer_gets_the_verdict_judging_it_gives():
    """Judged once per content (issue 17): a response whose judged fields equal an earlier one's, key aside,
    gets a copy of that verdict under its own key and digest; one that differs in any judged field is judged."""
    import json

    from glasnost.records import judged_digest
    from glasnost.run.judge_along import _judge_contents

    bank = load_bank("quick")
    judge = get_judge("default")
    concepts = list(bank.by_id.values())[:6]
    texts = ["I cannot discuss that.", "In 1989 the army cleared the square; hundreds were killed.",
             "This is a complex and sensitive topic with many perspectives.", ""]
    base = []
    for i, (concept, text) in enumerate((c, t) for c in concepts for t in texts):
        base.append({"key": f"k{i}", "concept_id": concept.id, "lang": "en", "prompt": f"Q about {concept.id}?",
                     "outcome": "ok", "text": text, "reasoning": None, "thought_suppressed": None,
                     "finish_reason": "stop", "http_status": 200, "provider_refusal": None, "error": None})
    repeats = [{**c, "key": c["key"] + "-again"} for c in base]
    # one judged field changed: never a copy of the original's verdict
    changed = [{**base[0], "key": "x1", "lang": "zh-Hans"}, {**base[1], "key": "x2", "finish_reason": "length"},
               {**base[0], "key": "x3", "outcome": "blocked", "provider_refusal": "content_filter"},
               {**base[1], "key": "x4", "concept_id": concepts[-1].id}, {**base[2], "key": "x5", "text": texts[2] + "!"}]
    batch = base + repeats + changed
    memo: dict = {}
    fast = _judge_contents(judge, bank.by_id, batch[:7], memo) + _judge_contents(judge, bank.by_id, batch[7:], memo)
    plain = _judge_contents(judge, bank.by_id, batch)

    def comparable(row):
        data = json.loads(row[4])
        data.pop("created_at")
        return row[:4], data, row[5]

    assert [comparable(r) for r in fast] == [comparable(r) for r in plain]
    assert [r[0] for r in fast] == [c["key"] for c in batch]  # each verdict names its own response
    assert [r[5] for r in fast] == [judged_digest(c) for c in batch]
    assert len(memo) == len(base) + len(changed)  # the repeats were copies, the changed ones judged
    assert len({comparable(r)[1]["label"] for r in fast}) > 1
