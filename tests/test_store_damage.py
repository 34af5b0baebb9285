"""Damaged stores: bad rows are skipped with one warning naming run and key, `db check` lists them and moves
them aside, `run` refuses to write into a damaged store, a WAL the reader cannot see is refused (issue 11)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from glasnost.errors import StoreError
from glasnost.store import schema
from glasnost.store import open_store
from helpers_runner import run_cli, sql, write_small_bank
from test_bundle_fixtures import build_run, standard_items


@pytest.fixture
def damaged(store_db):
    """A store (each engine) with one run of 13 responses: one row of bad JSON, one with a non-integer
    schema version, and a second run whose manifest is damaged."""
    db = store_db
    store = build_run(db, "run-a", standard_items())
    keys = store.run_keys("run-a")
    store.close()
    sql(db, "UPDATE responses SET data = '{\"key\": oops' WHERE key = ?", (keys[0],))
    row = json.loads(sql(db, "SELECT data FROM responses WHERE key = ?", (keys[1],))[0][0])
    row["schema_version"] = "seven"
    sql(db, "UPDATE responses SET data = ? WHERE key = ?", (json.dumps(row), keys[1]))
    sql(db, "INSERT INTO runs (run_id, started_at, status, manifest) VALUES ('run-b', '2026', 'complete', "
        "'{\"run_id\": \"run-b\"}')")
    return db, keys


def test_reading_commands_skip_damaged_rows_with_one_warning_each(damaged, tmp_path):
    db, keys = damaged
    runs = run_cli("runs", "--json", "--db", str(db))
    assert runs.returncode == 0, runs.stderr
    assert [r["id"] for r in json.loads(runs.stdout)] == ["run-a"]
    assert "damaged runs row (run run-b)" in runs.stderr and "Traceback" not in runs.stderr
    for args in (["show", "run-a"], ["report", "run-a", "--out", str(tmp_path / "r.json")],
                 ["export", "run-a", "--out", str(tmp_path / "rows.csv")]):
        result = run_cli(*args, "--db", str(db))
        assert result.returncode == 0, (args, result.stderr)
        warnings = [ln for ln in result.stderr.splitlines() if ln.startswith("warning:")]
        assert len([w for w in warnings if keys[0] in w]) == 1, result.stderr
        assert any(keys[1] in w and "run run-a" in w for w in warnings), result.stderr
        assert "Traceback" not in result.stderr


def test_db_check_lists_and_quarantines_without_touching_the_rest(damaged):
    db, keys = damaged
    check = run_cli("db", "check", "--db", str(db))
    assert check.returncode == 2
    assert "damaged responses row (run run-a, key " + keys[0] in check.stdout
    assert keys[1] in check.stdout and "run run-b" in check.stdout
    assert "Traceback" not in check.stderr
    before = sql(db, "SELECT COUNT(*) FROM responses")[0][0]

    moved = run_cli("db", "check", "--quarantine", "--db", str(db))
    assert moved.returncode == 0, moved.stderr
    assert "moved 3 damaged rows" in moved.stdout
    assert sql(db, "SELECT COUNT(*) FROM responses")[0][0] == before - 2
    kept = sql(db, "SELECT source, key, row FROM quarantine ORDER BY id")
    assert [(s, k) for s, k, _ in kept] == [("runs", "run-b"), ("responses", keys[0]), ("responses", keys[1])]
    assert "oops" in kept[1][2]  # the row is kept as it was, not deleted
    assert run_cli("db", "check", "--db", str(db)).returncode == 0
    with open_store(db) as store:
        assert len(list(store.iter_responses("run-a"))) == 11


def test_run_refuses_to_write_into_a_damaged_store(damaged, tmp_path):
    db, _ = damaged
    bank = write_small_bank(tmp_path / "bank.yaml", n=1, langs=("en",))
    before = sql(db, "SELECT key, data FROM responses ORDER BY key")
    result = run_cli("run", "--target", "openai-compat:http://127.0.0.1:9/v1#m", "--bank", str(bank), "--lang",
                     "en", "--db", str(db), "--judge", "none", "--report", "")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "glasnost db check" in result.stderr, result.stderr
    with open_store(db) as store:
        assert [m.run_id for m in store.list_runs()] == ["run-a"]
    assert sql(db, "SELECT key, data FROM responses ORDER BY key") == before


def test_a_non_integer_schema_version_is_one_line(store_db):
    db = store_db
    build_run(db, "run-a", standard_items()).close()
    sql(db, "UPDATE meta SET value = 'four' WHERE key = 'schema_version'")
    result = run_cli("runs", "--db", str(db))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "schema version 'four' is not a number" in result.stderr


def test_a_wal_the_reader_cannot_see_is_refused_not_shown_in_part(tmp_path, monkeypatch):
    """A read-only folder with a -wal file but no -shm: SQLite can only read the main file (immutable),
    which leaves out what the -wal holds. Refuse with one line instead of showing part of the store."""
    db = tmp_path / "w.db"
    (tmp_path / "w.db-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\x00" * 4000)
    build_path = tmp_path / "real.db"
    build_run(build_path, "run-a", standard_items()).close()
    db.write_bytes(build_path.read_bytes())
    real_connect = sqlite3.connect

    def no_shm(database, *args, **kwargs):  # what SQLite does when it may not create the -shm index
        if "mode=ro" in str(database) and "immutable" not in str(database):
            raise sqlite3.OperationalError("unable to open database file")
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(schema.sqlite3, "connect", no_shm)
    with pytest.raises(StoreError, match="-wal holds 4,004 bytes"):
        schema.connect_read_only(db)
    (tmp_path / "w.db-wal").unlink()  # without a WAL there is nothing to miss: read as it is
    conn = schema.connect_read_only(db)
    assert conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 13
    conn.close()
