"""Copy a whole store to another (SQLite ⇄ PostgreSQL, or engine to itself), verified table by table.

Every table the schema keeps is copied row for row, the stored text as it is (a damaged row is copied as
damaged, never dropped or repaired), in insertion order. Live state is not: ``claims`` are leases of running
workers, and ``meta`` is written by the destination's own migrations. Each table is copied in one
transaction and then verified: its row count and a sha256 over its rows (canonical JSON, in primary-key
order, so the engine's row order does not matter) must equal the source's. A table whose destination
already equals the source is skipped, so a copy that was interrupted is resumed by running it again.
A destination table holding anything else is refused unless ``overwrite`` (then it is replaced, within the
same transaction).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable

from glasnost.errors import StoreError
from glasnost.records import canonical_json
from glasnost.store.base import Store

# table -> (columns, primary key columns); the same on both engines (store/schema.py, store/pg_schema.py)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "runs": (("run_id", "started_at", "status", "manifest", "alive_until"), ("run_id",)),
    "run_items": (("run_id", "position", "key"), ("run_id", "key")),
    "bank_snapshots": (("fingerprint", "snapshot"), ("fingerprint",)),
    "responses": (("key", "run_id", "concept_id", "lang", "target_id", "sample_index", "outcome", "data", "digest"),
                  ("key",)),
    "verdicts": (("response_key", "judge", "label", "status", "data", "response_digest"), ("response_key", "judge")),
    "bundle_imports": (("root", "run_id", "auditor", "fingerprint", "public_key", "judge", "responses", "conflicts"),
                       ("root",)),
    "provenance": (("response_key", "root", "auditor", "fingerprint"), ("response_key", "root")),
    "bundle_conflicts": (("response_key", "root", "kind", "judge", "data"), ("response_key", "root", "kind", "judge")),
    "scores": (("key", "concept_id", "lang", "target_id", "method", "status", "data"), ("key",)),
    "score_items": (("run_id", "position", "key"), ("run_id", "key")),
    "quarantine": (("id", "source", "run_id", "key", "reason", "row", "moved_at"), ("id",)),
}


@dataclass
class TableCopy:
    table: str
    rows: int
    digest: str  # sha256 of the rows, equal on both sides once verified
    action: str  # copied | already there | empty

    def line(self) -> str:
        return f"{self.table}: {self.rows:,} rows, sha256 {self.digest[:16]}, {self.action}"


def table_digest(columns: tuple[str, ...], key: tuple[str, ...], rows: list[tuple]) -> str:
    positions = [columns.index(c) for c in key]
    h = hashlib.sha256()
    for row in sorted(rows, key=lambda r: tuple(str(r[i]) for i in positions)):
        h.update(canonical_json([_plain(v) for v in row]).encode())
        h.update(b"\n")
    return h.hexdigest()


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, float) else value


class _Raw:
    """Whole-table reads and writes under a store's methods (copying needs rows, not records)."""

    def __init__(self, store: Store):
        from glasnost.store.sqlite import SQLiteStore

        self.store = store
        self.sqlite = isinstance(store, SQLiteStore)
        self.mark = "?" if self.sqlite else "%s"

    def rows(self, table: str, columns: tuple[str, ...]) -> list[tuple]:
        order = {"quarantine": "id", "run_items": "run_id, position", "score_items": "run_id, position"}.get(
            table, "rowid" if self.sqlite else "rid")
        sql = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"  # names come from TABLES
        if self.sqlite:
            return [tuple(r) for r in self.store.conn.execute(sql).fetchall()]  # type: ignore[attr-defined]
        return [tuple(r) for r in self.store._rows(sql)]  # type: ignore[attr-defined]

    def replace(self, table: str, columns: tuple[str, ...], rows: list[tuple], clear: bool) -> None:
        insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([self.mark] * len(columns))})"
        with self.store._tx() as conn:  # type: ignore[attr-defined]
            if clear:
                conn.execute(f"DELETE FROM {table}")
            if self.sqlite:
                conn.executemany(insert, rows)
                return
            with conn.cursor() as cur:
                cur.executemany(insert, rows)
            if table == "quarantine":  # explicit ids: move the identity past them
                conn.execute("SELECT setval(pg_get_serial_sequence('quarantine', 'id'), "
                             "COALESCE((SELECT MAX(id) FROM quarantine), 0) + 1, false)")


def copy_store(source: Store, destination: Store, overwrite: bool = False,
               on_table: Callable[[TableCopy], None] | None = None) -> list[TableCopy]:
    """Copy every table of ``source`` into ``destination``; returns what each table holds, verified."""
    src, dst = _Raw(source), _Raw(destination)
    plan: list[tuple[str, list[tuple], str, bool]] = []
    for table, (columns, key) in TABLES.items():
        rows = src.rows(table, columns)
        digest = table_digest(columns, key, rows)
        there = dst.rows(table, columns)
        same = len(there) == len(rows) and table_digest(columns, key, there) == digest
        if there and not same and not overwrite:
            raise StoreError(f"the destination already holds {len(there):,} other rows in {table}; nothing was "
                             "copied: give an empty destination, or --overwrite to replace its tables")
        plan.append((table, rows, digest, bool(there) and not same))
    done: list[TableCopy] = []
    for table, rows, digest, clear in plan:
        columns, key = TABLES[table]
        if not rows and not clear:
            result = TableCopy(table, 0, digest, "empty")
        elif table_digest(columns, key, dst.rows(table, columns)) == digest:
            result = TableCopy(table, len(rows), digest, "already there")
        else:
            dst.replace(table, columns, rows, clear)
            copied = dst.rows(table, columns)
            if len(copied) != len(rows) or table_digest(columns, key, copied) != digest:
                raise StoreError(f"{table}: the copy does not match its source ({len(copied):,} rows against "
                                 f"{len(rows):,}); run the same command again")
            result = TableCopy(table, len(rows), digest, "copied")
        done.append(result)
        if on_table is not None:
            on_table(result)
    return done
