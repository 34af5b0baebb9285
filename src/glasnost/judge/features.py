"""Hashed character n-gram features for the learned layer, computed with numpy (no Python loop per n-gram).

The same function serves training and inference, so the shipped weights and the runtime agree by
construction. Text is folded (judge/text.py), digits become ``0`` and runs of white space one space, so that
numbers, dates and layout do not identify a prompt set. Three namespaces let the model weigh where a phrase
sits: the opening (where refusals live), the body, and the closing (where offers to help with something else
live). Each namespace's n-grams are counted once (binary) and scaled to unit length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glasnost.judge.text import fold

_MIX1 = np.uint32(0x85EBCA6B)
_MIX2 = np.uint32(0xC2B2AE35)
_PRIME = np.uint32(0x01000193)
_SPACE1 = np.array([0x20], dtype=np.uint32)


@dataclass(frozen=True)
class FeatureConfig:
    bits: int = 18
    ngrams: tuple[int, ...] = (1, 2, 3, 4)
    head: int = 300  # characters of the opening namespace
    body: int = 1000  # characters of the body namespace
    tail: int = 300  # characters of the closing namespace
    version: str = "4"

    def to_dict(self) -> dict:
        return {"bits": self.bits, "ngrams": list(self.ngrams), "head": self.head, "body": self.body,
                "tail": self.tail, "version": self.version}

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureConfig":
        return cls(bits=int(d["bits"]), ngrams=tuple(int(n) for n in d["ngrams"]), head=int(d["head"]),
                   body=int(d["body"]), tail=int(d["tail"]), version=str(d.get("version", "1")))


def prepare(text: str) -> str:
    """The text the learned layer sees: folded (digits and white space are handled in ``featurize``)."""
    return fold(text).text


def _mix(h: np.ndarray) -> np.ndarray:
    """murmur3's 32-bit finaliser: spreads the rolling hash over all bits before masking."""
    h = h ^ (h >> np.uint32(16))
    h = h * _MIX1
    h = h ^ (h >> np.uint32(13))
    h = h * _MIX2
    return h ^ (h >> np.uint32(16))


_SALTS = {(seg, n): np.uint32(((seg * 16 + n) * 0x9E3779B1) & 0xFFFFFFFF) for seg in range(3) for n in range(1, 9)}


def _salt(segment: int, n: int) -> np.uint32:
    return _SALTS[(segment, n)]


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _normalise(cps: np.ndarray) -> np.ndarray:
    """Digits -> 0 (numbers and dates should not identify a prompt set); white space runs -> one space."""
    cps = cps.copy()
    cps[(cps >= 0x31) & (cps <= 0x39)] = 0x30
    space = (cps == 0x20) | ((cps >= 0x09) & (cps <= 0x0D))
    cps[space] = 0x20
    keep = ~(space & np.concatenate(([True], space[:-1])))  # drop a space after a space (and a leading one)
    cps = cps[keep]
    if cps.size and cps[-1] == 0x20:
        cps = cps[:-1]
    return cps


def _unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash path is ~5x slower on these small arrays)."""
    a = np.sort(a)
    if a.size < 2:
        return a
    keep = np.empty(a.size, dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _rolling(window: np.ndarray, segments: list[tuple[int, int, int]], ngrams: tuple[int, ...],
             out: dict[int, list[np.ndarray]]) -> None:
    """Append the salted hashes of every n-gram of each [a, b) segment of ``window``."""
    length = window.size
    h = np.zeros(length, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for g in range(1, max(ngrams) + 1):
            if g > length:
                break
            h = h[: length - g + 1] * _PRIME + window[g - 1 :]
            if g not in ngrams:
                continue
            for seg, a, b in segments:
                if b - a >= g:
                    out[seg].append(h[a : b - g + 1] ^ _salt(seg, g))


def featurize(prepared: str, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """(indices, values) of one folded text. Each namespace's n-grams count once (binary) and the namespace
    is scaled to unit length; an index may repeat across namespaces (hash collision), callers sum.

    Namespaces: 0 = a space + the first ``head`` characters, 1 = the first ``body`` characters, 2 = the last
    ``tail`` characters + a space (1 and 2 only for texts longer than ``head``). Only the first 2*body and
    the last 2*tail raw characters are read, so the cost does not grow with the answer."""
    mask = np.uint32((1 << cfg.bits) - 1)
    raw = _codepoints(prepared)
    front = _normalise(raw[: 2 * cfg.body])
    hashed: dict[int, list[np.ndarray]] = {0: [], 1: [], 2: []}
    win1 = np.concatenate((_SPACE1, front[: cfg.body]))
    segs1 = [(0, 0, min(cfg.head + 1, win1.size))]
    long = front.size > cfg.head
    if long:
        segs1.append((1, 1, win1.size))
    _rolling(win1, segs1, cfg.ngrams, hashed)
    if long:
        back = _normalise(raw[-2 * cfg.tail :]) if raw.size > 2 * cfg.body else front
        win2 = np.concatenate((back[-cfg.tail :], _SPACE1))
        _rolling(win2, [(2, 0, win2.size)], cfg.ngrams, hashed)
    idx_parts: list[np.ndarray] = []
    val_parts: list[np.ndarray] = []
    for parts in hashed.values():
        if not parts:
            continue
        # binary features: an n-gram counts once per namespace however often it recurs
        uniq = _unique(_mix(np.concatenate(parts)) & mask)
        idx_parts.append(uniq.astype(np.intp))
        val_parts.append(np.full(uniq.size, 1.0 / np.sqrt(uniq.size), dtype=np.float32))
    idx = np.concatenate(idx_parts)
    val = np.concatenate(val_parts)
    # A coarse length signal: refusals are short, essays long. Hashed like a token so it needs no dense column.
    bucket = int(np.log2((front.size if raw.size <= 2 * cfg.body else raw.size) + 1))
    length_idx = int(_mix(np.array([0xA11CE + bucket], dtype=np.uint32))[0] & mask)
    return np.append(idx, length_idx), np.append(val, np.float32(1.0))


def ngram_names(prepared: str, cfg: FeatureConfig) -> list[tuple[int, str]]:
    """(index, n-gram) pairs of one text, for naming the largest weights in the data card (slow, dev only)."""
    mask = (1 << cfg.bits) - 1
    front = _normalise(_codepoints(prepared)[: 2 * cfg.body])
    text = " " + front.tobytes().decode("utf-32-le")
    out = []
    for seg, a, b in ((0, 0, min(cfg.head + 1, len(text))), (1, 1, len(text))):
        for g in cfg.ngrams:
            if b - a < g:
                continue
            h = np.zeros(len(text), dtype=np.uint32)
            win = _codepoints(text)
            with np.errstate(over="ignore"):
                for k in range(1, g + 1):
                    h = h[: win.size - k + 1] * _PRIME + win[k - 1 :]
            hs = (_mix(h[a : b - g + 1] ^ _salt(seg, g)) & np.uint32(mask)).tolist()
            for i, hv in enumerate(hs):
                out.append((int(hv), ("^" if seg == 0 else "") + text[a + i : a + i + g]))
    return out
