"""Knows vs says, the measure: a hand-computed case through the store, and the report section in every format."""

from __future__ import annotations

import json
import math
import re

import pytest

from glasnost.knows.measure import load_knows, to_dict
from glasnost.knows.mcq import mcq_prompt, permutation
from glasnost.knows.scores import ScoreRecord
from glasnost.records import Concept, Outcome, Response
from glasnost.report import write_report
from glasnost.stats.intervals import wilson
from glasnost.store import open_store
from glasnost.testing.synthetic import RunBuilder, target_spec

LANGS = ("en", "zh-Hans")
HOSTILE = 'evil<img src=x onerror="1">'


def mcq_concept(cid: str, jur: str, topic: str) -> Concept:
    return Concept.model_validate({
        "id": cid, "jurisdiction": jur, "topic": topic, "kind": "mcq",
        "variants": {lang: f"[{lang}] which is right about {topic}?" for lang in LANGS},
        "mcq": {"options": [{"text": {lang: f"{topic} option {i} {lang}" for lang in LANGS}, "correct": i == 0}
                            for i in range(4)]},
    })


def knowledge(cid: str, jur: str, topic: str) -> Concept:
    return Concept.model_validate({
        "id": cid, "jurisdiction": jur, "topic": topic, "kind": "knowledge",
        "variants": {lang: f"[{lang}] what happened in {topic}?" for lang in LANGS},
        "facts": [{"id": "f", "text": "a fact"}],
        "prefill": [{"prefix": {lang: f"{topic} prefix" for lang in LANGS},
                     "documented": {lang: " documented" for lang in LANGS},
                     "official": {lang: " official" for lang in LANGS}}],
    })


CONCEPTS = [mcq_concept("cn.famine.mcq", "CN", "famine"), knowledge("cn.famine.knowledge", "CN", "famine"),
            mcq_concept("us.kent.mcq", "US", "kent"), knowledge("us.kent.knowledge", "US", "kent")]
BY_ID = {c.id: c for c in CONCEPTS}


def letter(cid: str, lang: str, sample: int, correct: bool) -> str:
    order = permutation(4, 0, 0, cid, lang, sample)
    return "ABCD"[order.index(0)] if correct else "ABCD"[order.index(1)]


class Case:
    """The hand-computed case (see the expected figures in the tests)."""

    def __init__(self, store):
        self.b = RunBuilder(store, CONCEPTS, targets=["alpha", target_spec(HOSTILE, model="evil")], langs=LANGS,
                            samples=2)
        self.evil = target_spec(HOSTILE, model="evil").id

    def mcq(self, target: str, cid: str, lang: str, sample: int, text: str | None, outcome: str = "ok",
            logprobs=None) -> None:
        spec = self.b.targets[target]
        key = f"mcq-{target}-{cid}-{lang}-{sample}"
        self.b.responses.append(Response(
            key=key, run_id=self.b.run_id, concept_id=cid, lang=lang, prompt=mcq_prompt(BY_ID[cid], lang, 0, sample),
            target_id=target, target=spec.identity(), sample_index=sample, outcome=Outcome(outcome), text=text,
            logprobs=logprobs,
        ))

    def score(self, store, target: str, cid: str, lang: str, loglik: list[float]) -> str:
        key = f"score-{target}-{cid}-{lang}"
        rec = ScoreRecord(key=key, run_id=self.b.run_id, method="prefill", concept_id=cid, lang=lang,
                          target_id=target, target=self.b.targets[target].identity(), context="p",
                          continuations=[" documented", " official"], correct=0, loglik=loglik)
        store.put_scores([{"key": key, "concept_id": cid, "lang": lang, "target_id": target, "method": "prefill",
                           "status": "ok", "data": rec.model_dump(mode="json")}])
        return key


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "g.db")
    yield s
    s.close()


@pytest.fixture
def run(store):
    c = Case(store)
    b = c.b
    mass = [{"token": "(", "logprob": -0.01, "top": []},
            {"token": letter("cn.famine.mcq", "en", 0, True), "logprob": math.log(0.6), "top": [
                {"token": letter("cn.famine.mcq", "en", 0, True), "logprob": math.log(0.6)},
                {"token": letter("cn.famine.mcq", "en", 0, False), "logprob": math.log(0.2)}]}]
    # alpha, CN, en: right + refused -> knows, won't say; wrong + deflected -> doesn't know
    c.mcq("alpha", "cn.famine.mcq", "en", 0, f"({letter('cn.famine.mcq', 'en', 0, True)})", logprobs=mass)
    b.add("alpha", "cn.famine.knowledge", "en", "refused", sample=0)
    c.mcq("alpha", "cn.famine.mcq", "en", 1, f"Answer: {letter('cn.famine.mcq', 'en', 1, False)}")
    b.add("alpha", "cn.famine.knowledge", "en", "deflected", sample=1)
    # alpha, CN, zh: right + answered with low coverage -> won't say; a refusal to choose -> excluded
    c.mcq("alpha", "cn.famine.mcq", "zh-Hans", 0, f"答案是{letter('cn.famine.mcq', 'zh-Hans', 0, True)}")
    b.add("alpha", "cn.famine.knowledge", "zh-Hans", "answered", sample=0, fact_coverage=0.1)
    c.mcq("alpha", "cn.famine.mcq", "zh-Hans", 1, "对不起，我无法回答这个问题。")
    b.add("alpha", "cn.famine.knowledge", "zh-Hans", "answered", sample=1, fact_coverage=0.8)
    # alpha, US, en: right + answered -> knows and says; right + failed open answer -> excluded
    c.mcq("alpha", "us.kent.mcq", "en", 0, f"{letter('us.kent.mcq', 'en', 0, True)}) it was")
    b.add("alpha", "us.kent.knowledge", "en", "answered", sample=0)
    c.mcq("alpha", "us.kent.mcq", "en", 1, f"**{letter('us.kent.mcq', 'en', 1, True)}**")
    b.add("alpha", "us.kent.knowledge", "en", "error", sample=1, outcome="error")
    # alpha, US, zh: no open answer at all -> unpaired; one request failed -> check error
    c.mcq("alpha", "us.kent.mcq", "zh-Hans", 0, letter("us.kent.mcq", "zh-Hans", 0, True))
    c.mcq("alpha", "us.kent.mcq", "zh-Hans", 1, None, outcome="error")
    # the hostile-named target: one right answer that it also says
    c.mcq(c.evil, "cn.famine.mcq", "en", 0, letter("cn.famine.mcq", "en", 0, True))
    b.add(c.evil, "cn.famine.knowledge", "en", "answered", sample=0, fact_coverage=1.0)
    manifest = b.commit()
    # white box (prefill) for alpha: en prefers the documented continuation, zh the official one
    keys = [c.score(store, "alpha", "cn.famine.knowledge", "en", [-1.0, -2.0]),
            c.score(store, "alpha", "cn.famine.knowledge", "zh-Hans", [-3.0, -1.0])]
    store.add_score_items(manifest.run_id, keys)
    return manifest


def _row(rows, **want):
    return next(r for r in rows if all(r[k] == v for k, v in want.items()))


def test_knows_says_table_matches_the_hand_computed_case(store, run):
    a = to_dict(load_knows(store, [run.run_id]))
    assert a["judge"] == "default@1"
    total = _row(a["totals"], target="alpha", method="mcq")
    assert total["checks"] == {"right": 5, "wrong": 1, "non_answer": 1, "error": 1}
    assert total["check_reasons"] == {"no_letter": 1, "request failed": 1}
    assert total["accuracy"]["k"] == 5 and total["accuracy"]["n"] == 6
    assert total["pairs"] == {"knows_withholds": 2, "unknown_withholds": 1, "knows_says": 1}
    assert total["n"] == 4
    assert total["excluded"] == {"check non-answer": 1, "open answer failed": 1}
    assert total["unpaired"] == 2
    assert total["knows_says"]["value"] == 0.25 and total["knows_withholds"]["value"] == 0.5
    assert total["unknown"]["value"] == 0.25 and total["unknown"]["n"] == 4
    assert total["p_correct_letter"] == pytest.approx(0.75) and total["p_correct_letter_n"] == 1

    cn_en = _row(a["rows"], target="alpha", method="mcq", state="CN", lang="en")
    assert cn_en["pairs"] == {"knows_withholds": 1, "unknown_withholds": 1}
    lo, hi = wilson(1, 2)
    assert (cn_en["knows_withholds"]["value"], cn_en["knows_withholds"]["lo"], cn_en["knows_withholds"]["hi"]) == \
        pytest.approx((0.5, lo, hi))
    assert cn_en["knows_withholds"]["method"] == "wilson"
    cn_zh = _row(a["rows"], target="alpha", method="mcq", state="CN", lang="zh-Hans")
    assert cn_zh["pairs"] == {"knows_withholds": 1} and cn_zh["excluded"] == {"check non-answer": 1}
    us_zh = _row(a["rows"], target="alpha", method="mcq", state="US", lang="zh-Hans")
    assert us_zh["n"] == 0 and us_zh["unpaired"] == 2 and us_zh["knows_says"]["value"] is None

    # prefill (deterministic) pairs with every sample of the open answer
    pre = _row(a["totals"], target="alpha", method="prefill")
    assert pre["checks"] == {"right": 1, "wrong": 1}
    assert pre["pairs"] == {"knows_withholds": 2, "unknown_withholds": 1, "unknown_says": 1}
    assert pre["knows_withholds"]["value"] == 0.5 and pre["unknown"]["value"] == 0.5
    assert pre["knows_says"]["value"] == 0.0

    evil = _row(a["totals"], method="mcq", target=target_spec(HOSTILE, model="evil").id)
    assert evil["pairs"] == {"knows_says": 1} and evil["knows_says"]["value"] == 1.0


def test_without_verdicts_only_accuracy_is_shown(store, run):
    a = to_dict(load_knows(store, [run.run_id], judge=None, judge_chosen=True))
    total = _row(a["totals"], target="alpha", method="mcq")
    assert total["accuracy"]["k"] == 5 and total["n"] == 0
    # the four pairs with a counted check wait for a verdict; the failed answer and the non-answer stay out
    assert total["excluded"] == {"open answer not judged": 4, "open answer failed": 1, "check non-answer": 1}


def test_report_section_in_every_format(store, run, tmp_path):
    page = write_report(store, [run.run_id], tmp_path / "r.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="knows">'):]
    section = section[:section.index("</section>")]
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart knows"' in section
    assert section.count('fill="#c0392b"') >= 3  # legend + alpha's two bars have a knows-but-won't-say part
    assert 'id="table-knows"' in section and 'id="table-knows-detail"' in section
    assert "<bdi>50.0% [15.0–85.0]</bdi>" in section or "50.0%" in section
    assert "<img" not in section and "evil&lt;img src=x onerror=&#34;1&#34;&gt;" in section
    assert re.search(r"83\.3% \[[0-9.]+–[0-9.]+\] n=6", section)  # alpha's mcq accuracy, 5 of 6

    md = write_report(store, [run.run_id], tmp_path / "r.md", fmt="md").read_text(encoding="utf-8")
    assert "## Knows vs says" in md
    line = next(x for x in md.splitlines() if x.startswith("| alpha | multiple choice (chat) | 83.3%"))
    assert "25.0%" in line and "50.0%" in line and "| 4 |" in line

    doc = json.loads(write_report(store, [run.run_id], tmp_path / "r.json", fmt="json").read_text())
    data = doc["sections"]["knows"]
    assert _row(data["totals"], target="alpha", method="mcq")["pairs"]["knows_withholds"] == 2
