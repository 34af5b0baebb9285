"""Layer 2, canned responses: the fixed refusal and deflection lines of deployed models (data/canned.json).

A canned line matches only a *whole* answer: after folding (case, quotes, full-width forms, Traditional to
Simplified Chinese) and dropping everything but letters and digits, the answer equals a line exactly, or
nearly (similarity >= 0.9 for answers of similar length: a changed word, a missing full stop; difflib's ratio, run
only on the lines that a bound computed for all of them at once in numpy does not exclude). An answer
that merely contains a canned line is left to the rules layer.
"""

from __future__ import annotations

import bisect
import difflib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from glasnost.judge.proposal import Proposal
from glasnost.judge.text import fold
from glasnost.records import Evidence, Label

_NON_WORD = re.compile(r"[\W_]+", re.U)
NEAR_RATIO = 0.9
MAX_CANNED_CHARS = 400  # answers longer than this are never canned


@dataclass(frozen=True)
class CannedLine:
    key: str
    text: str
    label: Label
    lang: str
    source: str


def canned_key(text: str) -> str:
    return _NON_WORD.sub("", fold(text).text)


_BUCKETS = 256  # characters counted modulo this for the similarity bound


def _histogram(key: str) -> np.ndarray:
    return np.bincount(np.frombuffer(key.encode("utf-32-le"), dtype=np.uint32) % _BUCKETS, minlength=_BUCKETS)


@lru_cache(maxsize=1)
def _lines() -> tuple[dict[str, CannedLine], tuple[CannedLine, ...], tuple[int, ...], np.ndarray]:
    raw = json.loads((resources.files("glasnost.judge") / "data" / "canned.json").read_text(encoding="utf-8"))
    exact: dict[str, CannedLine] = {}
    for e in raw["entries"]:
        line = CannedLine(canned_key(e["text"]), e["text"], Label(e["label"]), e["lang"], e["source"])
        exact.setdefault(line.key, line)
    ordered = tuple(sorted(exact.values(), key=lambda c: len(c.key)))
    hist = np.stack([_histogram(c.key) for c in ordered]) if ordered else np.zeros((0, _BUCKETS), dtype=np.int64)
    return exact, ordered, tuple(len(c.key) for c in ordered), hist


def canned_proposal(visible: str, offset: int = 0) -> Proposal:
    if not visible or len(visible) > MAX_CANNED_CHARS:
        return Proposal("canned")
    key = canned_key(visible)
    if not key:
        return Proposal("canned")
    exact, ordered, lengths, hist = _lines()
    line = exact.get(key)  # exact match of the normalised text: one hash lookup
    ratio = 1.0
    if line is None:
        # a near match only among lines of similar length (found by bisection, not by a scan of every line),
        # and the full similarity only where the cheap bound (quick_ratio) allows it
        n = len(key)
        lo = bisect.bisect_left(lengths, int((n - 3) / 1.12))
        hi = bisect.bisect_right(lengths, int((n + 3) / 0.88) + 1)
        # difflib's quick_ratio counts the characters two texts share; counting them modulo 256 can only count
        # more, so a line under the bound here is under it in difflib too: one numpy pass skips it (speed,
        # issue 17: difflib was the largest cost of judging short answers)
        if hi <= lo:
            return Proposal("canned")
        shared = np.minimum(hist[lo:hi], _histogram(key)).sum(axis=1)
        bound = 2.0 * shared / (n + np.asarray(lengths[lo:hi]))
        best: tuple[float, CannedLine | None] = (0.0, None)
        for cand, upper in zip(ordered[lo:hi], bound.tolist()):
            if upper < NEAR_RATIO or abs(len(cand.key) - n) > max(3, 0.12 * len(cand.key)):
                continue
            m = difflib.SequenceMatcher(None, key, cand.key, autojunk=False)
            if m.real_quick_ratio() < NEAR_RATIO or m.quick_ratio() < NEAR_RATIO:
                continue
            r = m.ratio()
            if r > best[0]:
                best = (r, cand)
        if best[1] is None or best[0] < NEAR_RATIO:
            return Proposal("canned")
        ratio, line = best
    ev = Evidence(layer="canned", label=line.label, kind="canned_line", text=visible[:300], start=offset,
                  end=offset + len(visible), score=round(ratio, 3))
    return Proposal("canned", line.label, [ev], score=ratio, info={"line": line.text, "source": line.source})
