"""Work is claimed, not duplicated: leases in the store, processes sharing a run, heartbeats, failed starts,
exit codes (issue 11, item 5 and part of 8)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from glasnost.store import open_store
from helpers_runner import MockServer, glasnost_cmd, run_cli, sql, stored_count, wait_for, write_small_bank


def test_a_claim_is_exclusive_until_its_lease_runs_out(store_db):
    with open_store(store_db) as store:
        assert store.claim("r", ["a", "b"], "w1", 0.3) == ["a", "b"]
        assert store.claim("r", ["a", "b", "c"], "w2", 0.3) == ["c"]  # a and b are w1's
        assert store.claimed_by_others(["a", "b", "c"], "w2") == {"a": "w1", "b": "w1"}
        assert store.claim("r", ["a", "c"], "w1", 0.3) == ["a"]  # holding again is fine, stealing is not
        time.sleep(0.4)
        assert store.claim("r", ["a"], "w2", 5) == ["a"]  # w1's lease ran out: taken over
        assert store.renew("w2", 5) == 2
        store.release("w2", ["a"])
        assert store.claim("r", ["a"], "w3", 5) == ["a"]
        store.release("w3")
        assert store.claimed_by_others(["a", "b", "c"], "w9") == {"c": "w2"}


def test_two_claimers_in_two_connections_never_hold_one_key(store_db):
    a, b = open_store(store_db), open_store(store_db)
    try:
        keys = [f"k{i}" for i in range(200)]
        got_a = set(a.claim("r", keys[:150], "A", 30))
        got_b = set(b.claim("r", keys[50:], "B", 30))
        assert not got_a & got_b and got_a | got_b == set(keys)
    finally:
        a.close()
        b.close()


def test_claims_renewals_and_releases_racing_never_deadlock(store_db):
    """Two workers claiming, renewing and releasing overlapping keys at once: on PostgreSQL, rows locked in
    different orders deadlocked (several times in 8 s before every writer locked in key order)."""
    import random
    import threading

    a, b = open_store(store_db), open_store(store_db)
    keys = [f"k{i:04d}" for i in range(300)]
    errors: list[str] = []
    a.claim("r", keys[::2], "A", 30)
    stop = time.monotonic() + 4
    rng = random.Random(0)

    def work(store, me: str) -> None:
        while time.monotonic() < stop:
            try:
                chosen = rng.sample(keys, 150)
                store.claim("r", chosen, me, 30)
                store.renew(me, 30)
                store.release(me, chosen[:70])
            except Exception as exc:  # reported below
                errors.append(repr(exc)[:300])

    try:
        threads = [threading.Thread(target=work, args=(a, "A")), threading.Thread(target=work, args=(b, "B"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:2]
        mine = {w: set(s.claim("r", keys, w, 30)) & set(keys) for s, w in ((a, "A"), (b, "B"))}
        assert not mine["A"] & mine["B"]
    finally:
        a.close()
        b.close()


def _args(server, bank, db, *extra):
    return ["run", "--target", f"openai-compat:{server.base_url}#mock-model", "--bank", str(bank),
            "--lang", "en,zh-Hans", "--db", str(db), "--judge", "none", "--report", "", *extra]


@pytest.mark.slow
def test_two_processes_on_one_run_ask_each_key_once_and_count_truthfully(tmp_path, store_db):
    bank = write_small_bank(tmp_path / "bank.yaml", n=40)  # 80 items
    db = store_db
    server = MockServer(latency_ms=100)  # both processes get work even when one starts late
    try:
        args = _args(server, bank, db, "--concurrency", "4")
        procs = [subprocess.Popen(glasnost_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        received = server.stats()["received"]
        assert len(received) == 80 and sum(received.values()) == 80  # requests at the server / items = 1.0
        asked = []
        for out, _ in outs:
            line = next(ln for ln in out.splitlines() if "stored (" in ln)
            assert "80/80 stored" in line
            asked.append(int(line.split("(ok ")[1].split()[0].rstrip(";")))
        assert sum(asked) == 80 and all(n > 0 for n in asked), outs  # each says what it asked itself
        assert all("stored by another process" in out for out, _ in outs)
    finally:
        server.close()


@pytest.mark.slow
def test_claims_of_a_worker_elsewhere_wait_for_their_lease(tmp_path, store_db):
    """A claim held by a worker on another machine (it cannot be seen dying) delays its key until the lease
    runs out, and the key is then asked once."""
    bank = write_small_bank(tmp_path / "bank.yaml", n=2, langs=("en",))
    db = store_db
    server = MockServer()
    try:
        args = _args(server, bank, db, "--lang", "en", "--dry-run")
        assert run_cli(*args).returncode == 0  # creates the store
        probe = run_cli(*_args(server, bank, db, "--lang", "en", "--limit", "1"))  # a different run: 1 item
        assert probe.returncode == 0
        with open_store(db) as store:
            asked = set(store.stored_outcomes(k for r in store.list_runs() for k in store.run_keys(r.run_id)))
        # claim the second item's key for a worker on another host for 3 s
        from glasnost.bank import load_bank
        from glasnost.records import GenerationConfig
        from glasnost.run.plan import item_key, select_probes
        from glasnost.targets.spec import parse_targets

        spec = parse_targets([f"openai-compat:{server.base_url}#mock-model"])[0]
        probes = select_probes(load_bank(str(bank)), ["en"], None, None)
        keys = [item_key(p, spec, GenerationConfig(), None, 0) for p in probes]
        held = [k for k in keys if k not in asked]
        assert len(held) == 1
        with open_store(db) as store:
            assert store.claim("elsewhere", held, "another-host:1:abc", 3.0) == held
        start = time.monotonic()
        result = run_cli(*_args(server, bank, db, "--lang", "en"))
        waited = time.monotonic() - start
        assert result.returncode == 0, result.stderr
        assert "2/2 stored" in result.stdout
        assert waited >= 2.0  # it waited for the lease instead of asking a key someone else holds
        assert all(n == 1 for n in server.stats()["received"].values())
    finally:
        server.close()


@pytest.mark.slow
def test_killed_run_is_interrupted_and_resumed_at_once_on_the_same_machine(tmp_path, store_db):
    bank = write_small_bank(tmp_path / "bank.yaml", n=10)
    db = store_db
    server = MockServer(hang_after=5)
    try:
        args = _args(server, bank, db, "--concurrency", "4", "--lease", "1")
        child = subprocess.Popen(glasnost_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert wait_for(lambda: stored_count(db) >= 5, timeout=60)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        time.sleep(1.2)  # the heartbeat (lease 1 s) has run out
        runs = json.loads(run_cli("runs", "--json", "--db", str(db)).stdout)
        assert runs[0]["status"] == "interrupted"
        server.control(hang_after=None)
        resumed = run_cli(*_args(server, bank, db, "--concurrency", "4"))  # default lease: 30 s
        assert resumed.returncode == 0 and "20/20 stored" in resumed.stdout
        answered = server.stats()["answered"]
        assert len(answered) == 20 and all(n == 1 for n in answered.values())
        with open_store(db) as store:
            assert store.list_runs()[0].status == "complete"
        assert sql(db, "SELECT COUNT(*) FROM claims") == [(0,)]
    finally:
        server.close()


def test_a_run_that_cannot_start_is_failed_and_keeps_one_row(tmp_path, store_db):
    bank = write_small_bank(tmp_path / "bank.yaml", n=2, langs=("en",))
    db = store_db
    env = {"GLASNOST_TEST_NO_SUCH_KEY": ""}
    args = ["run", "--target", "openai-compat:http://127.0.0.1:9/v1#m?key_env=GLASNOST_TEST_NO_SUCH_KEY",
            "--bank", str(bank), "--lang", "en", "--db", str(db), "--judge", "none", "--report", ""]
    for _ in range(2):
        result = run_cli(*args, env=env)
        assert result.returncode in (2, 3), result.stderr
        assert "Traceback" not in result.stderr
    runs = json.loads(run_cli("runs", "--json", "--db", str(db)).stdout)
    assert len(runs) == 1
    assert runs[0]["status"] == "failed" and runs[0]["stored"] == 0
    shown = run_cli("show", runs[0]["id"], "--db", str(db))
    assert "[failed]" in shown.stdout


@pytest.mark.slow
def test_run_exit_code_says_errors_remain(tmp_path, store_db):
    bank = write_small_bank(tmp_path / "bank.yaml", n=3, langs=("en",))
    db = store_db
    server = MockServer(rules=[{"contains": "Question 2 ", "status": 500}], tmp=tmp_path)
    try:
        args = _args(server, bank, db, "--lang", "en", "--max-retries", "0")
        first = run_cli(*args)
        assert first.returncode == 4, first.stderr
        assert first.stderr.count("\n") == 1 and "1 of 3 requests still ended in error" in first.stderr
        server.control(rules=[])
        assert run_cli(*args).returncode == 0
    finally:
        server.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
