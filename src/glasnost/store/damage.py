"""Damaged stores: rows that do not decode are skipped by readers (one warning each), listed by
``glasnost db check`` and moved aside into ``quarantine`` on request; nothing is ever deleted.

A row is damaged when its JSON does not parse or does not validate as its record (a bad manifest, a
``schema_version`` that is not an integer...). Readers call ``decode``: it returns None for such a row and
warns once per row, naming the table, the run and the key, so one bad row never stops a command.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ValidationError

from glasnost.records import Response, RunManifest, Verdict, utcnow

M = TypeVar("M", bound=BaseModel)
Warn = Callable[[str], None]


def warn_stderr(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr)


@dataclass(frozen=True)
class Damaged:
    source: str  # table
    rowid: int
    run_id: str | None
    key: str | None
    reason: str

    def line(self) -> str:
        where = ", ".join(filter(None, [f"run {self.run_id}" if self.run_id else None,
                                        f"key {self.key}" if self.key else None]))
        return f"damaged {self.source} row ({where or f'rowid {self.rowid}'}): {self.reason}"


def reason_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "row"
        return f"{where}: {first.get('msg', 'invalid')}"[:200]
    return f"{type(exc).__name__}: {exc}"[:200]


class Decoder:
    """Decodes stored rows into records, skipping damaged ones with one warning each (per store handle)."""

    def __init__(self, warn: Warn = warn_stderr):
        self.warn = warn
        self.seen: set[tuple[str, str | None, str | None]] = set()

    def decode(self, model: type[M], data: str, source: str, run_id: str | None, key: str | None) -> M | None:
        try:
            return model.model_validate_json(data)
        except (ValidationError, ValueError, RecursionError) as exc:
            self._warn(source, run_id, key, reason_of(exc))
            return None

    def loads(self, data: str, source: str, key: str | None) -> Any:
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            self._warn(source, None, key, reason_of(exc))
            return None

    def _warn(self, source: str, run_id: str | None, key: str | None, reason: str) -> None:
        if (source, run_id, key) in self.seen:
            return
        self.seen.add((source, run_id, key))
        what = ", ".join(filter(None, [f"run {run_id}" if run_id else None, f"key {key}" if key else None]))
        self.warn(f"skipped a damaged {source} row ({what}): {reason}; see `glasnost db check`")


@dataclass(frozen=True)
class Dialect:
    """What differs between the SQL engines here: the row id column, the JSON check, the parameter mark."""

    rowid: str = "rowid"
    json_invalid: str = "json_valid(c3) = 0"
    mark: str = "?"


SQLITE = Dialect()
POSTGRES = Dialect(rowid="rid", json_invalid="NOT glasnost_json_valid(c3)", mark="%s")

# table -> (record model, or None for plain JSON; SQL selecting rowid, run_id, key, data)
_CHECKS: dict[str, tuple[type[BaseModel] | None, str]] = {
    "runs": (RunManifest, "SELECT {rowid}, run_id, run_id, manifest FROM runs"),
    "bank_snapshots": (None, "SELECT {rowid}, NULL, fingerprint, snapshot FROM bank_snapshots"),
    "responses": (Response, "SELECT {rowid}, run_id, key, data FROM responses"),
    "verdicts": (Verdict, "SELECT {rowid}, NULL, response_key, data FROM verdicts"),
    "scores": (None, "SELECT {rowid}, NULL, key, data FROM scores"),
}


def find_damaged(conn: Any, full: bool = True, dialect: Dialect = SQLITE) -> list[Damaged]:
    """Every row that does not decode. ``full=False`` checks the JSON of every row (in SQL, fast) and the
    run manifests, for ``run``'s check before it writes; ``db check`` validates every record as well.
    ``conn`` is an sqlite3 or a psycopg connection (both have ``execute``)."""
    found: list[Damaged] = []
    for source, (model, template) in _CHECKS.items():
        sql = template.format(rowid=dialect.rowid)
        bad = conn.execute(_json_invalid_sql(sql, dialect)).fetchall()
        found.extend(Damaged(source, rowid, run_id, key, "not valid JSON") for rowid, run_id, key in bad)
        if model is None or (not full and source != "runs"):
            continue
        invalid = {rowid for rowid, _, _ in bad}
        for rowid, run_id, key, data in conn.execute(sql):
            if rowid in invalid:
                continue
            try:
                model.model_validate_json(data)
            except (ValidationError, ValueError, RecursionError) as exc:
                found.append(Damaged(source, rowid, run_id, key, reason_of(exc)))
    return found


def page_check(conn: sqlite3.Connection) -> list[str]:
    """SQLite's own quick check of the file's pages and indexes: [] when sound."""
    try:
        lines = [r[0] for r in conn.execute("PRAGMA quick_check(20)")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if lines == ["ok"] else lines


def _json_invalid_sql(sql: str, dialect: Dialect = SQLITE) -> str:
    """Rows of ``sql`` (rowid, run_id, key, data) whose data is not valid JSON, checked inside the engine."""
    return f"SELECT c0, c1, c2 FROM ({_aliased(sql)}) AS rows WHERE {dialect.json_invalid}"


def _aliased(sql: str) -> str:
    select, rest = sql.split(" FROM ", 1)
    columns = [c.strip() for c in select[len("SELECT "):].split(",")]
    return "SELECT " + ", ".join(f"{c} AS c{i}" for i, c in enumerate(columns)) + " FROM " + rest


def quarantine(conn: Any, rows: list[Damaged], dialect: Dialect = SQLITE) -> int:
    """Move damaged rows into ``quarantine`` (the whole row as JSON, with why); the caller holds the
    transaction. Only the named rows move; every other row stays as it was."""
    moved = 0
    now = utcnow().isoformat()
    for d in rows:
        m = dialect.mark  # table and column names come from code, never from input
        cursor = conn.execute(f"SELECT * FROM {d.source} WHERE {dialect.rowid} = {m}", (d.rowid,))
        names = [c[0] for c in cursor.description]
        row = cursor.fetchone()
        if row is None:
            continue
        conn.execute(
            f"INSERT INTO quarantine (source, run_id, key, reason, row, moved_at) VALUES ({m}, {m}, {m}, {m}, {m}, {m})",
            (d.source, d.run_id, d.key, d.reason, json.dumps(dict(zip(names, row)), ensure_ascii=False), now),
        )
        conn.execute(f"DELETE FROM {d.source} WHERE {dialect.rowid} = {m}", (d.rowid,))
        moved += 1
    return moved
