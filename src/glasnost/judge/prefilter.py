"""Where a phrase pattern can start: a C-speed pre-scan in front of a big alternation (speed, issue 12).

Python's ``re`` tries every alternative of a pattern at every position of the text: with ~800 official-line,
voice, hedge and specifics phrases over a 4,000-character answer that is ~2 ms per answer, almost all of it
spent failing. This module computes, from each phrase's parsed form, the short literal prefixes any of its
matches must begin with (``prefixes``), and builds from them

- a *scanner*: one regex that finds the candidate positions (a non-letter followed by a prefix of a phrase of a
  spaced language; a prefix of a phrase of an unspaced language anywhere), whose first literal characters let
  the regex engine skip the rest of the text in C;
- *buckets*: for the character at a candidate, each language's part of the original pattern restricted to the
  phrases that can start with it, in their original order.

``matches`` then yields exactly what ``pattern.finditer`` would: every position where the pattern can match is
a candidate (the prefixes are a superset, by construction), candidates are tried in order, and after a match the
search resumes at its end. ``tests/test_judge_prefilter.py`` checks the equality on real and hostile texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator

from glasnost import regex_cache

try:  # Python 3.11+
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as P  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as P  # type: ignore[no-redef]

PREFILTER_VERSION = 1  # bump when prefixes or the scanners change: derived data cached on disk is then rebuilt
DEPTH = 8  # at most this many characters of a prefix are checked by the scanner
_MAX_PREFIXES = 2000  # per phrase: a phrase whose prefixes would be more is checked on shorter ones
_MAX_SET = 12  # characters a character class may enumerate (a wider class ends the prefix)
_LETTER_BEFORE = r"[\W\d_]"  # what may precede a phrase of a spaced language (its guard is "no letter before")


def prefixes(pattern: str, depth: int = DEPTH) -> frozenset[str]:
    """Literal strings of at most ``depth`` characters such that every match of ``pattern`` starts with one of
    them. The empty string means the pattern can start with anything (a wildcard); a shorter string means the
    pattern's next element is not a small set of characters. Zero-width assertions are skipped (a superset).
    The deepest depth whose set stays under ``_MAX_PREFIXES`` is used (classes of digits multiply fast)."""
    try:
        tree = P.parse(pattern)
    except (re.error, RecursionError):  # never raised for a pattern re.compile accepts; a wildcard is safe
        return frozenset({""})
    if tree.state.flags & re.IGNORECASE:
        return frozenset({""})
    parsed = list(tree)
    for d in (depth, 5, 3, 2, 1):
        if d > depth:
            continue
        try:
            return frozenset(_prefixes(parsed, d, 0))
        except _TooMany:
            continue
    return frozenset({""})


def _scan_text(text: str, begin: int, end: int) -> str:
    r"""The text the scanners read: prefixes spell \d as 0-9, so every other decimal digit (one character for
    one, offsets unchanged) is read as 0. Matching a literal 0 there too only adds candidates."""
    if text.isascii() or _other_digit_re().search(text, max(begin - 1, 0), end) is None:
        return text
    return text.translate(_to_zero())


@lru_cache(maxsize=1)
def _other_digit_re() -> re.Pattern[str]:
    return re.compile(r"[^\D0-9]")


@lru_cache(maxsize=1)
def _to_zero() -> dict[int, str]:
    return {ord(c): "0" for c in _other_digits()}


class _TooMany(Exception):
    pass


def _chars(items) -> list[str] | None:
    """The characters a class matches, when it is a small positive set."""
    out: list[str] = []
    for op, av in items:
        if op is C.LITERAL:
            out.append(chr(av))
        elif op is C.RANGE and av[1] - av[0] < _MAX_SET:
            out.extend(chr(c) for c in range(av[0], av[1] + 1))
        elif op is C.CATEGORY and av in (C.CATEGORY_DIGIT, C.CATEGORY_UNI_DIGIT):
            out.extend("0123456789")  # \d is also ༨, ٣, ३ …: the scanner reads those as 0 (``_scan_text``)
        else:  # a negation, a wide range, \w, \s …
            return None
    return out if len(out) <= 2 * _MAX_SET else None


@lru_cache(maxsize=1)
def _other_digits() -> str:
    r"""What ``\d`` matches in a str pattern besides 0-9, in this Python's Unicode version (650 in 15.0)."""
    import numpy as np

    codes = np.arange(0x110000, dtype=np.uint32)
    codes[0xD800:0xE000] = 0x20  # surrogates do not decode
    return "".join(re.findall(r"[^0-9\D]", codes.tobytes().decode("utf-32-le")))


def _prefixes(seq: list, depth: int, level: int) -> set[str]:
    if depth == 0 or not seq:
        return {""}
    if level > 64:  # a pathological nesting: give up on this branch (a wildcard is always safe)
        return {""}
    op, av = seq[0]
    rest = seq[1:]
    if op is C.LITERAL:
        return {chr(av) + s for s in _prefixes(rest, depth - 1, level + 1)}
    if op is C.IN:
        chars = _chars(av)
        if chars is None:
            return {""}
        tails = _prefixes(rest, depth - 1, level + 1)
        if len(chars) * len(tails) > _MAX_PREFIXES:
            raise _TooMany
        return {c + s for c in chars for s in tails}
    if op is C.SUBPATTERN:
        _group, add_flags, _del, sub = av
        if add_flags & re.IGNORECASE:
            return {""}
        return _prefixes(list(sub) + rest, depth, level + 1)
    if op is C.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            out |= _prefixes(list(alt) + rest, depth, level + 1)
            if len(out) > _MAX_PREFIXES:
                raise _TooMany
        return out
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)):
        lo, hi, sub = av
        if hi == 0:
            return _prefixes(rest, depth, level + 1)
        again = (op, (max(lo - 1, 0), hi if hi is C.MAXREPEAT else hi - 1, sub))
        out = _prefixes(list(sub) + [again] + rest, depth, level + 1)
        if lo == 0:
            out |= _prefixes(rest, depth, level + 1)
        return out
    if op is getattr(C, "ATOMIC_GROUP", None):
        return _prefixes(list(av) + rest, depth, level + 1)
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return _prefixes(rest, depth, level + 1)  # zero-width: ignoring it can only add candidates
    return {""}  # ., a negated literal, a category outside a class, a back-reference


def trie_regex(strings: set[str], consume_first: bool = False) -> str:
    """One alternation of literal strings, merged by common prefix (``ab|ac`` -> ``a[bc]``), so that the engine
    tests one character per branch instead of every string at every position. With ``consume_first``, each
    branch consumes only its first character and looks ahead for the rest (``a(?=b|c)``): a search then skips,
    in C, every position whose character starts no string, and overlapping occurrences are all found."""
    if "" in strings:
        return ""
    tree: dict = {}
    for s in strings:
        node = tree
        for ch in s:
            node = node.setdefault(ch, {})
        node[""] = {}
    if not consume_first:
        return _emit(tree)
    leaves = sorted(ch for ch, sub in tree.items() if "" in sub)  # one class: one test for all of them
    parts = ["[" + "".join(_class_escape(c) for c in leaves) + "]"] if leaves else []
    parts += [re.escape(ch) + f"(?={_emit(sub)})" for ch, sub in sorted(tree.items()) if "" not in sub]
    return "|".join(parts)


def _emit(node: dict) -> str:
    if "" in node:  # a string ends here: whatever follows is not required
        return ""
    leaves = [ch for ch, sub in node.items() if "" in sub]
    inner = [(ch, _emit(sub)) for ch, sub in node.items() if "" not in sub]
    parts = []
    if leaves:
        parts.append(re.escape(leaves[0]) if len(leaves) == 1 else
                     "[" + "".join(_class_escape(c) for c in sorted(leaves)) + "]")
    parts += [re.escape(ch) + (f"(?:{sub})" if "|" in sub else sub) for ch, sub in sorted(inner)]
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def _class_escape(ch: str) -> str:
    return "\\" + ch if ch in "\\]^-[" else ch


@dataclass(frozen=True)
class Phrase:
    """One alternative of a big pattern, as far as choosing a bucket goes: the characters it can start with."""

    firsts: frozenset[str]  # the first characters of its ``prefixes`` ("" for a wildcard)

    @classmethod
    def of_prefixes(cls, starts: frozenset[str] | list[str]) -> "Phrase":
        return cls(frozenset(s[:1] for s in starts))

    def can_start(self, ch: str) -> bool:
        if ch in self.firsts or "" in self.firsts:
            return True
        # a digit beyond 0-9 (٣, ༨ …) is what \d matches too: any phrase that may start with a digit
        return ch.isdecimal() and not ch.isascii() and not self.firsts.isdisjoint("0123456789")


Bucket = Callable[[str, str], "re.Pattern[str] | None"]


def scanner_sources(languages: list[tuple[list[frozenset[str]], bool]]) -> tuple[str | None, str | None]:
    """The two scanner patterns for phrases given by their prefixes, per language (spaced or not): a phrase of
    a spaced language starts after a non-letter (the candidate is where that match ends); one of an unspaced
    language anywhere (the candidate is where the match starts). A wildcard phrase ("" among its prefixes)
    makes every such position a candidate: correct, only slower."""
    spaced: set[str] = set()
    unspaced: set[str] = set()
    for phrases, is_spaced in languages:
        for starts in phrases:
            (spaced if is_spaced else unspaced).update(starts)
    return (f"{_LETTER_BEFORE}(?={trie_regex(spaced)})" if spaced else None,
            (trie_regex(unspaced, consume_first=True) or r"(?=[\s\S])") if unspaced else None)


class Prefilter:
    """Candidate positions for the phrases of several languages, and per-language patterns to try there.

    ``langs`` are the languages in the order the original alternation tries them; ``sources`` their
    ``scanner_sources``; ``bucket(language, ch)`` must return that language's part of the original pattern
    (its guard, then its phrases in their order, with their named groups) restricted to the phrases that can
    start with ``ch``."""

    def __init__(self, langs: list[str], sources: tuple[str | None, str | None], bucket: Bucket):
        self.langs = langs
        self._bucket = bucket
        self.spaced = regex_cache.compile(sources[0]) if sources[0] else None
        self.unspaced = regex_cache.compile(sources[1]) if sources[1] else None
        self.any = bool(sources[0] or sources[1])

    def candidates(self, text: str, begin: int, end: int) -> list[int]:
        """Every position in [begin, end) where a phrase can start, in order (a superset of the matches)."""
        if not self.any:
            return []
        cands = [0] if begin == 0 < end else []  # nothing precedes the first character: any phrase may start there
        text = _scan_text(text, begin, end)
        if self.spaced is not None:
            cands += [m.end() for m in self.spaced.finditer(text, max(begin - 1, 0), end)]
        if self.unspaced is not None:
            cands += [m.start() for m in self.unspaced.finditer(text, begin, end)]
            cands = sorted(set(cands))
        return cands

    def matches(self, text: str, begin: int, end: int) -> Iterator[re.Match[str]]:
        """What the original alternation's ``finditer(text, begin, end)`` yields, trying its phrases only where
        they can start: at a candidate, each language's bucket in order, the first match winning; after a
        match, the search resumes at its end."""
        pos = begin
        bucket = self._bucket
        for cand in self.candidates(text, begin, end):
            if cand < pos:
                continue
            ch = text[cand]
            for lang in self.langs:
                pattern = bucket(lang, ch)
                m = pattern.match(text, cand, end) if pattern is not None else None
                if m is not None:
                    yield m
                    pos = max(m.end(), cand + 1)
                    break
