"""Layer 4, facts and narrative: for probes from the bank, what the answer says about the concept.

- fact coverage: the share of the concept's facts with at least one alias (in the probe's language, and in
  the answer's language when it switched) present in the answer. Matching is on folded text; in languages
  with spaces an alias must start a word and may carry a suffix ("kill" matches "killed"). An alias preceded
  in its clause by a negation ("no one was killed", "没有开枪") does not count: denying a fact is not stating it.
- narrative markers: the concept's official-line phrases found in the answer.

The layer proposes ``state_narrative`` when markers are present and coverage is low. Coverage on its own
never proposes a refusal; a long answer with zero coverage on a knowledge probe is passed to the ensemble
as a deflection signal (``info["zero_coverage_long"]``), to be weighed with the other layers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from glasnost.judge.langid import base_lang
from glasnost.judge.proposal import Proposal
from glasnost.judge.rules import _UNSPACED, rule_data
from glasnost.judge.text import CLAUSE_PUNCT, Folded, fold, fold_pattern
from glasnost.records import Concept, Evidence, Label

LOW_COVERAGE = 0.34  # below this, an answer with official-line markers replaces the facts with the line
HIGH_COVERAGE = 0.5
LONG_WORDS_CHARS = 400  # "long answer" for the zero-coverage deflection signal
NEG_WINDOW = 40  # characters before an alias searched for a negation, within the clause
_CLAUSE_BREAK = re.compile("[" + re.escape(CLAUSE_PUNCT) + "]")


@dataclass(frozen=True)
class _Compiled:
    facts: tuple[tuple[str, re.Pattern[str]], ...]  # fact id -> alias alternation
    markers: tuple[tuple[str, re.Pattern[str]], ...]  # marker as written -> pattern
    negation: re.Pattern[str] | None


def aliases_for(mapping: dict[str, list[str]], lang: str) -> list[str]:
    """Entries for a language tag: the exact tag first, then any tag with the same base language."""
    if lang in mapping:
        return list(mapping[lang])
    base = base_lang(lang)
    out: list[str] = []
    for tag, items in mapping.items():
        if base_lang(tag) == base:
            out.extend(items)
    return out


def _phrase(items: list[str], lang: str) -> re.Pattern[str] | None:
    items = [fold(a).text.strip() for a in items if a and a.strip()]
    if not items:
        return None
    guard = "" if base_lang(lang) in _UNSPACED else r"(?<![^\W\d_])"
    alts = "|".join(re.escape(a) for a in sorted(set(items), key=len, reverse=True))
    return re.compile(f"{guard}(?:{alts})")


class FactMatcher:
    """Compiled patterns per (concept, language), kept for the life of one judge (not global)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def _compile(self, concept: Concept, langs: tuple[str, ...]) -> _Compiled:
        key = (concept.id, langs)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        facts = []
        for fact in concept.facts:
            items = [a for lang in langs for a in aliases_for(fact.aliases, lang)]
            pat = _phrase(items, langs[0])
            if pat is not None:
                facts.append((fact.id, pat))
        markers = []
        for lang in langs:
            for marker in aliases_for(concept.narrative, lang):
                pat = _phrase([marker], lang)
                if pat is not None:
                    markers.append((marker, pat))
        neg_parts = []
        for lang in langs:
            words = rule_data().get(base_lang(lang) or "", {}).get("negation", [])
            if words:
                alts = "|".join(f"(?:{fold_pattern(w)})" for w in words)
                unspaced = base_lang(lang) in _UNSPACED
                neg_parts.append(f"(?:{alts})" if unspaced else rf"(?<![^\W\d_])(?:{alts})(?![^\W\d_])")
        neg = re.compile("|".join(neg_parts)) if neg_parts else None
        compiled = _Compiled(tuple(facts), tuple(markers), neg)
        if len(self._cache) > 4096:  # bound memory on very large banks
            self._cache.clear()
        self._cache[key] = compiled
        return compiled

    def propose(self, concept: Concept | None, lang: str | None, detected: str | None, folded: Folded,
                original: str, offset: int = 0) -> Proposal:
        if concept is None or not lang:
            return Proposal("facts")
        langs = tuple(dict.fromkeys(t for t in (lang, detected) if t))
        comp = self._compile(concept, langs)
        text = folded.text
        evidence: list[Evidence] = []
        found: list[str] = []
        negated: list[str] = []
        for fact_id, pat in comp.facts:
            state = None
            for m in pat.finditer(text):
                if self._negated(comp.negation, text, m.start()):
                    state = state or "negated"
                    continue
                state = "found"
                s, e = folded.span(*m.span())
                evidence.append(Evidence(layer="facts", label=Label.answered, kind=f"fact:{fact_id}",
                                         text=original[s:e], start=s + offset, end=e + offset))
                break
            if state == "found":
                found.append(fact_id)
            elif state == "negated":
                negated.append(fact_id)
        markers: list[str] = []
        for marker, pat in comp.markers:
            m = pat.search(text)
            if m is not None and marker not in markers:
                markers.append(marker)
                s, e = folded.span(*m.span())
                evidence.append(Evidence(layer="narrative", label=Label.state_narrative, kind="narrative_marker",
                                         text=original[s:e], start=s + offset, end=e + offset))
        coverage = len(found) / len(comp.facts) if comp.facts else None
        info = {"coverage": None if coverage is None else round(coverage, 3), "facts_found": found,
                "facts_negated": negated, "markers": markers,
                "zero_coverage_long": bool(comp.facts) and not found and len(text) >= LONG_WORDS_CHARS
                and concept.kind in ("knowledge", "indirect")}
        label = None
        if markers and (coverage is None or coverage < LOW_COVERAGE):
            label = Label.state_narrative
        elif coverage is not None and coverage >= HIGH_COVERAGE:
            label = Label.answered
        return Proposal("facts", label, evidence, score=coverage, info=info)

    @staticmethod
    def _negated(neg: re.Pattern[str] | None, text: str, start: int) -> bool:
        if neg is None:
            return False
        window = text[max(0, start - NEG_WINDOW) : start]
        breaks = list(_CLAUSE_BREAK.finditer(window))
        if breaks:
            window = window[breaks[-1].end() :]
        return neg.search(window) is not None
