"""What a failed request means, and how long to wait before trying again.

``classify(status, body)`` turns an HTTP status and error body into a :class:`Decision`; the adapter acts on
it. The policy table (also in docs/targets.md):

======================================  ============  ==========================================
status / body                           decision      what happens
======================================  ============  ==========================================
2xx                                     OK            parse the reply
any status, body says content policy    BLOCKED       outcome ``blocked``, no retry
451                                     BLOCKED       outcome ``blocked``, no retry
429 / 402, body says quota or credit    FATAL         ``TargetFatal``: the run stops
401, 403 (not policy)                   FATAL         ``TargetFatal``: check the key
404, or 400/422 naming a bad model      FATAL         ``TargetFatal``: check the model / URL
429                                     RATE_LIMIT    retry after ``Retry-After`` or back-off
408, 409, 425, 5xx                      TRANSIENT     retry with back-off
timeout, connection error               TRANSIENT     retry with back-off
malformed JSON body                     MALFORMED     retry at most twice, then ``error``
other 4xx                               REJECTED      outcome ``error``, no retry
======================================  ============  ==========================================

Back-off is exponential with full jitter (a uniform draw in [0, min(cap, base * 2**n)]), so many concurrent
requests hitting one limit do not come back in lockstep. ``Retry-After`` (seconds or an HTTP date, or
``retry-after-ms``) wins over the draw. A request gives up when it has used ``max_retries`` or when the next
wait would take the sum of its waits past ``max_total_wait_s``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from functools import lru_cache
from importlib import resources
from typing import Mapping

import yaml

from glasnost.records import TransportConfig

MALFORMED_RETRY_LIMIT = 2  # a garbled body is rarely cured by asking a third time


class Decision(str, Enum):
    OK = "ok"
    BLOCKED = "blocked"  # the serving layer refused the content: a result, never retried
    RATE_LIMIT = "rate_limit"  # 429: wait and retry
    TRANSIENT = "transient"  # 5xx, timeouts, dropped connections: retry with back-off
    MALFORMED = "malformed"  # a 2xx whose body is not the JSON we expect: retry a little
    REJECTED = "rejected"  # this request is refused for a reason retrying cannot fix: outcome error
    FATAL = "fatal"  # every request would fail the same way (auth, quota, model): stop the run

    @property
    def retryable(self) -> bool:
        return self in (Decision.RATE_LIMIT, Decision.TRANSIENT, Decision.MALFORMED)


@dataclass(frozen=True)
class Signals:
    policy: tuple[str, ...]
    quota: tuple[str, ...]
    fatal: tuple[str, ...]


@lru_cache(maxsize=1)
def signals() -> Signals:
    text = resources.files("glasnost.targets").joinpath("signals.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return Signals(*(tuple(s.lower() for s in data[k]) for k in ("policy", "quota", "fatal")))


def _has(body: str, phrases: tuple[str, ...]) -> bool:
    return any(p in body for p in phrases)


def is_policy_text(text: str | None) -> bool:
    """Does a provider's error text say its content policy stopped the request? (also used by replay)"""
    return bool(text) and _has(text.lower(), signals().policy)


def classify(status: int, body: str | None = "") -> Decision:
    """The decision for one HTTP response (status + body text, lower-cased here)."""
    if 200 <= status < 300:
        return Decision.OK
    text = (body or "").lower()
    sig = signals()
    if status == 451 or _has(text, sig.policy):
        return Decision.BLOCKED
    if status in (429, 402) and _has(text, sig.quota):
        return Decision.FATAL
    if status == 402:
        return Decision.FATAL
    if status == 429:
        return Decision.RATE_LIMIT
    if status in (401, 403, 404):
        return Decision.FATAL
    if status in (408, 409, 425) or status >= 500:
        return Decision.TRANSIENT
    if _has(text, sig.fatal):
        return Decision.FATAL
    return Decision.REJECTED


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``Retry-After: <seconds>`` or ``Retry-After: <HTTP date>``."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


@dataclass
class RetryBudget:
    """One request's retry state: how many retries it took and how long it has waited in all."""

    transport: TransportConfig
    rng: random.Random = field(default_factory=random.Random)
    retries: int = 0
    malformed: int = 0
    waited_s: float = 0.0
    waits: list[float] = field(default_factory=list)

    def backoff(self) -> float:
        ceiling = min(self.transport.backoff_max_s, self.transport.backoff_base_s * (2**self.retries))
        return self.rng.uniform(0.0, max(0.0, ceiling))

    def next_wait(self, decision: Decision, retry_after: float | None = None) -> float | None:
        """The wait before the next try, or None when this request must give up. Counts the retry."""
        if not decision.retryable or self.retries >= self.transport.max_retries:
            return None
        if decision is Decision.MALFORMED:
            if self.malformed >= MALFORMED_RETRY_LIMIT:
                return None
            self.malformed += 1
        wait = retry_after if retry_after is not None else self.backoff()
        if self.waited_s + wait > self.transport.max_total_wait_s:
            return None
        self.retries += 1
        self.waited_s += wait
        self.waits.append(wait)
        return wait

    def exhausted_reason(self, decision: Decision, retry_after: float | None = None) -> str:
        if decision is Decision.MALFORMED and self.malformed >= MALFORMED_RETRY_LIMIT:
            return f"after {self.retries} retries (malformed replies)"
        if self.retries >= self.transport.max_retries:
            return f"after {self.retries} retries (max_retries={self.transport.max_retries})"
        if retry_after is not None:
            return (
                f"Retry-After {retry_after:.0f}s would pass the wait cap "
                f"(max_total_wait_s={self.transport.max_total_wait_s:g}) after {self.retries} retries"
            )
        return f"after {self.retries} retries (wait cap max_total_wait_s={self.transport.max_total_wait_s:g})"
