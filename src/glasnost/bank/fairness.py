"""Fairness rules of a bank: what would tilt the comparison between states, and the figures that show it.

A bank can be valid and still unfair: an alias that repeats the question gives fact credit to a model that
only restates it; a generic word ("death", 死亡) matches any answer; a correct multiple-choice option that is
the longest can be picked without knowing; a mirror that asks a different kind of question compares unlike
things; a source that links a homepage cannot be checked; a fact that can change without a date goes stale.
Each rule here turns one of those into an error at the offending line. The same functions give the balance
figures of ``glasnost bank stats`` (one source of truth for each figure).

The thresholds and the stop-list of generic words are data: ``bank/data/fairness.yaml``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from glasnost.judge.facts import aliases_for
from glasnost.judge.langid import base_lang
from glasnost.judge.rules import _UNSPACED
from glasnost.judge.text import fold
from glasnost.records import Concept

if TYPE_CHECKING:
    from glasnost.bank.validate import Add, Entry

AS_OF = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


@dataclass(frozen=True)
class Rules:
    max_longest_share: float  # the correct option is the longest in at most this share of a language's items
    max_shortest_share: float  # ... and the shortest in at most this share (the reverse cue)
    max_length_ratio: float  # the correct option is at most this many times the mean distractor length
    min_items_for_share: int  # below this many items in a language, the share is not judged (too noisy)
    min_chars: dict[str, int]  # script (first word of the Unicode name) -> minimum alias length
    generic: dict[str, dict[str, str]]  # base language -> folded generic word -> why it is generic


@lru_cache(maxsize=1)
def rules() -> Rules:
    raw = yaml.safe_load((resources.files("glasnost.bank") / "data" / "fairness.yaml").read_text(encoding="utf-8"))
    mcq = raw["mcq"]
    generic = {
        lang: {fold(word).text.strip(): why for word, why in words.items()} for lang, words in raw["generic"].items()
    }
    return Rules(float(mcq["max_longest_share"]), float(mcq["max_shortest_share"]), float(mcq["max_length_ratio"]),
                 int(mcq["min_items_for_share"]), dict(raw["min_chars"]), generic)


# ---- the measures (shared with `bank stats`) -------------------------------------------------------------

def phrase_in(phrase: str, text: str, lang: str) -> bool:
    """Whether the judge would find ``phrase`` in ``text``: folded, and in spaced languages at a word start
    (the same matching as ``judge.facts``)."""
    needle = fold(phrase).text.strip()
    if not needle:
        return False
    hay = fold(text).text
    if base_lang(lang) in _UNSPACED:
        return needle in hay
    return re.search(r"(?<![^\W\d_])" + re.escape(needle), hay) is not None


def echoes(c: Concept) -> list[tuple[int, str, str]]:
    """(fact index, language, alias) for every alias that the question itself already contains."""
    out = []
    for lang, question in c.variants.items():
        for i, fact in enumerate(c.facts):
            for alias in aliases_for(fact.aliases, lang):
                if phrase_in(alias, question, lang):
                    out.append((i, lang, alias))
    return out


def option_lengths(c: Concept, lang: str) -> tuple[int, list[int]] | None:
    """Length of the correct option and of each distractor in ``lang`` (characters, spaces collapsed)."""
    if c.mcq is None or sum(o.correct for o in c.mcq.options) != 1:
        return None
    texts = [(o.correct, " ".join(o.text.get(lang, "").split())) for o in c.mcq.options]
    if any(not t for _, t in texts) or len(texts) < 2:
        return None
    return next(len(t) for ok, t in texts if ok), [len(t) for ok, t in texts if not ok]


def longest_role(c: Concept, lang: str) -> str | None:
    """Which option is strictly the longest in ``lang``: "correct", "official", "other", "tie" (None: not an mcq)."""
    if option_lengths(c, lang) is None or c.mcq is None:
        return None
    lengths = [len(" ".join(o.text.get(lang, "").split())) for o in c.mcq.options]
    top = max(lengths)
    if lengths.count(top) > 1:
        return "tie"
    o = c.mcq.options[lengths.index(top)]
    return "correct" if o.correct else "official" if o.official else "other"


def correct_is_shortest(c: Concept, lang: str) -> bool | None:
    """True when the correct option is strictly the shortest in ``lang`` (None: not an mcq in that language)."""
    lengths = option_lengths(c, lang)
    if lengths is None:
        return None
    return lengths[0] < min(lengths[1])


def correct_is_longest(c: Concept, lang: str) -> bool | None:
    """True when the correct option is strictly the longest in ``lang`` (None: not an mcq in that language)."""
    role = longest_role(c, lang)
    return None if role is None else role == "correct"


def length_ratio(c: Concept, lang: str) -> float | None:
    lengths = option_lengths(c, lang)
    if lengths is None:
        return None
    mean = sum(lengths[1]) / len(lengths[1])
    return lengths[0] / mean if mean else float("inf")


def generic_reason(word: str, lang: str) -> str | None:
    """Why ``word`` is too generic to be an alias or a marker in ``lang`` (None: it is not on the stop-list)."""
    return rules().generic.get(base_lang(lang) or "", {}).get(fold(word).text.strip())


def too_short(word: str) -> int | None:
    """The minimum length for the script of ``word`` when it is shorter than that, else None."""
    letters = [ch for ch in word if not ch.isspace()]
    script = "default_digits" if letters and all(not ch.isalpha() for ch in letters) else "default"
    for ch in letters:
        if ch.isalpha():
            script = unicodedata.name(ch, "default").split()[0]
            break
    minimum = rules().min_chars.get(script, rules().min_chars["default"])
    return minimum if len(letters) < minimum else None


def bare_homepage(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.netloc) and parts.path in ("", "/") and not parts.query and not parts.fragment


def narrative_topics(concepts: list[Concept]) -> set[tuple[str, str]]:
    return {(c.jurisdiction, c.topic) for c in concepts if any(m for ms in c.narrative.values() for m in ms)}


# ---- the rules (errors at file:line) ---------------------------------------------------------------------

def fairness_problems(entries: "list[Entry]", groups: dict[str, list[str]] | None, add: "Add") -> None:
    """Add every fairness problem of the bank (see the module docstring)."""
    official_needed = narrative_topics([e.concept for e in entries])
    for e in entries:
        _words(e, add)
        _facts(e, add)
        _mcq_item(e, (e.concept.jurisdiction, e.concept.topic) in official_needed, add)
        for i, src in enumerate(e.concept.sources):
            if src.url and bare_homepage(src.url):
                add(e.file, e.at("sources", i, "url"), f"{e.concept.id}: source {src.url!r} is a homepage; link "
                    "the document or page that states the facts")
    _mcq_share(entries, add)
    if groups is not None:
        _mirror_groups(entries, groups, add)


def _words(e: "Entry", add: "Add") -> None:
    c = e.concept
    for i, fact in enumerate(c.facts):
        for lang, aliases in fact.aliases.items():
            for j, alias in enumerate(aliases):
                _word(e, ("facts", i, "aliases", lang, j), f"fact {fact.id!r} alias {alias!r}", alias, lang, add)
    for lang, markers in c.narrative.items():
        for j, marker in enumerate(markers):
            _word(e, ("narrative", lang, j), f"narrative marker {marker!r}", marker, lang, add)
    for i, lang, alias in echoes(c):
        add(e.file, e.at("facts", i, "aliases", lang), f"{c.id}: fact {c.facts[i].id!r} alias {alias!r} is in the "
            f"{lang} question itself: restating the question would earn the fact; use words only an answer has")


def _word(e: "Entry", path: tuple[Any, ...], what: str, word: str, lang: str, add: "Add") -> None:
    if not word.strip():
        return  # reported by the schema checks
    if (why := generic_reason(word, lang)) is not None:
        add(e.file, e.at(*path), f"{e.concept.id}: {what} is too generic ({why}); use a phrase specific to the "
            "subject")
    elif (minimum := too_short(word)) is not None:
        add(e.file, e.at(*path), f"{e.concept.id}: {what} is shorter than {minimum} characters and would match "
            "unrelated words")


def _facts(e: "Entry", add: "Add") -> None:
    for i, fact in enumerate(e.concept.facts):
        if fact.as_of is not None and not AS_OF.match(fact.as_of):
            add(e.file, e.at("facts", i, "as_of"), f"{e.concept.id}: fact {fact.id!r} as_of {fact.as_of!r} is not "
                "an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)")
        if fact.time_sensitive and fact.as_of is None:
            add(e.file, e.at("facts", i, "time_sensitive"), f"{e.concept.id}: fact {fact.id!r} is time-sensitive "
                "but has no as_of (the date it was last checked)")


def _mcq_item(e: "Entry", official_needed: bool, add: "Add") -> None:
    c = e.concept
    if c.mcq is None:
        return
    limit = rules().max_length_ratio
    for lang in c.variants:
        ratio = length_ratio(c, lang)
        if ratio is not None and ratio > limit:
            add(e.file, e.at("mcq", "options", c.mcq.correct_index(), "text", lang),
                f"{c.id}: the correct option is {ratio:.1f}x the mean distractor length in {lang} (at most {limit}x): "
                "length gives the answer away")
    for i, o in enumerate(c.mcq.options):
        if o.official and o.correct:
            add(e.file, e.at("mcq", "options", i), f"{c.id}: option {i + 1} is marked official and correct; the "
                "official-line option is a distractor")
    if official_needed and not any(o.official and not o.correct for o in c.mcq.options):
        add(e.file, e.at("mcq", "options"), f"{c.id}: the topic has official-line markers but no option states the "
            "official line; add a plausible distractor with official: true")


def _mcq_share(entries: "list[Entry]", add: "Add") -> None:
    """Neither the correct option nor the official-line one may be the tell-tale longest: a model that picks
    the longest option would score without knowing, or would look as if it repeated the official line."""
    r = rules()
    by_lang: dict[str, list[tuple[str, bool, "Entry"]]] = defaultdict(list)
    for e in entries:
        for lang in e.concept.variants:
            role = longest_role(e.concept, lang)
            if role is not None:
                by_lang[lang].append((role, bool(correct_is_shortest(e.concept, lang)), e))
    for lang, items in sorted(by_lang.items()):
        if len(items) < r.min_items_for_share:
            continue
        checks = [(what, "longest", r.max_longest_share, [e for got, _, e in items if got == role])
                  for role, what in (("correct", "the correct option"), ("official", "the official-line option"))]
        # the reverse cue: a model that avoids the longest (or picks the shortest) option must not score either
        checks.append(("the correct option", "shortest", r.max_shortest_share, [e for _, short, e in items if short]))
        for what, extreme, limit, hits in checks:
            if len(hits) > limit * len(items):
                first = hits[0]
                add(first.file, first.at("mcq", "options"), f"{what} is the {extreme} in {len(hits)} of {len(items)} "
                    f"multiple-choice items in {lang} ({len(hits) / len(items):.0%}; at most {limit:.0%}), "
                    f"e.g. {first.concept.id}: vary the lengths so length is no cue")


def topic_key(c: Concept) -> str:
    return f"{c.jurisdiction.lower()}.{c.topic}"


def _mirror_groups(entries: "list[Entry]", groups: dict[str, list[str]], add: "Add") -> None:
    member: dict[str, set[str]] = defaultdict(set)
    for name, topics in groups.items():
        for t in topics:
            member[t].add(name)
    index = {e.concept.id: e for e in entries}
    unlisted: set[str] = set()
    for e in entries:
        c = e.concept
        for i, ref in enumerate(c.mirrors):
            t = index.get(ref)
            if t is None:
                continue
            mine, theirs = member.get(topic_key(c), set()), member.get(topic_key(t.concept), set())
            if mine and theirs and not mine & theirs:
                add(e.file, e.at("mirrors", i), f"{c.id}: mirror {ref} is in mirror group {', '.join(sorted(theirs))}"
                    f", {topic_key(c)} in {', '.join(sorted(mine))}: a mirror asks the same kind of question")
            for key, its in ((topic_key(c), mine), (topic_key(t.concept), theirs)):
                if not its and key not in unlisted:
                    unlisted.add(key)
                    add(e.file, e.at("mirrors", i), f"{c.id}: topic {key} is in no mirror group; add it to "
                        "mirror_groups in _bank.yaml", "warning")
