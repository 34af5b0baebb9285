"""Layer 3, rules: per-language phrase patterns (data/rules.json), anchored to clause starts or ends.

Why anchored: a bare substring ("illegal", "sensitive", "I cannot") flips real answers. A refusal opener
counts only where a sentence or clause begins (optionally after a connective such as "but" or
"unfortunately"); verb-final languages (ja, ko, tr, hi, my) also have patterns that must end a clause.
Where a match sits decides what it means:
- in the opening of the answer (``OPENING_CHARS``) and not inside quotes: the answer starts by declining,
  deflecting or redirecting; this is what the layer proposes a label from;
- inside quotes or a block quote: a quotation (an answer that quotes a refusal is still an answer);
- in the last quarter of a long answer: a closing disclaimer (a long answer ending with one is an answer);
- elsewhere: an inline signal, kept as information only.
Because only the opening decides, clauses are tried only in the first ``SCAN_CHARS`` characters: a refusal
sentence deep inside a long answer is never looked for, which is what "a long answer ending with a
disclaimer is an answer" and "an answer that quotes a refusal is still an answer" ask for anyway.
Official-line markers (``official``, ``find_markers``) are phrases matched anywhere; a marker inside quotes, or
after an attribution ("what Beijing calls", "so-called", "官方称") earlier in its clause, is reported speech, not
the answer's own voice, and does not count. They make an evasion, or an answer the learned layer holds
weakly, ``state_narrative``, and are searched only for those (speed), with hedges and specifics (dates and
figures) in the same pass.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable

from glasnost import regex_cache
from glasnost.judge.langid import base_lang
from glasnost.judge.prefilter import PREFILTER_VERSION, Phrase, Prefilter, prefixes, scanner_sources
from glasnost.judge.proposal import Proposal
from glasnost.judge.text import CLAUSE_PUNCT, Folded, fold_pattern
from glasnost.records import Evidence, Label

OPENING_CHARS = 250  # a decline that starts within this many characters opens the answer
CLOSING_SHARE = 0.75  # matches after this share of a long answer are closing remarks
LONG_ANSWER = 600
SCAN_CHARS = 400  # only the opening decides, so clauses are tried only this far (speed)
_UNSPACED = {"zh", "ja", "ko", "my", "th", "hi", "bo", "yue"}  # no usable \b: no spaces, particles, or combining marks
# order matters: at one clause start the first category that matches wins, so rebuttal (the weakest) is last
ANCHORED = ("refusal", "refusal_soft", "deflection", "redirect", "closing", "rebuttal")
LATE_SCAN_HEAD = 3000  # the late scan reads clauses up to here ...
LATE_SCAN_TAIL = 800  # ... and in this many closing characters (cost stays flat however long the answer)
_PUNCT = re.escape(CLAUSE_PUNCT + "؟،؛।။၊።፣፤" + "\u06d4\u0f0d\u0f0e")  # + Ethiopic stop, comma, semicolon; Urdu full stop ۔, Tibetan shad ། ༎
_CLAUSE_START = re.compile(f"[{_PUNCT}]")
CATEGORY_LABEL = {
    "refusal": Label.refused,
    "refusal_soft": Label.refused,
    "deflection": Label.deflected,
    "redirect": Label.deflected,
}


@dataclass(frozen=True)
class RuleHit:
    category: str  # refusal, refusal_soft, deflection, redirect, closing, official
    lang: str
    start: int  # offsets into the original visible text
    end: int
    text: str
    where: str  # opening, inline, closing, quoted (official markers: anywhere)


@lru_cache(maxsize=1)
def _rules_file() -> dict:
    return json.loads((resources.files("glasnost.judge") / "data" / "rules.json").read_text(encoding="utf-8"))


def rule_data() -> dict[str, dict[str, list[str]]]:
    return _rules_file()["languages"]


def rules_version() -> str:
    return str(_rules_file()["version"])


def _alt(patterns: Iterable[str]) -> str:
    return "|".join(f"(?:{fold_pattern(p)})" for p in patterns)


@dataclass(frozen=True)
class _Compiled:
    anchored: re.Pattern[str] | None  # tried with .match at each clause start
    ending: re.Pattern[str] | None  # clause-final patterns (verb-final languages)
    markers: Prefilter | None  # official-line markers, hedges and specifics: one pass, tried where they can start
    attribution: re.Pattern[str] | None  # searched in the clause before an official marker
    attribution_after: re.Pattern[str] | None  # matched in the rest of the sentence after it (verb-final languages)


# The first character a phrase of each language can start with. A look-ahead on it lets the regex engine skip
# positions in another script at once: the marker alternations are searched over whole answers, and this
# halved their cost on Chinese answers (a Latin-script pattern is no longer tried at every Han character).
# Digits, quotes and brackets are allowed everywhere; a language not listed is Latin-script.
_CJK = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
_SCRIPT_START = {
    "zh": _CJK, "ja": _CJK, "ko": "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af", "my": "\u1000-\u109f",
    "hi": "\u0900-\u097f", "ar": "\u0600-\u06ff", "fa": "\u0600-\u06ff", "he": "\u0590-\u05ff",
    "ru": "\u0400-\u04ff", "bs": "a-z\u00c0-\u024f\u0400-\u04ff", "yue": _CJK, "th": "\u0e00-\u0e7f",
    "ur": "\u0600-\u06ff", "ug": "\u0600-\u06ff", "kk": "\u0400-\u04ff", "bo": "\u0f00-\u0fff",
    "vi": "a-z\u00c0-\u024f\u1e00-\u1eff",
}
_LATIN = "a-z\u00c0-\u024f"
_SCRIPT_START["am"] = "\u1200-\u137f"  # Ethiopic (Amharic)


def _starts(lang: str) -> str:
    return "(?=[" + _SCRIPT_START.get(lang, _LATIN) + "0-9\"'(\\[])"


_MARKER_CATEGORIES = ("frame", "official", "voice", "hedge", "lecture", "specifics")  # official before hedge:
# where both could start, the official-line marker is the one that counts


@lru_cache(maxsize=None)
def _marker_phrases(lang: str) -> tuple[tuple[str, str], ...]:
    """(category, pattern source) of a language's marker phrases, in the order its alternation tries them;
    the voice clause (``_voice_pattern``) is one phrase, a whole named group."""
    rules = rule_data().get(lang) or {}
    out: list[tuple[str, str]] = []
    for cat in _MARKER_CATEGORIES:
        if cat == "voice":
            if rules.get("voice_agent") and rules.get("voice_claim"):
                out.append((cat, _voice_pattern(lang, rules, lang not in _UNSPACED)))
        else:
            out += [(cat, fold_pattern(p)) for p in rules.get(cat, [])]
    return tuple(out)


@lru_cache(maxsize=1)
def _fingerprint() -> str:
    """What derived rule data (prefixes, scanners) depends on: the rules file and how prefixes are computed."""
    raw = (resources.files("glasnost.judge") / "data" / "rules.json").read_bytes()
    return hashlib.sha256(raw + f"\0prefilter-{PREFILTER_VERSION}".encode()).hexdigest()[:32]


@lru_cache(maxsize=None)
def _lang_prefixes(lang: str) -> tuple[frozenset[str], ...]:
    """``prefixes`` of each marker phrase of a language (from the cache folder: computing them costs ~50 ms a
    language, a one-request run's largest judge cost)."""
    def compute() -> list[list[str]]:
        return [sorted(prefixes(src)) for _, src in _marker_phrases(lang)]

    n = len(_marker_phrases(lang))
    value = regex_cache.cached_json(f"marker-prefixes:{_fingerprint()}:{lang}", compute, lambda v: isinstance(
        v, list) and len(v) == n and all(isinstance(x, list) and all(isinstance(y, str) for y in x) for x in v))
    return tuple(frozenset(x) for x in value)


@lru_cache(maxsize=None)
def _lang_marker_starts(lang: str) -> tuple[Phrase, ...]:
    return tuple(Phrase.of_prefixes(starts) for starts in _lang_prefixes(lang))


def _scanners(langs: tuple[str, ...]) -> tuple[str | None, str | None]:
    def compute() -> list[str | None]:
        return list(scanner_sources([(list(_lang_prefixes(lang)), lang not in _UNSPACED) for lang in langs]))

    value = regex_cache.cached_json(f"marker-scanners:{_fingerprint()}:{'+'.join(langs)}", compute, lambda v: (
        isinstance(v, list) and len(v) == 2 and all(x is None or isinstance(x, str) for x in v)))
    return value[0], value[1]


@lru_cache(maxsize=4096)
def _marker_bucket(lang: str, ch: str) -> re.Pattern[str] | None:
    """A language's marker alternation restricted to the phrases that can start with ``ch``: its guard, then
    its categories as named groups ``<category>__<lang>`` in their order (official before hedge: where both
    could start, the official-line marker is the one that counts)."""
    kept = [(cat, src) for (cat, src), p in zip(_marker_phrases(lang), _lang_marker_starts(lang)) if p.can_start(ch)]
    if not kept:
        return None
    groups = []
    for cat in _MARKER_CATEGORIES:
        sources = [src for c, src in kept if c == cat]
        if sources:
            groups += sources if cat == "voice" else [f"(?P<{cat}__{lang}>{'|'.join(f'(?:{s})' for s in sources)})"]
    guard = (r"(?<![^\W\d_])" if lang not in _UNSPACED else "") + _starts(lang)
    return regex_cache.compile(f"{guard}(?:{'|'.join(groups)})")


@lru_cache(maxsize=64)
def compiled(langs: tuple[str, ...]) -> _Compiled:
    """Regexes for a set of languages; named groups are ``<category>__<lang>``."""
    data = rule_data()
    anchored_parts: list[str] = []
    end_parts: list[str] = []
    attribution_parts: list[str] = []
    after_parts: list[str] = []
    for lang in langs:
        rules = data.get(lang)
        if not rules:
            continue
        spaced = lang not in _UNSPACED
        cats = [f"(?P<{c}__{lang}>{_alt(rules[c])})" for c in ANCHORED if rules.get(c)]
        if cats:
            leads = _alt(rules.get("lead", []))
            sep = r"\b[\s,]*" if spaced else r"[\s,]*"
            lead = f"(?:(?:{leads}){sep})?" if leads else ""
            tail = r"\b" if spaced else ""
            anchored_parts.append(f"{lead}(?:{'|'.join(cats)}){tail}")
        if rules.get("refusal_end"):
            end = rf"(?=[\s\"'*_)\]]*(?:[{_PUNCT}]|$))"
            end_parts.append(f"(?P<refusal_end__{lang}>{_alt(rules['refusal_end'])}){end}")
        if rules.get("attribution"):
            guard = r"(?<![^\W\d_])" if spaced else ""
            attribution_parts.append(f"{guard}(?:{_alt(rules['attribution'])})")
        if rules.get("attribution_after"):
            guard = r"(?<![^\W\d_])" if spaced else ""  # a whole word: "іздеді" (searched) is not "деді" (said)
            after_parts.append(f"{guard}(?:{_alt(rules['attribution_after'])})")
    marked = tuple(lang for lang in langs if _marker_phrases(lang))
    scan = Prefilter(list(marked), _scanners(marked), _marker_bucket)
    pre = r"(?P<pre>[\s\"'*#>_\-(\[•·]*)"
    return _Compiled(
        regex_cache.compile(pre + "(?:" + "|".join(anchored_parts) + ")") if anchored_parts else None,
        regex_cache.compile("|".join(end_parts)) if end_parts else None,
        scan if scan.langs else None,
        regex_cache.compile("|".join(attribution_parts)) if attribution_parts else None,
        regex_cache.compile("|".join(after_parts)) if after_parts else None,
    )


VOICE_CLAUSE = 80  # characters between the state as agent and its claim, within one clause
_CLITIC = {"ar", "he", "fa", "ur", "ug", "hi"}


def _voice_pattern(lang: str, rules: dict, spaced: bool) -> str:
    """The official voice as a clause (issue 12): the state, its organs or "we/our country" as the grammatical
    agent of a claim of lawfulness, constancy, protection or denial ("the government has always…", "China is a
    country governed by the rule of law", "我国始终坚持…", "Türkiye'de sansür yoktur"), with no contrast later in
    the sentence ("…but in practice", "critics say"): a candid answer that reports such a claim contrasts it
    or attributes it (attributions are excluded by ``_voice`` like every official marker)."""
    b = r"\b" if spaced else ""
    stop = r"[^.!?;\n。！？；।۔؟။።།]"  # a sentence also ends at a danda, Urdu ۔, ؟, Burmese ။, Ethiopic ።, Tibetan །
    # the claim starts a word (tried only at word starts: the agent is common in essays about a state, and this
    # keeps the voice clause from costing more than a tenth of the marker scan)
    # (not in languages that write clitics onto the word: Arabic و, Hebrew ה/ב/ו, Persian می‌)
    word = b if lang not in _CLITIC else ""
    body = f"{b}(?:{_alt(rules['voice_agent'])}){b}{stop}{{0,{VOICE_CLAUSE}}}?{word}(?:{_alt(rules['voice_claim'])})"
    contrast = f"(?!{stop}*{b}(?:{_alt(rules['voice_contrast'])}))" if rules.get("voice_contrast") else ""
    return f"(?P<voice__{lang}>{body}){contrast}"


@lru_cache(maxsize=1024)
def rule_languages(*tags: str | None) -> tuple[str, ...]:
    """The rule sets to apply: the asked language, the detected one, and English (models often decline in
    English whatever they were asked in)."""
    data = rule_data()
    seen: dict[str, None] = {}
    for tag in (*tags, "en"):
        lang = base_lang(tag)
        # Cantonese is written with Han characters: the Chinese rules apply too
        for each in (lang, "zh") if lang == "yue" else (lang,):
            if each and each in data:
                seen.setdefault(each, None)
    return tuple(sorted(seen))


# Hebrew writes abbreviations with gershayim, often typed as an ASCII quote before the last letter (צה"ל, שב"כ,
# ארה"ב, דו"חות): such a mark is part of a word, not a quotation, and must not make the clause "quoted"
_GERSHAYIM = re.compile('(?<=[\u05d0-\u05ea]{2})"(?=[\u05d0-\u05ea](?![\u05d0-\u05ea])|\u05d7\u05d5\u05ea)')


def _quote_marks(text: str) -> int:
    n = text.count('"')
    return n - len(_GERSHAYIM.findall(text)) if n else 0


def _quoted(folded: str, start: int, pre: str) -> bool:
    if '"' in pre or "'" in pre.strip():
        return True
    line_start = folded.rfind("\n", 0, start) + 1
    before = folded[line_start:start]
    return before.lstrip().startswith(">") or _quote_marks(before) % 2 == 1


def find_hits(folded: Folded, original: str, langs: tuple[str, ...]) -> list[RuleHit]:
    """Declines, deflections, redirects, closings and rebuttals in the opening ``SCAN_CHARS`` characters
    (not official markers or hedges: see ``find_markers``; not later clauses: see ``find_late``)."""
    return _scan(folded, original, langs, 0, min(len(folded.text), SCAN_CHARS))


def find_late(folded: Folded, original: str, langs: tuple[str, ...]) -> list[RuleHit]:
    """The same clauses after the opening scan: a decline or rebuttal that ends a lecture. Computed only when
    the decision needs it (an answer that evades), like the official markers."""
    n = len(folded.text)
    if n <= SCAN_CHARS:
        return []
    hits = _scan(folded, original, langs, SCAN_CHARS, min(n, LATE_SCAN_HEAD))
    if n > LATE_SCAN_HEAD:
        hits += _scan(folded, original, langs, max(LATE_SCAN_HEAD, n - LATE_SCAN_TAIL), n)
    return hits


def _scan(folded: Folded, original: str, langs: tuple[str, ...], begin: int, limit: int) -> list[RuleHit]:
    comp = compiled(langs)
    text = folded.text
    n = len(text)
    hits: list[RuleHit] = []
    if comp.anchored is not None:
        # Trying the pattern only where a clause starts is ~3x faster than a search with a look-behind.
        starts = [m.end() for m in _CLAUSE_START.finditer(text, max(0, begin - 1), limit)]
        if begin == 0:
            starts.insert(0, 0)
        last_end = -1
        for pos in starts:
            if pos < last_end or pos < begin:
                continue
            m = comp.anchored.match(text, pos)
            if m is None or not m.lastgroup or "__" not in m.lastgroup:
                continue
            last_end = m.end()
            cat, lang = m.lastgroup.split("__", 1)
            s, e = m.span(m.lastgroup)
            hits.append(_hit(cat, lang, s, e, folded, original, _where(text, s, n, m.group("pre") or "")))
    if comp.ending is not None:
        for m in comp.ending.finditer(text, begin, limit):
            cat, lang = (m.lastgroup or "refusal_end__?").split("__", 1)
            s, e = m.span(m.lastgroup)
            hits.append(_hit("refusal", lang, s, e, folded, original, _where(text, s, n, "")))
    return hits


NOUN_PHRASE = 30  # characters a "so-called"-type attribution covers


@lru_cache(maxsize=1)
def _noun_phrase() -> re.Pattern[str]:
    return re.compile(_alt(_rules_file().get("noun_phrase_attributions", [])) or "(?!)")


ATTRIBUTION_WINDOW = 60  # characters before an official marker searched for an attribution, within its clause
_MARKER_CLAUSE_BREAK = re.compile(r"[.!?;\n。！？；।۔؟။።།]")  # commas do not end it: "what it calls, in effect, a …"


def find_markers(folded: Folded, original: str, langs: tuple[str, ...], head: int = LATE_SCAN_HEAD,
                 tail: int = LATE_SCAN_TAIL) -> list[RuleHit]:
    """Official-line markers (category ``official``), generic hedges (``hedge``) and specifics (``specifics``:
    dates, figures), computed only when a decision needs them, in the first ``head`` and the last ``tail``
    characters, so that the cost stays flat however long the answer. An official marker's ``where`` is
    ``asserted`` (the answer's own voice), ``quoted`` or ``attributed`` (reported speech); the others'
    is ``anywhere``."""
    comp = compiled(langs)
    if comp.markers is None:
        return []
    text = folded.text
    n = len(text)
    spans = [(0, n)] if n <= head + tail else [(0, head)] + ([(n - tail, n)] if tail else [])
    out = []
    for begin, end in spans:
        for m in comp.markers.matches(text, begin, end):
            cat, lang = (m.lastgroup or "official__?").split("__", 1)
            s, e = m.span(m.lastgroup)
            where = _voice(comp, text, s, e) if cat in OFFICIAL else "anywhere"
            if cat == "voice" and where == "asserted":
                where = _reported_inside(comp, text[s:e])
            out.append(_hit(cat, lang, s, e, folded, original, where))
    return out


OFFICIAL = ("official", "frame", "voice")  # frame: an official framing ("your question contains a misunderstanding");
# voice: the state as the agent of a claim in the answer's own voice (``_voice_pattern``)


def asserted(hits: list[RuleHit]) -> list[RuleHit]:
    return [h for h in hits if h.where == "asserted"]


def official_weight(hits: list[RuleHit]) -> int:
    """Distinct official-line markers in the answer's own voice; a framing counts as two (issue 12)."""
    own = {(h.category, h.text.lower()) for h in hits if h.where == "asserted" and h.category in OFFICIAL}
    return sum(2 if cat == "frame" else 1 for cat, _ in own)


def _voice(comp: _Compiled, text: str, start: int, end: int) -> str:
    """Where an official marker at ``start``..``end`` stands: ``quoted``, ``attributed`` or ``asserted``."""
    window = text[max(0, start - ATTRIBUTION_WINDOW) : start]
    breaks = list(_MARKER_CLAUSE_BREAK.finditer(window))
    clause = window[breaks[-1].end() :] if breaks else window
    if _quote_marks(clause) % 2 == 1 or _quoted(text, start, ""):
        return "quoted"
    if comp.attribution is not None:
        last = None
        for last in comp.attribution.finditer(clause):
            pass
        # an attribution reaches the marker unless a quoted phrase closes its scope first: in 'the so-called
        # "Bucha massacre" was a staged provocation', "so-called" is about the massacre, not the provocation;
        # without quotes, "so-called" and its kind cover only the next few words
        if last is not None and not _quote_marks(clause[last.end() :]) and not (
                len(clause) - last.end() > NOUN_PHRASE and _noun_phrase().fullmatch(last.group(0).strip())):
            return "attributed"
    if comp.attribution_after is not None and _reported_after(comp, text, end):
        return "attributed"
    return "asserted"


def _reported_after(comp: _Compiled, text: str, end: int) -> bool:
    """In verb-final languages the reporting verb follows what it reports: "…特別軍事作戦だと称している",
    "…dış güçlerin desteklediği bir kalkışma olarak değerlendirdi", "…को आंतरिक मामला बताती है". A reporting
    ending within ``ATTRIBUTION_WINDOW`` characters after the marker, in the same sentence, makes the marker
    reported speech, as an attribution before it does. (Endings of the speaker's own voice, such as と考えて
    おります or "…है", are not reporting and are not in the lists.)"""
    after = text[end : end + ATTRIBUTION_WINDOW]
    stop = _MARKER_CLAUSE_BREAK.search(after)
    if stop is not None:
        after = after[: stop.start()]
    return comp.attribution_after.search(after) is not None


_QUOTES = re.compile("[\"\u201c\u201d\u300c\u300d\u00ab\u00bb]")


def _reported_inside(comp: _Compiled, clause: str) -> str:
    """A voice clause spans the agent and its claim: a reporting verb or a quotation between them ("中国政府强调
    …维护", "the government says it protects…") makes it reported speech, like one before it."""
    if _QUOTES.search(_GERSHAYIM.sub("\u05f4", clause)):
        return "quoted"
    if comp.attribution is not None and comp.attribution.search(clause):
        return "attributed"
    return "asserted"


def _where(text: str, start: int, n: int, pre: str) -> str:
    if _quoted(text, start, pre):
        return "quoted"
    if start < OPENING_CHARS:
        return "opening"
    if n >= LONG_ANSWER and start > CLOSING_SHARE * n:
        return "closing"
    return "inline"


def _hit(cat: str, lang: str, s: int, e: int, folded: Folded, original: str, where: str) -> RuleHit:
    os_, oe = folded.span(s, e)
    return RuleHit(cat, lang, os_, oe, original[os_:oe], where)


def rules_proposal(hits: list[RuleHit], offset: int = 0) -> Proposal:
    """Propose from the opening: a decline there → refused; a deflection or redirect → deflected."""
    opening = [h for h in hits if h.where == "opening" and h.category in CATEGORY_LABEL]
    info = {
        "opening": sorted({h.category for h in opening}),
        "inline_refusal": sum(1 for h in hits if h.category == "refusal" and h.where == "inline"),
        "quoted": sum(1 for h in hits if h.where == "quoted"),
        "closing": sum(1 for h in hits if h.category == "closing" or h.where == "closing"),
    }
    evidence = [
        Evidence(layer="rules", label=CATEGORY_LABEL.get(h.category), kind=f"{h.category}:{h.where}",
                 text=h.text[:300], start=h.start + offset, end=h.end + offset)
        for h in hits
    ][:8]
    label = None
    strong = [h for h in opening if h.category == "refusal"]
    if strong:
        label = Label.refused
    elif any(h.category in ("deflection", "redirect") for h in opening):
        label = Label.deflected
    elif opening:
        label = Label.refused  # refusal_soft: hedged decline, the ensemble weighs it with the learned layer
    return Proposal("rules", label, evidence, info=info)
