"""A shared store: `judge` and `report` while a run writes (both engines), and a PostgreSQL password that
never leaves the environment: not printed, not stored, not in reports or bundles (issue 16)."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from helpers_runner import MockServer, glasnost_cmd, run_cli, sql, stored_count, wait_for, write_small_bank

pytestmark = pytest.mark.slow


def _run_args(server, bank, db, *extra):
    return ["run", "--target", f"openai-compat:{server.base_url}#mock-model", "--bank", str(bank), "--lang",
            "en,zh-Hans", "--db", str(db), "--report", "", *extra]


def test_judge_and_report_while_a_run_writes(tmp_path, store_db):
    bank = write_small_bank(tmp_path / "bank.yaml", n=30)  # 60 items
    db = store_db
    server = MockServer(latency_ms=60)
    try:
        dry = run_cli(*_run_args(server, bank, db, "--dry-run"))
        run_id = dry.stdout.split()[1].rstrip(":")
        writer = subprocess.Popen(glasnost_cmd(*_run_args(server, bank, db, "--judge", "none", "--concurrency", "2")),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert wait_for(lambda: stored_count(db) >= 5, timeout=60)
            seen = []
            while writer.poll() is None and len(seen) < 3:
                judged = run_cli("judge", run_id, "--db", str(db), "--json")
                assert judged.returncode == 0, judged.stderr
                out = tmp_path / f"r{len(seen)}.json"
                report = run_cli("report", run_id, "--db", str(db), "--out", str(out))
                assert report.returncode == 0, report.stderr
                n = sum(rate["n"] for rate in json.loads(out.read_text())["analysis"]["overall"].values())
                seen.append(n)
            assert writer.wait(timeout=120) == 0, writer.stderr.read()
        finally:
            if writer.poll() is None:
                writer.kill()
        assert seen and seen == sorted(seen) and seen[0] < 60  # read while the run was writing, never backwards
        final = json.loads(run_cli("judge", run_id, "--db", str(db), "--json").stdout)
        assert final["judged"] + final["skipped"] == 60 and final["stale"] == 0
        assert all(n == 1 for n in server.stats()["received"].values())
    finally:
        server.close()


def test_a_password_in_the_url_never_leaves_the_environment(tmp_path, pg_cluster, monkeypatch):
    from pg_cluster import PASSWORD, USER

    url = pg_cluster.create_database()
    with_password = url.replace(f"{USER}@", f"{USER}:{PASSWORD}@")
    monkeypatch.delenv("PGPASSWORD")  # only the URL carries it here
    bank = write_small_bank(tmp_path / "bank.yaml", n=2, langs=("en",))
    server = MockServer()
    outputs = []
    try:
        report = tmp_path / "report.html"
        run = run_cli(*_run_args(server, bank, with_password, "--lang", "en", "--report", str(report)))
        assert run.returncode == 0, run.stderr.replace(PASSWORD, "***")
        run_id = run.stdout.split()[1].rstrip(":")
        monkeypatch.setenv("GLASNOST_CONFIG_DIR", str(tmp_path / "cfg"))
        assert run_cli("keys", "init", "--name", "Tester").returncode == 0
        for args in (["runs", "--json"], ["show", run_id], ["db", "check"],
                     ["bundle", "export", run_id, "--out", str(tmp_path / "b.tar.gz")]):
            result = run_cli(*args, "--db", with_password)
            assert result.returncode == 0, (args, result.stderr.replace(PASSWORD, "***"))
            outputs += [result.stdout, result.stderr]
        assert "127.0.0.1" in outputs[-4]  # db check names the store, by host and database only
        wrong = run_cli("runs", "--db", with_password.replace(PASSWORD, PASSWORD + "x"))
        assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "Traceback" not in wrong.stderr
        outputs += [run.stdout, run.stderr, wrong.stdout, wrong.stderr, report.read_text()]
        import tarfile

        with tarfile.open(tmp_path / "b.tar.gz") as tar:
            outputs += [tar.extractfile(m).read().decode("utf-8", "replace") for m in tar.getmembers() if m.isfile()]
        monkeypatch.setenv("PGPASSWORD", PASSWORD)
        for table in ("runs", "responses", "verdicts", "meta", "bank_snapshots"):
            outputs += [json.dumps(sql(url, f"SELECT * FROM {table}"), default=str)]
    finally:
        server.close()
    leaked = [i for i, text in enumerate(outputs) if PASSWORD in text]
    assert not leaked, leaked
