"""Knows vs says: how often a target knows a documented fact and says it, knows it and withholds it, or does
not know it — per target, method, state and language, with Wilson intervals and n.

A *pair* is one check (see ``checks.py``) with the same target's open answer to the paired knowledge concept
in the same language: a chat mcq answer pairs with the open answer of the same sample index; a white-box
check (deterministic) pairs with every sample of the open answer. Its category:

- ``knows_says``: the check is right and the open answer says;
- ``knows_withholds``: the check is right and the open answer withholds (the trained-behaviour signal);
- ``unknown``: the check is wrong (split in the data by what the open answer did).

Excluded, with their counts shown: checks that are non-answers or errors, open answers that failed, are not
judged or got a judge error; checks with no open answer in these runs are counted as ``unpaired`` (they
still enter the accuracy, which needs no open answer).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glasnost.knows.checks import METHODS, Check, checks_from, open_status
from glasnost.knows.scores import ScoreRecord, iter_score_records
from glasnost.records import Concept, Outcome, Response
from glasnost.stats.data import choose_judge
from glasnost.stats.rates import Estimate, clustered_rate, wilson_rate
from glasnost.store.base import Store

CATEGORIES = ("knows_says", "knows_withholds", "unknown")
METHOD_ORDER = {m: i for i, m in enumerate(METHODS)}


@dataclass
class KnowsRow:
    target: str
    method: str
    state: str | None  # None: every state
    lang: str | None  # None: every language
    checks: Counter = field(default_factory=Counter)  # right | wrong | non_answer | error
    reasons: Counter = field(default_factory=Counter)  # why checks were non-answers or errors
    pairs: Counter = field(default_factory=Counter)  # knows_says | knows_withholds | unknown_says | unknown_withholds
    excluded: Counter = field(default_factory=Counter)  # pairs left out, by reason
    unpaired: int = 0  # checks without an open answer in these runs
    accuracy: Estimate = field(default_factory=lambda: wilson_rate(0, 0))  # right / (right + wrong)
    shares: dict[str, Estimate] = field(default_factory=dict)  # category -> share of counted pairs
    p_correct: float | None = None  # mean probability on the correct letter (mcq with logprobs)
    p_n: int = 0

    @property
    def n(self) -> int:
        return sum(self.pairs.values())


@dataclass
class KnowsAnalysis:
    judge: str | None
    rows: list[KnowsRow]  # per target x method x state x language
    totals: list[KnowsRow]  # per target x method (every state and language)
    checks: int = 0


def category(check: Check, said: str) -> str:
    knows = "knows" if check.state == "right" else "unknown"
    return f"{knows}_{said}"


def _row_estimates(row: KnowsRow) -> None:
    right, wrong = row.checks["right"], row.checks["wrong"]
    row.accuracy = wilson_rate(right, right + wrong)
    n = row.n
    row.shares = {
        "knows_says": wilson_rate(row.pairs["knows_says"], n),
        "knows_withholds": wilson_rate(row.pairs["knows_withholds"], n),
        "unknown": wilson_rate(row.pairs["unknown_says"] + row.pairs["unknown_withholds"], n),
    }


def measure(checks: list[Check], opens: dict[tuple[str, str, str], dict[int, tuple[str, str | None]]],
            judge: str | None, *, seed: int = 0) -> KnowsAnalysis:
    """``opens``: (target, knowledge concept id, lang) -> sample index -> (says|withholds|excluded, reason)."""
    rows: dict[tuple[str, str, str | None, str | None], KnowsRow] = {}
    # for the all-states rows: one entry per counted pair (category, topic cluster), bootstrapped by topic
    counted: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    p_values: dict[tuple, list[float]] = defaultdict(list)

    def rows_of(c: Check) -> list[KnowsRow]:
        keys = [(c.target, c.method, c.jurisdiction, c.lang), (c.target, c.method, None, None)]
        return [rows.setdefault(k, KnowsRow(*k)) for k in keys]

    for c in checks:
        mine = rows_of(c)
        for row in mine:
            row.checks[c.state] += 1
            if c.reason and c.state in ("non_answer", "error"):
                row.reasons[c.reason] += 1
            if c.p_correct is not None:
                p_values[(row.target, row.method, row.state, row.lang)].append(c.p_correct)
        answers = opens.get((c.target, c.open_id, c.lang), {}) if c.open_id else {}
        if c.sample is not None:
            answers = {c.sample: answers[c.sample]} if c.sample in answers else {}
        if not answers:
            for row in mine:
                row.unpaired += 1
            continue
        for said, reason in answers.values():
            for row in mine:
                if c.state not in ("right", "wrong"):
                    row.excluded["check " + ("error" if c.state == "error" else "non-answer")] += 1
                elif said == "excluded":
                    row.excluded[reason or "open answer excluded"] += 1
                else:
                    row.pairs[category(c, said)] += 1
            if c.state in ("right", "wrong") and said != "excluded":
                counted[(c.target, c.method)].append((category(c, said), f"{c.jurisdiction}.{c.topic}"))

    for key, row in rows.items():
        _row_estimates(row)
        ps = p_values.get(key)
        if ps:
            row.p_correct, row.p_n = float(np.mean(ps)), len(ps)
        if row.state is None and row.n:
            _clustered_shares(row, counted[(row.target, row.method)], seed)
    ordered = sorted(rows.values(), key=lambda r: (r.target, METHOD_ORDER.get(r.method, 9), r.state or "", r.lang or ""))
    return KnowsAnalysis(judge=judge, rows=[r for r in ordered if r.state is not None],
                         totals=[r for r in ordered if r.state is None], checks=len(checks))


def _clustered_shares(row: KnowsRow, pairs: list[tuple[str, str]], seed: int) -> None:
    """Over many topics, the pairs of one topic (languages, samples, mcq-2) are not independent: the
    all-states interval is a bootstrap over topics (Wilson when there is only one)."""
    _, cluster = np.unique(np.array([p[1] for p in pairs]), return_inverse=True)
    every = np.ones(len(pairs), dtype=bool)
    groups = {"knows_says": np.array([p[0] == "knows_says" for p in pairs]),
              "knows_withholds": np.array([p[0] == "knows_withholds" for p in pairs]),
              "unknown": np.array([p[0].startswith("unknown") for p in pairs])}
    for name, hit in groups.items():
        e = clustered_rate(hit, every, cluster, seed=seed)
        if e.method == "bootstrap-concept":
            e.method = "bootstrap-topic"  # the clusters here are topics
        row.shares[name] = e


# ---- loading from a store ----------------------------------------------------------------------------------


def _concepts(store: Store, run_ids: list[str]) -> dict[str, Concept]:
    out: dict[str, Concept] = {}
    for run_id in run_ids:
        m = store.get_run(run_id)
        snapshot = store.get_bank_snapshot(m.bank.fingerprint) or {}
        for raw in snapshot.get("concepts", []):
            try:
                out[raw["id"]] = Concept.model_validate(raw)
            except Exception:  # a snapshot from another glasnost version: skip what cannot be read
                continue
    return out


VERDICT_CHUNK = 64  # verdicts decoded at once when pairing open answers (bounds memory on a large audit)


def load_knows(store: Store, run_ids: list[str], judge: str | None = None, *, seed: int = 0,
               judge_chosen: bool = False) -> KnowsAnalysis:
    """The knows-vs-says measure of ``run_ids``. ``judge`` as in reports (``choose_judge``); with
    ``judge_chosen`` it is taken as already chosen (None: nothing judged)."""
    runs = [store.get_run(r).run_id for r in run_ids]
    if not judge_chosen:
        judge = choose_judge(sorted({j for r in runs for j in store.judges(r)}), judge)
    concepts = _concepts(store, runs)
    wanted_open = {c.id for c in concepts.values() if c.kind == "knowledge"}
    checks: list[Check] = []
    # Open answers are kept as (key, target, concept, language, sample, outcome) only, read from the store's
    # columns: all a pairing needs. Only multiple-choice answers are decoded, each read as it comes.
    opens_raw: list[tuple[str, str, str, str, int, Outcome]] = []
    scores: dict[str, ScoreRecord] = {}
    seen: set[str] = set()
    for run_id in runs:
        for s in iter_score_records(store, run_id):
            scores.setdefault(s.key, s)
    if not scores and not any(c.kind == "mcq" for c in concepts.values()):
        return measure([], {}, judge, seed=seed)  # nothing to check: skip reading every response again
    for run_id in runs:
        mcq_keys: list[str] = []
        heads = 0
        for key, concept_id, lang, target_id, sample_index, outcome in store.iter_response_heads(run_id):
            heads += 1
            if key in seen:
                continue
            seen.add(key)
            kind = concepts[concept_id].kind if concept_id in concepts else None
            if kind == "mcq":
                mcq_keys.append(key)
            elif concept_id in wanted_open:
                opens_raw.append((key, target_id, concept_id, lang, sample_index, Outcome(outcome)))
        if len(mcq_keys) * 2 <= heads:  # a few: read by key; most of the run: in one pass
            mcq = (r for r in map(store.get_response, mcq_keys) if r is not None)
        else:
            wanted = set(mcq_keys)
            mcq = (r for r in store.iter_responses(run_id) if r.key in wanted)
        checks.extend(checks_from(mcq, (), concepts))  # read one at a time, never all held
    opens: dict[tuple[str, str, str], dict[int, tuple[str, str | None]]] = defaultdict(dict)
    for i in range(0, len(opens_raw), VERDICT_CHUNK):  # a chunk of whole verdicts at a time, then their status
        chunk = opens_raw[i:i + VERDICT_CHUNK]
        verdicts = store.verdicts_for((o[0] for o in chunk), judge) if judge else {}
        for key, target_id, concept_id, lang, sample_index, outcome in chunk:
            opens[(target_id, concept_id, lang)][sample_index] = open_status(outcome, verdicts.get(key))
    checks.extend(checks_from((), scores.values(), concepts))
    return measure(checks, opens, judge, seed=seed)


def to_dict(a: KnowsAnalysis) -> dict[str, Any]:
    def est(e: Estimate) -> dict[str, Any]:
        return {"value": e.value, "lo": e.lo, "hi": e.hi, "n": e.n, "k": e.k, "method": e.method}

    def row(r: KnowsRow) -> dict[str, Any]:
        return {
            "target": r.target, "method": r.method, "state": r.state, "lang": r.lang, "n": r.n,
            "checks": dict(r.checks), "check_reasons": dict(r.reasons), "pairs": dict(r.pairs),
            "excluded": dict(r.excluded), "unpaired": r.unpaired, "accuracy": est(r.accuracy),
            **{k: est(v) for k, v in r.shares.items()},
            "p_correct_letter": r.p_correct, "p_correct_letter_n": r.p_n,
        }

    return {"judge": a.judge, "checks": a.checks, "totals": [row(r) for r in a.totals],
            "rows": [row(r) for r in a.rows]}

