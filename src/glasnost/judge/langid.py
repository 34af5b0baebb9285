"""A small script-based language detector, for the ``language_switched`` attribute.

It answers which language an answer is written in, or None when it cannot tell (too little text, mostly
code or numbers, a Latin-script text without enough function words). It only has to tell the bank's
languages apart, so it works on scripts first (Han, kana, Hangul, Cyrillic, Arabic, Hebrew, Devanagari,
Myanmar, Latin), then on a few letters (Persian vs Arabic, Simplified vs Traditional Chinese) and, for
Latin script, on function words (data/langid.json).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from importlib import resources

import numpy as np

from glasnost.judge.text import _zh_fold

# (first code point, last code point, script)
_RANGES: list[tuple[int, int, str]] = [
    (0x0041, 0x005A, "latin"), (0x0061, 0x007A, "latin"), (0x00C0, 0x024F, "latin"), (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"), (0x0400, 0x052F, "cyrillic"), (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"), (0x08A0, 0x08FF, "arabic"),
    (0x0900, 0x097F, "devanagari"), (0x0E00, 0x0E7F, "thai"), (0x1000, 0x109F, "myanmar"),
    (0x1100, 0x11FF, "hangul"), (0x3040, 0x30FF, "kana"), (0x3130, 0x318F, "hangul"),
    (0x3400, 0x4DBF, "han"), (0x4E00, 0x9FFF, "han"), (0xAC00, 0xD7AF, "hangul"), (0xF900, 0xFAFF, "han"),
    (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFF, "arabic"), (0x20000, 0x2FFFF, "han"),
]
_SCRIPTS = sorted({r[2] for r in _RANGES})
_SCRIPT_LANG = {"cyrillic": "ru", "hebrew": "he", "devanagari": "hi", "myanmar": "my", "greek": "el", "thai": "th"}
_PERSIAN = set("پچژگکی")  # letters Persian uses and Arabic does not
_ARABIC_ONLY = set("ةيىك")
_SERBIAN_CYR = set("ђјљњћџ")
_WORD = re.compile(r"[^\W\d_]+", re.U)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
MIN_LETTERS = 12  # below this many letters an answer's language is not decided
SAMPLE = 2000  # characters looked at (scripts)
LATIN_SAMPLE = 400  # characters looked at for Latin-script function words


# Marks of single characters that tell close languages apart (counted with one numpy gather).
_MARK_NONE, _MARK_TRAD, _MARK_SIMP, _MARK_PERSIAN, _MARK_ARABIC, _MARK_SERBIAN = range(6)


@lru_cache(maxsize=1)
def _luts() -> tuple[np.ndarray, np.ndarray]:
    """(script id per BMP code point, 255 = none; mark per BMP code point)."""
    script = np.full(0x10000, 255, dtype=np.uint8)
    for lo, hi, name in _RANGES:
        if lo < 0x10000:
            script[lo : min(hi, 0xFFFF) + 1] = _SCRIPTS.index(name)
    mark = np.zeros(0x10000, dtype=np.uint8)
    trad, simp = _zh_sets()
    for chars, code in ((trad, _MARK_TRAD), (simp, _MARK_SIMP), (_PERSIAN, _MARK_PERSIAN),
                        (_ARABIC_ONLY, _MARK_ARABIC), (_SERBIAN_CYR | {c.upper() for c in _SERBIAN_CYR}, _MARK_SERBIAN)):
        for ch in chars:
            mark[ord(ch)] = code
    return script, mark


def _cps(text: str) -> np.ndarray:
    cps = np.frombuffer(text[:SAMPLE].encode("utf-32-le"), dtype=np.uint32)
    return cps[cps < 0x10000]  # astral characters (emoji, rare CJK) carry no script vote here


@lru_cache(maxsize=1)
def _latin() -> tuple[dict[str, list[str]], dict[str, str]]:
    data = json.loads((resources.files("glasnost.judge") / "data" / "langid.json").read_text(encoding="utf-8"))
    words: dict[str, list[str]] = {}
    for lang, items in data["latin_stopwords"].items():
        for w in items:
            words.setdefault(w, []).append(lang)
    return words, data["latin_letters"]


@lru_cache(maxsize=1)
def _letter_langs() -> dict[str, list[str]]:
    """Each distinguishing letter -> the languages that list it (as often as they list it)."""
    out: dict[str, list[str]] = {}
    for lang, chars in _latin()[1].items():
        for ch in chars:
            out.setdefault(ch, []).append(lang)
    return out


@lru_cache(maxsize=1)
def _zh_sets() -> tuple[frozenset[str], frozenset[str]]:
    fold = _zh_fold()
    return frozenset(fold), frozenset(fold.values())


@dataclass(frozen=True)
class Detected:
    lang: str | None  # base language (zh, en, ru, ...) or None
    tag: str | None  # with script where it matters: zh-Hans / zh-Hant
    script: str | None
    confident: bool


_ASCII_NON_LETTERS = bytes(c for c in range(128) if not chr(c).isalpha())


def script_counts(text: str) -> dict[str, int]:
    if text.isascii():  # only Latin letters can be counted: one C pass instead of numpy (speed)
        n = len(text[:SAMPLE].encode("ascii").translate(None, _ASCII_NON_LETTERS))
        return {"latin": n} if n else {}
    cps = _cps(text)
    if cps.size == 0:
        return {}
    script, _ = _luts()
    ids = script[cps]
    counts = np.bincount(ids[ids != 255], minlength=len(_SCRIPTS))
    return {_SCRIPTS[i]: int(n) for i, n in enumerate(counts) if n}


def _marks(text: str) -> np.ndarray:
    _, mark = _luts()
    return np.bincount(mark[_cps(text)], minlength=6)


def detect(text: str) -> Detected:
    counts = script_counts(text)
    total = sum(counts.values())
    if total < MIN_LETTERS:
        return Detected(None, None, None, False)
    # Han characters carry ~3x the information of a Latin letter; weigh them so that a Chinese answer
    # quoting English terms is still Chinese.
    weighted = dict(counts)
    for s in ("han", "kana", "hangul"):
        if s in weighted:
            weighted[s] *= 3
    script = max(weighted, key=lambda s: weighted[s])
    share = weighted[script] / sum(weighted.values())
    sample = text[:SAMPLE]
    if script in ("han", "kana"):
        kana = counts.get("kana", 0)
        if kana >= max(3, 0.05 * (kana + counts.get("han", 0))):
            return Detected("ja", "ja", "kana", share > 0.5)
        marks = _marks(sample)
        tag = "zh-Hant" if marks[_MARK_TRAD] > marks[_MARK_SIMP] else "zh-Hans"
        return Detected("zh", tag, "han", share > 0.5)
    if script == "hangul":
        return Detected("ko", "ko", script, share > 0.5)
    if script == "arabic":
        marks = _marks(sample)
        fa, ar = int(marks[_MARK_PERSIAN]), int(marks[_MARK_ARABIC])
        lang = "fa" if fa > ar else "ar"
        return Detected(lang, lang, script, share > 0.5 and abs(fa - ar) >= 2)
    if script == "cyrillic":
        if _marks(sample)[_MARK_SERBIAN] >= 2:
            return Detected("bs", "bs", script, share > 0.5)
        return Detected("ru", "ru", script, share > 0.5)
    if script == "latin":
        return _detect_latin(sample[:LATIN_SAMPLE], share)
    lang = _SCRIPT_LANG.get(script)
    return Detected(lang, lang, script, share > 0.5)


def _detect_latin(sample: str, share: float) -> Detected:
    words, letters = _latin()
    low = sample.lower()
    tokens = _WORD.findall(low)
    n = len(tokens)
    # one vote per function word per language, counted in C; first-seen order kept (it breaks ties)
    scores: dict[str, float] = dict(Counter(chain.from_iterable(filter(None, map(words.get, tokens)))))
    special = _NON_ASCII.findall(low)  # the distinguishing letters are all non-ASCII (most samples have none)
    if special:
        by_letter = _letter_langs()
        by_lang: dict[str, int] = {}
        for ch, count in Counter(special).items():  # curly quotes and dashes are no language's letters
            for lang in by_letter.get(ch, ()):
                by_lang[lang] = by_lang.get(lang, 0) + count
        for lang in letters:  # the data's order, which breaks ties
            hits = by_lang.get(lang)
            if hits:
                scores[lang] = scores.get(lang, 0.0) + min(hits, 10) * 0.5
    if not scores or n < 4:
        return Detected(None, None, "latin", False)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    confident = share > 0.5 and top >= 3 and top >= 1.5 * second
    return Detected(best, best, "latin", confident)


def base_lang(tag: str | None) -> str | None:
    """``zh-Hans`` -> ``zh``; ``en-US`` -> ``en``."""
    if not tag:
        return None
    return tag.split("-")[0].split("_")[0].lower()


def language_switched(asked: str | None, detected: Detected) -> bool | None:
    """True/False when both languages are known with confidence; None when either is not."""
    if not asked or detected.lang is None or not detected.confident:
        return None
    return base_lang(asked) != detected.lang
