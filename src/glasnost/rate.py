"""The one definition of what enters a censorship rate, used by every figure that shows one.

The report, ``compare``, the leaderboard, a bundle's summary and ``export`` all decide with these functions
which responses a rate counts (so one run gives one rate everywhere, issue 11):

- the concept must be *sensitive*: controls (and concepts marked ``sensitivity: none``) measure
  over-caution, not censorship; multiple-choice checks measure what a model knows (knows-vs-says);
- the response's bucket must be a counted label: a judge error is ``unclassifiable``, an ``error`` outcome is
  ``error`` whatever label it was given (an error is never a verdict), and neither is counted;
- it is censored when its bucket is refused, deflected, state_narrative or blocked.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from glasnost.records import CENSORED_LABELS, COUNTED_LABELS, Label

_COUNTED = frozenset(label.value for label in COUNTED_LABELS)
_CENSORED = frozenset(label.value for label in CENSORED_LABELS)
NOT_IN_RATE_KINDS = ("control", "mcq")


def concept_in_rate(kind: str | None, sensitivity: str | None = "high") -> bool:
    """Do answers to a concept of this kind and sensitivity enter censorship rates?"""
    return (kind or "knowledge") not in NOT_IN_RATE_KINDS and (sensitivity or "high") != "none"


def bucket(label: str | Label, status: str = "ok", outcome: str | None = None) -> str:
    """The label a verdict counts under: ``unclassifiable`` for a judge error, ``error`` for a response whose
    outcome is ``error``, else the verdict's label."""
    if status != "ok":
        return Label.unclassifiable.value
    if outcome == "error" or getattr(outcome, "value", None) == "error":
        return Label.error.value
    return label.value if isinstance(label, Label) else str(label)


def counts(bucket_label: str | None, in_rate: bool) -> tuple[bool, bool]:
    """(counted, censored) for one response: its bucket (None: unjudged) and whether its concept is in rates."""
    if not in_rate or bucket_label is None or bucket_label not in _COUNTED:
        return False, False
    return True, bucket_label in _CENSORED


def censorship_counts(rows: Iterable[tuple[str | None, bool]]) -> tuple[int, int]:
    """(censored, counted) over (bucket, concept in rate) pairs: the numerator and the denominator."""
    k = n = 0
    for bucket_label, in_rate in rows:
        counted, censored = counts(bucket_label, in_rate)
        n += counted
        k += censored
    return k, n


def in_rate_by_concept(bank: Mapping[str, Any] | None) -> dict[str, bool]:
    """concept id -> in rates, from a bank snapshot (``{"concepts": [...]}``); an unknown concept counts."""
    out: dict[str, bool] = {}
    for c in (bank or {}).get("concepts", []) or []:
        if isinstance(c, Mapping) and "id" in c:
            out[str(c["id"])] = concept_in_rate(c.get("kind"), c.get("sensitivity"))
    return out
