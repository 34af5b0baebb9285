"""Linking transcripts from elsewhere to the bank's concepts, so that ``glasnost classify`` can use layer 4.

A transcript produced by another tool from glasnost's bank (``glasnost bank export``, promptfoo, a
spreadsheet) carries no concept, and without one the judge loses fact coverage and the concept's narrative
markers: the learned layer alone, trained on long essays, reads a short factual answer as evasive. A row is
linked when it names a concept (``concept_id`` or ``concept``, as ``bank export`` writes it) or when its
prompt is a probe of the bank word for word (after folding case, width, Traditional→Simplified, quotes and
white space; trailing punctuation ignored). Anything else stays unlinked: a near match could attach the
wrong concept's facts, which is worse than none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from glasnost.judge.langid import base_lang
from glasnost.judge.text import fold
from glasnost.records import Concept

_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = " \t\n.?!。？！:：;；\"'"


def prompt_key(text: str) -> str:
    """The folded form under which a prompt is looked up (also used to index the bank's probes)."""
    return _SPACES.sub(" ", fold(text).text).strip(_EDGE_PUNCT)


@dataclass(frozen=True)
class Link:
    concept: Concept
    lang: str  # the bank's language tag for the probe (the row's own tag when the row named the concept)


class BankLinker:
    """Concept lookup by id or by exact (folded) probe text; built once per bank, a few hundred kB."""

    def __init__(self, concepts: list[Concept]) -> None:
        self.by_id = {c.id: c for c in concepts}
        self.by_prompt: dict[str, tuple[Concept, str] | None] = {}
        for c in concepts:
            for lang, text in c.variants.items():
                key = prompt_key(text)
                if not key:
                    continue
                seen = self.by_prompt.get(key, False)
                # the same text in two concepts cannot say which one was asked: never link it
                self.by_prompt[key] = (c, lang) if seen is False else None

    def link(self, row: dict[str, Any]) -> Link | None:
        named = row.get("concept_id") or row.get("concept")
        if isinstance(named, str) and named in self.by_id:
            concept = self.by_id[named]
            return Link(concept, _lang_for(concept, row.get("lang")))
        prompt = row.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return None
        hit = self.by_prompt.get(prompt_key(prompt))
        if hit is None:
            return None
        return Link(*hit)


def _lang_for(concept: Concept, row_lang: Any) -> str:
    """The variant tag matching the row's language (``zh`` → ``zh-Hans``), else the row's tag, else the first."""
    if isinstance(row_lang, str) and row_lang:
        if row_lang in concept.variants:
            return row_lang
        for tag in concept.variants:
            if base_lang(tag) == base_lang(row_lang):
                return tag
        return row_lang
    return next(iter(concept.variants), "und")
