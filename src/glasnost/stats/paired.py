"""Paired comparisons: the same question asked two ways (two languages, two hosts, two runs).

A pair is two counted responses with the same pairing key (concept, sample; or concept, language, sample).
The difference is rate(B) - rate(A) over the pairs, its interval a bootstrap over concepts, its test
McNemar's on the discordant pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glasnost.stats.data import AuditData
from glasnost.stats.intervals import agresti_min, cluster_bootstrap_ratio
from glasnost.stats.rates import Estimate
from glasnost.stats.significance import mcnemar


@dataclass
class PairedResult:
    a: str
    b: str
    rate_a: float | None
    rate_b: float | None
    diff: Estimate  # rate_b - rate_a, in rate units (print as percentage points)
    b_only: int  # pairs censored under B only
    a_only: int  # pairs censored under A only


def paired_difference(key_a: np.ndarray, cens_a: np.ndarray, key_b: np.ndarray, cens_b: np.ndarray,
                      cluster_of_key: np.ndarray, *, a: str, b: str, seed: int = 0) -> PairedResult:
    """Pair rows of side A and side B by equal integer key (unique within each side).

    ``cluster_of_key`` gives, for each row of side A, its cluster (concept) for the bootstrap.
    """
    common, ia, ib = np.intersect1d(key_a, key_b, assume_unique=True, return_indices=True)
    n = int(common.size)
    if n == 0:
        return PairedResult(a, b, None, None, Estimate(None, n=0, unit="pairs", kind="diff"), 0, 0)
    ca = cens_a[ia].astype(bool)
    cb = cens_b[ib].astype(bool)
    b_only = int(np.sum(cb & ~ca))
    a_only = int(np.sum(ca & ~cb))
    test = mcnemar(a_only, b_only)
    diff = (b_only - a_only) / n
    ids, inverse = np.unique(cluster_of_key[ia], return_inverse=True)
    num = np.bincount(inverse, weights=(cb.astype(np.float64) - ca.astype(np.float64)), minlength=ids.size)
    den = np.bincount(inverse, minlength=ids.size).astype(np.float64)
    boot = cluster_bootstrap_ratio(num, den, seed=seed) if ids.size > 1 else None
    # Never narrower than Agresti–Min: a bootstrap over pairs that all agree would claim certainty.
    floor = agresti_min(b_only, a_only, n)
    lo, hi = (min(floor[0], boot[0]), max(floor[1], boot[1])) if boot else floor
    # The smallest p McNemar could give with this many discordant pairs (all on one side): above 0.05 the
    # gap is too few to tell and stays out of the multiple-testing family.
    min_p = mcnemar(a_only + b_only, 0).p
    est = Estimate(
        diff, lo, hi, n=n, unit="pairs", method="bootstrap-concept" if boot else "agresti-min", kind="diff",
        clusters=int(ids.size), p=test.p, test=f"McNemar {test.method}", testable=min_p <= 0.05, min_p=min_p,
    )
    return PairedResult(a, b, float(ca.mean()), float(cb.mean()), est, b_only, a_only)


def _rows_key(data: AuditData, rows: np.ndarray, with_lang: bool) -> np.ndarray:
    samples = int(data.sample.max()) + 1 if len(data) else 1
    langs = max(1, len(data.langs))
    key = data.concept[rows].astype(np.int64) * samples + data.sample[rows]
    if with_lang:
        key = key * langs + data.lang[rows]
    return key


def _dedupe(key: np.ndarray, *cols: np.ndarray) -> tuple[np.ndarray, ...]:
    """Keep the first row of each key (only merged runs of one target can repeat a key)."""
    _, first = np.unique(key, return_index=True)
    first.sort()
    return (key[first], *(c[first] for c in cols))


def reference_language(langs: list[str]) -> str | None:
    """Language gaps are measured against English when present, else the run's first language."""
    if not langs:
        return None
    return "en" if "en" in langs else langs[0]


def language_gaps(data: AuditData, *, seed: int = 0) -> list[tuple[str, PairedResult]]:
    """Per target: rate in language L minus rate in the reference language, over the same concepts."""
    out: list[tuple[str, PairedResult]] = []
    ref = reference_language(data.langs)
    if ref is None or len(data.langs) < 2:
        return out
    ref_i = data.langs.index(ref)
    usable = data.counted & data.sensitive
    censored = data.censored
    for t, target in enumerate(data.targets):
        rows_ref = usable & (data.target == t) & (data.lang == ref_i)
        if not rows_ref.any():
            continue
        key_a, cens_a, conc_a = _dedupe(_rows_key(data, rows_ref, False), censored[rows_ref], data.concept[rows_ref])
        for lang_i, lang in enumerate(data.langs):
            if lang_i == ref_i:
                continue
            rows = usable & (data.target == t) & (data.lang == lang_i)
            if not rows.any():
                continue
            key_b, cens_b = _dedupe(_rows_key(data, rows, False), censored[rows])
            out.append((target, paired_difference(key_a, cens_a, key_b, cens_b, conc_a, a=ref, b=lang, seed=seed)))
    return out


def host_gaps(data: AuditData, *, seed: int = 0) -> list[tuple[str, PairedResult]]:
    """The same model (by normalised name) behind two endpoints, paired on concept, language and sample."""
    out: list[tuple[str, PairedResult]] = []
    usable = data.counted & data.sensitive
    censored = data.censored
    by_model: dict[str, list[int]] = {}
    for t, model in enumerate(data.target_models):
        by_model.setdefault(model, []).append(t)
    for model, ts in by_model.items():
        for i, ta in enumerate(ts):
            for tb in ts[i + 1:]:
                ra = usable & (data.target == ta)
                rb = usable & (data.target == tb)
                if not (ra.any() and rb.any()):
                    continue
                key_a, cens_a, conc_a = _dedupe(_rows_key(data, ra, True), censored[ra], data.concept[ra])
                key_b, cens_b = _dedupe(_rows_key(data, rb, True), censored[rb])
                out.append((model, paired_difference(key_a, cens_a, key_b, cens_b, conc_a,
                                                     a=data.targets[ta], b=data.targets[tb], seed=seed)))
    return out
