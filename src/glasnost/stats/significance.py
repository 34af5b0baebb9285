"""Hypothesis tests used by the comparisons: McNemar (exact or chi-square) and a sign-flip permutation test.

Pure Python and numpy: the runtime never imports scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

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


MONTE_CARLO_RESAMPLES = 20000
_LATTICE_MAX_TOTAL = 200_000  # lattice points up to which the sign-flip distribution is computed exactly


def _lattice(d: np.ndarray) -> tuple[np.ndarray, float] | None:
    """|d| as integer multiples of a common unit (a_i = |d_i| / unit), when there is a small one.

    Differences of rates are ratios of counts, so they usually lie on a lattice; on it the sign-flip
    distribution is a subset-sum distribution that can be computed exactly."""
    mags = np.abs(d)
    denominators = 1
    for x in np.unique(mags).tolist():
        frac = Fraction(x).limit_denominator(1000)
        if abs(float(frac) - x) > 1e-12:
            return None
        denominators = math.lcm(denominators, frac.denominator)
        if denominators > _LATTICE_MAX_TOTAL:
            return None
    a = np.rint(mags * denominators).astype(np.int64)
    if int(a.sum()) > _LATTICE_MAX_TOTAL:
        return None
    return a, 1.0 / denominators


def _subset_sum_upper_tail(a: np.ndarray, observed: int) -> float:
    """P(sum of s_i a_i >= observed) over independent fair signs s_i, exactly (in float64 probabilities)."""
    total = int(a.sum())
    # plus = sum of the a_i given a + sign; S = 2 plus - total. Distribution of plus by convolution.
    dist = np.zeros(total + 1, dtype=np.float64)
    dist[0] = 1.0
    reach = 0
    for ai in a.tolist():
        if ai == 0:
            continue
        nxt = dist[: reach + ai + 1].copy() * 0.5
        nxt[ai: ai + reach + 1] += 0.5 * dist[: reach + 1]
        reach += ai
        dist[: reach + 1] = nxt
    need = (observed + total + 1) // 2  # smallest plus with 2 plus - total >= observed
    return float(min(1.0, dist[need: reach + 1].sum()))


def sign_flip_test(diffs: np.ndarray | list[float], *, max_exact: int = 16,
                   resamples: int = MONTE_CARLO_RESAMPLES, seed: int = 0) -> float:
    """Two-sided p that the mean paired difference is zero, by flipping the signs of the differences.

    The sign-flip distribution is symmetric, so this is also twice the smaller one-sided p: the test that
    ``sign_flip_interval`` inverts. Ties with the observed value count as extreme. Exact (all 2^n sign
    patterns) up to ``max_exact`` differences; exact by convolution when the differences lie on a small
    lattice (differences of rates usually do); else a seeded Monte Carlo estimate in float64 whose p counts
    the observed pattern (never 0). Used for asymmetry, where the units are topic families: few, not normal.
    """
    d = np.asarray(diffs, dtype=np.float64)
    if d.size == 0:
        return 1.0
    total = abs(float(d.sum()))
    if total == 0.0:
        return 1.0
    tol = 1e-9 * float(np.abs(d).sum())  # rounding only: distinct sums of rates differ by far more
    if d.size <= max_exact:
        sums = np.abs(2.0 * (_all_patterns(d.size) @ d) - d.sum())
        return float(np.mean(sums >= total - tol))
    lattice = _lattice(d)
    if lattice is not None:
        a, unit = lattice
        observed = int(round(total / unit))
        return min(1.0, 2.0 * _subset_sum_upper_tail(a, observed))
    return min(1.0, (float(np.sum(_monte_carlo_sums(d, resamples, seed) >= total - tol)) + 1) / (resamples + 1))


@lru_cache(maxsize=17)
def _all_patterns(n: int) -> np.ndarray:
    """Every 0/1 pattern of n units once (2^n x n, float64; row 0 is the empty one). Cached: read-only."""
    bits = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(np.float64)
    bits.setflags(write=False)
    return bits


@lru_cache(maxsize=17)
def _pattern_sizes(n: int) -> np.ndarray:
    sizes = _all_patterns(n).sum(axis=1)
    sizes.setflags(write=False)
    return sizes


def _random_patterns(n: int, resamples: int, seed: int) -> np.ndarray:
    """resamples x n random 0/1 patterns (float64), seeded; from packed random bytes (fast)."""
    rng = np.random.default_rng(seed)
    bits = np.unpackbits(rng.integers(0, 256, size=(resamples, (n + 7) // 8), dtype=np.uint8), axis=1)
    return bits[:, :n].astype(np.float64)


def _monte_carlo_sums(d: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """|sum of s_i d_i| for ``resamples`` seeded random sign patterns, in float64, in chunks."""
    out = np.empty(resamples, dtype=np.float64)
    rng_seeds = np.random.SeedSequence(seed).spawn((resamples + 4095) // 4096)
    for i, child in enumerate(rng_seeds):
        lo, hi = i * 4096, min(resamples, (i + 1) * 4096)
        plus = _random_patterns(d.size, hi - lo, int(child.generate_state(1)[0])) @ d
        out[lo:hi] = np.abs(2.0 * plus - d.sum())
    return out


def sign_flip_min_p(diffs: np.ndarray | list[float]) -> float:
    """The smallest two-sided p the sign-flip test could give with these |differences| (every sign alike).

    Differences that are exactly zero never change sign, so each halves what the data can show. A
    comparison whose minimum exceeds alpha can never be significant: too few units to tell (Tarone)."""
    d = np.asarray(diffs, dtype=np.float64)
    nonzero = int(np.count_nonzero(d))
    return 1.0 if nonzero == 0 else min(1.0, 2.0 ** (1 - nonzero))


def sign_flip_interval(diffs: np.ndarray | list[float], *, alpha: float = 0.05, max_exact: int = 16,
                       resamples: int = MONTE_CARLO_RESAMPLES, seed: int = 0) -> tuple[float, float] | None:
    """The interval for the centre of the differences that inverts the sign-flip test (equal tails).

    By Hartigan (1969) the means of the 2^n - 1 non-empty subsets of n differences symmetric about theta
    split the line into 2^n pieces equally likely to hold theta: the k-th smallest and k-th largest subset
    means, k = floor(alpha/2 * 2^n), bound an interval of coverage >= 1 - alpha, and theta is inside it
    exactly when the sign-flip test of d - theta does not reject. Beyond ``max_exact`` the subsets are a
    seeded random sample (the Monte Carlo test inverted). None when n is too small for any finite bound
    (k = 0: fewer than 6 units at alpha = 0.05)."""
    d = np.asarray(diffs, dtype=np.float64)
    n = d.size
    if n == 0:
        return None
    if n <= max_exact:
        bits = _all_patterns(n)[1:]  # every non-empty subset
        sizes = _pattern_sizes(n)[1:]
        count = 2 ** n
    else:
        bits = _random_patterns(n, resamples, seed)
        bits = bits[bits.sum(axis=1) > 0]
        sizes = bits.sum(axis=1)
        count = resamples + 1
    means = np.sort((bits @ d) / sizes)
    k = int(math.floor(alpha / 2 * count + 1e-9))
    if k < 1 or k > means.size:
        return None
    return float(means[k - 1]), float(means[means.size - k])
