"""Calibrated confidence for the offline judge's verdicts (issue 12).

Each verdict has a raw score (the learned layer's probability of the predicted class, in the public mapping)
and a decision path (``detail["decided_by"]``: which layers decided). The chance that a verdict is right
depends on both: an opening decline found by the rules is right far more often than a learned-only deflection
with the same score. ``fit`` estimates, per decision path, P(correct | score bin) by histogram binning (with
add-one smoothing and a fallback to all paths pooled where a path has few rows) on **cross-validated**
predictions, never on rows the model was trained on; the table ships as ``data/calibration.json`` and is
applied by ``confidence``. A verdict whose confidence is under ``UNCERTAIN`` is marked ``uncertain``: those
are the ones ``--judge default+llm:TARGET`` sends to an LLM judge (judge/escalate.py).
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

EDGES = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)  # score bin edges (bins: below 0.4, 0.4-0.5, …, 0.95 and over)
MIN_ROWS = 30  # a path with fewer cross-validated rows uses the pooled table
UNCERTAIN = 0.8  # a verdict less likely than this to be right is uncertain
POOLED = "*"


def path_of(decided_by: str | None) -> str:
    """The decision path, order-free ("learned+rules" == "rules+learned")."""
    return "+".join(sorted(set((decided_by or "none").split("+"))))


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    path = resources.files("glasnost.judge") / "data" / "calibration.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:  # not fitted yet: every verdict keeps its raw score, none is uncertain
        return {"version": "0", "paths": {}, "uncertain": 0.0}


def confidence(decided_by: str | None, score: float | None) -> float | None:
    """P(the verdict is right) for a decision path and raw score; None when no table applies."""
    paths = table()["paths"]
    entry = paths.get(path_of(decided_by)) or paths.get(POOLED)
    if entry is None or score is None:
        return None
    return float(entry["p"][bisect.bisect_right(EDGES, score)])


def uncertain_below() -> float:
    return float(table().get("uncertain", UNCERTAIN))


def fit(rows: Iterable[tuple[str | None, float | None, bool]], version: str) -> dict[str, Any]:
    """(decided_by, raw score, correct) of cross-validated predictions → the calibration table."""
    counts: dict[str, list[list[int]]] = defaultdict(lambda: [[0, 0] for _ in range(len(EDGES) + 1)])
    for decided_by, score, correct in rows:
        b = bisect.bisect_right(EDGES, score if score is not None else 1.0)
        for key in (path_of(decided_by), POOLED):
            counts[key][b][0] += int(correct)
            counts[key][b][1] += 1
    pooled = counts[POOLED]
    paths: dict[str, Any] = {}
    for key, bins in sorted(counts.items()):
        n = sum(t for _, t in bins)
        if key != POOLED and n < MIN_ROWS:
            continue
        p = []
        for (c, t), (pc, pt) in zip(bins, pooled):
            prior = (pc + 1) / (pt + 2)  # a sparse bin leans on the pooled rate
            p.append(round((c + 2 * prior) / (t + 2), 4))
        # confidence should not fall as the score rises: pool adjacent violators (isotonic, in order)
        paths[key] = {"p": _isotonic(p, [t for _, t in bins]), "n": [t for _, t in bins]}
    return {"version": version, "edges": list(EDGES), "uncertain": UNCERTAIN, "paths": paths,
            "note": "P(correct) per decision path and score bin, fitted on grouped cross-validation "
                    "(scripts/train_judge.py --calibrate); see DATA_CARD.md"}


def _isotonic(p: list[float], w: list[int]) -> list[float]:
    blocks = [[v, max(x, 1), 1] for v, x in zip(p, w)]  # value, weight, width
    i = 0
    while i < len(blocks) - 1:
        if blocks[i][0] > blocks[i + 1][0]:
            a, b = blocks[i], blocks[i + 1]
            merged = [(a[0] * a[1] + b[0] * b[1]) / (a[1] + b[1]), a[1] + b[1], a[2] + b[2]]
            blocks[i : i + 2] = [merged]
            i = max(i - 1, 0)
        else:
            i += 1
    return [round(v, 4) for v, _, width in blocks for _ in range(width)]
