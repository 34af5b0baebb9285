"""The PostgreSQL store's claims and heartbeats, and its bundle provenance, conflicts and scores (parts of
PostgresStore). Claims follow docs/runner.md, "Claims", with times from the database's clock.

A claim is one statement: ``INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE claims.expires_at < now OR
claims.worker = excluded.worker RETURNING key``. Under READ COMMITTED a conflicting upsert waits for the
other transaction and re-checks the WHERE on the row it committed, so two workers never both hold a key;
keys are claimed in sorted order, and renew and release lock a worker's rows in the same order, so no two
of them wait on each other in a cycle (and a deadlock PostgreSQL breaks anyway is retried).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Iterator, TypeVar

from glasnost.records import canonical_json
from glasnost.store.pg_schema import NOW

T = TypeVar("T")

CLAIM_SQL = (
    f"INSERT INTO claims (key, run_id, worker, expires_at) SELECT k, %s, %s, {NOW} + %s "
    "FROM unnest(%s::text[]) AS t(k) "
    "ON CONFLICT (key) DO UPDATE SET run_id = excluded.run_id, worker = excluded.worker, "
    f"expires_at = excluded.expires_at WHERE claims.expires_at < {NOW} OR claims.worker = excluded.worker "
    "RETURNING key"
)


# Rows of one worker, locked in key order: every statement that writes claims locks them in that order.
_MINE = "key IN (SELECT key FROM claims WHERE worker = %s{also} ORDER BY key FOR UPDATE)"
RETRIES = 5  # a deadlock or serialization failure is retried (each statement here is idempotent)


class PostgresClaims:
    def _tx(self): ...  # provided by PostgresStore

    def _rows(self, sql: str, args: Any = ()) -> list[tuple]: ...  # provided by PostgresStore

    def _again(self, step: Callable[[], T]) -> T:
        """Run ``step`` (one transaction), again if PostgreSQL aborted it to break a lock cycle."""
        from psycopg import errors

        for attempt in range(RETRIES):
            try:
                return step()
            except (errors.DeadlockDetected, errors.SerializationFailure):
                if attempt == RETRIES - 1:
                    raise
                time.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    def claim(self, run_id: str, keys: Iterable[str], worker: str, lease_s: float) -> list[str]:
        key_list = list(dict.fromkeys(keys))
        if not key_list:
            return []
        held = {r[0] for r in self._again(lambda: self._rows(CLAIM_SQL, (run_id, worker, lease_s, sorted(key_list))))}
        return [k for k in key_list if k in held]

    def renew(self, worker: str, lease_s: float, run_id: str | None = None) -> int:
        def step() -> int:
            with self._tx() as conn:
                n = conn.execute(f"UPDATE claims SET expires_at = {NOW} + %s WHERE {_MINE.format(also='')}",
                                 (lease_s, worker)).rowcount
                if run_id is not None:
                    conn.execute(f"UPDATE runs SET alive_until = {NOW} + %s WHERE run_id = %s", (lease_s, run_id))
            return n

        return self._again(step)

    def release(self, worker: str, keys: Iterable[str] | None = None) -> None:
        key_list = None if keys is None else list(keys)

        def step() -> None:
            with self._tx() as conn:
                if key_list is None:
                    conn.execute(f"DELETE FROM claims WHERE {_MINE.format(also='')}", (worker,))
                else:
                    conn.execute(f"DELETE FROM claims WHERE {_MINE.format(also=' AND key = ANY(%s)')}",
                                 (worker, key_list))

        self._again(step)

    def claimed_by_others(self, keys: Iterable[str], worker: str) -> dict[str, str]:
        return dict(self._rows(f"SELECT key, worker FROM claims WHERE worker != %s AND expires_at >= {NOW} "
                               "AND key = ANY(%s)", (worker, list(keys))))

    def set_alive(self, run_id: str, lease_s: float | None) -> None:
        with self._tx() as conn:
            if lease_s is None:
                conn.execute("UPDATE runs SET alive_until = NULL WHERE run_id = %s", (run_id,))
            else:
                conn.execute(f"UPDATE runs SET alive_until = {NOW} + %s WHERE run_id = %s", (lease_s, run_id))


class PostgresImportsAndScores:
    def _tx(self): ...  # provided by PostgresStore

    def _rows(self, sql: str, args: Any = ()) -> list[tuple]: ...  # provided by PostgresStore

    def _add_items(self, table: str, run_id: str, keys: Iterable[str]) -> None: ...  # provided by PostgresStore

    def _dict_rows(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        with self._tx() as conn:
            cursor = conn.execute(sql, args)
            names = [d[0] for d in cursor.description]
            return [{k: v for k, v in zip(names, row) if k != "rid"} for row in cursor.fetchall()]

    def record_import(self, entry: dict[str, Any]) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO bundle_imports (root, run_id, auditor, fingerprint, public_key, judge, responses, "
                "conflicts) VALUES (%(root)s, %(run_id)s, %(auditor)s, %(fingerprint)s, %(public_key)s, %(judge)s, "
                "%(responses)s, %(conflicts)s) ON CONFLICT (root) DO UPDATE SET run_id = excluded.run_id, "
                "auditor = excluded.auditor, fingerprint = excluded.fingerprint, public_key = excluded.public_key, "
                "judge = excluded.judge, responses = excluded.responses, conflicts = excluded.conflicts",
                entry,
            )

    def get_import(self, root: str) -> dict[str, Any] | None:
        rows = self._dict_rows("SELECT * FROM bundle_imports WHERE root = %s", (root,))
        return rows[0] if rows else None

    def list_imports(self) -> list[dict[str, Any]]:
        return self._dict_rows("SELECT * FROM bundle_imports ORDER BY rid")

    def add_provenance(self, rows: list[dict[str, Any]]) -> None:
        with self._tx() as conn, conn.cursor() as cur:
            cur.executemany("INSERT INTO provenance (response_key, root, auditor, fingerprint) VALUES "
                            "(%(response_key)s, %(root)s, %(auditor)s, %(fingerprint)s) ON CONFLICT DO NOTHING", rows)

    def provenance(self, response_key: str | None = None, root: str | None = None) -> list[dict[str, Any]]:
        where, args = _filters(response_key=response_key, root=root)
        return self._dict_rows(f"SELECT * FROM provenance{where} ORDER BY rid", args)

    def add_conflicts(self, rows: list[dict[str, Any]]) -> None:
        with self._tx() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bundle_conflicts (response_key, root, kind, judge, data) VALUES (%(response_key)s, "
                "%(root)s, %(kind)s, %(judge)s, %(data)s) ON CONFLICT (response_key, root, kind, judge) "
                "DO UPDATE SET data = excluded.data", rows)

    def conflicts(self, root: str | None = None) -> list[dict[str, Any]]:
        where, args = _filters(root=root)
        return self._dict_rows(f"SELECT * FROM bundle_conflicts{where} ORDER BY rid", args)

    # ---- white-box scores (knows vs says) -------------------------------------------------------------
    def add_score_items(self, run_id: str, keys: Iterable[str]) -> None:
        self._add_items("score_items", run_id, keys)

    def stored_score_status(self, keys: Iterable[str]) -> dict[str, str]:
        return dict(self._rows("SELECT key, status FROM scores WHERE key = ANY(%s)", (list(keys),)))

    def put_scores(self, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        written = 0
        with self._tx() as conn, conn.cursor() as cur:
            for r in rows:
                cur.execute(
                    "INSERT INTO scores (key, concept_id, lang, target_id, method, status, data) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO UPDATE SET status = excluded.status, "
                    "data = excluded.data WHERE scores.status = 'error'",
                    (r["key"], r["concept_id"], r["lang"], r["target_id"], r["method"], r["status"],
                     canonical_json(r["data"])))
                written += max(cur.rowcount, 0)
        return written

    def iter_scores(self, run_id: str | None = None) -> Iterator[dict[str, Any]]:
        if run_id is None:
            rows = self._rows("SELECT key, data FROM scores ORDER BY rid")
        else:
            rows = self._rows("SELECT s.key, s.data FROM score_items i JOIN scores s ON s.key = i.key "
                              "WHERE i.run_id = %s ORDER BY i.position", (run_id,))
        for key, data in rows:
            value = self.decoder.loads(data, "scores", key)  # type: ignore[attr-defined]
            if value is not None:
                yield value


def _filters(**columns: Any) -> tuple[str, list[Any]]:
    """A WHERE clause over the given columns that are not None (column names come from code, not input)."""
    used = [(name, value) for name, value in columns.items() if value is not None]
    if not used:
        return "", []
    return " WHERE " + " AND ".join(f"{name} = %s" for name, _ in used), [value for _, value in used]
