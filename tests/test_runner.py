"""Plan keys, the runner's resume and failure behaviour, with in-process fake targets."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from glasnost.bank import load_bank
from glasnost.errors import ConfigError, TargetFatal
from glasnost.records import Completion, GenerationConfig, Outcome, TargetRuntime, TargetSpec, TransportConfig
from glasnost.run import audit
from glasnost.run.execute import Runner, pending_items
from glasnost.run.plan import item_key, run_id_for
from glasnost.store import open_store

from helpers_runner import write_small_bank


class FakeTarget:
    """Answers every prompt; optionally fails (error outcome) or dies (TargetFatal) on chosen calls."""

    def __init__(self, spec: TargetSpec, error_on: set[str] = frozenset(), fatal_after: int | None = None):
        self.spec = spec
        self.calls: Counter[str] = Counter()
        self.error_on = set(error_on)
        self.fatal_after = fatal_after

    async def start(self) -> TargetRuntime:
        return TargetRuntime(target_id=self.spec.id, revision="fake-rev")

    async def generate(self, request) -> Completion:
        await asyncio.sleep(0)
        prompt = request.prompt
        self.calls[prompt] += 1
        if self.fatal_after is not None and sum(self.calls.values()) > self.fatal_after:
            raise TargetFatal("authentication failed for fake: set FAKE_KEY")
        if prompt in self.error_on:
            return Completion(outcome=Outcome.error, error="HTTP 503 after retries")
        return Completion(outcome=Outcome.ok, text=f"answer to {prompt} (seed {request.generation.seed})")

    async def aclose(self) -> None:
        pass


@pytest.fixture
def bank(tmp_path):
    return load_bank(str(write_small_bank(tmp_path / "bank.yaml", n=5)))


def spec(name="fake"):
    return TargetSpec(kind="openai-compat", provider="custom", base_url=f"http://{name}.invalid/v1", model=name)


def test_keys_include_what_changes_output_and_exclude_transport(bank):
    probe = bank.probes(["en"])[0]
    t = spec()
    g = GenerationConfig()
    base = item_key(probe, t, g, None, 0)
    assert base == item_key(probe, t, GenerationConfig(), None, 0)  # stable
    assert base != item_key(probe, t, GenerationConfig(temperature=0.7), None, 0)
    assert base != item_key(probe, t, g, "You are helpful.", 0)
    assert base != item_key(probe, t, g, None, 1)
    assert base != item_key(probe, spec("other"), g, None, 0)
    # transport settings are not part of a plan at all: the run id ignores them too
    r1 = run_id_for(bank.fingerprint, [t], ["en"], None, 1, g, None, None)
    p1 = audit.prepare(bank, [t], ["en"], g, TransportConfig(timeout_s=5, concurrency=1))
    p2 = audit.prepare(bank, [t], ["en"], g, TransportConfig(timeout_s=500, concurrency=64))
    assert p1.run_id == p2.run_id == r1
    assert [i.key for i in p1.items] == [i.key for i in p2.items]


def _run(store, plan, targets):
    async def go():
        runner = Runner(store, plan.run_id, plan.manifest.generation, plan.manifest.transport)
        todo = pending_items(store, plan.items)
        return await runner.execute(todo, targets, total=len(plan.items))

    store.save_run(plan.manifest)
    store.add_run_items(plan.run_id, [i.key for i in plan.items])
    return asyncio.run(go())


def test_resume_asks_only_missing_and_retries_errors(store_db, bank):
    t = spec()
    plan = audit.prepare(bank, [t], ["en", "zh-Hans"], GenerationConfig(), TransportConfig(concurrency=3),
                         samples=2)
    assert len(plan.items) == 5 * 2 * 2
    store = open_store(store_db)
    flaky = plan.probes[0].text
    first = FakeTarget(t, error_on={flaky})
    progress = _run(store, plan, {t.id: first})
    assert progress.outcomes == Counter({"ok": 18, "error": 2})
    assert sum(first.calls.values()) == 20
    # second pass: only the two error items are asked again, and they now succeed
    second = FakeTarget(t)
    progress = _run(store, plan, {t.id: second})
    assert sum(second.calls.values()) == 2 and set(second.calls) == {flaky}
    assert store.outcome_counts(plan.run_id) == {"ok": 20}
    # third pass: nothing left to ask
    third = FakeTarget(t)
    _run(store, plan, {t.id: third})
    assert sum(third.calls.values()) == 0
    # samples got distinct seeds, reproducibly
    texts = {r.sample_index: r.text for r in store.iter_responses(plan.run_id) if r.prompt == plan.probes[1].text}
    assert texts[0].endswith("(seed 0)") and texts[1].endswith("(seed 1)")


def test_fatal_target_stops_run_and_keeps_what_was_stored(store_db, bank, monkeypatch):
    t = spec()
    plan = audit.prepare(bank, [t], ["en"], GenerationConfig(), TransportConfig(concurrency=1))
    store = open_store(store_db)
    dying = FakeTarget(t, fatal_after=3)

    async def fake_start(specs, transport):
        return {t.id: dying}, [await dying.start()]

    monkeypatch.setattr(audit, "start_targets", fake_start)
    with pytest.raises(TargetFatal, match="FAKE_KEY"):
        asyncio.run(audit.execute_plan(store, plan))
    manifest = store.get_run(plan.run_id)
    assert manifest.status == "failed" and "FAKE_KEY" in manifest.message
    assert store.outcome_counts(plan.run_id) == {"ok": 3}
    assert manifest.runtimes == [] or manifest.runtimes[0].revision == "fake-rev"


def test_prepare_rejects_bad_input(bank):
    t = spec()
    with pytest.raises(ConfigError, match="not in bank"):
        audit.prepare(bank, [t], ["xx-Klingon"], GenerationConfig(), TransportConfig())
    with pytest.raises(ConfigError, match="twice"):
        audit.prepare(bank, [t, t], ["en"], GenerationConfig(), TransportConfig())
    with pytest.raises(ConfigError, match="no target"):
        audit.prepare(bank, [], ["en"], GenerationConfig(), TransportConfig())


def test_store_refuses_foreign_files(tmp_path):
    import sqlite3

    from glasnost.errors import StoreError

    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE x (a)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="another program"):
        open_store(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a"):
        open_store(junk)
