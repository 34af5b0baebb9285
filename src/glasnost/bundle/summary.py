"""The summary a bundle publishes: per target x language, counts per label and the censorship rate.

It is a pure function of the bundle's responses and verdicts, so ``verify`` recomputes it and compares.
The Wilson interval is written out here on purpose rather than taken from ``glasnost.stats``: the number
is part of a published format that other tools recompute, so it must not move when the statistics layer
changes its methods. Formula (z = 1.959964, 95%): centre = (p + z²/2n) / (1 + z²/n), half-width =
z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n), clipped to [0, 1]; every float is rounded to 6 places.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Iterable, Mapping

from glasnost import rate

from glasnost.bundle.format import Summary, SummaryRow
from glasnost.records import Label, Response, Verdict

Z95 = 1.959963984540054
DIGITS = 6
UNCLASSIFIABLE = Label.unclassifiable.value


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_fields(censored: int, counted: int) -> tuple[float | None, float | None, float | None]:
    if counted == 0:
        return None, None, None
    low, high = wilson(censored, counted)
    return round(censored / counted, DIGITS), round(low, DIGITS), round(high, DIGITS)


def bucket(verdict: Verdict, response: Response | None = None) -> str:
    """The label a verdict counts under (glasnost.rate.bucket): a judge error is never counted as the label it
    carries, and a verdict on a response whose outcome is ``error`` counts as ``error``."""
    return rate.bucket(verdict.label, verdict.status, response.outcome.value if response is not None else None)


def compute_summary(responses: Iterable[Response], verdicts: Iterable[Verdict], judge: str | None,
                    bank: Mapping[str, Any] | None = None) -> Summary:
    """The summary; ``bank`` (the bank snapshot) tells which concepts enter the rate (glasnost.rate: controls
    and multiple-choice checks do not), exactly as the report counts them."""
    in_rate = rate.in_rate_by_concept(bank)
    by_key = {v.response_key: v for v in verdicts if judge is not None and v.judge == judge}
    groups: dict[tuple[str, str], list[Response]] = defaultdict(list)
    n_responses = 0
    for r in responses:
        groups[(r.target_id, r.lang)].append(r)
        n_responses += 1
    rows: list[SummaryRow] = []
    for (target_id, lang), items in sorted(groups.items()):
        counts = {label.value: 0 for label in Label}
        unjudged = counted = censored = 0
        for r in items:
            v = by_key.get(r.key)
            if v is None:
                unjudged += 1
                continue
            label = bucket(v, r)
            counts[label] += 1
            is_counted, is_censored = rate.counts(label, in_rate.get(r.concept_id, True))
            counted += is_counted
            censored += is_censored
        value, low, high = rate_fields(censored, counted)
        rows.append(
            SummaryRow(
                target_id=target_id,
                target=items[0].target,
                lang=lang,
                n_responses=len(items),
                unjudged=unjudged,
                counts=counts,
                n_counted=counted,
                n_censored=censored,
                rate=value,
                ci_low=low,
                ci_high=high,
            )
        )
    return Summary(judge=judge, n_responses=n_responses, n_verdicts=len(by_key), rows=rows)


def first_difference(published: Summary, recomputed: Summary) -> str | None:
    """A one-line description of the first way the published summary differs, or None when it matches."""
    for field in ("judge", "n_responses", "n_verdicts"):
        a, b = getattr(published, field), getattr(recomputed, field)
        if a != b:
            return f"{field} is {a!r} but the data give {b!r}"
    pub = {(r.target_id, r.lang): r for r in published.rows}
    if len(pub) != len(published.rows):
        return "the summary lists a (target, lang) row twice"
    rec = {(r.target_id, r.lang): r for r in recomputed.rows}
    for key in sorted(set(pub) | set(rec)):
        where = f"target {key[0]!r} lang {key[1]!r}"
        if key not in pub:
            return f"{where} is in the data but not in the summary"
        if key not in rec:
            return f"{where} is in the summary but has no responses"
        a, b = pub[key].model_dump(), rec[key].model_dump()
        for field in a:
            if isinstance(a[field], dict) and isinstance(b[field], dict):
                for sub in sorted(set(a[field]) | set(b[field])):
                    x, y = a[field].get(sub), b[field].get(sub)
                    if not _same(x, y):
                        return f"{where}: {field}.{sub} is {x!r} but the data give {y!r}"
            elif not _same(a[field], b[field]):
                return f"{where}: {field} is {a[field]!r} but the data give {b[field]!r}"
    if [(r.target_id, r.lang) for r in published.rows] != sorted(pub):
        return "rows are not sorted by (target_id, lang)"
    return None


def _same(a: object, b: object) -> bool:
    # Floats written by another tool may differ in the last place; counts must match exactly.
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 10 ** -DIGITS
    return a == b
