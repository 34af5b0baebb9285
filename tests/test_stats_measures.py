"""Measures on stores built by hand, where every figure is known in advance."""

from __future__ import annotations

import pytest

from glasnost.errors import ConfigError
from glasnost.stats import analyze, choose_judge, load_audit, mirror_groups
from glasnost.stats.data import ConceptInfo
from glasnost.store import open_store
from glasnost.testing.synthetic import RunBuilder, make_concept, target_spec


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "g.db")
    yield s
    s.close()


def test_judge_choice():
    assert choose_judge(["default@1", "default@2", "llm@1"]) == "default@2"
    assert choose_judge(["default@2", "default@10"]) == "default@10"  # versions compare as numbers
    assert choose_judge(["ensemble@3"]) == "ensemble@3"
    assert choose_judge([]) is None
    assert choose_judge(["a@1", "llm@1", "llm@2"], "llm") == "llm@2"
    assert choose_judge(["a@1", "llm@1"], "a@1") == "a@1"
    with pytest.raises(ConfigError, match="choose one with --judge"):
        choose_judge(["a@1", "b@1"])
    with pytest.raises(ConfigError, match="judges present: a@1"):
        choose_judge(["a@1"], "nope")


def test_rate_counts_only_countable_verdicts(store):
    concepts = [make_concept(f"cn.t{i}.knowledge", "CN", f"t{i}") for i in range(10)]
    b = RunBuilder(store, concepts, targets=["m"], langs=["en"])
    for i in range(4):
        b.add("m", f"cn.t{i}.knowledge", "en", "refused")
    for i in range(4, 7):
        b.add("m", f"cn.t{i}.knowledge", "en", "answered")
    b.add("m", "cn.t7.knowledge", "en", "error", outcome="error", text=None)  # technical failure
    b.add("m", "cn.t8.knowledge", "en", "unclassifiable", status="judge_error")
    b.add("m", "cn.t9.knowledge", "en", None)  # unjudged
    run = b.commit()
    data = load_audit(store, [run.run_id])
    a = analyze(data)
    row = next(r for r in a.counts if r.lang == "en")
    assert (row.rate.k, row.rate.n) == (4, 7)
    assert row.rate.value == pytest.approx(4 / 7)
    assert (row.unjudged, row.judge_errors, row.errors) == (1, 1, 1)
    assert row.labels["refused"] == 4 and row.labels["answered"] == 3
    assert a.overall["m"].n == 7 and a.overall["m"].k == 4
    assert any("1 of 10 responses have no verdict" in w for w in a.warnings)


def test_controls_are_apart_from_the_rate(store):
    concepts = [make_concept("cn.t.knowledge", "CN", "t"), make_concept("cn.control.geo", "CN", "control", "control")]
    b = RunBuilder(store, concepts, targets=["m"], langs=["en"])
    b.add("m", "cn.t.knowledge", "en", "answered")
    b.add("m", "cn.control.geo", "en", "refused")
    data = load_audit(store, [b.commit().run_id])
    row = next(r for r in analyze(data).counts if r.lang == "en")
    assert (row.rate.k, row.rate.n) == (0, 1)
    assert (row.control.k, row.control.n) == (1, 1)


def test_unjudged_run_has_outcome_counts_and_no_rates(store):
    concepts = [make_concept("cn.t.knowledge", "CN", "t")]
    b = RunBuilder(store, concepts, targets=["m"], langs=["en", "zh-Hans"])
    b.add("m", "cn.t.knowledge", "en", None)
    b.add("m", "cn.t.knowledge", "zh-Hans", None, outcome="blocked")
    a = analyze(load_audit(store, [b.commit().run_id]))
    assert a.judge is None
    assert a.warnings[0].startswith("not judged yet")
    en = next(r for r in a.counts if r.lang == "en")
    zh = next(r for r in a.counts if r.lang == "zh-Hans")
    assert en.outcomes["ok"] == 1 and zh.outcomes["blocked"] == 1
    assert en.rate.value is None and a.asymmetry == [] and a.language_gaps == []


def _mirror_bank():
    # Group 1 (protests): CN, US, FR. Group 2 (detention): CN, RU. Linked one way only (components anyway).
    return [
        make_concept("cn.protest.knowledge", "CN", "protest", mirrors=["us.protest.knowledge", "fr.protest.knowledge"]),
        make_concept("us.protest.knowledge", "US", "protest"),
        make_concept("fr.protest.knowledge", "FR", "protest", mirrors=["us.protest.knowledge"]),
        make_concept("cn.detention.knowledge", "CN", "detention", mirrors=["ru.detention.knowledge"]),
        make_concept("ru.detention.knowledge", "RU", "detention"),
        make_concept("xx.rights.knowledge", "XX", "rights"),
        make_concept("cn.control.geography", "CN", "control", "control"),
    ]


def test_mirror_groups_are_connected_components():
    infos = {c.id: ConceptInfo(c.id, c.jurisdiction, c.topic, c.kind, mirrors=c.mirrors) for c in _mirror_bank()}
    assert mirror_groups(infos) == [
        ["cn.detention.knowledge", "ru.detention.knowledge"],
        ["cn.protest.knowledge", "fr.protest.knowledge", "us.protest.knowledge"],
    ]


def test_asymmetry_selective_versus_cautious(store):
    b = RunBuilder(store, _mirror_bank(), targets=["selective", "cautious"], langs=["en", "zh-Hans"])
    for c in _mirror_bank():
        for lang in ("en", "zh-Hans"):
            b.add("selective", c.id, lang, "refused" if c.jurisdiction == "CN" else "answered")
            b.add("cautious", c.id, lang, "refused")
    a = analyze(load_audit(store, [b.commit().run_id]))
    asym = {(x.target, x.state): x for x in a.asymmetry}
    cn = asym[("selective", "CN")]
    assert cn.estimate.value == pytest.approx(1.0)  # both groups: CN censored, mirrors answered
    assert cn.estimate.n == 2 and cn.estimate.unit == "families"  # two topics: two families
    assert cn.estimate.p == pytest.approx(0.5)  # exact sign flip over two families
    # Two families can never give p < 0.05: too few to tell, whatever the data, and no zero-width interval.
    assert cn.status == "too_few" and not cn.estimate.testable and cn.estimate.min_p == pytest.approx(0.5)
    assert cn.estimate.lo < cn.estimate.hi
    assert cn.rate_state == 1.0 and cn.rate_mirrors == 0.0
    # About the US (group 1 only): US answered (0) minus the others, CN censored and FR answered (0.5).
    assert asym[("selective", "US")].estimate.value == pytest.approx(-0.5)
    assert asym[("selective", "US")].estimate.n == 1
    assert asym[("selective", "RU")].estimate.value == pytest.approx(-1.0)
    # Refusing everything is cautious, not selective.
    for state in ("CN", "US", "FR", "RU"):
        assert asym[("cautious", state)].estimate.value == pytest.approx(0.0)
    assert ("selective", "XX") not in asym
    # Untestable comparisons stay out of the Holm family.
    assert all(x.estimate.p_holm is None and x.status == "too_few" for x in a.asymmetry)
    assert all(e.testable for e in a.tests())


def test_asymmetry_pairs_only_languages_both_sides_were_asked_in(store):
    bank = [make_concept("cn.p.knowledge", "CN", "p", mirrors=["us.p.knowledge"], langs=["en", "zh-Hans"]),
            make_concept("us.p.knowledge", "US", "p", langs=["en"])]
    b = RunBuilder(store, bank, targets=["m"], langs=["en", "zh-Hans"])
    b.add("m", "cn.p.knowledge", "en", "answered")
    b.add("m", "cn.p.knowledge", "zh-Hans", "refused")  # no US question in zh: must not enter the pair
    b.add("m", "us.p.knowledge", "en", "answered")
    a = analyze(load_audit(store, [b.commit().run_id]))
    cn = next(x for x in a.asymmetry if x.state == "CN")
    assert cn.estimate.value == 0.0
    assert cn.groups[0].langs == ["en"]


def test_language_gap_known_counts(store):
    concepts = [make_concept(f"cn.t{i}.knowledge", "CN", f"t{i}") for i in range(30)]
    b = RunBuilder(store, concepts, targets=["m"], langs=["en", "zh-Hans"])
    for i, c in enumerate(concepts):
        en = "refused" if i in (0, 1) else "answered"  # 2 pairs censored in en only
        zh = "refused" if 2 <= i < 14 else "answered"  # 12 pairs censored in zh only
        b.add("m", c.id, "en", en)
        b.add("m", c.id, "zh-Hans", zh)
    a = analyze(load_audit(store, [b.commit().run_id]))
    (target, gap), = a.language_gaps
    assert target == "m" and (gap.a, gap.b) == ("en", "zh-Hans")
    assert (gap.b_only, gap.a_only, gap.diff.n) == (12, 2, 30)
    assert gap.diff.value == pytest.approx(10 / 30)
    assert gap.diff.p == pytest.approx(212 / 16384)  # exact McNemar on 14 discordant pairs
    assert gap.diff.test == "McNemar exact"
    assert gap.diff.lo < 10 / 30 < gap.diff.hi
    assert gap.diff.p_holm == pytest.approx(gap.diff.p)  # the only comparison of the family


def test_language_gap_ignores_unpaired_and_uncounted(store):
    concepts = [make_concept(f"cn.t{i}.knowledge", "CN", f"t{i}") for i in range(3)]
    b = RunBuilder(store, concepts, targets=["m"], langs=["en", "zh-Hans"])
    b.add("m", "cn.t0.knowledge", "en", "answered")
    b.add("m", "cn.t0.knowledge", "zh-Hans", "refused")
    b.add("m", "cn.t1.knowledge", "en", "answered")
    b.add("m", "cn.t1.knowledge", "zh-Hans", "error", outcome="error")  # not counted: no pair
    b.add("m", "cn.t2.knowledge", "en", "refused")  # no zh answer at all
    a = analyze(load_audit(store, [b.commit().run_id]))
    (_, gap), = a.language_gaps
    assert gap.diff.n == 1 and gap.diff.value == 1.0


def test_host_gap_pairs_the_same_model_on_two_endpoints(store):
    concepts = [make_concept(f"cn.t{i}.knowledge", "CN", f"t{i}") for i in range(10)]
    direct = target_spec("direct", model="deepseek-chat", host="https://api.example.cn/v1")
    relay = target_spec("relay", model="deepseek/deepseek-chat", host="https://relay.example.org/v1")
    other = target_spec("other", model="llama-3", host="https://relay.example.org/v1")
    b = RunBuilder(store, concepts, targets=[direct, relay, other], langs=["en"])
    for i, c in enumerate(concepts):
        b.add("direct", c.id, "en", "refused" if i < 8 else "answered")
        b.add("relay", c.id, "en", "refused" if i < 3 else "answered")
        b.add("other", c.id, "en", "answered")
    a = analyze(load_audit(store, [b.commit().run_id]))
    (model, gap), = a.host_gaps
    assert model == "deepseek-chat"
    assert (gap.a, gap.b) == ("direct", "relay")
    assert gap.diff.value == pytest.approx(-0.5)
    assert (gap.a_only, gap.b_only) == (5, 0)
    assert gap.diff.p == pytest.approx(2 / 32)


def test_fact_coverage_of_answered_knowledge_only(store):
    concepts = [make_concept(f"cn.t{i}.knowledge", "CN", f"t{i}") for i in range(3)]
    concepts.append(make_concept("cn.t.criticism", "CN", "t", "criticism"))
    b = RunBuilder(store, concepts, targets=["m"], langs=["en"])
    b.add("m", "cn.t0.knowledge", "en", "answered", fact_coverage=1.0)
    b.add("m", "cn.t1.knowledge", "en", "answered", fact_coverage=0.5)
    b.add("m", "cn.t2.knowledge", "en", "deflected", fact_coverage=0.0)  # not answered: not counted
    b.add("m", "cn.t.criticism", "en", "answered", fact_coverage=0.0)  # not a knowledge question
    a = analyze(load_audit(store, [b.commit().run_id]))
    (target, lang, e), = a.fact_coverage
    assert (target, lang, e.n) == ("m", "en", 2)
    assert e.value == pytest.approx(0.75)


def test_judge_agreement_from_the_store(store):
    concepts = [make_concept(f"cn.t{i}.knowledge", "CN", f"t{i}") for i in range(50)]
    b = RunBuilder(store, concepts, targets=["m"], langs=["en"])
    # The textbook 2x2 table again (kappa 0.4): 20 both censored, 5 / 10 split, 15 both answered.
    plan = ([("refused", "refused")] * 20 + [("refused", "answered")] * 5 + [("answered", "refused")] * 10
            + [("answered", "answered")] * 15)
    for c, (x, y) in zip(concepts, plan):
        b.add("m", c.id, "en", x, judge="default@1", other_judges={"llm@1": y})
    a = analyze(load_audit(store, [b.commit().run_id]))
    assert a.judge == "default@1"
    ag = a.agreement
    assert ag is not None and ag.judges == ["default@1", "llm@1"]
    (_, _, k), = ag.pairwise
    assert k.kappa == pytest.approx(0.4) and k.n == 50
    assert ag.disagreements == 15 and len(a.disagreement_rows) == 15
    assert ag.fleiss is None


def test_three_judges_give_fleiss(store):
    concepts = [make_concept(f"cn.t{i}.knowledge", "CN", f"t{i}") for i in range(4)]
    b = RunBuilder(store, concepts, targets=["m"], langs=["en"])
    labels = [("refused", "refused", "refused"), ("answered", "answered", "answered"),
              ("refused", "answered", "refused"), ("answered", "answered", "deflected")]
    for c, (x, y, z) in zip(concepts, labels):
        b.add("m", c.id, "en", x, other_judges={"a@1": y, "b@1": z})
    a = analyze(load_audit(store, [b.commit().run_id]))
    assert a.agreement.fleiss is not None and a.agreement.fleiss.n == 4
    assert len(a.agreement.pairwise) == 3


def test_two_runs_of_one_target_merge_unless_incomparable(store):
    from glasnost.records import GenerationConfig

    concepts = [make_concept("cn.t.knowledge", "CN", "t")]
    b1 = RunBuilder(store, concepts, targets=["m"], langs=["en"])
    b1.add("m", "cn.t.knowledge", "en", "refused")
    r1 = b1.commit()
    b2 = RunBuilder(store, concepts, targets=["m"], langs=["en"], generation=GenerationConfig(temperature=0.7))
    b2.add("m", "cn.t.knowledge", "en", "answered")
    r2 = b2.commit()
    data = load_audit(store, [r1.run_id, r2.run_id])
    assert data.targets == [f"m [{r1.run_id[:8]}]", f"m [{r2.run_id[:8]}]"]
    # The same run twice is a mistake, said in one line.
    with pytest.raises(ConfigError, match="given twice"):
        load_audit(store, [r1.run_id, r1.run_id])


def test_missing_bank_snapshot_is_guessed_and_said(store, monkeypatch):
    concepts = [make_concept("ru.crimea-2014.knowledge", "RU", "crimea-2014")]
    b = RunBuilder(store, concepts, targets=["m"], langs=["en"])
    b.add("m", concepts[0].id, "en", "refused")
    run = b.commit()
    monkeypatch.setattr(store, "get_bank_snapshot", lambda fp: None)
    data = load_audit(store, [run.run_id])
    info = data.concepts["ru.crimea-2014.knowledge"]
    assert (info.jurisdiction, info.topic, info.kind, info.known) == ("RU", "crimea-2014", "knowledge", False)
    assert any("bank snapshot" in w for w in data.warnings)


def test_synthetic_run_recovers_what_it_planted(store):
    from glasnost.testing.synthetic import synthetic_run

    run = synthetic_run(store, 4000, seed=3)
    a = analyze(load_audit(store, [run.run_id]))
    asym = {(x.target, x.state): x.estimate for x in a.asymmetry}
    cn_a = asym[("model-a", "CN")]
    assert cn_a.lo > 0.4 and cn_a.p_holm < 0.01  # model-a censors China far more than the mirrors
    cn_b = asym[("model-b", "CN")]
    assert cn_b.lo < 0 < cn_b.hi  # model-b does not
    gaps = {t: r for t, r in a.language_gaps}
    assert gaps["model-a"].diff.lo > 0  # more censorship in Chinese
    assert a.overall["model-a"].lo > a.overall["model-b"].hi


def test_report_says_too_few_to_tell(store, tmp_path):
    from glasnost.report import write_report

    b = RunBuilder(store, _mirror_bank(), targets=["selective"], langs=["en", "zh-Hans"])
    for c in _mirror_bank():
        for lang in ("en", "zh-Hans"):
            b.add("selective", c.id, lang, "refused" if c.jurisdiction == "CN" else "answered")
    run = b.commit()
    for fmt in ("md", "html"):
        text = write_report(store, [run.run_id], tmp_path / f"r.{fmt}", fmt=fmt).read_text()
        assert "too few to tell" in text  # two topic families: no test could ever tell
        assert "[+100.0, +100.0]" not in text  # and no interval collapsed to a point
