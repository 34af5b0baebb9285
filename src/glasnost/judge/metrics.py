"""Agreement measures for judge evaluation and panels: confusion, per-class precision/recall/F1, macro-F1,
accuracy and Cohen's kappa. Plain Python over label lists (no scikit-learn at runtime)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence


def confusion(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str]) -> dict[str, dict[str, int]]:
    """rows: gold class; columns: predicted class (anything outside ``classes`` is column ``other``)."""
    cols = list(classes) + ["other"]
    table = {g: {c: 0 for c in cols} for g in classes}
    for g, p in zip(gold, pred):
        if g in table:
            table[g][p if p in classes else "other"] += 1
    return table


def per_class(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for c in classes:
        tp = sum(1 for g, p in zip(gold, pred) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred) if g == c and p != c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[c] = {"precision": prec, "recall": rec, "f1": f1, "support": tp + fn}
    return out


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa between two label lists; None when undefined (no rows, or chance agreement is 1)."""
    n = len(a)
    if n == 0 or n != len(b):
        return None
    observed = sum(1 for x, y in zip(a, b) if x == y) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb.get(k, 0) for k in ca) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def report(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over ``classes``, per-class figures, confusion and kappa, on rows whose gold label
    is one of ``classes``."""
    rows = [(g, p) for g, p in zip(gold, pred) if g in classes]
    g2 = [g for g, _ in rows]
    p2 = [p for _, p in rows]
    pc = per_class(g2, p2, classes)
    n = len(rows)
    return {
        "n": n,
        "accuracy": (sum(1 for g, p in rows if g == p) / n) if n else None,
        "macro_f1": (sum(v["f1"] for v in pc.values()) / len(classes)) if n else None,
        "per_class": pc,
        "confusion": confusion(g2, p2, classes),
        "kappa": cohen_kappa(g2, p2),
    }
