"""A run killed with SIGKILL mid-way, then resumed: every key stored once, each answered once by the server."""

from __future__ import annotations

import signal
import subprocess

import pytest

from helpers_runner import stored_count, MockServer, glasnost_cmd, run_cli, sql, wait_for, write_small_bank

pytestmark = pytest.mark.slow


def test_sigkill_then_resume_loses_nothing_and_repeats_nothing(tmp_path, store_db):
    bank = write_small_bank(tmp_path / "bank.yaml", n=20)  # 40 probes in en + zh-Hans
    db = store_db
    kill_after = 17
    server = MockServer(hang_after=kill_after)
    try:
        target = f"openai-compat:{server.base_url}#mock-model"
        args = ["run", "--target", target, "--bank", str(bank), "--lang", "en,zh-Hans", "--db", str(db),
                "--concurrency", "4", "--judge", "none", "--report", ""]
        child = subprocess.Popen(glasnost_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert wait_for(lambda: stored_count(db) >= kill_after, timeout=60), "child never stored responses"
            assert wait_for(lambda: sum(server.stats()["received"].values()) > kill_after, timeout=30)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        stored_at_kill = stored_count(db)
        assert stored_at_kill == kill_after  # the server answered exactly that many; all were committed
        in_flight = sum(server.stats()["received"].values()) - kill_after

        server.control(hang_after=None)
        resumed = run_cli(*args)
        assert resumed.returncode == 0, resumed.stderr
        assert "40/40 stored" in resumed.stdout

        stats = server.stats()
        assert len(stats["answered"]) == 40
        assert all(n == 1 for n in stats["answered"].values()), stats["answered"]
        # only the requests that were in flight at the kill reached the server twice
        twice = [p for p, n in stats["received"].items() if n > 1]
        assert len(twice) == in_flight <= 4
        keys = sql(db, "SELECT key, COUNT(*) FROM responses GROUP BY key")
        assert len(keys) == 40 and all(n == 1 for _, n in keys)
        status = sql(db, "SELECT status FROM runs")
        assert status == [("complete",)]

        # and running it a third time asks for nothing
        before = sum(server.stats()["received"].values())
        again = run_cli(*args)
        assert again.returncode == 0 and "40/40 stored (nothing new" in again.stdout
        assert sum(server.stats()["received"].values()) == before
    finally:
        server.close()


def test_cli_errors_are_one_line(tmp_path):
    bank = write_small_bank(tmp_path / "bank.yaml", n=2)
    cases = [
        (["run", "--target", "nosuchkind:model", "--bank", str(bank)], "unknown kind"),
        (["run", "--target", "openai-compat:http://127.0.0.1:9/v1#m", "--bank", str(bank), "--judge", "none",
          "--report", ""], "127.0.0.1:9"),
        (["run", "--target", "openai:gpt-4o-mini", "--bank", str(bank)], "OPENAI_API_KEY"),
        (["run", "--target", "openai:gpt-4o-mini", "--bank", "nosuchbank"], "unknown bank"),
        (["run", "--target", "openai:gpt-4o-mini", "--bank", str(bank), "--lang", "tlh"], "not in bank"),
        (["runs", "--db", str(bank)], "not"),
    ]
    for args, needle in cases:
        result = run_cli(*args, "--db", str(tmp_path / "x.db")) if "--db" not in args else run_cli(*args)
        assert result.returncode != 0, (args, result.stdout)
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert needle in lines[0], (needle, lines[0])
