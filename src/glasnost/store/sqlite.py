"""SQLite store: WAL mode, UNIQUE response keys, versioned migrations (glasnost.store.schema).

Verdicts are read only where they belong to the response as stored now: the SQL that reads verdicts joins
``verdicts.response_digest`` to ``responses.digest``, so a verdict of a replaced response (an ``error`` that a
retry or a bundle import answered) is stale and never reaches a report, a comparison, an export or a bundle.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

from glasnost.errors import StoreError
from glasnost.records import Response, RunManifest, Verdict, canonical_json, response_digest
from glasnost.store.base import Store, verdict_row
from glasnost.store.queries import CURRENT, stale_verdicts_query, verdicts_query
from glasnost.store.claims import SQLiteClaims
from glasnost.store.damage import Damaged, Decoder, Warn, find_damaged, page_check, quarantine, warn_stderr
from glasnost.store.schema import MIGRATIONS, Transaction, connect, migrate
from glasnost.store.sqlite_imports import SQLiteImportsAndScores

__all__ = ["SQLiteStore", "MIGRATIONS"]

# Verdicts that belong to the stored content of their response (the one place that enforces it).
CHUNK = 500


class SQLiteStore(SQLiteClaims, SQLiteImportsAndScores, Store):
    def __init__(self, path: str | Path, warn: Warn = warn_stderr):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise StoreError(f"{self.path} is a folder; --db takes a file path")
        if not self.path.parent.exists():
            raise StoreError(f"folder {self.path.parent} does not exist; create it or pass another --db")
        if not self.path.exists() and not os.access(self.path.parent, os.W_OK):
            raise StoreError(f"cannot create a store in {self.path.parent} (not writable); pass another --db")
        self.read_only = self.path.exists() and not (os.access(self.path, os.W_OK)
                                                     and os.access(self.path.parent, os.W_OK))
        self.decoder = Decoder(warn)
        self.conn = connect(self.path)
        migrate(self.conn, self.path, self._tx)

    def _tx(self):
        return Transaction(self.conn)

    # ---- integrity ------------------------------------------------------------------------------------
    def damaged(self, full: bool = True) -> list[Damaged]:
        """Rows that do not decode (see glasnost.store.damage), plus SQLite's own page check as one entry."""
        pages = [Damaged("file", 0, None, None, line) for line in page_check(self.conn)]
        return pages + find_damaged(self.conn, full=full)

    def quarantine(self, rows: list[Damaged]) -> int:
        with self._tx():
            return quarantine(self.conn, [d for d in rows if d.source != "file"])

    # ---- runs ---------------------------------------------------------------------------------------
    def save_run(self, manifest: RunManifest) -> None:
        with self._tx():
            self.conn.execute(
                "INSERT INTO runs (run_id, started_at, status, manifest) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(run_id) DO UPDATE SET status=excluded.status, manifest=excluded.manifest",
                (manifest.run_id, manifest.started_at.isoformat(), manifest.status, manifest.model_dump_json()),
            )

    def _manifest(self, run_id: str, data: str, alive_until: float | None) -> RunManifest | None:
        m = self.decoder.decode(RunManifest, data, "runs", run_id, None)
        if m is not None and m.status == "running" and (alive_until is None or alive_until < time.time()):
            # No live worker keeps the run's heartbeat: it was killed (or is from before heartbeats).
            m.status = "interrupted"
        return m

    def get_run(self, run_id: str) -> RunManifest:
        rows = self.conn.execute(
            "SELECT run_id, manifest, alive_until FROM runs WHERE run_id = ? OR run_id LIKE ? ESCAPE '\\' "
            "ORDER BY run_id",
            (run_id, run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"),
        ).fetchall()
        exact = [r for r in rows if r[0] == run_id]
        rows = exact or rows
        if len(rows) == 1:
            m = self._manifest(*rows[0])
            if m is None:
                raise StoreError(f"run {rows[0][0]}: its manifest in {self.path} is damaged; "
                                 "`glasnost db check` names it")
            return m
        known = [r[0] for r in self.conn.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 5")]
        if not rows:
            hint = f"known runs: {', '.join(known)}" if known else "the store has no runs yet"
            raise StoreError(f"no run {run_id!r} in {self.path}; {hint} (see `glasnost runs`)")
        raise StoreError(f"run id prefix {run_id!r} is ambiguous in {self.path}; give more characters")

    def list_runs(self) -> list[RunManifest]:
        rows = self.conn.execute("SELECT run_id, manifest, alive_until FROM runs ORDER BY started_at").fetchall()
        return [m for m in (self._manifest(*r) for r in rows) if m is not None]

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
        return self.decoder.loads(row[0], "bank_snapshots", fingerprint) if row else None

    # ---- responses -----------------------------------------------------------------------------------
    def _by_keys(self, sql: str, keys: Iterable[str], *before: Any) -> Iterator[tuple]:
        """Rows of ``sql`` (with ``{marks}`` for the IN list) for keys in chunks SQLite accepts."""
        key_list = list(keys)
        for i in range(0, len(key_list), CHUNK):
            chunk = key_list[i : i + CHUNK]
            yield from self.conn.execute(sql.format(marks=",".join("?" * len(chunk))), [*before, *chunk])

    def stored_outcomes(self, keys: Iterable[str]) -> dict[str, str]:
        return dict(self._by_keys("SELECT key, outcome FROM responses WHERE key IN ({marks})", keys))

    def response_digests(self, keys: Iterable[str]) -> dict[str, str | None]:
        return dict(self._by_keys("SELECT key, digest FROM responses WHERE key IN ({marks})", keys))

    def put_responses(self, responses: list[Response]) -> int:
        if not responses:
            return 0
        with self._tx():
            before = self.conn.total_changes
            self.conn.executemany(
                "INSERT INTO responses (key, run_id, concept_id, lang, target_id, sample_index, outcome, data, "
                "digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET run_id=excluded.run_id, outcome=excluded.outcome, "
                "data=excluded.data, digest=excluded.digest WHERE responses.outcome = 'error'",
                (
                    (r.key, r.run_id, r.concept_id, r.lang, r.target_id, r.sample_index, r.outcome.value,
                     r.model_dump_json(), response_digest(r))
                    for r in map(_encodable, responses)
                ),
            )
            return self.conn.total_changes - before

    def get_response(self, key: str) -> Response | None:
        row = self.conn.execute("SELECT run_id, data FROM responses WHERE key = ?", (key,)).fetchone()
        return self.decoder.decode(Response, row[1], "responses", row[0], key) if row else None

    def iter_responses(self, run_id: str | None = None) -> Iterator[Response]:
        if run_id is None:
            cursor = self.conn.execute("SELECT run_id, key, data FROM responses ORDER BY rowid")
        else:
            cursor = self.conn.execute(
                "SELECT i.run_id, r.key, r.data FROM run_items i JOIN responses r ON r.key = i.key "
                "WHERE i.run_id = ? ORDER BY i.position",
                (run_id,),
            )
        for run, key, data in cursor:
            r = self.decoder.decode(Response, data, "responses", run, key)
            if r is not None:
                yield r

    def iter_response_heads(self, run_id: str) -> Iterator[tuple[str, str, str, str, int, str]]:
        yield from self.conn.execute(
            "SELECT r.key, r.concept_id, r.lang, r.target_id, r.sample_index, r.outcome FROM run_items i "
            "JOIN responses r ON r.key = i.key WHERE i.run_id = ? ORDER BY i.position",
            (run_id,),
        )

    def outcome_counts(self, run_id: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT r.outcome, COUNT(*) FROM run_items i JOIN responses r ON r.key = i.key "
            "WHERE i.run_id = ? GROUP BY r.outcome",
            (run_id,),
        )
        return {outcome: n for outcome, n in rows}

    # ---- verdicts ------------------------------------------------------------------------------------
    def put_verdicts(self, verdicts: list[Verdict]) -> int:
        """A verdict without ``response_digest`` is taken to have judged the response as stored now."""
        return self.put_verdict_rows([verdict_row(v) for v in verdicts])

    def put_verdict_rows(self, rows: list[tuple[str, str, str, str, str, str | None]]) -> int:
        if not rows:
            return 0
        with self._tx():
            self.conn.executemany(
                "INSERT INTO verdicts (response_key, judge, label, status, data, response_digest) "
                "VALUES (?, ?, ?, ?, ?, COALESCE(?, (SELECT digest FROM responses WHERE key = ?))) "
                "ON CONFLICT(response_key, judge) DO UPDATE SET label=excluded.label, status=excluded.status, "
                "data=excluded.data, response_digest=excluded.response_digest",
                ((*row, row[0]) for row in rows),
            )
        return len(rows)

    def _verdict(self, data: str, key: str, digest: str) -> Verdict | None:
        v = self.decoder.decode(Verdict, data, "verdicts", None, key)
        if v is not None:
            v.response_digest = digest
        return v

    def iter_verdicts(self, run_id: str | None = None, judge: str | None = None) -> Iterator[Verdict]:
        sql, args = verdicts_query(run_id, judge, "?", "rowid")
        for data, key, digest in self.conn.execute(sql, args):
            v = self._verdict(data, key, digest)
            if v is not None:
                yield v

    def iter_verdict_labels(self, run_id: str, judge: str) -> Iterator[tuple[str, str, str]]:
        yield from self.conn.execute(
            f"SELECT v.response_key, v.label, v.status FROM verdicts v {CURRENT} "
            "JOIN run_items i ON i.key = v.response_key WHERE i.run_id = ? AND v.judge = ? ORDER BY i.position",
            (run_id, judge),
        )

    def stale_verdicts(self, run_id: str, judge: str | None = None) -> int:
        sql, args = stale_verdicts_query(run_id, judge, "?")
        return self.conn.execute(sql, args).fetchone()[0]

    def judges(self, run_id: str | None = None) -> list[str]:
        if run_id is None:
            rows = self.conn.execute(f"SELECT DISTINCT v.judge FROM verdicts v {CURRENT} ORDER BY v.judge")
        else:
            rows = self.conn.execute(
                f"SELECT DISTINCT v.judge FROM verdicts v {CURRENT} JOIN run_items i ON i.key = v.response_key "
                "WHERE i.run_id = ? ORDER BY v.judge",
                (run_id,),
            )
        return [r[0] for r in rows]

    def verdicts_for(self, keys: Iterable[str], judge: str) -> dict[str, Verdict]:
        out: dict[str, Verdict] = {}
        for data, key, digest in self._by_keys(
            f"SELECT v.data, v.response_key, v.response_digest FROM verdicts v {CURRENT} "
            "WHERE v.judge = ? AND v.response_key IN ({marks})", keys, judge
        ):
            v = self._verdict(data, key, digest)
            if v is not None:
                out[key] = v
        return out

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error:  # pragma: no cover
            pass


def _encodable(record: Any) -> Any:
    """The record itself, or, when it cannot be encoded (a lone surrogate that slipped past the boundary),
    its copy repaired by textsafe and marked: one bad row never costs its batch."""
    try:
        record.model_dump_json()
        return record
    except ValueError:  # PydanticSerializationError: "surrogates not allowed"
        from glasnost.textsafe import safe_record

        return safe_record(record)
