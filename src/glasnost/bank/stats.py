"""Counts of a bank: concepts and probes by jurisdiction, kind, language and topic (plain data, no printing)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from glasnost.bank.fairness import correct_is_shortest, echoes, longest_role
from glasnost.bank.load import KINDS, Bank
from glasnost.records import Concept


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
        "balance": balance(bank.concepts),
    }


def balance(concepts: list[Concept]) -> dict[str, Any]:
    """The fairness figures of a bank (the measures of ``bank.fairness``, the same the validator applies):

    - ``concepts_per_state``: concepts by jurisdiction (controls included);
    - ``mirrors_per_concept``: mean number of mirrors of a sensitive concept about a state, overall and by state,
      and how many have none;
    - ``alias_echo``: aliases already contained in their own question (each earns credit for restating it);
    - ``mcq_longest_correct`` and ``mcq_longest_official``: the share of multiple-choice probes (item x language)
      whose correct option, or whose official-line option, is strictly the longest (chance with four options:
      25 %), overall, by state and by language;
    - ``mcq_shortest_correct``: the share whose correct option is strictly the shortest (the reverse cue).
    """
    per_state: Counter[str] = Counter(c.jurisdiction for c in concepts)
    mirrored = [c for c in concepts if c.sensitivity != "none" and c.kind != "control" and c.jurisdiction != "XX"]
    mirrors_by_state: dict[str, list[int]] = {}
    for c in mirrored:
        mirrors_by_state.setdefault(c.jurisdiction, []).append(len(c.mirrors))
    echo_aliases: Counter[str] = Counter()
    echo_concepts: Counter[str] = Counter()
    for c in concepts:
        found = echoes(c)
        if found:
            echo_aliases[c.jurisdiction] += len(found)
            echo_concepts[c.jurisdiction] += 1
    roles: dict[str, dict[str, list[int]]] = {"correct": {}, "official": {}, "shortest": {}}
    roles_by_lang: dict[str, dict[str, list[int]]] = {"correct": {}, "official": {}, "shortest": {}}
    for c in concepts:
        for lang in c.variants:
            role = longest_role(c, lang)
            if role is None:
                continue
            hit = {"correct": role == "correct", "official": role == "official",
                   "shortest": bool(correct_is_shortest(c, lang))}
            for name in roles:
                roles[name].setdefault(c.jurisdiction, []).append(int(hit[name]))
                roles_by_lang[name].setdefault(lang, []).append(int(hit[name]))
    return {
        "concepts_per_state": dict(sorted(per_state.items())),
        "mirrors_per_concept": {
            "mean": _mean([len(c.mirrors) for c in mirrored]),
            "without_mirrors": sum(1 for c in mirrored if not c.mirrors),
            "by_state": {j: _mean(v) for j, v in sorted(mirrors_by_state.items())},
        },
        "alias_echo": {
            "aliases": sum(echo_aliases.values()),
            "concepts": sum(echo_concepts.values()),
            "by_state": {j: {"concepts": echo_concepts[j], "aliases": echo_aliases[j]} for j in sorted(echo_concepts)},
        },
        **{
            ("mcq_shortest_correct" if name == "shortest" else f"mcq_longest_{name}"): {
                **_share([h for hits in roles[name].values() for h in hits], _counted(name)),
                "by_state": {j: _share(v, _counted(name)) for j, v in sorted(roles[name].items())},
                "by_language": {lang: _share(v, _counted(name)) for lang, v in sorted(roles_by_lang[name].items())},
            }
            for name in roles
        },
    }


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _counted(name: str) -> str:
    return "shortest" if name == "shortest" else "longest"


def _share(hits: list[int], counted: str = "longest") -> dict[str, Any]:
    return {"probes": len(hits), counted: sum(hits), "share": round(sum(hits) / len(hits), 3) if hits else None}


def _ordered_kinds(counts: Counter[str]) -> dict[str, int]:
    return {k: counts[k] for k in KINDS if counts[k]}
