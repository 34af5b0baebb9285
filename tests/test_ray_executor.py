"""Workers on a local Ray cluster share a run through the store: two workers match a plain run item for item
(an API target and a local model served by a Ray actor), and a worker killed with -9 mid-run loses nothing,
on SQLite and on PostgreSQL (issue 16)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest

from glasnost.bank import load_bank
from glasnost.records import GenerationConfig, TransportConfig
from glasnost.run import audit
from glasnost.run.ray_executor import RayExecutor, shares
from glasnost.store import open_store
from glasnost.targets.spec import parse_targets
from helpers_runner import MockServer, run_cli, sql, stored_count, wait_for, write_small_bank

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_cluster(request):
    """One local Ray cluster for this module, small (2 CPUs). Started after the PostgreSQL fixture (when there
    is one) so that its workers inherit PGPASSWORD from the environment, as workers on real nodes would."""
    try:
        request.getfixturevalue("pg_cluster")
    except pytest.skip.Exception:
        pass
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 2**20,
             configure_logging=False)
    yield
    ray.shutdown()


def _plan(tmp_path, targets: list[str], n: int, concurrency: int, lease: float = 30.0):
    bank = load_bank(str(write_small_bank(tmp_path / "bank.yaml", n=n)))
    return audit.prepare(bank, parse_targets(targets), ["en", "zh-Hans"], GenerationConfig(max_tokens=6),
                         TransportConfig(concurrency=concurrency, lease_s=lease, max_retries=0))


def _rows(db) -> list[tuple]:
    with open_store(db) as store:
        return sorted((r.key, r.outcome.value, r.text) for r in store.iter_responses())


def test_concurrency_is_divided_among_workers():
    assert shares(8, 2) == [4, 4] and shares(5, 2) == [3, 2] and shares(2, 4) == [1, 1]
    assert sum(shares(7, 3)) == 7


def test_glasnost_run_with_the_ray_executor(tmp_path):
    """The command as a user types it: its own local Ray cluster, two workers, the store given relative."""
    bank = write_small_bank(tmp_path / "bank.yaml", n=10)
    server = MockServer(latency_ms=20)
    try:
        args = ["run", "--target", f"openai-compat:{server.base_url}#mock-model", "--bank", str(bank),
                "--db", "g.db", "--judge", "none", "--report", "", "--concurrency", "4"]
        wrong = run_cli(*args, "--executor", "spark")
        assert wrong.returncode == 2 and "give local, ray, or ray:ADDRESS" in wrong.stderr
        result = run_cli(*args, "--executor", "ray", "--workers", "2", cwd=tmp_path, timeout=240)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "20/20 stored" in result.stdout
        assert len(server.stats()["received"]) == 20 and all(n == 1 for n in server.stats()["received"].values())
    finally:
        server.close()


def test_two_ray_workers_match_a_plain_run_item_for_item(tmp_path, tiny_model_dir, ray_cluster):
    server = MockServer(latency_ms=20)
    try:
        targets = [f"openai-compat:{server.base_url}#mock-model", f"local:{tiny_model_dir}"]
        plan = _plan(tmp_path, targets, n=4, concurrency=4)
        plain, distributed = tmp_path / "plain.db", tmp_path / "ray.db"
        with open_store(plain) as store:
            asyncio.run(audit.execute_plan(store, plan))
        with open_store(distributed) as store:
            progress = asyncio.run(audit.execute_plan(store, plan, executor=RayExecutor(str(distributed), workers=2)))
            manifest = store.get_run(plan.run_id)
        assert progress.done == progress.total == len(plan.items) == 16
        assert manifest.status == "complete"
        assert {r.target_id for r in manifest.runtimes} == {s.id for s in plan.manifest.targets}
        assert _rows(distributed) == _rows(plain)  # every key, outcome and text
        assert all(n == 2 for n in server.stats()["received"].values())  # once per run, never twice in one
    finally:
        server.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_ray_worker_killed_mid_run_loses_nothing(tmp_path, engine, ray_cluster, request):
    db = str(tmp_path / "g.db") if engine == "sqlite" else request.getfixturevalue("pg_cluster").create_database()
    server = MockServer(latency_ms=250)
    try:
        plan = _plan(tmp_path, [f"openai-compat:{server.base_url}#mock-model"], n=25, concurrency=4, lease=3.0)
        outcome: dict = {}

        def run() -> None:
            with open_store(db) as store:
                try:
                    outcome["progress"] = asyncio.run(
                        audit.execute_plan(store, plan, executor=RayExecutor(db, workers=2)))
                except BaseException as exc:  # reported below
                    outcome["error"] = exc

        driver = threading.Thread(target=run)
        driver.start()
        assert wait_for(lambda: stored_count(db) >= 8, timeout=120)
        holders = {w for (w,) in sql(db, "SELECT DISTINCT worker FROM claims")}
        victim = int(sorted(holders)[0].rsplit(":", 2)[1])
        os.kill(victim, signal.SIGKILL)
        driver.join(timeout=180)
        assert not driver.is_alive() and "error" not in outcome, outcome
        assert outcome["progress"].done == len(plan.items) == 50
        keys = sql(db, "SELECT key, outcome FROM responses")
        assert len(keys) == 50 and {o for _, o in keys} == {"ok"}
        received = server.stats()["received"]
        assert len(received) == 50
        assert sum(received.values()) - 50 <= 2  # only what the killed worker had in flight (its share: 2)
        assert sql(db, "SELECT COUNT(*) FROM claims") == [(0,)]
        with open_store(db) as store:
            assert store.get_run(plan.run_id).status == "complete"
    finally:
        server.close()


def test_a_model_that_cannot_load_on_ray_is_one_error_and_a_failed_run(tmp_path, ray_cluster):
    from glasnost.errors import GlasnostError

    empty = tmp_path / "not-a-model"
    empty.mkdir()
    plan = _plan(tmp_path, [f"local:{empty}"], n=1, concurrency=2)
    with open_store(tmp_path / "g.db") as store:
        with pytest.raises(GlasnostError) as info:
            asyncio.run(audit.execute_plan(store, plan, executor=RayExecutor(str(tmp_path / "g.db"), workers=2)))
        assert "\n" not in str(info.value) and "not-a-model" in str(info.value)
        assert store.get_run(plan.run_id).status == "failed"
