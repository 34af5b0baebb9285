"""SQLite store: WAL mode, UNIQUE response keys, versioned migrations."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Iterator

from glasnost.errors import StoreError
from glasnost.records import Response, RunManifest, Verdict, canonical_json
from glasnost.store.base import Store

APP_ID = "glasnost"

# Each migration is applied once, in order; the number reached is kept in meta.schema_version.
# Append new migrations at the end; never edit one that has shipped.
MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        status TEXT NOT NULL,
        manifest TEXT NOT NULL
    );
    CREATE TABLE run_items (
        run_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        key TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE INDEX run_items_order ON run_items (run_id, position);
    CREATE INDEX run_items_key ON run_items (key);
    CREATE TABLE bank_snapshots (fingerprint TEXT PRIMARY KEY, snapshot TEXT NOT NULL);
    CREATE TABLE responses (
        key TEXT NOT NULL UNIQUE,
        run_id TEXT NOT NULL,
        concept_id TEXT NOT NULL,
        lang TEXT NOT NULL,
        target_id TEXT NOT NULL,
        sample_index INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX responses_target ON responses (target_id, concept_id, lang);
    CREATE TABLE verdicts (
        response_key TEXT NOT NULL,
        judge TEXT NOT NULL,
        label TEXT NOT NULL,
        status TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (response_key, judge)
    );
    CREATE INDEX verdicts_judge ON verdicts (judge, label);
    """,
    # 2: imported bundles, who audited which response (provenance), and conflicts kept apart
    """
    CREATE TABLE bundle_imports (
        root TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        auditor TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        public_key TEXT NOT NULL,
        judge TEXT,
        responses INTEGER NOT NULL,
        conflicts INTEGER NOT NULL
    );
    CREATE TABLE provenance (
        response_key TEXT NOT NULL,
        root TEXT NOT NULL,
        auditor TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (response_key, root)
    );
    CREATE INDEX provenance_fingerprint ON provenance (fingerprint);
    CREATE TABLE bundle_conflicts (
        response_key TEXT NOT NULL,
        root TEXT NOT NULL,
        kind TEXT NOT NULL,
        judge TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL,
        PRIMARY KEY (response_key, root, kind, judge)
    );
    """,
    # 3: white-box likelihood scores of local targets (knows vs says), and which runs planned them
    """
    CREATE TABLE scores (
        key TEXT PRIMARY KEY,
        concept_id TEXT NOT NULL,
        lang TEXT NOT NULL,
        target_id TEXT NOT NULL,
        method TEXT NOT NULL,
        status TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE score_items (
        run_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        key TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE INDEX score_items_order ON score_items (run_id, position);
    """,
]


def _connect(path: Path) -> sqlite3.Connection:
    if path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return _connect_read_only(path)  # see SQLiteStore.read_only
    try:
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # durable across process kills in WAL mode
        conn.execute("PRAGMA foreign_keys=ON")
        return conn
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a readable SQLite file ({exc}); pass --db to a glasnost store") from None


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A store we may not write (a read-only file, or a folder where SQLite cannot keep its WAL index) is
    still read: runs, show, report and export work; a write fails with one line (see _Transaction)."""
    uri = Path(path).resolve().as_uri()
    last: Exception | None = None
    # mode=ro needs the -shm index (existing or creatable); immutable=1 reads the file as it is.
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        try:
            conn = sqlite3.connect(f"{uri}?{flags}", uri=True, timeout=30.0, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.DatabaseError as exc:
            last = exc
    raise StoreError(f"{path} is not a readable SQLite file ({last}); pass --db to a glasnost store")


class SQLiteStore(Store):
    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise StoreError(f"{self.path} is a folder; --db takes a file path")
        if not self.path.parent.exists():
            raise StoreError(f"folder {self.path.parent} does not exist; create it or pass another --db")
        if not self.path.exists() and not os.access(self.path.parent, os.W_OK):
            raise StoreError(f"cannot create a store in {self.path.parent} (not writable); pass another --db")
        self.read_only = self.path.exists() and not (os.access(self.path, os.W_OK)
                                                     and os.access(self.path.parent, os.W_OK))
        self.conn = _connect(self.path)
        self._migrate()

    # ---- schema -------------------------------------------------------------------------------------
    def _migrate(self) -> None:
        try:
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a glasnost store ({exc}); pass --db to another file") from None
        version = 0
        if tables:
            if "meta" not in tables:
                raise StoreError(f"{self.path} is an SQLite file of another program; pass --db to a glasnost store")
            row = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
            if row.get("app") != APP_ID:
                raise StoreError(f"{self.path} is an SQLite file of another program; pass --db to a glasnost store")
            version = int(row.get("schema_version", "0"))
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} was written by a newer glasnost (store schema {version}, this one knows "
                f"{len(MIGRATIONS)}); upgrade glasnost"
            )
        for number in range(version + 1, len(MIGRATIONS) + 1):
            with self._tx():
                for stmt in _statements(MIGRATIONS[number - 1]):
                    self.conn.execute(stmt)
                self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('app', ?)", (APP_ID,))
                self.conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(number),)
                )

    def _tx(self):
        return _Transaction(self.conn)

    # ---- runs ---------------------------------------------------------------------------------------
    def save_run(self, manifest: RunManifest) -> None:
        with self._tx():
            self.conn.execute(
                "INSERT INTO runs (run_id, started_at, status, manifest) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(run_id) DO UPDATE SET status=excluded.status, manifest=excluded.manifest",
                (manifest.run_id, manifest.started_at.isoformat(), manifest.status, manifest.model_dump_json()),
            )

    def get_run(self, run_id: str) -> RunManifest:
        rows = self.conn.execute(
            "SELECT manifest FROM runs WHERE run_id = ? OR run_id LIKE ? ESCAPE '\\' ORDER BY run_id",
            (run_id, run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"),
        ).fetchall()
        exact = [r for r in rows if json.loads(r[0])["run_id"] == run_id]
        rows = exact or rows
        if len(rows) == 1:
            return RunManifest.model_validate_json(rows[0][0])
        known = [r[0] for r in self.conn.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 5")]
        if not rows:
            hint = f"known runs: {', '.join(known)}" if known else "the store has no runs yet"
            raise StoreError(f"no run {run_id!r} in {self.path}; {hint} (see `glasnost runs`)")
        raise StoreError(f"run id prefix {run_id!r} is ambiguous in {self.path}; give more characters")

    def list_runs(self) -> list[RunManifest]:
        rows = self.conn.execute("SELECT manifest FROM runs ORDER BY started_at").fetchall()
        return [RunManifest.model_validate_json(r[0]) for r in rows]

    def add_run_items(self, run_id: str, keys: Iterable[str]) -> None:
        with self._tx():
            start = self.conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM run_items WHERE run_id = ?", (run_id,)
            ).fetchone()[0]
            self.conn.executemany(
                "INSERT OR IGNORE INTO run_items (run_id, position, key) VALUES (?, ?, ?)",
                ((run_id, start + i, k) for i, k in enumerate(keys)),
            )

    def run_keys(self, run_id: str) -> list[str]:
        rows = self.conn.execute("SELECT key FROM run_items WHERE run_id = ? ORDER BY position", (run_id,))
        return [r[0] for r in rows]

    # ---- bank snapshots ------------------------------------------------------------------------------
    def save_bank_snapshot(self, snapshot: dict[str, Any]) -> None:
        with self._tx():
            self.conn.execute(
                "INSERT OR IGNORE INTO bank_snapshots (fingerprint, snapshot) VALUES (?, ?)",
                (snapshot["fingerprint"], canonical_json(snapshot)),
            )

    def get_bank_snapshot(self, fingerprint: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT snapshot FROM bank_snapshots WHERE fingerprint = ?", (fingerprint,)).fetchone()
        return json.loads(row[0]) if row else None

    # ---- responses -----------------------------------------------------------------------------------
    def stored_outcomes(self, keys: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        key_list = list(keys)
        for i in range(0, len(key_list), 500):
            chunk = key_list[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for key, outcome in self.conn.execute(
                f"SELECT key, outcome FROM responses WHERE key IN ({marks})", chunk
            ):
                out[key] = outcome
        return out

    def put_responses(self, responses: list[Response]) -> int:
        if not responses:
            return 0
        with self._tx():
            before = self.conn.total_changes
            self.conn.executemany(
                "INSERT INTO responses (key, run_id, concept_id, lang, target_id, sample_index, outcome, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET run_id=excluded.run_id, outcome=excluded.outcome, "
                "data=excluded.data WHERE responses.outcome = 'error'",
                (
                    (r.key, r.run_id, r.concept_id, r.lang, r.target_id, r.sample_index, r.outcome.value,
                     _row_json(r))
                    for r in responses
                ),
            )
            return self.conn.total_changes - before

    def get_response(self, key: str) -> Response | None:
        row = self.conn.execute("SELECT data FROM responses WHERE key = ?", (key,)).fetchone()
        return Response.model_validate_json(row[0]) if row else None

    def iter_responses(self, run_id: str | None = None) -> Iterator[Response]:
        if run_id is None:
            cursor = self.conn.execute("SELECT data FROM responses ORDER BY rowid")
        else:
            cursor = self.conn.execute(
                "SELECT r.data FROM run_items i JOIN responses r ON r.key = i.key "
                "WHERE i.run_id = ? ORDER BY i.position",
                (run_id,),
            )
        for (data,) in cursor:
            yield Response.model_validate_json(data)

    def outcome_counts(self, run_id: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT r.outcome, COUNT(*) FROM run_items i JOIN responses r ON r.key = i.key "
            "WHERE i.run_id = ? GROUP BY r.outcome",
            (run_id,),
        )
        return {outcome: n for outcome, n in rows}

    # ---- verdicts ------------------------------------------------------------------------------------
    def put_verdicts(self, verdicts: list[Verdict]) -> int:
        if not verdicts:
            return 0
        with self._tx():
            self.conn.executemany(
                "INSERT INTO verdicts (response_key, judge, label, status, data) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(response_key, judge) DO UPDATE SET label=excluded.label, status=excluded.status, "
                "data=excluded.data",
                ((v.response_key, v.judge, v.label.value, v.status, v.model_dump_json()) for v in verdicts),
            )
        return len(verdicts)

    def iter_verdicts(self, run_id: str | None = None, judge: str | None = None) -> Iterator[Verdict]:
        sql = "SELECT v.data FROM verdicts v"
        args: list[Any] = []
        where = []
        if run_id is not None:
            sql += " JOIN run_items i ON i.key = v.response_key"
            where.append("i.run_id = ?")
            args.append(run_id)
        if judge is not None:
            where.append("v.judge = ?")
            args.append(judge)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY i.position" if run_id is not None else " ORDER BY v.rowid"
        for (data,) in self.conn.execute(sql, args):
            yield Verdict.model_validate_json(data)

    def iter_verdict_labels(self, run_id: str, judge: str) -> Iterator[tuple[str, str, str]]:
        yield from self.conn.execute(
            "SELECT v.response_key, v.label, v.status FROM verdicts v JOIN run_items i ON i.key = v.response_key "
            "WHERE i.run_id = ? AND v.judge = ? ORDER BY i.position",
            (run_id, judge),
        )

    def judges(self, run_id: str | None = None) -> list[str]:
        if run_id is None:
            rows = self.conn.execute("SELECT DISTINCT judge FROM verdicts ORDER BY judge")
        else:
            rows = self.conn.execute(
                "SELECT DISTINCT v.judge FROM verdicts v JOIN run_items i ON i.key = v.response_key "
                "WHERE i.run_id = ? ORDER BY v.judge",
                (run_id,),
            )
        return [r[0] for r in rows]

    # ---- imported bundles (provenance, conflicts) -----------------------------------------------------
    def verdicts_for(self, keys: Iterable[str], judge: str) -> dict[str, Verdict]:
        out: dict[str, Verdict] = {}
        key_list = list(keys)
        for i in range(0, len(key_list), 500):
            chunk = key_list[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for (data,) in self.conn.execute(
                f"SELECT data FROM verdicts WHERE judge = ? AND response_key IN ({marks})", [judge, *chunk]
            ):
                v = Verdict.model_validate_json(data)
                out[v.response_key] = v
        return out

    def record_import(self, entry: dict[str, Any]) -> None:
        with self._tx():
            self.conn.execute(
                "INSERT OR REPLACE INTO bundle_imports (root, run_id, auditor, fingerprint, public_key, judge, "
                "responses, conflicts) VALUES (:root, :run_id, :auditor, :fingerprint, :public_key, :judge, "
                ":responses, :conflicts)",
                entry,
            )

    def get_import(self, root: str) -> dict[str, Any] | None:
        rows = self._dict_rows("SELECT * FROM bundle_imports WHERE root = ?", (root,))
        return rows[0] if rows else None

    def list_imports(self) -> list[dict[str, Any]]:
        return self._dict_rows("SELECT * FROM bundle_imports ORDER BY rowid", ())

    def add_provenance(self, rows: list[dict[str, Any]]) -> None:
        with self._tx():
            self.conn.executemany(
                "INSERT OR IGNORE INTO provenance (response_key, root, auditor, fingerprint) "
                "VALUES (:response_key, :root, :auditor, :fingerprint)",
                rows,
            )

    def provenance(self, response_key: str | None = None, root: str | None = None) -> list[dict[str, Any]]:
        where, args = _filters(response_key=response_key, root=root)
        return self._dict_rows(f"SELECT * FROM provenance{where} ORDER BY rowid", args)

    def add_conflicts(self, rows: list[dict[str, Any]]) -> None:
        with self._tx():
            self.conn.executemany(
                "INSERT OR REPLACE INTO bundle_conflicts (response_key, root, kind, judge, data) "
                "VALUES (:response_key, :root, :kind, :judge, :data)",
                rows,
            )

    def conflicts(self, root: str | None = None) -> list[dict[str, Any]]:
        where, args = _filters(root=root)
        return self._dict_rows(f"SELECT * FROM bundle_conflicts{where} ORDER BY rowid", args)

    # ---- white-box scores (knows vs says) -------------------------------------------------------------
    def add_score_items(self, run_id: str, keys: Iterable[str]) -> None:
        with self._tx():
            start = self.conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM score_items WHERE run_id = ?", (run_id,)
            ).fetchone()[0]
            self.conn.executemany(
                "INSERT OR IGNORE INTO score_items (run_id, position, key) VALUES (?, ?, ?)",
                ((run_id, start + i, k) for i, k in enumerate(keys)),
            )

    def stored_score_status(self, keys: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        key_list = list(keys)
        for i in range(0, len(key_list), 500):
            chunk = key_list[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for key, status in self.conn.execute(f"SELECT key, status FROM scores WHERE key IN ({marks})", chunk):
                out[key] = status
        return out

    def put_scores(self, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        with self._tx():
            before = self.conn.total_changes
            self.conn.executemany(
                "INSERT INTO scores (key, concept_id, lang, target_id, method, status, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET status=excluded.status, data=excluded.data "
                "WHERE scores.status = 'error'",
                ((r["key"], r["concept_id"], r["lang"], r["target_id"], r["method"], r["status"],
                  canonical_json(r["data"])) for r in rows),
            )
            return self.conn.total_changes - before

    def iter_scores(self, run_id: str | None = None) -> Iterator[dict[str, Any]]:
        if run_id is None:
            cursor = self.conn.execute("SELECT data FROM scores ORDER BY rowid")
        else:
            cursor = self.conn.execute(
                "SELECT s.data FROM score_items i JOIN scores s ON s.key = i.key WHERE i.run_id = ? "
                "ORDER BY i.position",
                (run_id,),
            )
        for (data,) in cursor:
            yield json.loads(data)

    def _dict_rows(self, sql: str, args: tuple | list) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, args)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error:  # pragma: no cover
            pass


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (the connection runs in autocommit)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # read-only, locked past the timeout, disk gone
            raise StoreError(f"cannot write to the store ({exc}); nothing stored was changed: make the "
                             "file and its folder writable, or pass --db to a copy elsewhere") from None
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")


def _row_json(record: Any) -> str:
    """A record's JSON; one that cannot be encoded (a lone surrogate that slipped past the boundary) is
    repaired by textsafe and marked, so one bad row never costs its batch."""
    try:
        return record.model_dump_json()
    except ValueError:  # PydanticSerializationError: "surrogates not allowed"
        from glasnost.textsafe import safe_record

        return safe_record(record).model_dump_json()


def _filters(**columns: Any) -> tuple[str, list[Any]]:
    """A WHERE clause over the given columns that are not None (column names come from code, not input)."""
    used = [(name, value) for name, value in columns.items() if value is not None]
    if not used:
        return "", []
    return " WHERE " + " AND ".join(f"{name} = ?" for name, _ in used), [value for _, value in used]


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
