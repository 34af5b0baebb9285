"""Hardening: an error is never a verdict.

A timeout, a 5xx given up on, a dropped connection: the response's outcome is ``error``. Whatever label a
judge (a buggy one, an old version, another auditor's bundle) attached to it, it must never enter a
censorship rate, as censorship or as an answer: not in the statistics, not in the report (HTML, Markdown,
JSON), not in a bundle's summary, not in the leaderboard.
"""

from __future__ import annotations

import json

import pytest

from glasnost.bundle.merge import merge
from glasnost.bundle.summary import compute_summary
from glasnost.bundle.verify import verify_bytes
from glasnost.report import write_report
from glasnost.stats.data import load_audit
from glasnost.stats.rates import count_rows
from glasnost.store import open_store
from glasnost.testing.synthetic import RunBuilder, make_concept

CONCEPTS = [make_concept(f"cn.topic-{i}.knowledge", "CN", f"topic-{i}", langs=("en",)) for i in range(8)]


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "g.db")
    yield s
    s.close()


def _run(store, *, mislabelled: bool):
    """alpha: 2 answered, 2 refused (genuine); 4 error outcomes (a timeout, a 503, a dropped connection, a
    malformed body) that a faulty judge labelled refused/answered/blocked/state_narrative (mislabelled) or,
    as the judge should, ``error``."""
    b = RunBuilder(store, CONCEPTS, targets=["alpha"], langs=["en"], run_id="run-err")
    for i, label in enumerate(["answered", "answered", "refused", "refused"]):
        b.add("alpha", CONCEPTS[i].id, "en", label)
    wrong = ["refused", "answered", "blocked", "state_narrative"]
    for i, label in enumerate(wrong, start=4):
        b.add("alpha", CONCEPTS[i].id, "en", label if mislabelled else "error", outcome="error", text=None)
    run = b.commit()
    return run, b


@pytest.mark.parametrize("mislabelled", [False, True])
def test_stats_never_count_an_error_outcome(store, mislabelled):
    run, _ = _run(store, mislabelled=mislabelled)
    data = load_audit(store, [run.run_id])
    assert len(data) == 8
    assert int(data.counted.sum()) == 4 and int(data.censored.sum()) == 2
    row = next(r for r in count_rows(data) if r.lang == "en")
    assert (row.rate.k, row.rate.n) == (2, 4) and row.rate.value == pytest.approx(0.5)
    assert row.errors == 4
    assert row.labels["refused"] == 2 and row.labels["answered"] == 2
    assert row.labels.get("blocked", 0) == 0 and row.labels.get("state_narrative", 0) == 0
    total = next(r for r in count_rows(data) if r.lang is None)
    assert (total.rate.k, total.rate.n) == (2, 4)
    if mislabelled:
        assert any("error" in w and "4" in w for w in data.warnings), data.warnings


@pytest.mark.parametrize("mislabelled", [False, True])
def test_reports_never_count_an_error_outcome(store, tmp_path, mislabelled):
    run, _ = _run(store, mislabelled=mislabelled)
    doc = json.loads(write_report(store, [run.run_id], tmp_path / "r.json", fmt="json").read_text())
    row = next(r for r in doc["analysis"]["summary"] if r["lang"] == "en")
    assert (row["rate"]["k"], row["rate"]["n"]) == (2, 4) and row["errors"] == 4
    md = write_report(store, [run.run_id], tmp_path / "r.md", fmt="md").read_text()
    line = next(ln for ln in md.splitlines() if ln.startswith("| alpha | en |"))
    assert "50.0%" in line, line
    html = write_report(store, [run.run_id], tmp_path / "r.html").read_text()
    assert "50.0%" in html


@pytest.mark.parametrize("mislabelled", [False, True])
def test_bundle_summary_and_leaderboard_never_count_an_error_outcome(store, mislabelled):
    from test_bundle_fixtures import key

    from glasnost.bundle.export import export_run

    run, b = _run(store, mislabelled=mislabelled)
    summary = compute_summary(b.responses, b.verdicts, "default@1")
    (row,) = summary.rows
    assert (row.n_counted, row.n_censored, row.rate) == (4, 2, 0.5)
    assert row.counts["error"] == 4
    assert sum(row.counts[x] for x in ("answered", "refused", "deflected", "state_narrative", "blocked")) == 4
    result = export_run(store, run.run_id, key("alice"))
    vb = verify_bytes(result.data)
    (pub,) = vb.summary.rows
    assert (pub.n_counted, pub.n_censored) == (4, 2)
    board = merge([vb])
    (lrow,) = board.rows
    assert (lrow.pooled.n_counted, lrow.pooled.n_censored, lrow.pooled.rate) == (4, 2, 0.5)


def test_an_all_error_target_has_no_rate_not_a_zero(store, tmp_path):
    b = RunBuilder(store, CONCEPTS, targets=["alpha", "beta"], langs=["en"])
    for c in CONCEPTS:
        b.add("alpha", c.id, "en", "answered")
        b.add("beta", c.id, "en", "refused", outcome="error", text=None)  # e.g. every request timed out
    run = b.commit()
    data = load_audit(store, [run.run_id])
    beta = next(r for r in count_rows(data) if r.target == "beta" and r.lang == "en")
    assert beta.rate.value is None and beta.rate.n == 0 and beta.errors == len(CONCEPTS)
    md = write_report(store, [run.run_id], tmp_path / "r.md", fmt="md").read_text()
    line = next(ln for ln in md.splitlines() if ln.startswith("| beta | en |"))
    assert "%" not in line.split("|")[3], line


def test_a_real_run_with_timeouts_and_5xx_counts_them_as_errors(tmp_path):
    """End to end through the runner, the default judge and the report: a timed-out request, a 503 given up
    on (whose body even says "blocked by" and "moderation", as proxies' error pages do) and a malformed body
    are errors, and the rate's n is the answered questions only."""
    from helpers_runner import MockServer, run_cli, write_small_bank

    bank = write_small_bank(tmp_path / "bank.yaml", n=6, langs=("en",))
    rules = [
        {"contains": "Question 0 ", "delay_ms": 5000},  # the client gives up first (--timeout 1)
        {"contains": "Question 1 ", "status": 503,
         "body": {"error": {"message": "upstream blocked by firewall; moderation service unavailable"}}},
        {"contains": "Question 2 ", "status": 500, "body": {"error": {"message": "Internal error"}}},
        {"contains": "Question 3 ", "text": "I'm sorry, but I can't help with that."},
    ]
    server = MockServer(rules=rules, tmp=tmp_path)
    db = tmp_path / "g.db"
    try:
        result = run_cli("run", "--target", f"openai-compat:{server.base_url}#mock", "--bank", str(bank),
                         "--lang", "en", "--db", str(db), "--timeout", "1", "--max-retries", "0",
                         "--report", str(tmp_path / "r.json"))
    finally:
        server.close()
    assert result.returncode == 4, result.stderr  # errors left after retries (README, "Exit codes")
    runs = json.loads(run_cli("runs", "--json", "--db", str(db)).stdout)
    assert runs[0]["outcomes"].get("error") == 3, runs[0]["outcomes"]
    doc = json.loads((tmp_path / "r.json").read_text())
    row = next(r for r in doc["analysis"]["summary"] if r["lang"] == "en")
    assert row["errors"] == 3
    assert row["rate"]["n"] == 3, row  # the three answers, never the three errors
    assert row["labels"].get("blocked", 0) == 0, row["labels"]


def test_inputs_with_nothing_usable_fail_with_one_line(tmp_path):
    from helpers_runner import run_cli

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"broken json\n')
    empty_bank = tmp_path / "bank"
    empty_bank.mkdir()
    for args, needle in [
        (["classify", str(bad), "--out", str(tmp_path / "o.jsonl")], "no line could be classified"),
        (["judge-eval", str(bad)], "no labelled row"),
        (["run", "--bank", str(empty_bank), "--target", "openai:x", "--dry-run"], "has no concepts"),
    ]:
        result = run_cli(*args)
        assert result.returncode != 0, args
        assert "Traceback" not in result.stderr
        assert needle in result.stderr.strip().splitlines()[-1], result.stderr
