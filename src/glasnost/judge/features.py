"""Hashed character n-gram features for the learned layer, computed with numpy (no Python loop per n-gram).

The same function serves training and inference, so the shipped weights and the runtime agree by
construction. Text is folded (judge/text.py), digits become ``0`` and runs of white space one space, so that
numbers, dates and layout do not identify a prompt set. Three namespaces let the model weigh where a phrase
sits: the opening (where refusals live), the body, and the closing (where offers to help with something else
live). Each namespace's n-grams are counted once (binary) and scaled to unit length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from glasnost.judge.text import fold

_DIGITS = str.maketrans("123456789", "000000000")
_SPACE = re.compile(r"\s+")
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_PRIME = np.uint64(0x100000001B3)


@dataclass(frozen=True)
class FeatureConfig:
    bits: int = 18
    ngrams: tuple[int, ...] = (1, 2, 3, 4)
    head: int = 300  # characters of the opening namespace
    body: int = 1000  # characters of the body namespace
    tail: int = 300  # characters of the closing namespace
    version: str = "1"

    def to_dict(self) -> dict:
        return {"bits": self.bits, "ngrams": list(self.ngrams), "head": self.head, "body": self.body,
                "tail": self.tail, "version": self.version}

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureConfig":
        return cls(bits=int(d["bits"]), ngrams=tuple(int(n) for n in d["ngrams"]), head=int(d["head"]),
                   body=int(d["body"]), tail=int(d["tail"]), version=str(d.get("version", "1")))


def prepare(text: str) -> str:
    """Fold, mask digits, collapse white space: the text the learned layer sees."""
    return _SPACE.sub(" ", fold(text).text.translate(_DIGITS)).strip()


def _mix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(31))
    h = h * _MIX1
    h = h ^ (h >> np.uint64(29))
    h = h * _MIX2
    return h ^ (h >> np.uint64(32))


def _ngram_hashes(cps: np.ndarray, ngrams: tuple[int, ...], salt: int) -> np.ndarray:
    out = []
    n_cp = cps.size
    h = np.zeros(n_cp, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for n in range(1, max(ngrams) + 1):
            if n > n_cp:
                break
            # rolling polynomial hash of the n characters starting at each position
            h = h[: n_cp - n + 1] * _PRIME + cps[n - 1 :]
            if n in ngrams:
                out.append(_mix(h ^ np.uint64((salt * 16 + n) * 0x9E3779B97F4A7C15 % (1 << 64))))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.uint64)


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def featurize(prepared: str, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """(indices, values) of one prepared text; indices are unique, values scale each namespace to norm 1."""
    mask = np.uint64((1 << cfg.bits) - 1)
    parts = (
        (0, " " + prepared[: cfg.head]),  # the leading space marks the start of the answer
        (1, prepared[: cfg.body]),
        (2, prepared[-cfg.tail :] + " " if len(prepared) > cfg.head else ""),
    )
    idx_list: list[np.ndarray] = []
    val_list: list[np.ndarray] = []
    for salt, segment in parts:
        if not segment:
            continue
        hashes = np.unique(_ngram_hashes(_codepoints(segment), cfg.ngrams, salt) & mask)
        if hashes.size == 0:
            continue
        idx_list.append(hashes.astype(np.int64))
        val_list.append(np.full(hashes.size, 1.0 / np.sqrt(hashes.size), dtype=np.float32))
    # A coarse length signal: refusals are short, essays long. Hashed like a token so it needs no dense column.
    bucket = int(np.log2(len(prepared) + 1))
    idx_list.append(np.array([int(_mix(np.array([0xA11CE + bucket], dtype=np.uint64))[0] & mask)], dtype=np.int64))
    val_list.append(np.ones(1, dtype=np.float32))
    idx = np.concatenate(idx_list)
    val = np.concatenate(val_list)
    # Namespaces can collide in the hash space; merge duplicates so each index appears once.
    uniq, inv = np.unique(idx, return_inverse=True)
    if uniq.size != idx.size:
        merged = np.zeros(uniq.size, dtype=np.float32)
        np.add.at(merged, inv, val)
        return uniq, merged
    return idx, val
