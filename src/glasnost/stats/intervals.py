"""Confidence intervals: Wilson for one proportion, a seeded bootstrap clustered by concept (or group).

Why clustered: the responses to one concept (its languages, its samples) are not independent draws, so an
interval that treats 400 responses to 100 concepts as 400 coin flips is too narrow. Resampling whole
clusters keeps that dependence.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

Z95 = 1.959963984540054  # the standard normal 97.5% quantile
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (n > 0). 8/10 gives (0.4902, 0.9433)."""
    if n <= 0:
        raise ValueError("wilson interval needs n > 0")
    if not 0 <= k <= n:
        raise ValueError(f"wilson interval needs 0 <= k <= n (k={k}, n={n})")
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = (z / denom) * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    # The bounds at the edges are exactly 0 and 1; floating error must not print 0.99999...
    lo = 0.0 if k == 0 else max(0.0, center - half)
    hi = 1.0 if k == n else min(1.0, center + half)
    return lo, hi


EXACT_MAX_CLUSTERS = 2000  # above this many clusters the Poisson bootstrap is used (see _weighted_totals)
_BLOCK = 1024


def agresti_min(b: int, c: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Agresti–Min interval for a paired difference of proportions, (b - c) / n, from the discordant counts
    (half a pair added to each cell). Used as a floor under bootstrap intervals, which collapse to a point
    when every pair agrees."""
    if n <= 0:
        raise ValueError("agresti_min needs n > 0")
    b2, c2, n2 = b + 0.5, c + 0.5, n + 2.0
    diff = (b2 - c2) / n2
    se = math.sqrt(max(0.0, (b2 + c2) - (b2 - c2) ** 2 / n2)) / n2
    return max(-1.0, diff - z * se), min(1.0, diff + z * se)


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for k1/n1 - k2/n2 (two independent proportions, from their Wilson
    intervals). Used as a floor: it never collapses to a point, even at 0% or 100%."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    diff = p1 - p2
    lo = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, lo), min(1.0, hi)


@lru_cache(maxsize=4)
def _multinomial_weights(clusters: int, resamples: int, seed: int) -> np.ndarray:
    """How often each cluster is drawn in each resample (resamples x clusters): the classic bootstrap.

    Cached because every cell of a report with the same number of clusters can share one matrix: each
    interval is then one matrix-vector product. Sharing draws correlates the cells' bootstrap errors,
    which does not change any one interval.
    """
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, clusters, size=(resamples, clusters))
    flat = (idx + (np.arange(resamples, dtype=np.int64) * clusters)[:, None]).ravel()
    # float64: the counts are exact in any float type, but a float32 product rounds the totals (bounds were
    # 1e-7 off, a lower bound could exceed its estimate).
    weights = np.bincount(flat, minlength=resamples * clusters).reshape(resamples, clusters).astype(np.float64)
    weights.setflags(write=False)
    return weights


_POISSON_CDF = np.cumsum([math.exp(-1.0) / math.factorial(k) for k in range(12)]).astype(np.float32)


@lru_cache(maxsize=32)
def _poisson_block(block: int, resamples: int, seed: int) -> np.ndarray:
    """Independent Poisson(1) weights for clusters [block*1024, (block+1)*1024): deterministic per block, so
    a cell with K clusters always sees the same draws whatever other cells need."""
    rng = np.random.default_rng([seed, block])
    u = rng.random((resamples, _BLOCK), dtype=np.float32)
    # Inverse CDF by counting the thresholds below u (faster than rng.poisson or searchsorted here).
    weights = np.zeros((resamples, _BLOCK), dtype=np.float32)
    for threshold in _POISSON_CDF[:-1]:
        weights += u > threshold
    weights.setflags(write=False)
    return weights


def _weighted_totals(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """Resampled column totals of ``values`` (clusters x columns): one row of totals per resample.

    Up to EXACT_MAX_CLUSTERS clusters: the classic (multinomial) bootstrap. Above: the Poisson bootstrap
    (each cluster weighted by an independent Poisson(1) count), which agrees with it asymptotically and
    lets every cell share one set of cached draws, so 100k-response reports stay fast and small.
    Numerator and denominator travel as two columns so the weights are read once (memory-bound).
    """
    k = values.shape[0]
    vals = values.astype(np.float64)
    if k <= EXACT_MAX_CLUSTERS:
        return (_multinomial_weights(k, resamples, seed) @ vals).astype(np.float64)
    total = np.zeros((resamples, values.shape[1]), dtype=np.float64)
    for block in range(0, (k + _BLOCK - 1) // _BLOCK):
        chunk = vals[block * _BLOCK:(block + 1) * _BLOCK]
        # The cached weights are small integers (exact in float32); the product is taken in float64.
        total += _poisson_block(block, resamples, seed)[:, : chunk.shape[0]].astype(np.float64) @ chunk
    return total


def cluster_bootstrap_ratio(
    num: np.ndarray | list[float],
    den: np.ndarray | list[float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
) -> tuple[float, float] | None:
    """Percentile interval of sum(num)/sum(den) when whole clusters are resampled with replacement.

    ``num[i]`` and ``den[i]`` are cluster i's totals (censored and counted responses of one concept; or a
    paired difference and 1 for one mirror group). Returns None when there are no clusters with weight.
    """
    num_a = np.asarray(num, dtype=np.float64)
    den_a = np.asarray(den, dtype=np.float64)
    if num_a.shape != den_a.shape or num_a.ndim != 1:
        raise ValueError("num and den are one-dimensional arrays of the same length")
    if num_a.size == 0 or den_a.sum() <= 0:
        return None
    totals = _weighted_totals(np.stack([num_a, den_a], axis=1), resamples, seed)
    tot_num, tot_den = totals[:, 0], totals[:, 1]
    keep = tot_den > 0
    if not keep.any():
        return None
    ratios = tot_num[keep] / tot_den[keep]
    lo, hi = np.percentile(ratios, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    # The percentile bounds hold the estimate itself (rounding must not put a bound on the wrong side).
    point = float(num_a.sum() / den_a.sum())
    return min(float(lo), point), max(float(hi), point)


def bootstrap_mean(
    values: np.ndarray | list[float], *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
) -> tuple[float, float] | None:
    """Percentile interval of the mean of independent values (each value its own cluster)."""
    vals = np.asarray(values, dtype=np.float64)
    return cluster_bootstrap_ratio(vals, np.ones_like(vals), resamples=resamples, seed=seed, alpha=alpha)
