"""Every estimator checked by simulation (issue 19): seeded, a few seconds each.

Designs are the built-in bank's mirror structure (``bank_design``) or made-up ones with chosen numbers of
topic families. Longer runs, and the table in docs/report.md: benchmarks/stats_simulation.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from glasnost.stats import analyze, load_audit
from glasnost.stats.asymmetry import classify, compare_states, state_figure
from glasnost.stats.multiple import holm
from glasnost.stats.paired import paired_difference
from glasnost.stats.rates import Estimate, clustered_rate
from glasnost.store import open_store
from glasnost.testing.stats_sim import bank_design, draw, expit, marginal_rate
from glasnost.testing.synthetic import RunBuilder, make_concept, synthetic_concepts


@pytest.fixture(scope="module")
def bank():
    return bank_design()


def simulate(design, runs, p_state, *, seed=0, **kw):
    """Per run: {state: (status, estimate)} for every compared state, statuses from Holm within the target."""
    rng = np.random.default_rng(seed)
    out = []
    for r in range(runs):
        counted, censored = draw(design, rng, p_state, **kw)
        figures, _, _ = compare_states(counted, censored, design.family, design.states, seed=r)
        figs = {design.states[s]: f for s, f in figures.items() if f is not None}
        ests = {s: f.estimate for s, f in figs.items()}
        tested = [s for s, e in ests.items() if e.testable]
        for s, ph in zip(tested, holm([ests[s].p for s in tested])):
            ests[s].p_holm = ph
        out.append({s: (classify(e, pooled=figs[s].pooled), e) for s, e in ests.items()})
    return out


FLAGS = ("censors_more", "answers_more_freely")


def test_bank_design_has_the_bank_structure(bank):
    # The design is read from the built-in bank: topic families (a knowledge, a criticism and an indirect
    # mirror group of one topic) for every state that has mirrors. The bank grows, so the figures are bounds:
    # at least the 14 families of bank 2026.11, China with the most, every state of the design with one.
    assert int(bank.family.max()) + 1 >= 14
    counts = {s: bank.families_of(s) for s in bank.states}
    assert counts["CN"] == max(counts.values()) and counts["CN"] >= 10
    assert counts["US"] >= 6 and counts["RU"] >= 6
    assert min(counts.values()) >= 1


@pytest.mark.parametrize("samples", [1, 3])
def test_china_only_model_flags_china_and_no_other_state(bank, samples):
    runs = simulate(bank, 100, {"CN": 0.9}, default=0.05, samples=samples, seed=samples)
    assert all(r["CN"][0] == "censors_more" for r in runs)
    others = [s for r in runs for s, (status, _) in r.items() if s != "CN" and status in FLAGS]
    # Before issue 19, the US was "answered more freely" in 100 % of runs and Russia in 70-99.5 %.
    assert len(others) <= 2, others
    # No state sharing groups with China is pulled negative on average.
    us = [r["US"][1].value for r in runs]
    assert abs(np.mean(us)) < 0.02


def test_a_model_that_censors_every_state_alike_flags_none(bank):
    runs = simulate(bank, 200, {}, default=0.6, seed=11)
    flagged = sum(any(status in FLAGS for status, _ in r.values()) for r in runs)
    assert flagged / len(runs) <= 0.06


def test_null_with_shared_topic_effects_false_positives_and_coverage(bank):
    # Topic effect SD 1 on the logit scale, shared by a topic's knowledge, criticism and indirect questions.
    runs = simulate(bank, 250, {}, default=0.3, topic_sd=1.0, seed=5)
    tested = [e for r in runs for _, e in r.values() if e.testable]
    assert len(tested) > 400
    false_positive = np.mean([e.p < 0.05 for e in tested])
    assert false_positive <= 0.06  # before: 0.17-0.19 with mirror groups as units
    coverage = np.mean([e.lo <= 0.0 <= e.hi for e in tested])
    assert 0.93 <= coverage <= 0.97, coverage
    assert all(e.lo < e.hi for r in runs for _, e in r.values())  # never zero-width


def test_coverage_of_a_planted_difference(bank):
    truth = marginal_rate(0.5, 1.0) - marginal_rate(0.3, 1.0)
    runs = simulate(bank, 300, {"CN": 0.5}, default=0.3, topic_sd=1.0, seed=7)
    cn = [r["CN"][1] for r in runs]
    coverage = np.mean([e.lo <= truth <= e.hi for e in cn])
    assert 0.93 <= coverage <= 0.97, coverage
    assert abs(np.mean([e.value for e in cn]) - truth) < 0.015  # unbiased: within 3 standard errors of 300 runs


def test_too_few_families_is_never_a_finding_and_never_a_point():
    # Three families that agree exactly (d = 0.85 each): the old interval was [0.85000006, 0.85000006]
    # while its own test gave p = 0.25.
    counted = np.full((3, 2, 1), 20.0)
    censored = np.zeros((3, 2, 1))
    censored[:, 0, 0] = 18.0
    censored[:, 1, 0] = 1.0
    f = state_figure(counted, censored, np.arange(3), 0, np.ones(2, dtype=bool))
    e = f.estimate
    assert e.value == pytest.approx(0.85)
    assert not e.testable and e.min_p == pytest.approx(0.25) and classify(e) == "too_few"
    assert e.lo < 0.85 < e.hi and (e.lo, e.hi) == (-1.0, 1.0)


def _rate_coverage(concepts: int, runs: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    truth = marginal_rate(0.3, 1.0)
    hits = 0
    for r in range(runs):
        u = rng.normal(0.0, 1.0, concepts)
        cens = rng.random((concepts, 2)) < expit(np.log(0.3 / 0.7) + u)[:, None]  # 2 languages per concept
        cluster = np.repeat(np.arange(concepts), 2)
        e = clustered_rate(cens.ravel(), np.ones(2 * concepts, dtype=bool), cluster, seed=r)
        hits += e.lo <= truth <= e.hi
    return hits / runs


def test_clustered_rate_coverage_on_a_bank_sized_design():
    assert 0.93 <= _rate_coverage(60, 300, 3) <= 0.97


def _topic_rate_coverage(topics: int, per_topic: int, runs: int, seed: int, by_topic: bool) -> float:
    """Concepts of one topic share its effect (SD 1): the bank's 60 sensitive topics hold 1-16 concepts."""
    rng = np.random.default_rng(seed)
    truth = marginal_rate(0.3, 1.0)
    topic = np.repeat(np.arange(topics), per_topic)
    rows_topic = np.repeat(topic, 2)  # 2 languages
    rows_concept = np.repeat(np.arange(topic.size), 2)
    hits = 0
    for r in range(runs):
        u = rng.normal(0.0, 1.0, topics)
        cens = rng.random((topic.size, 2)) < expit(np.log(0.3 / 0.7) + u[topic])[:, None]
        e = clustered_rate(cens.ravel(), np.ones(cens.size, dtype=bool), rows_topic if by_topic else rows_concept,
                           seed=r)
        hits += e.lo <= truth <= e.hi
    return hits / runs


def test_overall_rate_resamples_topics_not_concepts():
    assert _topic_rate_coverage(60, 3, 300, 4, by_topic=False) < 0.92  # concepts as units: too narrow (0.897)
    assert 0.93 <= _topic_rate_coverage(60, 3, 300, 4, by_topic=True) <= 0.97


def test_language_gap_coverage():
    rng = np.random.default_rng(9)
    concepts, runs, shift = 80, 300, 0.5
    truth = marginal_rate(expit(np.log(0.3 / 0.7) + shift), 1.0) - marginal_rate(0.3, 1.0)
    hits = 0
    for r in range(runs):
        u = rng.normal(0.0, 1.0, concepts)
        a = rng.random(concepts) < expit(np.log(0.3 / 0.7) + u)
        b = rng.random(concepts) < expit(np.log(0.3 / 0.7) + shift + u)
        keys = np.arange(concepts)
        d = paired_difference(keys, a, keys, b, keys, a="en", b="zh", seed=r).diff
        hits += d.lo <= truth <= d.hi
    assert 0.93 <= hits / runs <= 0.97


def test_report_statuses_end_to_end(tmp_path):
    """Through the store and analyze: China-only planted, a state whose only mirror is China, Tarone."""
    store = open_store(tmp_path / "g.db")
    concepts = synthetic_concepts(8, states=("CN", "US", "RU", "FR"))  # 8 topic families of 2 groups
    concepts += [make_concept("cn.solo.knowledge", "CN", "solo", mirrors=["mm.solo.knowledge"]),
                 make_concept("mm.solo.knowledge", "MM", "solo")]
    b = RunBuilder(store, concepts, targets=["m"], langs=["en", "zh-Hans"])
    rng = np.random.default_rng(0)
    for c in concepts:
        if c.kind == "control":
            continue
        for lang in ("en", "zh-Hans"):
            p = 0.9 if c.jurisdiction == "CN" else 0.3
            b.add("m", c.id, lang, "refused" if rng.random() < p else "answered")
    a = analyze(load_audit(store, [b.commit().run_id]))
    store.close()
    asym = {x.state: x for x in a.asymmetry}
    assert asym["CN"].status == "censors_more" and asym["CN"].estimate.p_holm < 0.05
    assert asym["CN"].families == 9 and asym["CN"].estimate.testable
    for state in ("US", "RU", "FR"):
        assert asym[state].status not in FLAGS
        assert asym[state].excluded == ["CN"]  # compared without China, which this model censors
    assert asym["MM"].status == "not_measurable" and asym["MM"].estimate.value is None
    # The Holm family holds exactly the testable comparisons.
    family = a.tests()
    assert all(e.testable for e in family)
    assert all(x.estimate.p_holm is None for x in a.asymmetry if not x.estimate.testable)
    testable_ps = [e.p for e in family]
    assert asym["CN"].estimate.p_holm == pytest.approx(holm(testable_ps)[testable_ps.index(asym["CN"].estimate.p)])
    assert isinstance(asym["CN"].estimate, Estimate)
    # The overall rate resamples topics: 8 synthetic topics per state x 4 states + "solo" for CN and MM.
    assert a.overall["m"].method == "bootstrap-topic" and a.overall["m"].clusters == 8 * 4 + 2
