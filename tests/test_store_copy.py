"""glasnost db copy: everything between stores, SQLite ⇄ PostgreSQL, verified by counts and digests; a
non-empty destination is refused unless --overwrite; an interrupted copy resumes (issue 16)."""

from __future__ import annotations

import pytest

from glasnost.records import Verdict
from glasnost.store import open_store
from glasnost.store.copy import TABLES, table_digest
from helpers_runner import run_cli, sql
from test_bundle_fixtures import build_run, standard_items


def _fill(db: str) -> None:
    store = build_run(db, "run-a", standard_items())
    try:
        keys = store.run_keys("run-a")
        store.put_verdicts([Verdict(response_key=keys[0], judge="other@2", label="refused")])
        store.record_import({"root": "r" * 64, "run_id": "run-a", "auditor": "Alice", "fingerprint": "f" * 16,
                             "public_key": "pk", "judge": "default@1", "responses": 13, "conflicts": 1})
        store.add_provenance([{"response_key": keys[1], "root": "r" * 64, "auditor": "Alice", "fingerprint": "f" * 16}])
        store.add_conflicts([{"response_key": keys[2], "root": "r" * 64, "kind": "verdict", "judge": "default@1",
                              "data": "{}"}])
        store.add_score_items("run-a", ["s1"])
        store.put_scores([{"key": "s1", "concept_id": "c", "lang": "en", "target_id": "t", "method": "mcq",
                           "status": "ok", "data": {"p": 0.5}}])
        store.set_alive("run-a", 30)
    finally:
        store.close()
    sql(db, "UPDATE responses SET data = '{\"key\": oops' WHERE key = ?", (keys[3],))  # damaged: copied as is


def _digests(db: str) -> dict[str, str]:
    out = {}
    for table, (columns, key) in TABLES.items():
        out[table] = table_digest(columns, key, [tuple(r) for r in sql(db, f"SELECT {', '.join(columns)} FROM {table}")])
    return out


def test_copy_there_and_back_keeps_every_row(tmp_path, pg_cluster):
    first = str(tmp_path / "a.db")
    _fill(first)
    sql(first, "INSERT INTO quarantine (source, reason, row, moved_at) VALUES ('responses', 'bad', '{}', 'now')")
    url = pg_cluster.create_database()
    there = run_cli("db", "copy", first, url)
    assert there.returncode == 0, there.stderr
    assert "responses: 13 rows, sha256" in there.stdout and "copied" in there.stdout
    assert "every table's count and sha256 verified equal" in there.stdout
    back = str(tmp_path / "back.db")
    assert run_cli("db", "copy", url, back).returncode == 0
    assert _digests(first) == _digests(url) == _digests(back)
    with open_store(url) as store:  # the copy serves the run as the original does
        assert len(list(store.iter_verdicts("run-a"))) == len(list(open_store(first).iter_verdicts("run-a")))
        assert store.list_imports()[0]["auditor"] == "Alice" and list(store.iter_scores("run-a")) == [{"p": 0.5}]
        assert store.list_runs()[0].status == "complete"
        store.quarantine([])  # the identity moved past copied ids: a later quarantine row gets a new id
    sql(url, "INSERT INTO quarantine (source, reason, row, moved_at) VALUES ('x', 'y', '{}', 'z')")
    assert sql(url, "SELECT COUNT(*) FROM claims") == [(0,)]
    check = run_cli("db", "check", "--db", url)
    assert check.returncode == 2 and "damaged responses row" in check.stdout  # damage travelled, not dropped


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_copy_refuses_a_destination_with_other_rows_and_resumes(tmp_path, engine, request):
    source = str(tmp_path / "src.db")
    _fill(source)
    dest = str(tmp_path / "dst.db") if engine == "sqlite" else request.getfixturevalue("pg_cluster").create_database()
    build_run(dest, "run-z", standard_items()[:2]).close()
    refused = run_cli("db", "copy", source, dest)
    assert refused.returncode == 2 and "--overwrite" in refused.stderr and "Traceback" not in refused.stderr
    assert [r[0] for r in sql(dest, "SELECT run_id FROM runs")] == ["run-z"]  # nothing written
    forced = run_cli("db", "copy", source, dest, "--overwrite")
    assert forced.returncode == 0, forced.stderr
    assert _digests(dest) == _digests(source)
    # an interrupted copy: one table lost; running again copies only that one
    sql(dest, "DELETE FROM verdicts")
    again = run_cli("db", "copy", source, dest)
    assert again.returncode == 0, again.stderr
    assert "verdicts: 11 rows" in again.stdout or "verdicts:" in again.stdout
    assert "responses: 13 rows, sha256" in again.stdout and "already there" in again.stdout
    assert [ln for ln in again.stdout.splitlines() if ln.endswith("copied")] == \
        [ln for ln in again.stdout.splitlines() if ln.startswith("verdicts:")]
    assert _digests(dest) == _digests(source)
