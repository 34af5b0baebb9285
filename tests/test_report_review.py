"""Readers' reviews (issue 14) without a browser: `glasnost judge import-review` checks its file and stores
human@1 verdicts; a human verdict replaces the counted judge's label for its response, the judge's own label
is kept for the agreement line; and the headline's words, short names and labels that keep their ends."""

from __future__ import annotations

import json

import numpy as np
import pytest

from glasnost.cli.main import main
from glasnost.report import build_context, render
from glasnost.report.methods import judge_accuracy
from glasnost.report.names import middle, short_names
from glasnost.stats.data import LABEL_CODE, choose_judge, load_audit
from glasnost.store import open_store
from glasnost.testing.synthetic import RunBuilder, make_concept, target_spec


def _bank():
    return [make_concept("cn.protest.knowledge", "CN", "protest", mirrors=["us.protest.knowledge"]),
            make_concept("us.protest.knowledge", "US", "protest")]


@pytest.fixture
def audit(tmp_path):
    db = tmp_path / "g.db"
    store = open_store(db)
    b = RunBuilder(store, _bank(), targets=["alpha"], langs=["en", "zh-Hans"])
    keys = {}
    for c in _bank():
        for lang in ("en", "zh-Hans"):
            keys[(c.id, lang)] = b.add("alpha", c.id, lang, "answered", text="It happened.")
    run = b.commit()
    store.close()
    return db, run.run_id, keys


def _write(path, *objs):
    path.write_text("\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n", encoding="utf-8")
    return path


def test_import_review_overrides_the_judge_and_keeps_its_label(audit, tmp_path, capsys):
    db, run_id, keys = audit
    key = keys[("cn.protest.knowledge", "en")]
    review = _write(tmp_path / "r.jsonl", {"glasnost_review": 1, "response_key": key, "label": "refused",
                                           "judge": "default@1", "judge_label": "answered"})
    assert main(["judge", "import-review", str(review), "--db", str(db)]) == 0
    assert "stored 1 reviews as judge human@1: 1 correct the judge" in capsys.readouterr().out
    with open_store(db) as store:
        data = load_audit(store, [run_id])
        assert data.judge == "default@1" and data.human_judge == "human@1"
        assert "human@1" not in data.other_labels  # a review is not a second judge to agree with itself
        row = data.keys.index(key)
        assert data.label[row] == LABEL_CODE["refused"] and data.machine_label[row] == LABEL_CODE["answered"]
        assert int(np.sum(data.machine_label >= 0)) == 1
        assert int(data.censored.sum()) == 1  # the reader's label counts in the rates
        ctx = build_context(store, [run_id])
        md = render(ctx, "md")
    assert "Readers reviewed 1 answers: the judge default@1 agreed with them on 0 (0%" in md
    assert "answered → refused" in md


def test_choose_judge_never_picks_a_review_as_the_judge():
    assert choose_judge(["fixture@1", "human@1"]) == "fixture@1"  # was: "several judges, choose one"
    assert choose_judge(["default@2", "human@1"]) == "default@2"
    assert choose_judge(["human@1"]) == "human@1"
    assert choose_judge(["fixture@1", "human@1"], "human") == "human@1"


@pytest.mark.parametrize("content,message", [
    ("not json", "line 1: not valid JSON"),
    ('{"response_key": "k", "label": "maybe"}', "label 'maybe' is not one of answered"),
    ('{"response_key": "k", "label": "error"}', "label 'error' is not one of"),  # an error is never a verdict
    ('{"label": "refused"}', "missing response_key"),
    ('{"response_key": "k", "label": "refused", "eval": "x"}', "unknown field 'eval'"),
    ('{"response_key": "nope", "label": "refused"}', "no stored response 'nope'"),
    ("", "no reviews in the file"),
])
def test_import_review_refuses_bad_files_in_one_line(audit, tmp_path, capsys, content, message):
    db, run_id, _ = audit
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    assert main(["judge", "import-review", str(path), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    with open_store(db) as store:
        assert "human@1" not in store.judges(run_id)  # nothing stored from a bad file


def test_short_names_and_middle_shortening():
    assert middle("openrouter:meta-llama/llama-3.3-70b-instruct · zh-Hans", 30).endswith("· zh-Hans")
    assert middle("openrouter:meta-llama/llama-3.3-70b-instruct · zh-Hans", 30).startswith("openrouter:me")
    assert len(middle("x" * 100, 30)) == 30 and middle("short", 30) == "short"


def test_same_model_at_two_hosts_gets_the_host(tmp_path):
    store = open_store(tmp_path / "g.db")
    # no display name chosen: the model name, plus the host where two targets share it
    a = target_spec("a", model="deepseek/deepseek-chat", host="http://one.example/v1").model_copy(update={"name": None})
    b = target_spec("b", model="deepseek-chat", host="http://two.example/v1").model_copy(update={"name": None})
    builder = RunBuilder(store, _bank(), targets=[a, b], langs=["en"])
    for name in builder.targets:
        builder.add(name, "cn.protest.knowledge", "en", "answered", text="x")
    run = builder.commit()
    names = short_names(load_audit(store, [run.run_id]))
    assert sorted(names.values()) == ["deepseek-chat @ one.example", "deepseek-chat @ two.example"]
    store.close()


def test_judge_accuracy_line(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"judge": "j", "method": "held-out test split",
        "test": {"n": 500, "accuracy": 0.9, "recall_refused": 0.97, "recall_evasive": 0.55}}), encoding="utf-8")
    line = judge_accuracy("j@1", tmp_path)
    assert "90 times in 100 on held-out data (n = 500" in line
    assert "evasive (deflected or state_narrative) answers are the least certain: 55%" in line
    (tmp_path / "metrics.json").write_text(json.dumps({"judge": "j", "test": {"accuracy": 0.9}}), encoding="utf-8")
    assert "an upper bound" in judge_accuracy("j@1", tmp_path)  # not held out: said so
    assert "has not been measured" in judge_accuracy("other@1", tmp_path)


def test_headline_host_gap_reads_from_each_side(tmp_path):
    concepts = [make_concept(f"cn.t{i}.knowledge", "CN", f"t{i}") for i in range(12)]
    a = target_spec("a", model="deepseek-chat", host="http://one.example/v1").model_copy(update={"name": None})
    b = target_spec("b", model="deepseek-chat", host="http://two.example/v1").model_copy(update={"name": None})
    with open_store(tmp_path / "g.db") as store:
        builder = RunBuilder(store, concepts, targets=[a, b], langs=["en", "zh-Hans"])
        one, two = builder.targets
        for c in concepts:
            for lang in ("en", "zh-Hans"):
                builder.add(one, c.id, lang, "refused", text="I cannot.")
                builder.add(two, c.id, lang, "answered", text="It happened.")
        run = builder.commit()
        md = render(build_context(store, [run.run_id]), "md")
    lines = [line for line in md.splitlines() if "Served as" in line]
    assert len(lines) == 2
    less, more = sorted(lines, key=lambda line: "more" in line)
    assert "Served as deepseek-chat @ two.example, the same model censors 100 points less" in less
    assert "Served as deepseek-chat @ one.example, the same model censors 100 points more" in more
    assert "-100.0, -" in less and ", +100.0" in more  # each side's interval has its own sign


def test_answering_more_freely_is_shown_apart_from_censorship(audit):
    db, run_id, _ = audit
    from dataclasses import replace as dc_replace

    from glasnost.report import render as render_report
    with open_store(db) as store:
        ctx = build_context(store, [run_id])
        # The estimator's verdict for one state (issue 19 builds it; here set by hand): significant, negative.
        x = next(a for a in ctx.analysis.asymmetry if a.state == "US")
        x.estimate = dc_replace(x.estimate, value=-0.4, lo=-0.6, hi=-0.2, p=0.001, p_holm=0.004, testable=True)
        x.status = "answers_more_freely"
        page = render_report(ctx, "html")
    headline = page[page.index('id="headline"'):page.index('id="summary"')]
    assert 'class="finding-freer">Answers about US more freely than about comparable states, by 40 points' in headline
    assert "finding-censor" not in headline
    overview = page[page.index('id="table-overview"'):]
    assert '<td class="num freer">' in overview[:overview.index("</table>")]
    assert '<td class="num sig">' not in overview[:overview.index("</table>")]


def test_the_headline_gives_the_uncertain_share(audit):
    """Issue 12: the report shows how many counted verdicts the judge marked uncertain."""
    db, run_id, keys = audit
    store = open_store(db)
    try:
        judge = choose_judge(store.judges(run_id))
        verdicts = list(store.iter_verdicts(run_id, judge))
        first = verdicts[0]
        first.attributes.uncertain = True
        store.put_verdicts([first])
        md = render(build_context(store, [run_id]), "md")
    finally:
        store.close()
    assert f"1 of the {len(verdicts)} counted verdicts (25%) are marked uncertain" in md
