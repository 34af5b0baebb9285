"""Corrections for many comparisons made at once (every asymmetry, language gap and host gap of a report)."""

from __future__ import annotations

from typing import Sequence


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (step-down; controls the family-wise error rate), in input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        value = min(1.0, (m - rank) * pvalues[i])
        running = max(running, value)  # adjusted p-values never decrease along the sorted order
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg q-values (step-up; controls the false discovery rate), in input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m - 1, -1, -1):
        i = order[rank]
        value = min(1.0, pvalues[i] * m / (rank + 1))
        running = min(running, value)
        adjusted[i] = running
    return adjusted
