"""Counts of a bank: concepts and probes by jurisdiction, kind, language and topic (plain data, no printing)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from glasnost.bank.load import KINDS, Bank


def bank_stats(bank: Bank) -> dict[str, Any]:
    """Counts as JSON-ready data. Topics are keyed ``<jur>.<topic>`` because topic names repeat across states
    (every jurisdiction has a ``control`` topic)."""
    by_jur: dict[str, dict[str, Any]] = {}
    by_kind: Counter[str] = Counter()
    kind_probes: Counter[str] = Counter()
    by_lang: Counter[str] = Counter()
    by_sensitivity: Counter[str] = Counter()
    by_topic: dict[str, dict[str, Any]] = {}
    for c in bank.concepts:
        n = len(c.variants)
        jur = by_jur.setdefault(c.jurisdiction, {"concepts": 0, "probes": 0, "kinds": Counter(), "languages": set()})
        jur["concepts"] += 1
        jur["probes"] += n
        jur["kinds"][c.kind] += 1
        jur["languages"].update(c.variants)
        by_kind[c.kind] += 1
        kind_probes[c.kind] += n
        by_lang.update(c.variants.keys())
        by_sensitivity[c.sensitivity] += 1
        topic = by_topic.setdefault(
            f"{c.jurisdiction.lower()}.{c.topic}",
            {"jurisdiction": c.jurisdiction, "topic": c.topic, "concepts": 0, "probes": 0, "kinds": Counter()},
        )
        topic["concepts"] += 1
        topic["probes"] += n
        topic["kinds"][c.kind] += 1
    return {
        "bank": bank.name,
        "version": bank.version,
        "fingerprint": bank.fingerprint,
        "concepts": len(bank.concepts),
        "probes": sum(by_lang.values()),
        "by_jurisdiction": {
            j: {
                "concepts": v["concepts"],
                "probes": v["probes"],
                "kinds": _ordered_kinds(v["kinds"]),
                "languages": sorted(v["languages"]),
            }
            for j, v in sorted(by_jur.items())
        },
        "by_kind": {k: {"concepts": by_kind[k], "probes": kind_probes[k]} for k in KINDS if by_kind[k]},
        "by_language": dict(sorted(by_lang.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_sensitivity": {s: by_sensitivity[s] for s in ("high", "medium", "low", "none") if by_sensitivity[s]},
        "by_topic": {k: {**v, "kinds": _ordered_kinds(v["kinds"])} for k, v in sorted(by_topic.items())},
    }


def _ordered_kinds(counts: Counter[str]) -> dict[str, int]:
    return {k: counts[k] for k in KINDS if counts[k]}
