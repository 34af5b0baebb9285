"""Layer 5, the learned model: a multinomial logistic regression over hashed character n-grams.

The weights ship as ``data/learned.npz`` (arrays only, loaded with allow_pickle=False) beside
``data/learned.json`` (classes, feature configuration, training metrics, hashes). ``scripts/train_judge.py``
rebuilds both from the corpora with a fixed seed. Inference is numpy only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from glasnost.errors import ConfigError
from glasnost.judge.features import FeatureConfig, featurize_with_repeats, prepare

CLASSES = ("complied", "evasive", "refused")  # corpus vocabulary: answered / deflected / refused


@dataclass(frozen=True)
class LearnedModel:
    """The weights are kept as ``rows[slots[i]]`` = weight row ``i`` of the (2**bits, n_classes) float32 matrix,
    padded to four columns (numpy gathers 16-byte rows about twice as fast as 12-byte ones, and the gather is a
    third of the learned layer's time; the extra columns are zero). Only rows that are not all zero are kept,
    behind row 0 (zeros): the shipped model has 30,000 of 262,144, so every process that judges holds 1 MiB
    where the dense and padded tables took 7 MiB (issue 17). The gathered values are the same float32 numbers,
    so every score is the same."""

    slots: np.ndarray  # (2**bits,) index into rows; 0 for an all-zero weight row
    rows: np.ndarray  # (n_used + 1, max(4, n_classes)) float32, row 0 zeros
    bias: np.ndarray  # (n_classes,)
    cfg: FeatureConfig
    classes: tuple[str, ...]
    meta: dict[str, Any]

    @classmethod
    def from_dense(cls, weights: np.ndarray, bias: np.ndarray, cfg: FeatureConfig, classes: tuple[str, ...],
                   meta: dict[str, Any]) -> "LearnedModel":
        n, k = weights.shape
        used = np.flatnonzero(np.ascontiguousarray(weights, dtype=np.float32).view(np.uint32).any(axis=1))  # -0.0 too
        rows = np.zeros((len(used) + 1, max(4, k)), dtype=np.float32)
        rows[1:, :k] = weights[used]
        slots = np.zeros(n, dtype=np.uint16 if len(used) < (1 << 16) else np.int64)
        slots[used] = np.arange(1, len(used) + 1)
        return cls(slots, rows, bias, cfg, classes, meta)

    @classmethod
    def from_rows(cls, rows: np.ndarray, values: np.ndarray, n: int, bias: np.ndarray, cfg: FeatureConfig,
                  classes: tuple[str, ...], meta: dict[str, Any]) -> "LearnedModel":
        """From distinct row indices and their float32 weights (the artifact's form): the same model as the
        dense matrix with those rows set and the rest zero (a stored all-zero row reads as zeros either way)."""
        k = values.shape[1]
        table = np.zeros((len(rows) + 1, max(4, k)), dtype=np.float32)
        table[1:, :k] = values
        slots = np.zeros(n, dtype=np.uint16 if len(rows) < (1 << 16) else np.int64)
        slots[rows] = np.arange(1, len(rows) + 1)
        return cls(slots, table, bias, cfg, classes, meta)

    @property
    def weights(self) -> np.ndarray:
        """The dense (2**bits, n_classes) float32 weight matrix (built on demand; inference never needs it)."""
        return self.rows[self.slots, :len(self.classes)]

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "0"))

    @cached_property
    def _length_terms(self) -> dict[int, list[float]]:
        """Per length-bucket index: its weights plus the bias, as Python floats (filled as buckets are met)."""
        return {}

    def _scores(self, prepared: str) -> list[float]:
        idx, val, length = featurize_with_repeats(prepared, self.cfg)
        z = (val @ np.take(self.rows, np.take(self.slots, idx), axis=0)).tolist()
        terms = self._length_terms.get(length)
        if terms is None:
            k = len(self.classes)
            row = self.rows[self.slots[length], :k]
            terms = self._length_terms[length] = (row.astype(np.float64) + self.bias).tolist()
        return [a + b for a, b in zip(z, terms)]

    def logits(self, text: str, folded: str | None = None) -> np.ndarray:
        """Class scores of a visible answer; pass ``folded`` (judge/text.fold) when already computed."""
        return np.array(self._scores(prepare(text) if folded is None else folded), dtype=np.float32)

    def proba(self, text: str, folded: str | None = None) -> np.ndarray:
        """Softmax of ``logits`` (float32), in plain Python: for three numbers it is 3x faster than numpy."""
        z = self._scores(prepare(text) if folded is None else folded)
        top = max(z)
        e = [math.exp(v - top) for v in z]
        total = sum(e)
        return np.array([v / total for v in e], dtype=np.float32)


def artifact_paths(folder: Path | None = None) -> tuple[Path, Path]:
    base = folder or Path(str(resources.files("glasnost.judge") / "data"))
    return base / "learned.npz", base / "learned.json"


def load_model(folder: Path | None = None) -> LearnedModel:
    npz_path, json_path = artifact_paths(folder)
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
        cfg = FeatureConfig.from_dict(meta["features"])
        with np.load(npz_path, allow_pickle=False) as data:
            rows = data["rows"].astype(np.int64)
            values = data["weights"].astype(np.float32)
            bias = data["bias"].astype(np.float32)
        shape = (1 << cfg.bits, len(meta["classes"]))
        ordered = np.sort(rows)  # (np.unique would import numpy.ma: 10 ms of a one-answer run)
        if values.shape == (len(rows), shape[1]) and len(rows) and ordered[0] >= 0 and ordered[-1] < shape[0] \
                and bool((ordered[1:] != ordered[:-1]).all()):
            # each stored row once: the compact table is built directly (no dense matrix in between)
            return LearnedModel.from_rows(rows, values, shape[0], bias, cfg, tuple(meta["classes"]), meta)
        weights = np.zeros(shape, dtype=np.float32)
        weights[rows] = values
    except FileNotFoundError:
        raise ConfigError(f"learned judge model missing ({npz_path}); run scripts/train_judge.py") from None
    except (ValueError, KeyError, OSError, IndexError) as exc:
        raise ConfigError(f"learned judge model {npz_path} is unreadable: {exc}") from None
    if weights.shape != (1 << cfg.bits, len(meta["classes"])):
        raise ConfigError(f"learned judge model {npz_path}: weights shape {weights.shape} does not match its card")
    return LearnedModel.from_dense(weights, bias, cfg, tuple(meta["classes"]), meta)


@lru_cache(maxsize=1)
def default_model() -> LearnedModel:
    """The shipped model, loaded once per process (read-only data, not configuration)."""
    return load_model()
