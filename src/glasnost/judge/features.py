"""Hashed character n-gram features for the learned layer, computed with numpy (no Python loop per n-gram).

The same function serves training and inference, so the shipped weights and the runtime agree by
construction. Text is folded (judge/text.py), digits become ``0`` and runs of white space one space, so that
numbers, dates and layout do not identify a prompt set. Three namespaces let the model weigh where a phrase
sits: the opening (where refusals live), the body, and the closing (where offers to help with something else
live). Each namespace's n-grams are counted once (binary) and scaled to unit length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from glasnost.judge.text import fold

_MIX1 = np.uint32(0x85EBCA6B)
_MIX2 = np.uint32(0xC2B2AE35)
_PRIME = np.uint32(0x01000193)


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


# Normalising by table: subtracting _DELTA[min(c, 63)] maps the digits 1-9 to 0 and the white space
# characters \t \n \v \f \r to a space (modulo 2**32), and leaves every other code point as it is.
_DELTA = np.zeros(64, dtype=np.uint32)
_DELTA[0x31:0x3A] = np.arange(1, 10, dtype=np.uint32)
_DELTA[0x09:0x0E] = (np.arange(0x09, 0x0E) - 0x20).astype(np.uint32)
_C63 = np.uint32(63)
_SP = np.uint32(0x20)
_S16 = np.uint32(16)
_S13 = np.uint32(13)


def _windows(prepared: str, cfg: FeatureConfig) -> tuple[np.ndarray, int, int]:
    """The normalised windows in one array, ``" " + F + " " + B + " "``, with len(F) and len(B).

    F is ``_normalise`` of the first 2*body characters; B of the last 2*tail (only for longer texts; else
    B is F and the array is ``" " + F + " "``). Both windows are normalised in one pass: a space before, between
    and after them makes "a space after a space is dropped" also drop each window's leading white space, and
    leaves exactly one space where its trailing white space was."""
    n = len(prepared)
    if n > 2 * cfg.body:
        joined = " " + prepared[: 2 * cfg.body] + " " + prepared[-2 * cfg.tail :] + " "
        split = 2 * cfg.body + 2
    else:
        joined = " " + prepared + " "
        split = n + 2
    x = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    x = x - _DELTA.take(np.minimum(x, _C63))
    not_space = x != _SP
    keep = np.empty(x.size, dtype=bool)
    keep[0] = True
    np.logical_or(not_space[1:], not_space[:-1], out=keep[1:])
    norm = x[keep]
    # kept up to the first separator: " " + F + " ", or only " " when F is empty
    n_front = max(int(np.count_nonzero(keep[:split])) - 2, 0)
    n_back = max(norm.size - 3 - n_front, 0) if n > 2 * cfg.body else n_front
    return norm, n_front, n_back


class _Plan:
    """What featurizing with one configuration needs beyond the text, computed once per configuration."""

    def __init__(self, cfg: FeatureConfig) -> None:
        if cfg.bits > 29:
            raise ValueError("the namespace is packed into a uint32 key above the bucket: bits must be <= 29")
        self.orders = tuple(sorted(set(cfg.ngrams)))
        self.top = self.orders[-1]
        self.contiguous = self.orders == tuple(range(1, self.top + 1))
        self.bits = cfg.bits
        self.mask = np.uint32((1 << cfg.bits) - 1)
        self.dropped = np.uint32((4 << cfg.bits) - 1)  # the one key every n-gram that crosses a namespace end gets
        self.starts = np.array([1 << cfg.bits, 2 << cfg.bits, 3 << cfg.bits], dtype=np.uint32)
        self.salt_cols = np.array([[_salt(seg, g) for seg in range(3)] for g in self.orders], dtype=np.uint32)
        self.high_cols = np.array([[seg << cfg.bits for seg in range(3)] for _ in self.orders], dtype=np.uint32)

    @lru_cache(maxsize=64)  # noqa: B019 - plans live as long as the process, like their configurations
    def layout(self, lengths: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Per (order, position) of the namespaces laid end to end: the salt, and the namespace in the key's
        high bits, or ``dropped`` for an n-gram that would run past the end of its namespace."""
        salt = np.repeat(self.salt_cols, lengths, axis=1)
        high = np.repeat(self.high_cols, lengths, axis=1)
        end = 0
        for size in lengths:
            end += size
            for row, g in enumerate(self.orders):
                high[row, max(end - g + 1, end - size) : end] = self.dropped
        salt.setflags(write=False)
        high.setflags(write=False)
        return salt, high


@lru_cache(maxsize=8)
def _plan(cfg: FeatureConfig) -> _Plan:
    return _Plan(cfg)


def namespace_keys(prepared: str, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray, list[int], int]:
    """Every n-gram of one folded text as a (namespace << bits | bucket) key, sorted (uint32); a mask of each
    key's first occurrence; where namespaces 0, 1 and 2 end in the keys (dropped keys follow); the length
    bucket. ``featurize`` and the learned layer both start here.

    Namespaces: 0 = a space + the first ``head`` characters, 1 = the first ``body`` characters, 2 = the last
    ``tail`` characters + a space (1 and 2 only for texts longer than ``head``). Only the first 2*body and
    the last 2*tail raw characters are read, so the cost does not grow with the answer. The namespaces are
    laid end to end (the opening twice: once salted as opening, once as body) and every order is hashed at
    once in a 2-D array; one sort of about 5,000 keys makes them distinct (the speed target is 5,000 answers
    per second, issue 12)."""
    plan = _plan(cfg)
    norm, n_front, n_back = _windows(prepared, cfg)
    if n_front > cfg.head:
        body = min(cfg.body, n_front)
        tail = n_back if cfg.tail == 0 else min(n_back, cfg.tail)  # back[-0:] is all of it
        lengths = (min(cfg.head + 1, 1 + body), body, tail + 1)
    else:
        lengths = (min(cfg.head + 1, n_front + 1), 0, 0)
    top = plan.top
    width = lengths[0] + lengths[1] + lengths[2]
    # row g-1 of `rolled` is the rolling hash of the g-gram starting at each position; `top` spare columns
    # let every row be computed in one slice (n-grams running into them are dropped by the layout)
    rolled = np.empty((top, width + top), dtype=np.uint32)
    chars = rolled[0]
    chars[: lengths[0]] = norm[: lengths[0]]
    if lengths[1]:
        chars[lengths[0] : lengths[0] + lengths[1]] = norm[1 : 1 + lengths[1]]
        chars[lengths[0] + lengths[1] : width] = norm[norm.size - lengths[2] :]
    # the `top` spare columns stay uninitialised: only n-grams that the layout drops read them
    for g in range(1, top):
        row = rolled[g, : width + top - g]
        np.multiply(rolled[g - 1, : width + top - g], _PRIME, out=row)
        np.add(row, chars[g:], out=row)
    salt, high = plan.layout(lengths)
    wanted = rolled[:, :width] if plan.contiguous else rolled[[g - 1 for g in plan.orders], :width]
    keys = np.bitwise_xor(wanted, salt)
    tmp = np.empty_like(keys)
    # _mix, in place
    np.right_shift(keys, _S16, out=tmp)
    np.bitwise_xor(keys, tmp, out=keys)
    np.multiply(keys, _MIX1, out=keys)
    np.right_shift(keys, _S13, out=tmp)
    np.bitwise_xor(keys, tmp, out=keys)
    np.multiply(keys, _MIX2, out=keys)
    np.right_shift(keys, _S16, out=tmp)
    np.bitwise_xor(keys, tmp, out=keys)
    np.bitwise_and(keys, plan.mask, out=keys)
    np.bitwise_or(keys, high, out=keys)
    keys = keys.ravel()
    keys.sort()
    first = np.empty(keys.size, dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    ends = keys.searchsorted(plan.starts).tolist()
    # A coarse length signal: refusals are short, essays long (floor(log2(length + 1)))
    length = n_front if len(prepared) <= 2 * cfg.body else len(prepared)
    return keys, first, ends, (length + 1).bit_length() - 1


def featurize_with_repeats(prepared: str, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray, int]:
    """``featurize`` before compaction: (indices, values) of every n-gram occurrence, a repeat valued 0, and
    the index of the length bucket (value 1) apart. Summing gives featurize's vector; the learned layer
    gathers its weights from this, which is cheaper than compacting."""
    keys, first, ends, bucket = namespace_keys(prepared, cfg)
    e0, e1, e2 = ends
    idx = keys[:e2] & _plan(cfg).mask
    val = first[:e2].astype(np.float32)
    for a, b in ((0, e0), (e0, e1), (e1, e2)):
        val[a:b] *= namespace_scale(int(np.count_nonzero(first[a:b])))
    return idx, val, _length_index(bucket, cfg.bits)


def featurize(prepared: str, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """(indices, values) of one folded text. Each namespace's n-grams count once (binary) and the namespace
    is scaled to unit length; an index may repeat across namespaces (hash collision), callers sum. The last
    entry is the length bucket, hashed like a token so that it needs no dense column."""
    idx, val, length = featurize_with_repeats(prepared, cfg)
    kept = np.flatnonzero(val)
    n = kept.size
    out_idx = np.empty(n + 1, dtype=np.intp)
    out_idx[:n] = idx.take(kept)
    out_idx[n] = length
    out_val = np.empty(n + 1, dtype=np.float32)
    out_val[:n] = val.take(kept)
    out_val[n] = 1.0
    return out_idx, out_val


def namespace_scale(count: int) -> np.float32:
    """The value of each of a namespace's ``count`` distinct n-grams: unit length."""
    return np.float32(1.0 / math.sqrt(max(count, 1)))


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
