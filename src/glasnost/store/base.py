"""The store interface. SQLite implements it today; a PostgreSQL backend can sit behind the same methods.

Rules every backend keeps:
- a response key is UNIQUE; a stored response is never overwritten, except an ``error`` outcome, which a
  later attempt may replace (an error is not a result, so resuming retries it);
- each ``put_*`` call is one transaction, committed before it returns (the runner counts a response only
  after it is durable);
- verdicts are keyed by (response key, judge id@version): re-judging with the same judge replaces, another
  judge adds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterable, Iterator

from glasnost.records import Response, RunManifest, Verdict


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

    @abstractmethod
    def outcome_counts(self, run_id: str) -> dict[str, int]: ...

    # ---- verdicts ------------------------------------------------------------------------------------
    @abstractmethod
    def put_verdicts(self, verdicts: list[Verdict]) -> int: ...

    @abstractmethod
    def iter_verdicts(self, run_id: str | None = None, judge: str | None = None) -> Iterator[Verdict]: ...

    @abstractmethod
    def judges(self, run_id: str | None = None) -> list[str]:
        """The judge ids (id@version) that have verdicts for the run's responses."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
