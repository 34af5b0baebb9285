"""The whole command's overheads (issue 17): what a run does not do, import or read twice. Speed itself is a
benchmark (benchmarks/whole_command.py), never a timed test; these check the work that was removed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter

import pytest

from glasnost.bank import load_bank
from glasnost.judge import get_judge, judge_run
from glasnost.records import Completion, GenerationConfig, Outcome, TargetRuntime, TargetSpec, TransportConfig
from glasnost.run import audit
from glasnost.run.judge_along import ALONG_FROM, IN_FLIGHT, JudgeAlong, worth_judging_along
from glasnost.store import open_store

from helpers_runner import write_small_bank


class QuickTarget:
    def __init__(self, spec: TargetSpec):
        self.spec = spec

    async def start(self) -> TargetRuntime:
        return TargetRuntime(target_id=self.spec.id)

    async def generate(self, request) -> Completion:
        return Completion(outcome=Outcome.ok, text=f"I cannot discuss that. ({request.prompt})")

    async def aclose(self) -> None:
        pass


@pytest.fixture
def audited(tmp_path, monkeypatch):
    """A store holding a small audit (24 answers), not judged yet."""
    bank = load_bank(str(write_small_bank(tmp_path / "bank.yaml", n=6)))
    spec = TargetSpec(kind="openai-compat", provider="custom", base_url="http://quick.invalid/v1", model="quick")
    plan = audit.prepare(bank, [spec], ["en", "zh-Hans"], GenerationConfig(), TransportConfig(concurrency=4),
                         samples=2)
    target = QuickTarget(spec)

    async def fake_start(specs, transport):
        return {spec.id: target}, [await target.start()]

    monkeypatch.setattr(audit, "start_targets", fake_start)
    store = open_store(tmp_path / "g.db")
    return store, plan


def _python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout


def test_judging_a_judged_run_decodes_no_response_and_no_verdict(audited):
    """After judging along, judge_run finds every verdict from indexed columns: before, it decoded every
    response twice and every verdict twice (the cached ones, then the label counts)."""
    store, plan = audited
    asyncio.run(audit.execute_plan(store, plan))
    judge = get_judge("default")
    first = judge_run(store, plan.run_id, judge=judge)
    assert first["judged"] == len(plan.items)
    decoded: Counter = Counter()
    decode = store.decoder.decode

    def counting(model, *args, **kwargs):
        decoded[model.__name__] += 1
        return decode(model, *args, **kwargs)

    store.decoder.decode = counting
    again = judge_run(store, plan.run_id, judge=judge)
    assert (again["judged"], again["skipped"], again["responses"]) == (0, len(plan.items), len(plan.items))
    assert again["labels"] == first["labels"] and sum(again["labels"].values()) == len(plan.items)
    assert decoded["Response"] == 0 and decoded["Verdict"] == 0


def test_a_run_judged_in_part_reads_only_the_unjudged_responses(audited):
    store, plan = audited
    asyncio.run(audit.execute_plan(store, plan))
    judge = get_judge("default")
    judge_run(store, plan.run_id, judge=judge)
    victim = plan.items[3].key
    store.conn.execute("DELETE FROM verdicts WHERE response_key = ?", (victim,))
    store.conn.commit()
    decoded: list[str | None] = []
    decode = store.decoder.decode

    def counting(model, data, source, run_id, key):
        decoded.append(key if model.__name__ == "Response" else None)
        return decode(model, data, source, run_id, key)

    store.decoder.decode = counting
    result = judge_run(store, plan.run_id, judge=judge)
    assert (result["judged"], result["skipped"]) == (1, len(plan.items) - 1)
    assert [k for k in decoded if k is not None] == [victim]


def test_a_few_items_are_judged_after_the_audit_without_a_worker():
    judge = get_judge("default")
    assert not worth_judging_along(judge, 1) and not worth_judging_along(judge, ALONG_FROM - 1)
    assert worth_judging_along(judge, ALONG_FROM)
    assert not worth_judging_along(get_judge("llm:openai-compat:http://127.0.0.1:9/v1#judge"), 10 * ALONG_FROM)


class PidJudge:
    """The offline judge, noting which process judged each answer."""

    def __init__(self):
        self.inner = get_judge("default")
        self.id = self.inner.id

    def judge_item(self, item):
        v = self.inner.judge_item(item)
        return v.model_copy(update={"detail": {**v.detail, "pid": os.getpid()}})


def test_the_backlog_is_judged_by_this_process_too_once_the_audit_is_over(audited):
    """A worker holds at most IN_FLIGHT batches; what it was not handed is judged by the parent at finish,
    beside the worker, instead of the parent waiting for the worker alone."""
    store, plan = audited
    asyncio.run(audit.execute_plan(store, plan))
    responses = list(store.iter_responses(plan.run_id))
    judge = PidJudge()
    along = JudgeAlong(store, judge, plan.bank.by_id, use_process=True)
    for i in range(0, len(responses), 2):  # many small batches arrive faster than one worker judges them
        along.feed(responses[i:i + 2])
    assert along._in_flight <= IN_FLIGHT * len(along._workers)
    assert along.finish() == len(responses) and along.failed is None
    verdicts = list(store.iter_verdicts(plan.run_id, judge.id))
    assert len(verdicts) == len(responses)
    by = Counter(v.detail["pid"] for v in verdicts)
    assert by[os.getpid()] > 0  # the parent judged part of the backlog
    assert judge_run(store, plan.run_id, judge=judge.inner)["judged"] == 0  # every verdict is current


def test_printing_one_safe_cli_line_does_not_import_the_report():
    out = _python("import sys; from glasnost.cli.common import safe; assert safe('a\\u202eb') == 'a⟨U+202E⟩b'; "
                  "print('glasnost.report' in sys.modules, 'numpy' in sys.modules)")
    assert out.split() == ["False", "False"]


def test_a_short_run_does_not_import_uvloop():
    out = _python("import sys\nfrom glasnost.run.loop import run_async\n"
                  "async def one():\n    return 1\n"
                  "assert run_async(one(), requests=1) == 1\nprint('uvloop' in sys.modules)")
    assert out.strip() == "False"


def test_a_completion_at_the_boundary_is_not_scanned_again_but_the_plan_fields_are(audited, monkeypatch):
    from glasnost.records import utcnow
    from glasnost.run import execute
    from glasnost.run.plan import WorkItem

    store, plan = audited
    calls: list[str] = []
    real = execute.safe_response
    monkeypatch.setattr(execute, "safe_response", lambda r: calls.append(r.key) or real(r))
    runner = execute.Runner(store, plan.run_id, GenerationConfig(), TransportConfig())
    item = plan.items[0]
    clean = Completion(outcome=Outcome.ok, text="fine")
    assert runner._response(item, clean, utcnow(), at_boundary=True).text == "fine" and calls == []
    runner._response(item, clean, utcnow(), at_boundary=False)
    assert calls == [item.key]  # any other target: scanned as before
    odd = WorkItem(item.key, item.probe.model_copy(update={"text": "what\x00now?"}), item.target, 0)
    r = runner._response(odd, clean, utcnow(), at_boundary=True)
    assert "\x00" not in r.prompt and r.repaired  # a bank's odd probe still passes the boundary


async def test_every_completion_of_the_openai_adapter_passes_the_boundary_errors_too():
    import httpx

    from glasnost.targets.base import ChatRequest, build_messages
    from glasnost.targets.openai_compat import OpenAICompatTarget
    from glasnost.targets.spec import parse_target

    def reply(request):  # a 503 whose message carries a NUL and a lone surrogate (JSON escapes)
        return httpx.Response(503, content=b'{"error": {"message": "down\\u0000 \\ud800 now"}}',
                              headers={"content-type": "application/json"})

    assert OpenAICompatTarget.completions_at_boundary is True
    target = OpenAICompatTarget(parse_target("openai-compat:http://127.0.0.1:9/v1#m"),
                                TransportConfig(max_retries=0), environ={},
                                http_transport=httpx.MockTransport(reply))
    c = await target.generate(ChatRequest(messages=build_messages("q")))
    await target.aclose()
    assert c.outcome is Outcome.error and c.repaired
    assert "\x00" not in c.error and "\ud800" not in c.error and "down" in c.error
    c.model_dump_json()  # encodable as it is


def test_response_heads_are_the_stored_responses_fields_without_decoding_them(audited):
    from glasnost.store.base import Store

    store, plan = audited
    asyncio.run(audit.execute_plan(store, plan))
    decoded = [(r.key, r.concept_id, r.lang, r.target_id, r.sample_index, r.outcome.value)
               for r in store.iter_responses(plan.run_id)]
    calls: Counter = Counter()
    decode = store.decoder.decode
    store.decoder.decode = lambda model, *a: calls.update([model.__name__]) or decode(model, *a)
    heads = list(store.iter_response_heads(plan.run_id))
    assert heads == decoded and len(heads) == len(plan.items) and calls["Response"] == 0
    assert list(Store.iter_response_heads(store, plan.run_id)) == decoded  # the default other backends inherit


def test_verdict_rows_store_what_put_verdicts_stores(audited, tmp_path):
    from glasnost.store.base import Store, verdict_row

    store, plan = audited
    asyncio.run(audit.execute_plan(store, plan))
    judge = get_judge("default")
    judge_run(store, plan.run_id, judge=judge)
    verdicts = list(store.iter_verdicts(plan.run_id, judge.id))
    other = open_store(tmp_path / "other.db")
    asyncio.run(audit.execute_plan(other, plan))
    assert other.put_verdict_rows([verdict_row(v) for v in verdicts[:10]]) == 10
    assert Store.put_verdict_rows(other, [verdict_row(v) for v in verdicts[10:]]) == len(verdicts) - 10  # default
    again = list(other.iter_verdicts(plan.run_id, judge.id))
    assert [v.model_dump() for v in again] == [v.model_dump() for v in verdicts]


def test_a_judging_thread_gets_the_whole_backlog_never_shared_with_the_loops_thread(audited):
    """Without fork the worker is a thread: judging beside it would only share one GIL (and one judge)."""
    import threading

    class ThreadJudge(PidJudge):
        def judge_item(self, item):
            v = self.inner.judge_item(item)
            return v.model_copy(update={"detail": {**v.detail, "thread": threading.get_ident()}})

    store, plan = audited
    asyncio.run(audit.execute_plan(store, plan))
    responses = list(store.iter_responses(plan.run_id))
    judge = ThreadJudge()
    along = JudgeAlong(store, judge, plan.bank.by_id, use_process=False)
    for i in range(0, len(responses), 2):
        along.feed(responses[i:i + 2])
    assert along.finish() == len(responses) and along.failed is None
    threads = {v.detail["thread"] for v in store.iter_verdicts(plan.run_id, judge.id)}
    assert threading.get_ident() not in threads
