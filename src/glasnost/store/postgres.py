"""PostgreSQL store (the ``postgres`` extra: psycopg 3 and psycopg_pool), selected by ``--db postgresql://…``.

The same rules as the SQLite store (store/base.py, docs/store.md), the same schema versions
(store/pg_schema.py), the same keys. What PostgreSQL adds is that many processes on many machines share it:
claims are an upsert with a lease check against the database's clock (store/pg_parts.py); each method is one
transaction on a pooled connection, committed before it returns. Credentials come from the environment
(``PGPASSWORD``, ``~/.pgpass``, or the URL in ``GLASNOST_DB``); messages name the database by
``location.display`` only, never with a user or a password.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from glasnost.errors import StoreError
from glasnost.records import Response, RunManifest, Verdict, canonical_json, response_digest
from glasnost.store.base import Store, verdict_row
from glasnost.store.queries import CURRENT, stale_verdicts_query, verdicts_query
from glasnost.store.damage import POSTGRES, Damaged, Decoder, Warn, find_damaged, quarantine, warn_stderr
from glasnost.store.location import display, scrub
from glasnost.store.pg_parts import PostgresClaims, PostgresImportsAndScores
from glasnost.store.pg_schema import NOW, migrate



def _psycopg():
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        raise StoreError("a postgresql:// store needs the postgres extra: pip install 'glasnost[postgres]'") from None
    return psycopg, psycopg_pool


class PostgresStore(PostgresClaims, PostgresImportsAndScores, Store):
    read_only = False

    def __init__(self, url: str, warn: Warn = warn_stderr, pool_size: int = 4):
        psycopg, psycopg_pool = _psycopg()
        self.url = url
        self.path = display(url)  # what messages say (no user, no password)
        self._errors = (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout)
        self._retryable = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)  # see pg_parts
        self.decoder = Decoder(warn)
        try:
            with psycopg.connect(url, connect_timeout=10) as conn:
                conn.autocommit = True
                migrate(conn, self.path)
        except self._errors as exc:
            raise self._unreachable(exc) from None
        self.pool = psycopg_pool.ConnectionPool(url, min_size=1, max_size=pool_size, open=True, timeout=60,
                                                kwargs={"connect_timeout": 10})

    def _unreachable(self, exc: BaseException) -> StoreError:
        reason = scrub(" ".join(str(exc).split()), self.url)[:300]
        return StoreError(f"cannot use the store {self.path} ({reason}); check the server, the URL and the "
                          "credentials in the environment (PGPASSWORD or ~/.pgpass)")

    @contextmanager
    def _tx(self):
        """One transaction on a pooled connection: committed on success, rolled back on any exception."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except self._errors as exc:
            if isinstance(exc, self._retryable):  # not the server's fault: the caller tries again
                raise
            raise self._unreachable(exc) from None

    def _rows(self, sql: str, args: Any = ()) -> list[tuple]:
        with self._tx() as conn:
            return conn.execute(sql, args).fetchall()

    # ---- integrity ------------------------------------------------------------------------------------
    def damaged(self, full: bool = True) -> list[Damaged]:
        with self._tx() as conn:
            return find_damaged(conn, full=full, dialect=POSTGRES)

    def quarantine(self, rows: list[Damaged]) -> int:
        with self._tx() as conn:
            return quarantine(conn, [d for d in rows if d.source != "file"], dialect=POSTGRES)

    # ---- runs ---------------------------------------------------------------------------------------
    def save_run(self, manifest: RunManifest) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO runs (run_id, started_at, status, manifest) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, manifest = excluded.manifest",
                (manifest.run_id, manifest.started_at.isoformat(), manifest.status, manifest.model_dump_json()),
            )

    _RUN_COLUMNS = f"run_id, manifest, COALESCE(alive_until >= {NOW}, false)"

    def _manifest(self, run_id: str, data: str, alive: bool) -> RunManifest | None:
        m = self.decoder.decode(RunManifest, data, "runs", run_id, None)
        if m is not None and m.status == "running" and not alive:
            m.status = "interrupted"  # no live worker keeps the run's heartbeat
        return m

    def get_run(self, run_id: str) -> RunManifest:
        like = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._rows(f"SELECT {self._RUN_COLUMNS} FROM runs WHERE run_id = %s OR run_id LIKE %s "
                          "ORDER BY run_id", (run_id, like))
        rows = [r for r in rows if r[0] == run_id] or rows
        if len(rows) == 1:
            m = self._manifest(*rows[0])
            if m is None:
                raise StoreError(f"run {rows[0][0]}: its manifest in {self.path} is damaged; "
                                 "`glasnost db check` names it")
            return m
        known = [r[0] for r in self._rows("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 5")]
        if not rows:
            hint = f"known runs: {', '.join(known)}" if known else "the store has no runs yet"
            raise StoreError(f"no run {run_id!r} in {self.path}; {hint} (see `glasnost runs`)")
        raise StoreError(f"run id prefix {run_id!r} is ambiguous in {self.path}; give more characters")

    def list_runs(self) -> list[RunManifest]:
        rows = self._rows(f"SELECT {self._RUN_COLUMNS} FROM runs ORDER BY started_at, rid")
        return [m for m in (self._manifest(*r) for r in rows) if m is not None]

    def add_run_items(self, run_id: str, keys: Iterable[str]) -> None:
        self._add_items("run_items", run_id, keys)

    def _add_items(self, table: str, run_id: str, keys: Iterable[str]) -> None:
        key_list = list(dict.fromkeys(keys))
        with self._tx() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{table}:{run_id}",))  # positions
            start = conn.execute(f"SELECT COALESCE(MAX(position), -1) + 1 FROM {table} WHERE run_id = %s",
                                 (run_id,)).fetchone()[0]
            conn.execute(
                f"INSERT INTO {table} (run_id, position, key) SELECT %s, %s + n - 1, k "
                "FROM unnest(%s::text[]) WITH ORDINALITY AS t(k, n) ON CONFLICT DO NOTHING",
                (run_id, start, key_list),
            )

    def run_keys(self, run_id: str) -> list[str]:
        return [r[0] for r in self._rows("SELECT key FROM run_items WHERE run_id = %s ORDER BY position", (run_id,))]

    # ---- bank snapshots ------------------------------------------------------------------------------
    def save_bank_snapshot(self, snapshot: dict[str, Any]) -> None:
        with self._tx() as conn:
            conn.execute("INSERT INTO bank_snapshots (fingerprint, snapshot) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                         (snapshot["fingerprint"], canonical_json(snapshot)))

    def get_bank_snapshot(self, fingerprint: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT snapshot FROM bank_snapshots WHERE fingerprint = %s", (fingerprint,))
        return self.decoder.loads(rows[0][0], "bank_snapshots", fingerprint) if rows else None

    # ---- responses -----------------------------------------------------------------------------------
    def stored_outcomes(self, keys: Iterable[str]) -> dict[str, str]:
        return dict(self._rows("SELECT key, outcome FROM responses WHERE key = ANY(%s)", (list(keys),)))

    def response_digests(self, keys: Iterable[str]) -> dict[str, str | None]:
        return dict(self._rows("SELECT key, digest FROM responses WHERE key = ANY(%s)", (list(keys),)))

    def put_responses(self, responses: list[Response]) -> int:
        if not responses:
            return 0
        written = 0
        with self._tx() as conn, conn.cursor() as cur:
            for r in responses:  # one statement each, in order: a key twice in a batch behaves as in SQLite
                cur.execute(
                    "INSERT INTO responses (key, run_id, concept_id, lang, target_id, sample_index, outcome, data, "
                    "digest) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET run_id = excluded.run_id, outcome = excluded.outcome, "
                    "data = excluded.data, digest = excluded.digest WHERE responses.outcome = 'error'",
                    (r.key, r.run_id, r.concept_id, r.lang, r.target_id, r.sample_index, r.outcome.value,
                     r.model_dump_json(), response_digest(r)),
                )
                written += max(cur.rowcount, 0)
        return written

    def get_response(self, key: str) -> Response | None:
        rows = self._rows("SELECT run_id, data FROM responses WHERE key = %s", (key,))
        return self.decoder.decode(Response, rows[0][1], "responses", rows[0][0], key) if rows else None

    def iter_responses(self, run_id: str | None = None) -> Iterator[Response]:
        if run_id is None:
            rows = self._rows("SELECT run_id, key, data FROM responses ORDER BY rid")
        else:
            rows = self._rows("SELECT i.run_id, r.key, r.data FROM run_items i JOIN responses r ON r.key = i.key "
                              "WHERE i.run_id = %s ORDER BY i.position", (run_id,))
        for run, key, data in rows:
            r = self.decoder.decode(Response, data, "responses", run, key)
            if r is not None:
                yield r

    def iter_response_heads(self, run_id: str) -> Iterator[tuple[str, str, str, str, int, str]]:
        yield from self._rows("SELECT r.key, r.concept_id, r.lang, r.target_id, r.sample_index, r.outcome "
                              "FROM run_items i JOIN responses r ON r.key = i.key WHERE i.run_id = %s "
                              "ORDER BY i.position", (run_id,))

    def outcome_counts(self, run_id: str) -> dict[str, int]:
        return dict(self._rows("SELECT r.outcome, COUNT(*) FROM run_items i JOIN responses r ON r.key = i.key "
                               "WHERE i.run_id = %s GROUP BY r.outcome", (run_id,)))

    # ---- verdicts ------------------------------------------------------------------------------------
    def put_verdicts(self, verdicts: list[Verdict]) -> int:
        """A verdict without ``response_digest`` is taken to have judged the response as stored now."""
        return self.put_verdict_rows([verdict_row(v) for v in verdicts])

    def put_verdict_rows(self, rows: list[tuple[str, str, str, str, str, str | None]]) -> int:
        if not rows:
            return 0
        with self._tx() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO verdicts (response_key, judge, label, status, data, response_digest) "
                "VALUES (%s, %s, %s, %s, %s, COALESCE(%s, (SELECT digest FROM responses WHERE key = %s))) "
                "ON CONFLICT (response_key, judge) DO UPDATE SET label = excluded.label, status = excluded.status, "
                "data = excluded.data, response_digest = excluded.response_digest",
                [(*row, row[0]) for row in rows],
            )
        return len(rows)

    def _verdicts(self, rows: list[tuple]) -> Iterator[Verdict]:
        for data, key, digest in rows:
            v = self.decoder.decode(Verdict, data, "verdicts", None, key)
            if v is not None:
                v.response_digest = digest
                yield v

    def iter_verdicts(self, run_id: str | None = None, judge: str | None = None) -> Iterator[Verdict]:
        sql, args = verdicts_query(run_id, judge, "%s", "rid")
        yield from self._verdicts(self._rows(sql, args))

    def iter_verdict_labels(self, run_id: str, judge: str) -> Iterator[tuple[str, str, str]]:
        yield from self._rows(
            f"SELECT v.response_key, v.label, v.status FROM verdicts v {CURRENT} "
            "JOIN run_items i ON i.key = v.response_key WHERE i.run_id = %s AND v.judge = %s ORDER BY i.position",
            (run_id, judge))

    def stale_verdicts(self, run_id: str, judge: str | None = None) -> int:
        sql, args = stale_verdicts_query(run_id, judge, "%s")
        return self._rows(sql, args)[0][0]

    def judges(self, run_id: str | None = None) -> list[str]:
        if run_id is None:
            rows = self._rows(f"SELECT DISTINCT v.judge FROM verdicts v {CURRENT} ORDER BY v.judge")
        else:
            rows = self._rows(f"SELECT DISTINCT v.judge FROM verdicts v {CURRENT} "
                              "JOIN run_items i ON i.key = v.response_key WHERE i.run_id = %s ORDER BY v.judge",
                              (run_id,))
        return [r[0] for r in rows]

    def verdicts_for(self, keys: Iterable[str], judge: str) -> dict[str, Verdict]:
        rows = self._rows(f"SELECT v.data, v.response_key, v.response_digest FROM verdicts v {CURRENT} "
                          "WHERE v.judge = %s AND v.response_key = ANY(%s)", (judge, list(keys)))
        return {v.response_key: v for v in self._verdicts(rows)}

    def close(self) -> None:
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.close()
