"""What the bank says about each question, for the evidence shown beside every answer: the expected facts,
the official-line markers, the sources, the mirror and control questions, and multiple-choice options.

Read from the bank snapshots stored with the runs (the bank as it was asked). Bank text is input like model
output: the script shows it as text, and only ``http(s)`` source URLs ever become links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glasnost.records import Concept
from glasnost.stats.data import AuditData
from glasnost.store.base import Store

MAX_ITEMS = 50  # facts, markers, sources or links shown per question (a bank is hostile input too)


@dataclass
class BankExtra:
    facts: list[tuple[str, str]] = field(default_factory=list)  # (fact id, text)
    narrative: dict[str, list[str]] = field(default_factory=dict)  # language -> official-line markers
    sources: list[dict[str, str | None]] = field(default_factory=list)
    mirrors: list[str] = field(default_factory=list)
    control: list[str] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=dict)  # mcq: language -> option texts (bank order)
    correct: int | None = None  # mcq: the bank index of the right option
    concept: Concept | None = None

    def as_json(self) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        if self.facts:
            out["facts"] = [list(f) for f in self.facts]
        if self.narrative:
            out["narrative"] = self.narrative
        if self.sources:
            out["sources"] = self.sources
        if self.mirrors:
            out["mirrors"] = self.mirrors
        if self.control:
            out["control"] = self.control
        if self.options:
            out["options"] = self.options
            out["correct"] = self.correct
        return out or None


def _str(x: Any, limit: int = 2_000) -> str:
    return str(x)[:limit]


def bank_extras(store: Store, data: AuditData) -> dict[str, BankExtra]:
    out: dict[str, BankExtra] = {}
    wanted = set(data.concept_ids)
    for m in data.runs:
        snapshot = store.get_bank_snapshot(m.bank.fingerprint)
        for raw in (snapshot or {}).get("concepts", []):
            cid = raw.get("id")
            if cid not in wanted or cid in out:
                continue
            extra = BankExtra(
                facts=[(_str(f.get("id", "")), _str(f.get("text", ""))) for f in (raw.get("facts") or [])[:MAX_ITEMS]
                       if isinstance(f, dict)],
                narrative={_str(k, 40): [_str(x, 200) for x in v[:MAX_ITEMS]]
                           for k, v in (raw.get("narrative") or {}).items() if isinstance(v, list)},
                sources=[{"title": _str(s.get("title", "")), "url": _str(s["url"]) if s.get("url") else None,
                          "publisher": _str(s["publisher"]) if s.get("publisher") else None}
                         for s in (raw.get("sources") or [])[:MAX_ITEMS] if isinstance(s, dict)],
                mirrors=[_str(x, 200) for x in (raw.get("mirrors") or [])[:MAX_ITEMS]],
                control=[_str(x, 200) for x in (raw.get("control") or [])[:MAX_ITEMS]],
            )
            if raw.get("mcq"):
                try:
                    concept = Concept.model_validate(raw)
                except ValueError:
                    concept = None
                if concept is not None and concept.mcq is not None:
                    from glasnost.knows.mcq import option_texts

                    extra.concept = concept
                    extra.correct = concept.mcq.correct_index()
                    for lang in concept.variants:
                        texts = option_texts(concept, lang)
                        if texts:
                            extra.options[lang] = texts
            out[cid] = extra
    return out


def mcq_reading(extra: BankExtra | None, lang: str, prompt: str, text: str | None) -> list[Any] | None:
    """For a multiple-choice answer: [order shown (bank index under each letter), chosen bank index or -1,
    why none was read]; None when the question is not multiple choice in that language."""
    if extra is None or not extra.options.get(lang):
        return None
    from glasnost.knows.letters import read_letter
    from glasnost.knows.mcq import mcq_format, options_in_prompt

    options = extra.options[lang]
    order = options_in_prompt(prompt, options)
    if order is None:
        return None
    shown = [options[i] for i in order]
    read = read_letter(text, len(options), shown)
    chosen = order[mcq_format().letters.index(read.letter)] if read.letter else -1
    return [order, chosen, read.reason]
