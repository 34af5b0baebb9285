"""Read the chosen option letter out of a chat answer, and the probability mass on each letter.

Model output is hostile input: it is only ever matched with regular expressions, never evaluated. A reply
that names no letter (a refusal, an essay) or several ("A or B") is a non-answer with its reason: it is
never read as knowing, nor as not knowing.

The text is first NFKC-folded (full-width Ｂ and （Ｂ） become B and (B)) and Markdown emphasis is removed
(**B** is B). Then the forms below are tried in order; the first that names any valid letter decides, and
if it names two different letters the reply is a non-answer ``multiple``:

1. the whole reply is a label: "B", "(B)", "B.", "b";
2. the reply opens with a label: "B) 15 to 55 million", "B: ...", "(B) ...", or with two ("A or B");
3. a label after an answer marker of any language (models switch language): "Answer: B", "The answer
   is (B)", 答案是B, 答案：B, "Ответ: B" (and "答案是B和C" is two letters);
4. a label after a weaker cue: "Option B", 选项B (weaker, because answers go on to discuss the others);
5. a bracketed label anywhere: "so (B) it is";
6. the full text of exactly one option.

Cyrillic А В С Е Н are read as the Latin letters they look like, but only where a label is expected:
"В 1989 году" (Russian "in 1989") is not the answer B.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from glasnost.knows.mcq import mcq_format

HOMOGLYPHS = str.maketrans({"А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H"})
_EMPHASIS = re.compile(r"[*_`]+")
OPEN = r"[\(\[（【「\"'“‘]"
CLOSE = r"[\)\]）】」\"'”’]"
LABEL = "([A-ZАВСЕН])"
NOT_WORD = r"(?![A-Za-z])"  # "Answer: Based on ..." does not name B
CONNECTOR = r"\s*(?:,|，|、|/|&|\band\b|\bor\b|\bund\b|\boder\b|\bet\b|\bou\b|\by\b|\bo\b|или|и|和|或|及|与|與)\s*"


@dataclass(frozen=True)
class LetterRead:
    letter: str | None  # the chosen letter, when exactly one valid letter was read
    reason: str | None  # why there is none: empty | no_letter | multiple | invalid_letter
    rule: str | None = None  # the form that decided (to audit the extractor)


def _alternatives(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_CUE_TAIL = r"\s*(?:[:：=\-–—]\s*)?(?:is\s+|是|为|為)?\s*"


def _after_cue(words: list[str], fast: bool = True) -> list[re.Pattern[str]]:
    if not words:
        return []
    cue = (_first_char_cue(words) if fast else None) or f"(?i:{_alternatives(words)})"
    cue += _CUE_TAIL
    from glasnost import regex_cache

    compile_ = regex_cache.compile if fast else re.compile  # ~20 ms of a report's first reading, once a machine
    return [
        compile_(rf"{cue}{OPEN}?\s*{LABEL}{NOT_WORD}(?:{CONNECTOR}{OPEN}?\s*{LABEL}{NOT_WORD})?"),
        # a lower-case label only where it cannot be the article: "Answer: b", "answer (b)", not "is a war"
        compile_(rf"{cue}\(?([a-h])(?:\)|\s*[.。]?\s*$)"),
    ]


# ---- the cue alternation, the same matches, ~3.5x faster (issue 17) ----------------------------------------
#
# ``(?i:w1|w2|...)`` over ~130 cues: at every position of a reply ``re`` enters each alternative in turn (a
# case-insensitive first letter gives it no quick test), ~0.15 ms a pattern on a 400-character reply. The same
# alternation, written as one branch per *class of first characters*, ``[Aaᴬ...](?i:nswer|...)``, where the class
# is exactly the characters ``re``'s own case-insensitive matching lets start those cues (found by ``re``
# itself over every code point), lets ``re`` skip a branch with one set test. It matches the same spans with the
# same groups: a character starts a cue exactly when it is in that cue's class; within a class the cues keep
# their order (longest first); and the classes are disjoint, so at any position the alternatives that can
# match are tried in the same order as before. Where the classes overlap (or a cue is empty) the plain
# alternation is kept.


def _all_chars() -> str:
    from array import array

    return array("I", [*range(0xD800), *range(0xE000, 0x110000)]).tobytes().decode("utf-32-le")


def _start_classes(firsts: list[str]) -> dict[str, str]:
    """For each character, every character ``re`` matches to it case-insensitively (itself included)."""
    union = re.compile("(?i:[" + "".join(re.escape(f) for f in firsts) + "])")
    candidates = sorted(set(union.findall(_all_chars())))
    return {f: "".join(c for c in candidates if re.fullmatch(f"(?i:{re.escape(f)})", c)) for f in firsts}


def _first_char_cue(words: list[str]) -> str | None:
    order = sorted(set(words), key=len, reverse=True)  # the plain alternation's order (see _alternatives)
    if not order or any(not w for w in order):
        return None
    firsts = sorted({w[0] for w in order})
    from glasnost import regex_cache

    key = hashlib.sha256("\0".join(firsts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    classes = regex_cache.cached_json(
        f"letter-cue-starts:{unicodedata.unidata_version}:{key}", lambda: _start_classes(firsts),
        lambda v: isinstance(v, dict) and sorted(v) == firsts and all(
            isinstance(x, str) and k in x and all(re.fullmatch(f"(?i:{re.escape(k)})", c) for c in x)
            for k, x in v.items()))
    groups: dict[str, list[str]] = {}
    for w in order:
        groups.setdefault(classes[w[0]], []).append(w)
    seen: set[str] = set()
    for cls in groups:
        if seen & set(cls):
            return None  # two classes share a character: keep the plain alternation
        seen |= set(cls)

    def charset(chars: str) -> str:
        return "[" + "".join(re.escape(c) for c in chars) + "]"

    return "(?:" + "|".join(f"{charset(cls)}(?i:{'|'.join(re.escape(w[1:]) for w in ws)})"
                            for cls, ws in groups.items()) + ")"


@lru_cache(maxsize=2)
def _patterns(fast: bool = True) -> list[tuple[str, list[re.Pattern[str]]]]:
    """The forms in order; ``fast=False``: the cue alternations written plainly (the reference the tests
    compare the fast ones with)."""
    fmt = mcq_format()
    # Every language's cues, for every reply: models switch language (a Chinese answer to an English
    # question still says 答案是B), and a cue only counts right before a label anyway.
    markers = [m for words in fmt.markers.values() for m in words]
    option_words = [w for words in fmt.option_words.values() for w in words]
    return [
        ("bare", [re.compile(rf"^{OPEN}?\s*([A-Za-zАВСЕН])\s*{CLOSE}?\s*[.:：。!]?$")]),
        ("opening", [
            re.compile(rf"^{OPEN}?\s*{LABEL}\s*(?:[\)\]）】.:：]|\n|\s+[-–—]\s|{CONNECTOR}{OPEN}?\s*{LABEL}{NOT_WORD})"),
            re.compile(r"^\(?\s*([a-z])\s*[\)）]"),
        ]),
        ("marker", _after_cue(markers, fast)),
        ("option_word", _after_cue(option_words, fast)),
        ("bracketed", [re.compile(rf"(?<![A-Za-z]){OPEN}\s*{LABEL}\s*{CLOSE}")]),
    ]


def _fold(ch: str) -> str:
    return ch.translate(HOMOGLYPHS).upper()


def read_letter(text: str | None, n_options: int, options: list[str] | None = None) -> LetterRead:
    """The letter a reply chose among the first ``n_options`` letters (see the module docstring)."""
    if text is None or len(text) > _MEMO_CHARS:
        return _read_letter(text, n_options, options, _patterns())
    return _read_memo(text, n_options, tuple(options) if options is not None else None)


# A report reads each multiple-choice answer twice (the knows-vs-says section, then the answer viewer's data):
# the second read is the first one's result. LetterRead is frozen; replies longer than this are not kept.
_MEMO_CHARS = 8192


@lru_cache(maxsize=2048)
def _read_memo(text: str, n_options: int, options: tuple[str, ...] | None) -> LetterRead:
    return _read_letter(text, n_options, list(options) if options is not None else None, _patterns())


def _read_letter(text: str | None, n_options: int, options: list[str] | None,
                 forms: list[tuple[str, list[re.Pattern[str]]]]) -> LetterRead:
    letters = mcq_format().letters[:n_options]
    if text is None or not text.strip():
        return LetterRead(None, "empty")
    t = _EMPHASIS.sub("", unicodedata.normalize("NFKC", text)).strip()
    invalid = False
    for rule, patterns in forms:
        named: set[str] = set()
        for pattern in patterns:
            for m in pattern.finditer(t):
                named.update(_fold(g) for g in m.groups() if g)
        valid = named & set(letters)
        invalid = invalid or bool(named - valid)
        if len(valid) > 1:
            return LetterRead(None, "multiple", rule)
        if valid:
            return LetterRead(valid.pop(), None, rule)
    if options:
        folded = t.casefold()
        hits = {letters[i] for i, o in enumerate(options[:n_options]) if o and o.casefold() in folded}
        if len(hits) == 1:
            return LetterRead(hits.pop(), None, "option_text")
        if hits:
            return LetterRead(None, "multiple", "option_text")
    return LetterRead(None, "invalid_letter" if invalid else "no_letter")


def read_letter_plain(text: str | None, n_options: int, options: list[str] | None = None) -> LetterRead:
    """``read_letter`` with the cue alternations written plainly and nothing remembered (the reference)."""
    return _read_letter(text, n_options, options, _patterns(fast=False))


# ---- probability mass on the letters, from the top logprobs an endpoint returned --------------------------

_TOKEN_EDGES = re.compile(r"^[\s\(\[（【*_\"'“]+|[\s\)\]）】*_.:：\"'”]+$")


def _token_letter(token: str, letters: str) -> str | None:
    core = _TOKEN_EDGES.sub("", unicodedata.normalize("NFKC", token)).translate(HOMOGLYPHS)
    return core if len(core) == 1 and core in letters else None


def letter_mass(logprobs: list[dict[str, Any]] | None, n_options: int) -> dict[str, float] | None:
    """Probability of each option letter at the first generated token that is a letter (the reply may open
    with "(" or "Answer: "), summed over that position's top alternatives spelling the same letter (" B", "B").

    None when the endpoint gave no logprobs or no early token is a letter. A letter outside the top list gets
    0: the values are lower bounds, and their sum says how much of the mass the list covered.
    """
    if not logprobs:
        return None
    letters = mcq_format().letters[:n_options]
    for position in logprobs[:16]:  # the letter comes first, or after a short preamble
        if not isinstance(position, dict) or _token_letter(str(position.get("token", "")), letters) is None:
            continue
        mass = {letter: 0.0 for letter in letters}
        seen: set[str] = set()
        chosen = {"token": position.get("token"), "logprob": position.get("logprob")}
        for entry in [*(position.get("top") or []), chosen]:
            if not isinstance(entry, dict):
                continue
            token, lp = str(entry.get("token", "")), entry.get("logprob")
            if token in seen or not isinstance(lp, (int, float)) or isinstance(lp, bool) or math.isnan(lp):
                continue
            seen.add(token)
            letter = _token_letter(token, letters)
            if letter is not None:
                mass[letter] += math.exp(min(0.0, float(lp)))
        return {k: min(1.0, v) for k, v in mass.items()}
    return None
