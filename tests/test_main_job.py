"""End to end: the main job on the tiny local model, and kill/resume against a real third-party server."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess

import pytest

from helpers_runner import stored_count, glasnost_cmd, run_cli, wait_for, write_small_bank

pytestmark = pytest.mark.slow


def test_main_job_on_tiny_local_model_writes_report(tiny_model_dir, tmp_path):
    db = tmp_path / "g.db"
    out = tmp_path / "report.html"
    args = ["run", "--target", f"local:{tiny_model_dir}", "--bank", "quick", "--limit", "6", "--max-tokens", "12",
            "--db", str(db), "--report", str(out)]
    result = run_cli(*args, env={"HF_HUB_OFFLINE": "1"}, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "6/6 stored" in result.stdout
    html = out.read_text(encoding="utf-8")
    assert "<svg" in html or "<table" in html
    runs = json.loads(run_cli("runs", "--json", "--db", str(db)).stdout)
    assert len(runs) == 1 and runs[0]["stored"] == 6 and runs[0]["judges"], runs
    manifest = json.loads(run_cli("show", runs[0]["id"], "--json", "--db", str(db)).stdout)
    runtime = manifest["runtimes"][0]
    assert runtime["chat_template_sha"] and len(runtime["chat_template_sha"]) == 64
    assert runtime["revision"]  # a hash of the folder's weights for a model outside the hub cache
    assert manifest["bank"]["fingerprint"] and manifest["packages"].get("torch")


def test_kill_and_resume_against_transformers_serve(openai_server, tmp_path):
    bank = write_small_bank(tmp_path / "bank.yaml", n=12, langs=("en",))
    db = tmp_path / "g.db"
    args = ["run", "--target", openai_server.spec, "--bank", str(bank), "--lang", "en", "--db", str(db),
            "--concurrency", "2", "--max-tokens", "8", "--judge", "none", "--report", ""]
    child = subprocess.Popen(glasnost_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: stored_count(db) >= 4, timeout=300), child.stderr.read1().decode(errors="replace")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert 4 <= stored_count(db) < 12
    resumed = run_cli(*args, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "12/12 stored" in resumed.stdout
    con = sqlite3.connect(db)
    rows = con.execute("SELECT key, COUNT(*), outcome FROM responses GROUP BY key").fetchall()
    assert len(rows) == 12 and all(n == 1 for _, n, _ in rows)
    assert {o for _, _, o in rows} <= {"ok", "truncated", "empty"}
