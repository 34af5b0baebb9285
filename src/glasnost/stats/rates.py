"""Censorship rates with their intervals, and the label and outcome counts behind them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glasnost.stats.data import LABELS, OUTCOMES, UNJUDGED, AuditData
from glasnost.stats.intervals import cluster_bootstrap_ratio, wilson


@dataclass
class Estimate:
    """One figure with its interval and its n. ``kind`` says how to print it: a rate, a difference of rates
    (percentage points), or a plain number (kappa)."""

    value: float | None
    lo: float | None = None
    hi: float | None = None
    n: int = 0  # responses, pairs or groups behind the figure (see ``unit``)
    k: int | None = None  # the numerator count, for rates
    unit: str = "responses"
    method: str = ""  # wilson, bootstrap-concept, bootstrap-group, ...
    kind: str = "rate"  # rate | diff | number
    clusters: int | None = None
    p: float | None = None
    p_holm: float | None = None
    q_bh: float | None = None
    test: str | None = None
    # False when the test could never reach significance with these units (its smallest attainable p,
    # ``min_p``, exceeds 0.05): "too few to tell"; such a comparison stays out of the multiple-testing
    # family (Tarone) and gets no p_holm or q_bh.
    testable: bool = True
    min_p: float | None = None


def wilson_rate(k: int, n: int) -> Estimate:
    if n == 0:
        return Estimate(None, n=0, k=0, method="wilson")
    lo, hi = wilson(k, n)
    return Estimate(k / n, lo, hi, n=n, k=k, method="wilson")


def clustered_rate(censored: np.ndarray, counted: np.ndarray, cluster: np.ndarray, *, seed: int = 0,
                   method: str = "bootstrap-concept") -> Estimate:
    """Rate over rows where ``counted``; interval from a bootstrap over ``cluster`` ids (concepts, or topics:
    ``method`` names the unit)."""
    rows = counted
    n = int(rows.sum())
    k = int((censored & rows).sum())
    if n == 0:
        return Estimate(None, n=0, k=0, method=method)
    ids, inverse = np.unique(cluster[rows], return_inverse=True)
    num = np.bincount(inverse, weights=censored[rows].astype(np.float64), minlength=ids.size)
    den = np.bincount(inverse, minlength=ids.size).astype(np.float64)
    interval = cluster_bootstrap_ratio(num, den, seed=seed)
    lo, hi = wilson(k, n)
    if ids.size == 1 or interval is None:
        # One concept: the bootstrap says nothing; Wilson over its responses.
        return Estimate(k / n, lo, hi, n=n, k=k, method="wilson", clusters=int(ids.size))
    # Never narrower than Wilson: the percentile bootstrap collapses to a point when every answer agrees
    # (0% or 100%), while Wilson ignores clustering; the union is honest in both cases.
    return Estimate(k / n, min(lo, interval[0]), max(hi, interval[1]), n=n, k=k, method=method,
                    clusters=int(ids.size))


@dataclass
class CountRow:
    target: str
    lang: str | None  # None: all languages of the target
    # labels, unjudged, judge_errors and errors count responses to sensitive concepts only
    labels: dict[str, int]  # every countable label, chosen judge
    unjudged: int
    judge_errors: int
    errors: int  # technical failures: outcome error or label error
    rate: Estimate  # censorship rate over counted responses
    control: Estimate  # the same rate on control concepts (over-caution, not censorship)
    outcomes: dict[str, int]  # raw outcomes of all responses (the only counts when nothing is judged)


def topic_clusters(data: AuditData) -> np.ndarray:
    """Per row: an index of its concept's (jurisdiction, topic). The knowledge, criticism and indirect
    questions about one topic share the topic's effect, so the topic, not the concept, is the independent
    unit (simulation: 20 topics of 3 concepts, topic effect SD 1: the concept bootstrap covered 0.86, the
    topic bootstrap 0.93)."""
    keys = [(c.jurisdiction, c.topic) for c in (data.concepts[cid] for cid in data.concept_ids)]
    codes = {key: i for i, key in enumerate(sorted(set(keys)))}
    per_concept = np.array([codes[key] for key in keys] or [0], dtype=np.int64)
    return per_concept[data.concept] if len(data) else np.zeros(0, dtype=np.int64)


def overall_rates(data: AuditData, *, seed: int = 0) -> dict[str, Estimate]:
    """Per target: the censorship rate over all sensitive concepts and languages (bootstrap by topic)."""
    sens = data.sensitive
    topics = topic_clusters(data)
    return {target: clustered_rate(data.censored, data.counted & sens & (data.target == t), topics, seed=seed,
                                   method="bootstrap-topic")
            for t, target in enumerate(data.targets)}


def count_rows(data: AuditData, *, seed: int = 0, overall: dict[str, Estimate] | None = None) -> list[CountRow]:
    """The first honest summary: per target x language (and per target over all languages)."""
    overall = overall if overall is not None else overall_rates(data, seed=seed)
    out: list[CountRow] = []
    if not len(data):
        return out
    sensitive = data.sensitive
    counted = data.counted
    censored = data.censored
    error_code = LABELS.index("error")
    for t, target in enumerate(data.targets):
        t_rows = data.target == t
        langs = [(lang_i, lang) for lang_i, lang in enumerate(data.langs) if np.any(t_rows & (data.lang == lang_i))]
        for lang_i, lang in [*langs, (None, None)]:
            rows = t_rows if lang_i is None else (t_rows & (data.lang == lang_i))
            sens = rows & sensitive
            labels = {name: int(np.sum(sens & data.status_ok & (data.label == code)))
                      for code, name in enumerate(LABELS) if name not in ("error", "unclassifiable")}
            outcome_counts = {name: int(np.sum(rows & (data.outcome == code))) for code, name in enumerate(OUTCOMES)}
            errors = int(np.sum(sens & ((data.outcome == OUTCOMES.index("error")) | (data.label == error_code))))
            unjudged = int(np.sum(sens & (data.label == UNJUDGED) & (data.outcome != OUTCOMES.index("error"))))
            judge_errors = int(np.sum(sens & (data.label != UNJUDGED) & ~data.status_ok))
            if lang_i is None:
                rate = overall[target]
            else:
                rate = wilson_rate(int(np.sum(censored & sens)), int(np.sum(counted & sens)))
            ctrl = rows & ~sensitive
            control = wilson_rate(int(np.sum(censored & ctrl)), int(np.sum(counted & ctrl)))
            out.append(CountRow(target, lang, labels, unjudged, judge_errors, errors, rate, control, outcome_counts))
    return out


def rate_grid(data: AuditData, attr: str) -> dict[tuple[str, str], Estimate]:
    """(target, concept attribute value) -> Wilson rate over sensitive concepts, e.g. attr='topic'."""
    values = data.concept_column(attr)
    codes = {v: i for i, v in enumerate(sorted(set(values)))}
    per_concept = np.array([codes[v] for v in values], dtype=np.int32)
    col = per_concept[data.concept] if len(data) else np.zeros(0, dtype=np.int32)
    sens = data.sensitive
    counted = data.counted & sens
    censored = data.censored & sens
    size = len(codes) * max(1, len(data.targets))
    combo = data.target.astype(np.int64) * len(codes) + col
    n = np.bincount(combo[counted], minlength=size)
    k = np.bincount(combo[censored], minlength=size)
    out: dict[tuple[str, str], Estimate] = {}
    for t, target in enumerate(data.targets):
        for value, i in codes.items():
            cell = t * len(codes) + i
            if np.any((data.target == t) & (col == i) & sens):
                out[(target, value)] = wilson_rate(int(k[cell]), int(n[cell]))
    return out


def fact_coverage(data: AuditData, *, seed: int = 0) -> list[tuple[str, str, Estimate]]:
    """Mean fact coverage of *answered* knowledge probes, per target x language (bootstrap by concept)."""
    kinds = np.array(data.concept_column("kind") or ["?"])
    is_knowledge = kinds[data.concept] == "knowledge" if len(data) else np.zeros(0, dtype=bool)
    answered = data.status_ok & (data.label == LABELS.index("answered"))
    rows_all = answered & is_knowledge & ~np.isnan(data.fact_coverage)
    out: list[tuple[str, str, Estimate]] = []
    for t, target in enumerate(data.targets):
        for lang_i, lang in enumerate(data.langs):
            rows = rows_all & (data.target == t) & (data.lang == lang_i)
            n = int(rows.sum())
            if n == 0:
                continue
            ids, inverse = np.unique(data.concept[rows], return_inverse=True)
            num = np.bincount(inverse, weights=data.fact_coverage[rows], minlength=ids.size)
            den = np.bincount(inverse, minlength=ids.size).astype(np.float64)
            interval = cluster_bootstrap_ratio(num, den, seed=seed) if ids.size > 1 else None
            mean = float(data.fact_coverage[rows].mean())
            out.append((target, lang, Estimate(
                mean, interval[0] if interval else None, interval[1] if interval else None, n=n,
                method="bootstrap-concept" if interval else "", kind="rate", clusters=int(ids.size),
            )))
    return out
