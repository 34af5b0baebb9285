"""Hypothesis tests used by the comparisons: McNemar (exact or chi-square) and a sign-flip permutation test.

Pure Python and numpy: the runtime never imports scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

EXACT_BELOW = 25  # discordant pairs under which McNemar uses the exact binomial test (the usual rule)


def binom_two_sided_half(k: int, n: int) -> float:
    """Exact two-sided p of k successes in n trials under p = 0.5 (the symmetric case: 2 x the smaller tail)."""
    if n == 0:
        return 1.0
    lo = min(k, n - k)
    tail = Fraction(sum(math.comb(n, i) for i in range(lo + 1)), 2**n)
    return float(min(Fraction(1), 2 * tail))


def chi2_sf_1df(x: float) -> float:
    """Survival function of the chi-square distribution with one degree of freedom."""
    if x <= 0:
        return 1.0
    return math.erfc(math.sqrt(x / 2.0))


@dataclass(frozen=True)
class McNemar:
    b: int  # pairs where the first is censored and the second is not
    c: int  # pairs where the second is censored and the first is not
    statistic: float | None  # chi-square statistic (None for the exact test)
    p: float
    method: str  # "exact" or "chi2-cc"


def mcnemar(b: int, c: int, *, exact: bool | None = None, correction: bool = True) -> McNemar:
    """McNemar's test on the discordant pair counts b and c.

    ``exact=None`` chooses the exact binomial test when b + c < 25, else the chi-square test with
    Edwards' continuity correction (``correction=False`` for the uncorrected statistic).
    """
    if b < 0 or c < 0:
        raise ValueError("discordant counts are non-negative")
    n = b + c
    use_exact = (n < EXACT_BELOW) if exact is None else exact
    if use_exact:
        return McNemar(b, c, None, binom_two_sided_half(b, n), "exact")
    if n == 0:
        return McNemar(b, c, 0.0, 1.0, "chi2-cc" if correction else "chi2")
    diff = abs(b - c)
    if correction:
        diff = max(0.0, diff - 1.0)
    stat = diff * diff / n
    return McNemar(b, c, stat, chi2_sf_1df(stat), "chi2-cc" if correction else "chi2")


def sign_flip_test(diffs: np.ndarray | list[float], *, max_exact: int = 16, max_monte_carlo: int = 200,
                   resamples: int = 20000, seed: int = 0) -> float:
    """Two-sided p that the mean paired difference is zero, by flipping the signs of the differences.

    Exact (all 2^n sign patterns) up to ``max_exact`` differences; a seeded Monte Carlo estimate up to
    ``max_monte_carlo``; beyond, the normal approximation of the sign-flip distribution (mean 0, variance
    sum d^2), which is accurate there and costs nothing. Used for asymmetry, where the pairs are mirror
    groups: few, and not normal.
    """
    d = np.asarray(diffs, dtype=np.float64)
    if d.size == 0:
        return 1.0
    observed = abs(d.mean())
    if observed == 0.0:
        return 1.0
    if d.size <= max_exact:
        bits = (np.arange(2 ** d.size)[:, None] >> np.arange(d.size)) & 1  # every sign pattern once
        means = np.abs(2.0 * (bits.astype(np.float64) @ d) - d.sum()) / d.size
        # A tolerance so that ties with the observed value count as extreme despite rounding.
        return float(np.mean(means >= observed - 1e-12))
    if d.size > max_monte_carlo:
        z = abs(d.sum()) / math.sqrt(float(np.sum(d * d)))
        return math.erfc(z / math.sqrt(2.0))
    rng = np.random.default_rng(seed)
    # Random signs from packed random bytes (several times faster than rng.choice).
    bits = np.unpackbits(rng.integers(0, 256, size=(resamples, (d.size + 7) // 8), dtype=np.uint8), axis=1)
    plus = bits[:, : d.size].astype(np.float32) @ d.astype(np.float32)  # sum of the differences kept positive
    means = np.abs(2.0 * plus.astype(np.float64) - d.sum()) / d.size
    # +1 in numerator and denominator: the observed pattern is one of the permutations (never p = 0).
    return float((np.sum(means >= observed - 1e-9) + 1) / (resamples + 1))
