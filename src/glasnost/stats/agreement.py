"""Agreement between judges: Cohen's kappa for two, Fleiss' kappa for more."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np


@dataclass(frozen=True)
class Kappa:
    kappa: float | None  # None when chance agreement is total (every rating in one category)
    observed: float  # observed agreement
    expected: float  # agreement expected by chance
    n: int  # items rated


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> Kappa:
    """Cohen's kappa of two raters over the same items (unweighted)."""
    if len(a) != len(b):
        raise ValueError("both raters must rate the same items")
    n = len(a)
    if n == 0:
        return Kappa(None, 0.0, 0.0, 0)
    observed = sum(1 for x, y in zip(a, b) if x == y) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    kappa = None if expected >= 1.0 else (observed - expected) / (1.0 - expected)
    return Kappa(kappa, observed, expected, n)


def fleiss_kappa(counts: np.ndarray | Sequence[Sequence[int]]) -> Kappa:
    """Fleiss' kappa from an items x categories matrix of how many raters chose each category.

    Every item must have the same number of raters (at least two).
    """
    m = np.asarray(counts, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] == 0:
        return Kappa(None, 0.0, 0.0, 0)
    raters = m.sum(axis=1)
    if not np.allclose(raters, raters[0]) or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of raters for every item")
    r = raters[0]
    items = m.shape[0]
    per_item = (np.sum(m * m, axis=1) - r) / (r * (r - 1))
    observed = float(per_item.mean())
    shares = m.sum(axis=0) / (items * r)
    expected = float(np.sum(shares * shares))
    kappa = None if expected >= 1.0 else (observed - expected) / (1.0 - expected)
    return Kappa(kappa, observed, expected, int(items))


def fleiss_kappa_from_labels(rows: Sequence[Sequence[Hashable]]) -> Kappa:
    """Fleiss' kappa where each row holds the labels the raters gave one item."""
    categories = sorted({label for row in rows for label in row}, key=str)
    index = {c: i for i, c in enumerate(categories)}
    m = np.zeros((len(rows), max(1, len(categories))))
    for i, row in enumerate(rows):
        for label in row:
            m[i, index[label]] += 1
    return fleiss_kappa(m)
