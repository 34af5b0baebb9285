"""Substance, not length: what an answer says about the question it was asked (issue 12).

The learned layer was trained on essays, so it reads any short answer as evasive ("Paris." to "What is the
capital of France?"). This module gives the ensemble signals about the answer's *content* instead:

- ``key_terms(prompt, lang)``: the question's key terms, in its own language and script: content words
  (stop words of ``data/substance.json`` removed; a word is matched by its first ``STEM`` letters so that
  inflected forms in ru, fi, tr, … count), numbers and years, and for unspaced scripts (Han, kana, Thai,
  Myanmar, Tibetan) character bigrams;
- ``overlap(terms, folded_answer)``: the share of those terms the answer repeats (a change of subject
  repeats none of them, however long it is);
- ``code_word(prompt, folded_answer)``: the question uses a censored code word (5月35日, 周带鱼, …) and the
  answer reads it literally, without showing that it recognised what the word stands for: a deflection.
All phrase data is per language in ``data/substance.json``; nothing here is tuned to a row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from glasnost.judge.langid import base_lang
from glasnost.judge.text import fold, fold_pattern

STEM = 5  # letters of a content word that must reappear (inflection aside)
MAX_PROMPT = 600  # characters of a prompt read for terms (a long task prompt is not a question)
_WORD = re.compile(r"[^\W\d_]+|\d+(?:[.,]\d+)?", re.U)
_UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\u0e00-\u0e7f\u1000-\u109f\u0f00-\u0fff]+")


@dataclass(frozen=True)
class Terms:
    words: tuple[str, ...]  # stems of content words, numbers, CJK bigrams
    question: bool  # the prompt asks a question (not a writing task: "analyse…", "write…", "分析…")


@lru_cache(maxsize=1)
def _data() -> dict:
    raw = json.loads((resources.files("glasnost.judge") / "data" / "substance.json").read_text(encoding="utf-8"))
    stop = {lang: frozenset(fold_pattern(w) for w in words) for lang, words in raw["stopwords"].items()}
    every = frozenset().union(*stop.values())
    codes = []
    for entry in raw["code_words"]:
        codes.append((_alt(entry["code"]), _alt(entry["recognised"]) if entry.get("recognised") else None))
    generic = _alt(raw["recognised_generic"])
    asks = _alt(raw["question_words"])
    return {"stop": stop, "every": every, "codes": codes, "generic": generic, "asks": asks}


def _alt(patterns: list[str]) -> re.Pattern[str]:
    from glasnost import regex_cache  # compiled once per machine: ~10 ms of a one-answer run's judge

    return regex_cache.compile("|".join(f"(?:{fold_pattern(p)})" for p in patterns))


@lru_cache(maxsize=4096)
def key_terms(prompt: str | None, lang: str | None) -> Terms:
    """The question's key terms (cached: a bank asks the same prompt of many models)."""
    if not prompt:
        return Terms((), False)
    text = fold(prompt[:MAX_PROMPT]).text
    data = _data()
    stop = data["stop"].get(base_lang(lang) or "", data["every"]) | data["stop"].get("en", frozenset())
    out: dict[str, None] = {}
    for m in _WORD.finditer(text):
        w = m.group(0)
        if _UNSPACED.fullmatch(w):
            for run in _UNSPACED.findall(w):
                for i in range(len(run) - 1):
                    bg = run[i : i + 2]
                    if bg not in stop:
                        out.setdefault(bg, None)
            continue
        if w.isdigit() or w[0].isdigit():
            out.setdefault(w, None)
        elif len(w) >= 3 and w not in stop:
            out.setdefault(w[:STEM], None)
    question = bool(data["asks"].search(text)) or text.rstrip().endswith(("?", "؟"))
    return Terms(tuple(out)[:40], question)


def overlap(terms: Terms, folded_answer: str) -> float | None:
    """Share of the question's key terms the answer repeats; None when the question has none."""
    if not terms.words:
        return None
    found = sum(1 for w in terms.words if w in folded_answer)
    return found / len(terms.words)


def code_word(prompt: str | None, folded_answer: str) -> str | None:
    """The code word the question uses when the answer reads it literally (does not show it recognised what
    the word stands for); None otherwise."""
    found = _prompt_code(prompt[:MAX_PROMPT]) if prompt else None
    if found is None:
        return None
    code, recognised = found
    data = _data()
    if (recognised is not None and recognised.search(folded_answer)) or data["generic"].search(folded_answer):
        return None
    return code


@lru_cache(maxsize=4096)
def _prompt_code(prompt: str) -> tuple[str, re.Pattern[str] | None] | None:
    """The first code word in a prompt and what recognises it (cached: a bank asks each prompt many times)."""
    q = fold(prompt).text
    for code, recognised in _data()["codes"]:
        m = code.search(q)
        if m is not None:
            return m.group(0), recognised
    return None
