"""The SQLite store's schema: versioned migrations, and opening a file (read-write, or read-only).

Each migration is applied once, in order, inside one transaction; the number reached is kept in
``meta.schema_version``. A migration is SQL (statements separated by ``;``) or a Python step.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Callable

from glasnost.errors import StoreError
from glasnost.store.queries import digest_backfill

APP_ID = "glasnost"

# Each migration is applied once, in order; the number reached is kept in meta.schema_version.
# Append new migrations at the end; never edit one that has shipped.
MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
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
    # 4: verdicts belong to a response's content; claimed work with leases; run heartbeats; quarantine
    """
    ALTER TABLE responses ADD COLUMN digest TEXT;
    ALTER TABLE verdicts ADD COLUMN response_digest TEXT;
    ALTER TABLE runs ADD COLUMN alive_until REAL;
    CREATE TABLE claims (
        key TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        worker TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE INDEX claims_worker ON claims (worker);
    CREATE INDEX claims_run ON claims (run_id);
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        run_id TEXT,
        key TEXT,
        reason TEXT NOT NULL,
        row TEXT NOT NULL,
        moved_at TEXT NOT NULL
    );
    """,
    # 5: digests of what was stored before 4 (see _backfill_digests)
    lambda conn: _backfill_digests(conn),
]


def _backfill_digests(conn: sqlite3.Connection) -> None:
    """Stores written before migration 4 hold verdicts without the digest of what they judged (the rule:
    glasnost.store.queries.digest_backfill, shared with PostgreSQL)."""
    responses, verdicts = digest_backfill(
        conn.execute("SELECT key, data FROM responses").fetchall(),
        conn.execute("SELECT rowid, response_key, label, status FROM verdicts").fetchall())
    conn.executemany("UPDATE responses SET digest = ? WHERE key = ?", responses)
    conn.executemany("UPDATE verdicts SET response_digest = ? WHERE rowid = ?", verdicts)


def schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """The schema number a store has reached (0 for a new file); StoreError for a file that is not ours."""
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a glasnost store ({exc}); pass --db to another file") from None
    if not tables:
        return 0
    if "meta" not in tables:
        raise StoreError(f"{path} is an SQLite file of another program; pass --db to a glasnost store")
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: the store's meta table is damaged ({exc}); restore it from a copy") from None
    if meta.get("app") != APP_ID:
        raise StoreError(f"{path} is an SQLite file of another program; pass --db to a glasnost store")
    raw = str(meta.get("schema_version", "0"))
    if not raw.isdigit() or len(raw) > 6:
        raise StoreError(f"{path}: the store's schema version {raw[:20]!r} is not a number (the meta table is "
                         "damaged); restore the store from a copy, or set meta.schema_version back to a number")
    return int(raw)


def migrate(conn: sqlite3.Connection, path: Path, transaction: Callable[[], object]) -> None:
    version = schema_version(conn, path)
    if version > len(MIGRATIONS):
        raise StoreError(
            f"{path} was written by a newer glasnost (store schema {version}, this one knows "
            f"{len(MIGRATIONS)}); upgrade glasnost"
        )
    for number in range(version + 1, len(MIGRATIONS) + 1):
        with transaction():  # type: ignore[attr-defined]
            if schema_version(conn, path) >= number:  # another process migrated it meanwhile
                continue
            step = MIGRATIONS[number - 1]
            if callable(step):
                step(conn)
            else:
                for stmt in statements(step):
                    conn.execute(stmt)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('app', ?)", (APP_ID,))
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(number),))


def connect(path: Path) -> sqlite3.Connection:
    if path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return connect_read_only(path)  # see SQLiteStore.read_only
    try:
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # durable across process kills in WAL mode
        conn.execute("PRAGMA foreign_keys=ON")
        return conn
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a readable SQLite file ({exc}); pass --db to a glasnost store") from None


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A store we may not write (a read-only file, or a folder where SQLite cannot keep its WAL index) is
    still read: runs, show, report and export work; a write fails with one line (see Transaction).

    ``mode=ro`` needs the -shm index (existing or creatable). Without one, ``immutable=1`` reads the main
    file as it is, which would silently leave out whatever is still in a -wal file: then we refuse."""
    uri = Path(path).resolve().as_uri()
    last: Exception | None = None
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        if flags.endswith("immutable=1"):
            wal = Path(f"{path}-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise StoreError(
                    f"{path}: its {wal.name} holds {wal.stat().st_size:,} bytes of committed data that SQLite "
                    "cannot read in a read-only folder without the -shm index; reading it would show part of "
                    "the store. Copy the store with its -wal file to a writable folder and pass --db to the copy"
                )
        try:
            conn = sqlite3.connect(f"{uri}?{flags}", uri=True, timeout=30.0, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.DatabaseError as exc:
            last = exc
    raise StoreError(f"{path} is not a readable SQLite file ({last}); pass --db to a glasnost store")


class Transaction:
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


def statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
