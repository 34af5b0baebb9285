"""The store interface. SQLite implements it today; a PostgreSQL backend can sit behind the same methods.

Rules every backend keeps:
- a response key is UNIQUE; a stored response is never overwritten, except an ``error`` outcome, which a
  later attempt may replace (an error is not a result, so resuming retries it);
- each ``put_*`` call is one transaction, committed before it returns (the runner counts a response only
  after it is durable);
- verdicts are keyed by (response key, judge id@version): re-judging with the same judge replaces, another
  judge adds. A verdict carries ``response_digest`` (records.response_digest of the response it judged);
  every method that reads verdicts returns only those whose digest equals the stored response's digest
  now, so a verdict of a replaced response (stale) never reaches a report, an export or a bundle;
- work is claimed: ``claim`` is an atomic insert-or-steal-expired of (key, run, worker, lease expiry);
  workers renew their leases while they work and release them as they store results (docs/runner.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterable, Iterator

from glasnost.records import Response, RunManifest, Verdict, response_digest


class Store(ABC):
    # ---- runs ---------------------------------------------------------------------------------------
    @abstractmethod
    def save_run(self, manifest: RunManifest) -> None:
        """Insert or update a run's manifest."""

    @abstractmethod
    def get_run(self, run_id: str) -> RunManifest:
        """A run by id or unique id prefix; StoreError naming the known runs otherwise."""

    @abstractmethod
    def list_runs(self) -> list[RunManifest]: ...

    @abstractmethod
    def add_run_items(self, run_id: str, keys: Iterable[str]) -> None:
        """Record which work-item keys belong to a run (its plan), in plan order."""

    @abstractmethod
    def run_keys(self, run_id: str) -> list[str]: ...

    # ---- bank snapshots ------------------------------------------------------------------------------
    @abstractmethod
    def save_bank_snapshot(self, snapshot: dict[str, Any]) -> None:
        """Keep the bank a run used (by fingerprint), so reports and bundles do not depend on the install."""

    @abstractmethod
    def get_bank_snapshot(self, fingerprint: str) -> dict[str, Any] | None: ...

    # ---- responses -----------------------------------------------------------------------------------
    @abstractmethod
    def stored_outcomes(self, keys: Iterable[str]) -> dict[str, str]:
        """key -> outcome for the keys that are stored."""

    @abstractmethod
    def put_responses(self, responses: list[Response]) -> int:
        """Store responses in one transaction; returns how many were written (errors may be replaced)."""

    @abstractmethod
    def get_response(self, key: str) -> Response | None: ...

    @abstractmethod
    def iter_responses(self, run_id: str | None = None) -> Iterator[Response]:
        """Responses of a run's plan (all responses when run_id is None), in plan order."""

    def iter_response_heads(self, run_id: str) -> Iterator[tuple[str, str, str, str, int, str]]:
        """(key, concept id, language, target id, sample index, outcome) of a run's responses, in plan order,
        without decoding them (what pairing and counting need; backends answer it from indexed columns)."""
        for r in self.iter_responses(run_id):
            yield r.key, r.concept_id, r.lang, r.target_id, r.sample_index, r.outcome.value

    @abstractmethod
    def outcome_counts(self, run_id: str) -> dict[str, int]: ...

    # ---- verdicts ------------------------------------------------------------------------------------
    @abstractmethod
    def put_verdicts(self, verdicts: list[Verdict]) -> int: ...

    def put_verdict_rows(self, rows: list[tuple[str, str, str, str, str, str | None]]) -> int:
        """Verdicts already encoded by ``verdict_row`` (a judge worker encodes them; the writer only stores)."""
        verdicts = []
        for key, judge, _label, _status, data, digest in rows:
            v = Verdict.model_validate_json(data)
            v.response_digest = digest
            verdicts.append(v)
        return self.put_verdicts(verdicts)

    @abstractmethod
    def iter_verdicts(self, run_id: str | None = None, judge: str | None = None) -> Iterator[Verdict]: ...

    @abstractmethod
    def judges(self, run_id: str | None = None) -> list[str]:
        """The judge ids (id@version) that have verdicts for the run's responses."""

    def stale_verdicts(self, run_id: str, judge: str | None = None) -> int:
        """How many verdicts on the run's responses judged content that is no longer stored (never used)."""
        return 0

    def iter_verdict_labels(self, run_id: str, judge: str) -> Iterator[tuple[str, str, str]]:
        """(response key, label, status) of one judge's verdicts on a run, without parsing whole verdicts
        (judge agreement in reports needs only these; backends may answer it from indexed columns)."""
        for v in self.iter_verdicts(run_id, judge):
            yield v.response_key, v.label.value, v.status

    # ---- imported bundles: provenance and conflicts (see glasnost.bundle.importer) ---------------------
    # Defaults let a backend without these tables still serve runs; import needs a store that has them.
    def verdicts_for(self, keys: Iterable[str], judge: str) -> dict[str, Verdict]:
        """response key -> this judge's verdict, for the keys that have one."""
        wanted = set(keys)
        return {v.response_key: v for v in self.iter_verdicts(judge=judge) if v.response_key in wanted}

    def record_import(self, entry: dict[str, Any]) -> None:
        """Remember an imported bundle: root, run_id, auditor, fingerprint, public_key, judge, responses, conflicts."""
        raise _no_provenance(self)

    def get_import(self, root: str) -> dict[str, Any] | None:
        raise _no_provenance(self)

    def list_imports(self) -> list[dict[str, Any]]:
        raise _no_provenance(self)

    def add_provenance(self, rows: list[dict[str, Any]]) -> None:
        """Rows of (response_key, root, auditor, fingerprint): who published which response."""
        raise _no_provenance(self)

    def provenance(self, response_key: str | None = None, root: str | None = None) -> list[dict[str, Any]]:
        raise _no_provenance(self)

    def add_conflicts(self, rows: list[dict[str, Any]]) -> None:
        """Rows of (response_key, root, kind, judge, data): foreign records that differ from stored ones."""
        raise _no_provenance(self)

    def conflicts(self, root: str | None = None) -> list[dict[str, Any]]:
        raise _no_provenance(self)

    # ---- claimed work and heartbeats (see docs/runner.md, "Claims"): several processes, later several
    # machines, share one run without asking a key twice. PostgreSQL: the same upsert with a lease check
    # (INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE claims.expires_at < now()), or SELECT ... FOR UPDATE
    # SKIP LOCKED over the claims rows; times from the database's clock.
    def claim(self, run_id: str, keys: Iterable[str], worker: str, lease_s: float) -> list[str]:
        """Atomically claim the keys that nobody holds (or whose lease ran out) for ``worker`` until now +
        lease_s; returns the keys ``worker`` holds now (those it held already included), in the given order."""
        raise _no_claims(self)

    def renew(self, worker: str, lease_s: float, run_id: str | None = None) -> int:
        """Extend every lease of ``worker`` to now + lease_s (and the run's heartbeat); returns how many."""
        raise _no_claims(self)

    def release(self, worker: str, keys: Iterable[str] | None = None) -> None:
        """Give up claims of ``worker``: these keys, or all of them (None)."""
        raise _no_claims(self)

    def claimed_by_others(self, keys: Iterable[str], worker: str) -> dict[str, str]:
        """key -> worker id, for the keys another worker holds a live lease on."""
        raise _no_claims(self)

    def set_alive(self, run_id: str, lease_s: float | None) -> None:
        """The run's heartbeat: alive until now + lease_s; None when it ended. A ``running`` run whose
        heartbeat ran out is read back as ``interrupted``."""
        raise _no_claims(self)

    def response_digests(self, keys: Iterable[str]) -> dict[str, str | None]:
        """key -> response_digest of the stored response, for the keys that are stored."""
        return {k: response_digest(r) for k in keys if (r := self.get_response(k)) is not None}

    # ---- white-box likelihood scores (glasnost.knows): keyed like responses, an error may be replaced -----
    # Defaults let a backend without these tables still serve runs; white-box probes need a store with them.
    def add_score_items(self, run_id: str, keys: Iterable[str]) -> None:
        """Record which score keys belong to a run (its plan), in plan order."""
        raise _no_scores(self)

    def stored_score_status(self, keys: Iterable[str]) -> dict[str, str]:
        """key -> status (ok | error) for the score keys that are stored."""
        raise _no_scores(self)

    def put_scores(self, rows: list[dict[str, Any]]) -> int:
        """Rows of (key, concept_id, lang, target_id, method, status, data: dict), in one transaction."""
        raise _no_scores(self)

    def iter_scores(self, run_id: str | None = None) -> Iterator[dict[str, Any]]:
        """The ``data`` of a run's scores in plan order (every score when run_id is None)."""
        return iter(())

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _no_provenance(store: Store) -> Exception:
    from glasnost.errors import StoreError

    return StoreError(f"{type(store).__name__} does not keep bundle provenance; import into an SQLite store (--db)")


def _no_scores(store: Store) -> Exception:
    from glasnost.errors import StoreError

    return StoreError(f"{type(store).__name__} does not keep likelihood scores; use an SQLite store (--db)")


def _no_claims(store: Store) -> Exception:
    from glasnost.errors import StoreError

    return StoreError(f"{type(store).__name__} does not implement claims (docs/runner.md); use an SQLite store")


def verdict_row(v: Verdict) -> tuple[str, str, str, str, str, str | None]:
    """(response key, judge, label, status, JSON without the digest, digest): how every store keeps a verdict."""
    return (v.response_key, v.judge, v.label.value, v.status, v.model_dump_json(exclude={"response_digest"}),
            v.response_digest)
