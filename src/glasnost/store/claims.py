"""Claimed work with expiring leases, and run heartbeats, for the SQLite store (see docs/runner.md).

One row per claimed response key: ``claims(key, run_id, worker, expires_at)``. A claim is an atomic
insert-or-steal-expired (an upsert whose update only applies when the lease ran out or the worker already
holds it); the SQL is the same on PostgreSQL (``INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE``), where
``now`` should be the database's clock. A worker renews its leases while it works and releases them as it
stores results; a worker killed with -9 only delays its keys until their leases run out.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Iterable

CHUNK = 500

CLAIM_SQL = (
    "INSERT INTO claims (key, run_id, worker, expires_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET run_id = excluded.run_id, worker = excluded.worker, "
    "expires_at = excluded.expires_at WHERE claims.expires_at < ? OR claims.worker = excluded.worker"
)


class SQLiteClaims:
    conn: sqlite3.Connection

    def _tx(self): ...  # provided by SQLiteStore

    def claim(self, run_id: str, keys: Iterable[str], worker: str, lease_s: float) -> list[str]:
        key_list = list(dict.fromkeys(keys))
        if not key_list:
            return []
        now = time.time()
        held: set[str] = set()
        with self._tx():
            self.conn.executemany(CLAIM_SQL, ((k, run_id, worker, now + lease_s, now) for k in key_list))
            for i in range(0, len(key_list), CHUNK):
                chunk = key_list[i : i + CHUNK]
                marks = ",".join("?" * len(chunk))
                held.update(r[0] for r in self.conn.execute(
                    f"SELECT key FROM claims WHERE worker = ? AND key IN ({marks})", [worker, *chunk]))
        return [k for k in key_list if k in held]

    def renew(self, worker: str, lease_s: float, run_id: str | None = None) -> int:
        with self._tx():
            n = self.conn.execute("UPDATE claims SET expires_at = ? WHERE worker = ?",
                                  (time.time() + lease_s, worker)).rowcount
            if run_id is not None:
                self.conn.execute("UPDATE runs SET alive_until = ? WHERE run_id = ?", (time.time() + lease_s, run_id))
        return n

    def release(self, worker: str, keys: Iterable[str] | None = None) -> None:
        with self._tx():
            if keys is None:
                self.conn.execute("DELETE FROM claims WHERE worker = ?", (worker,))
                return
            self.conn.executemany("DELETE FROM claims WHERE worker = ? AND key = ?", ((worker, k) for k in keys))

    def claimed_by_others(self, keys: Iterable[str], worker: str) -> dict[str, str]:
        out: dict[str, str] = {}
        key_list = list(keys)
        now = time.time()
        for i in range(0, len(key_list), CHUNK):
            chunk = key_list[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            out.update(self.conn.execute(
                f"SELECT key, worker FROM claims WHERE worker != ? AND expires_at >= ? AND key IN ({marks})",
                [worker, now, *chunk]))
        return out

    def set_alive(self, run_id: str, lease_s: float | None) -> None:
        """The run's heartbeat: alive until now + lease (None: it ended, no longer alive)."""
        with self._tx():
            self.conn.execute("UPDATE runs SET alive_until = ? WHERE run_id = ?",
                              (time.time() + lease_s if lease_s is not None else None, run_id))
