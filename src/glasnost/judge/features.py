"""Hashed character n-gram features for the learned layer, computed with numpy (no Python loop per n-gram).

The same function serves training and inference, so the shipped weights and the runtime agree by
construction. Text is folded (judge/text.py), digits become ``0`` and runs of white space one space, so that
numbers, dates and layout do not identify a prompt set. Three namespaces let the model weigh where a phrase
sits: the opening (where refusals live), the body, and the closing (where offers to help with something else
live). Each namespace's n-grams are counted once (binary) and scaled to unit length.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

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
    body: int = 700  # characters of the body namespace
    tail: int = 200  # characters of the closing namespace
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


class _Scratch:
    """A reusable buffer for de-duplicating keys without sorting (3x faster than np.unique here).

    Writing each key's position and reading it back keeps exactly one occurrence of every key; stale
    entries are never read, so the buffer needs no clearing. Not thread-safe: one per thread."""

    def __init__(self) -> None:
        self.size = 0
        self.buf = np.zeros(0, dtype=np.int32)
        self.positions = np.arange(1 << 14, dtype=np.int32)

    def distinct(self, keys: np.ndarray, space: int) -> np.ndarray:
        if self.size < space:
            self.buf = np.zeros(space, dtype=np.int32)
            self.size = space
        n = keys.size
        if n > self.positions.size:
            self.positions = np.arange(n, dtype=np.int32)
        pos = self.positions[:n]
        self.buf[keys] = pos
        return keys[self.buf[keys] == pos]


_SCRATCH = threading.local()


def _distinct(keys: np.ndarray, space: int) -> np.ndarray:
    scratch = getattr(_SCRATCH, "s", None)
    if scratch is None:
        scratch = _SCRATCH.s = _Scratch()
    return scratch.distinct(keys, space)


def featurize(prepared: str, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """(indices, values) of one folded text. Each namespace's n-grams count once (binary) and the namespace
    is scaled to unit length; an index may repeat across namespaces (hash collision), callers sum.

    Namespaces: 0 = a space + the first ``head`` characters, 1 = the first ``body`` characters, 2 = the last
    ``tail`` characters + a space (1 and 2 only for texts longer than ``head``). Only the first 2*body and
    the last 2*tail raw characters are read, so the cost does not grow with the answer. All namespaces are
    hashed in one pass over one array and de-duplicated without sorting (the speed target is 2,000/s)."""
    mask = np.uint32((1 << cfg.bits) - 1)
    n_chars = len(prepared)  # a str's length is its number of code points
    front = _normalise(_codepoints(prepared[: 2 * cfg.body]))  # only what is read is converted
    fb = front[: cfg.body]
    long = front.size > cfg.head
    if long:
        back = _normalise(_codepoints(prepared[-2 * cfg.tail :])) if n_chars > 2 * cfg.body else front
        tail = back[-cfg.tail :]
        arr = np.concatenate((_SPACE1, fb, tail, _SPACE1))
        segments = [(0, 0, min(cfg.head + 1, 1 + fb.size)), (1, 1, 1 + fb.size), (2, 1 + fb.size, arr.size)]
    else:
        arr = np.concatenate((_SPACE1, fb))
        segments = [(0, 0, min(cfg.head + 1, arr.size))]
    # n-grams never cross a namespace boundary: each slice ends g-1 characters before its segment ends
    parts: list[np.ndarray] = []
    part_ns: list[int] = []
    length = arr.size
    h = np.zeros(length, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for g in range(1, max(cfg.ngrams) + 1):
            if g > length:
                break
            h = h[: length - g + 1] * _PRIME + arr[g - 1 :]
            if g not in cfg.ngrams:
                continue
            for seg, a, b in segments:
                if b - a >= g:
                    parts.append(h[a : b - g + 1] ^ _salt(seg, g))
                    part_ns.append(seg)
    sizes = [p.size for p in parts]
    ns = np.repeat(np.array(part_ns, dtype=np.uint32), sizes)
    # (namespace, bucket) keys: one sort makes the n-grams distinct within each namespace
    keys = ((_mix(np.concatenate(parts)) & mask) | (ns << np.uint32(cfg.bits))).astype(np.intp)
    keys = _distinct(keys, 3 << cfg.bits)
    idx = keys & int(mask)
    key_ns = keys >> cfg.bits
    scale = (1.0 / np.sqrt(np.maximum(np.bincount(key_ns, minlength=3), 1))).astype(np.float32)
    val = scale[key_ns]
    # A coarse length signal: refusals are short, essays long. Hashed like a token so it needs no dense column.
    bucket = int(np.log2((front.size if n_chars <= 2 * cfg.body else n_chars) + 1))
    return np.append(idx, _length_index(bucket, cfg.bits)), np.append(val, np.float32(1.0))


@lru_cache(maxsize=256)
def _length_index(bucket: int, bits: int) -> int:
    return int(_mix(np.array([0xA11CE + bucket], dtype=np.uint32))[0] & np.uint32((1 << bits) - 1))


def ngram_names(prepared: str, cfg: FeatureConfig) -> list[tuple[int, str]]:
    """(index, n-gram) pairs of one text, for naming the largest weights in the data card (slow, dev only).
    Names carry their namespace: ``^`` opening, none for the body, ``$`` closing."""
    mask = np.uint32((1 << cfg.bits) - 1)
    raw = _codepoints(prepared)
    front = _normalise(raw[: 2 * cfg.body])
    windows = [(0, " " + front[: cfg.head].tobytes().decode("utf-32-le"), "^")]
    if front.size > cfg.head:
        back = _normalise(raw[-2 * cfg.tail :]) if raw.size > 2 * cfg.body else front
        windows.append((1, front[: cfg.body].tobytes().decode("utf-32-le"), ""))
        windows.append((2, back[-cfg.tail :].tobytes().decode("utf-32-le") + " ", "$"))
    out = []
    for seg, text, mark in windows:
        win = _codepoints(text)
        h = np.zeros(win.size, dtype=np.uint32)
        with np.errstate(over="ignore"):
            for g in range(1, max(cfg.ngrams) + 1):
                if g > win.size:
                    break
                h = h[: win.size - g + 1] * _PRIME + win[g - 1 :]
                if g in cfg.ngrams:
                    for i, hv in enumerate((_mix(h ^ _salt(seg, g)) & mask).tolist()):
                        out.append((int(hv), mark + text[i : i + g]))
    return out
