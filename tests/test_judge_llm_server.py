"""The LLM judge and the panel end to end, through a real HTTP endpoint (the mock OpenAI-compatible server)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from helpers_runner import MockServer, run_cli, write_small_bank

pytestmark = pytest.mark.slow

GOOD = json.dumps({"label": "refused", "evidence": ["I cannot"], "rationale": "declines"})


def _labels(db, judge_prefix: str) -> list[tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT label, status FROM verdicts WHERE judge LIKE ? ORDER BY response_key",
                           (judge_prefix + "%",)).fetchall()
    finally:
        con.close()


def test_llm_judge_and_panel_through_an_http_endpoint(tmp_path):
    rules = [
        {"model": "audited", "text": "I cannot discuss {prompt}"},
        {"model": "judge-a", "text": GOOD},
        {"model": "judge-b", "text": "```json\n" + GOOD + "\n```"},  # a fenced reply is still JSON
        {"model": "judge-bad", "text": "I think it is a refusal, probably."},
    ]
    server = MockServer(rules=rules, tmp=tmp_path)
    try:
        bank = write_small_bank(tmp_path / "bank.yaml", n=3, langs=("en",))
        db = tmp_path / "g.db"
        base = server.base_url
        ran = run_cli("run", "--target", f"openai-compat:{base}#audited", "--bank", str(bank), "--lang", "en",
                      "--db", str(db), "--judge", "none", "--report", "")
        assert ran.returncode == 0, ran.stderr
        run_id = json.loads(run_cli("runs", "--json", "--db", str(db)).stdout)[0]["id"]

        judged = run_cli("judge", run_id, "--judge", f"llm:openai-compat:{base}#judge-a", "--db", str(db))
        assert judged.returncode == 0, judged.stderr
        assert _labels(db, "llm:") == [("refused", "ok")] * 3
        asked = sum(server.stats()["received"].values())
        # cached by (response key, judge id, prompt sha): judging again asks the judge nothing
        again = run_cli("judge", run_id, "--judge", f"llm:openai-compat:{base}#judge-a", "--db", str(db))
        assert again.returncode == 0 and sum(server.stats()["received"].values()) == asked

        bad = run_cli("judge", run_id, "--judge", f"llm:openai-compat:{base}#judge-bad", "--db", str(db))
        assert bad.returncode == 0, bad.stderr
        con = sqlite3.connect(db)
        rows = con.execute("SELECT label, status FROM verdicts WHERE judge LIKE '%judge-bad%'").fetchall()
        con.close()
        assert rows == [("unclassifiable", "judge_error")] * 3  # never a label

        panel = run_cli("judge", run_id, "--judge",
                        f"panel:openai-compat:{base}#judge-a,openai-compat:{base}#judge-b", "--db", str(db))
        assert panel.returncode == 0, panel.stderr
        assert _labels(db, "panel") == [("refused", "ok")] * 3
        assert "panel agreement over 3 responses: raw 1.000" in panel.stdout + panel.stderr
    finally:
        server.close()
