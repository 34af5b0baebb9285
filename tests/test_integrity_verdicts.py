"""Verdicts belong to a response's content: a response replaced by a retry or a bundle import invalidates
its verdicts; `judge` judges them again and nothing ever counts a stale one (issue 11, item 1)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from glasnost.bundle.export import export_run
from glasnost.bundle.importer import import_bundle
from glasnost.bundle.verify import verify_bytes
from glasnost.records import Label, Outcome, Response, Verdict, response_digest
from glasnost.store.schema import MIGRATIONS, statements
from glasnost.store import open_store
from glasnost.store.sqlite import SQLiteStore
from helpers_runner import MockServer, run_cli, sql, write_small_bank
from test_bundle_fixtures import build_run, key, members_of, standard_items

pytestmark = pytest.mark.slow


def _report_n(path) -> int:
    report = json.loads(path.read_text())
    return sum(rate["n"] for rate in report["analysis"]["overall"].values())


def test_rerun_that_answers_errors_rejudges_them_and_every_figure_follows(tmp_path, store_db):
    """The issue's scenario: errors judged `error`, a rerun answers them, the old verdicts must not stay."""
    bank = write_small_bank(tmp_path / "bank.yaml", n=10)  # 20 probes
    db = store_db
    server = MockServer(rules=[{"contains": "Question 1 ", "status": 500}, {"contains": "Question 3 ", "status": 503}],
                        tmp=tmp_path)
    try:
        target = f"openai-compat:{server.base_url}#mock-model"
        args = ["run", "--target", target, "--bank", str(bank), "--lang", "en,zh-Hans", "--db", str(db),
                "--max-retries", "0", "--concurrency", "4"]
        first = run_cli(*args, "--judge", "default", "--report", str(tmp_path / "r1.json"))
        assert first.returncode == 4, first.stderr  # errors left after retries: a documented exit code
        assert "4 of 20 requests still ended in error" in first.stderr
        run_id = first.stdout.split()[1].rstrip(":")
        assert _report_n(tmp_path / "r1.json") == 16

        server.control(rules=[])
        second = run_cli(*args, "--judge", "none", "--report", "")
        assert second.returncode == 0, second.stderr
        assert "20/20 stored (ok 4 this time)" in second.stdout

        judged = run_cli("judge", run_id, "--db", str(db), "--json")
        assert judged.returncode == 0, judged.stderr
        summary = json.loads(judged.stdout)
        assert summary["stale"] == 4 and summary["judged"] == 4 and summary["skipped"] == 16
        assert summary["labels"].get("error", 0) == 0

        out = tmp_path / "r2.json"
        rep = run_cli("report", run_id, "--db", str(db), "--out", str(out))
        assert rep.returncode == 0, rep.stderr
        with open_store(db) as store:
            answers = sum(1 for r in store.iter_responses(run_id) if r.outcome is Outcome.ok)
            assert store.stale_verdicts(run_id) == 0
            members = members_of(export_run(store, run_id, key("alice")).data)
        assert answers == 20 and _report_n(out) == answers
        rows = json.loads(members["summary.json"])["rows"]
        assert all(row["counts"].get("error", 0) == 0 for row in rows), rows
        assert sum(row["n_counted"] for row in rows) == 20
    finally:
        server.close()


def test_run_with_its_judge_rejudges_replaced_errors(tmp_path, store_db):
    bank = write_small_bank(tmp_path / "bank.yaml", n=3)
    db = store_db
    server = MockServer(rules=[{"contains": "Question 0 ", "status": 500}], tmp=tmp_path)
    try:
        args = ["run", "--target", f"openai-compat:{server.base_url}#m", "--bank", str(bank), "--lang", "en",
                "--db", str(db), "--max-retries", "0", "--report", ""]
        assert run_cli(*args).returncode == 4
        server.control(rules=[])
        assert run_cli(*args).returncode == 0
        with open_store(db) as store:
            run_id = store.list_runs()[0].run_id
            labels = [v.label for v in store.iter_verdicts(run_id, "default@1")] if "default@1" in \
                store.judges(run_id) else [v.label for v in store.iter_verdicts(run_id)]
            assert len(labels) == 3 and Label.error not in labels
    finally:
        server.close()


def _replace_error(store, db: str, run_id: str) -> Response:
    """Turn the run's first response into an error judged `error`, then answer it again (as a rerun does)."""
    first = next(store.iter_responses(run_id))
    failed = first.model_copy(update={"key": first.key, "outcome": Outcome.error, "text": None, "error": "HTTP 500"})
    sql(db, "UPDATE responses SET outcome = 'error', data = ?, digest = ? WHERE key = ?",
        (failed.model_dump_json(), response_digest(failed), first.key))
    store.put_verdicts([Verdict(response_key=first.key, judge="default@1", label=Label.error,
                                response_digest=response_digest(failed))])
    assert store.put_responses([first]) == 1  # the answer replaces the error
    return first


def test_every_reader_leaves_out_a_verdict_whose_response_changed(store_db):
    store = build_run(store_db, "run-a", standard_items())
    try:
        answered = _replace_error(store, store_db, "run-a")
        assert answered.key not in {v.response_key for v in store.iter_verdicts("run-a")}
        assert answered.key not in {k for k, _, _ in store.iter_verdict_labels("run-a", "default@1")}
        assert answered.key not in store.verdicts_for([answered.key], "default@1")
        assert store.stale_verdicts("run-a") == 1
    finally:
        store.close()


def test_bundle_import_replacing_an_error_drops_the_local_error_verdict(tmp_path, store_db):
    alice = build_run(tmp_path / "a.db", "run-a", standard_items())
    data = export_run(alice, "run-a", key("alice")).data
    alice.close()
    bob = build_run(store_db, "run-a", standard_items())
    try:
        first = next(bob.iter_responses("run-a"))
        failed = first.model_copy(update={"outcome": Outcome.error, "text": None, "error": "timeout"})
        sql(store_db, "UPDATE responses SET outcome = 'error', data = ?, digest = ? WHERE key = ?",
            (failed.model_dump_json(), response_digest(failed), first.key))
        bob.put_verdicts([Verdict(response_key=first.key, judge="default@1", label=Label.error)])
        result = import_bundle(bob, verify_bytes(data))
        assert result.replaced_errors == 1
        verdict = bob.verdicts_for([first.key], "default@1")[first.key]
        assert verdict.label is not Label.error  # Alice's verdict on the answer, not Bob's stale `error`
        assert verdict.response_digest == response_digest(bob.get_response(first.key))
    finally:
        bob.close()


def test_a_bundle_verdict_that_judged_another_response_is_not_imported(tmp_path, store_db):
    alice = build_run(store_db, "run-a", standard_items())
    key0 = next(alice.iter_responses("run-a")).key
    sql(store_db, "UPDATE verdicts SET response_digest = 'f00d' WHERE response_key = ?", (key0,))
    vb = verify_bytes(export_run(alice, "run-a", key("alice")).data)
    alice.close()
    forged = [v.model_copy(update={"response_digest": "0" * 64}) if i == 0 else v for i, v in enumerate(vb.verdicts)]
    vb.verdicts[:] = forged
    with open_store(tmp_path / "c.db") as carol:
        result = import_bundle(carol, vb)
        assert result.stale_verdicts == 1
        assert result.verdicts_added == len(vb.verdicts) - 1
        assert key0 not in {v.response_key for v in carol.iter_verdicts()}  # stale at Alice: never exported


def test_old_store_migrates_keeping_only_verdicts_provably_of_their_response(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:3]:
        for stmt in statements(script):
            conn.execute(stmt)
    conn.execute("INSERT INTO meta VALUES ('app', 'glasnost'), ('schema_version', '3')")
    items = standard_items()[:3]
    from test_bundle_fixtures import response_for

    responses = [response_for(i, "run-a") for i in items]
    for r in responses:
        conn.execute("INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (r.key, r.run_id, r.concept_id, r.lang, r.target_id, r.sample_index, r.outcome.value,
                      r.model_dump_json()))
        conn.execute("INSERT INTO run_items VALUES ('run-a', 0, ?)", (r.key,))
    ok = [r for r in responses if r.outcome is Outcome.ok]
    assert len(ok) >= 2
    kept, stale = ok[0], ok[1]  # an `answered` verdict on an answer; an `error` verdict left from an error
    for r, label in ((kept, Label.answered), (stale, Label.error)):
        v = Verdict(response_key=r.key, judge="default@1", label=label)
        conn.execute("INSERT INTO verdicts VALUES (?, ?, ?, ?, ?)", (r.key, v.judge, label.value, "ok",
                                                                     v.model_dump_json()))
    conn.close()
    with SQLiteStore(path) as store:
        found = {v.response_key: v for v in store.iter_verdicts()}
        assert set(found) == {kept.key}
        assert found[kept.key].response_digest == response_digest(kept)
        assert store.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == \
            str(len(MIGRATIONS))


def test_old_postgres_store_migrates_like_sqlite(pg_cluster):
    """The same migration 5 on PostgreSQL: only a verdict provably of its response keeps a digest."""
    import psycopg

    from glasnost.store import pg_schema

    url = pg_cluster.create_database()
    items = standard_items()[:3]
    from test_bundle_fixtures import response_for

    responses = [response_for(i, "run-a") for i in items]
    ok = [r for r in responses if r.outcome is Outcome.ok]
    kept, stale = ok[0], ok[1]
    with psycopg.connect(url, autocommit=True) as conn:
        for script in pg_schema.MIGRATIONS[:3]:
            conn.execute(script)
        conn.execute("INSERT INTO meta VALUES ('app', 'glasnost'), ('schema_version', '3')")
        for r in responses:
            conn.execute("INSERT INTO responses VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                         (r.key, r.run_id, r.concept_id, r.lang, r.target_id, r.sample_index, r.outcome.value,
                          r.model_dump_json()))
        for r, label in ((kept, Label.answered), (stale, Label.error)):
            v = Verdict(response_key=r.key, judge="default@1", label=label)
            conn.execute("INSERT INTO verdicts VALUES (%s, %s, %s, %s, %s)",
                         (r.key, v.judge, label.value, "ok", v.model_dump_json()))
    with open_store(url) as store:
        found = {v.response_key: v for v in store.iter_verdicts()}
        assert set(found) == {kept.key}
        assert found[kept.key].response_digest == response_digest(kept)
    assert sql(url, "SELECT value FROM meta WHERE key='schema_version'") == [(str(len(MIGRATIONS)),)]
