"""The SQLite store's bundle provenance, conflicts and white-box scores (a part of SQLiteStore)."""

from __future__ import annotations

import sqlite3
from typing import Any, Iterable, Iterator

from glasnost.records import canonical_json
from glasnost.store.damage import Decoder


class SQLiteImportsAndScores:
    conn: sqlite3.Connection
    decoder: Decoder

    def _tx(self): ...  # provided by SQLiteStore

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
            cursor = self.conn.execute("SELECT key, data FROM scores ORDER BY rowid")
        else:
            cursor = self.conn.execute(
                "SELECT s.key, s.data FROM score_items i JOIN scores s ON s.key = i.key WHERE i.run_id = ? "
                "ORDER BY i.position",
                (run_id,),
            )
        for (key, data) in cursor:
            value = self.decoder.loads(data, "scores", key)
            if value is not None:
                yield value

    def _dict_rows(self, sql: str, args: tuple | list) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, args)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]


def _filters(**columns: Any) -> tuple[str, list[Any]]:
    """A WHERE clause over the given columns that are not None (column names come from code, not input)."""
    used = [(name, value) for name, value in columns.items() if value is not None]
    if not used:
        return "", []
    return " WHERE " + " AND ".join(f"{name} = ?" for name, _ in used), [value for _, value in used]
