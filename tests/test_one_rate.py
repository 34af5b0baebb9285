"""One run, one rate (issue 11): the report, compare, the leaderboard, a bundle's summary and export all
count the same responses -- controls, mcq checks and errors excluded -- and so print the same rate.

Before the fix the leaderboard and the bundle summary counted control questions (29.0 % n = 62 against the
report's 30.0 % n = 50 in the issue); this run is built so that counting them changes every figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from glasnost.bank.load import Bank
from glasnost.bundle.export import export_run
from glasnost.bundle.merge import merge
from glasnost.bundle.verify import verify_bytes
from glasnost.records import Concept, Label, Mcq, McqOption, Outcome, Response, Verdict
from glasnost.report.export import iter_rows
from glasnost.stats.compare import compare_runs
from glasnost.stats.data import load_audit
from glasnost.stats.rates import count_rows
from glasnost.store.sqlite import SQLiteStore
from test_bundle_fixtures import T0, Item, key, manifest_for, target


def _concept(cid: str, kind: str) -> Concept:
    extra = {}
    if kind == "mcq":
        extra["mcq"] = Mcq(options=[McqOption(text={"en": "a", "zh": "a"}, correct=True),
                                    McqOption(text={"en": "b", "zh": "b"})])
    return Concept(id=cid, jurisdiction="CN", topic=cid.split(".")[1], kind=kind,
                   sensitivity="none" if kind == "control" else "high",
                   variants={"en": f"Q {cid}?", "zh": f"问 {cid}？"}, **extra)


SENSITIVE = [_concept(f"cn.s{i}.knowledge", "knowledge") for i in range(8)]
CONTROLS = [_concept(f"cn.c{i}.control", "control") for i in range(4)]
MCQS = [_concept("cn.m0.mcq", "mcq")]
BANK = Bank(name="one-rate", version="1", concepts=SENSITIVE + CONTROLS + MCQS)
JUDGE = "default@1"


def _items() -> list[Item]:
    t = target("model-a")
    items = []
    for lang in ("en", "zh"):
        for i, c in enumerate(SENSITIVE):
            items.append(Item(t, c.id, lang, Label.refused if i % 3 == 0 or (lang == "zh" and i % 2) else Label.answered))
        # controls all answered: counting them lowers every rate
        items += [Item(t, c.id, lang, Label.answered) for c in CONTROLS]
        items += [Item(t, c.id, lang, Label.refused) for c in MCQS]  # a bare letter judged "refused"
    # an error outcome a careless judge labelled refused: never counted
    items.append(Item(t, SENSITIVE[1].id, "en", Label.refused, sample=1, outcome=Outcome.error, text=None))
    # a judge error: never counted
    items.append(Item(t, SENSITIVE[2].id, "en", Label.refused, sample=2, status="judge_error"))
    return items


def _build(db: Path, run_ids: list[str]) -> SQLiteStore:
    store = SQLiteStore(db)
    items = _items()
    t = items[0].target
    store.save_bank_snapshot(BANK.snapshot())
    for run_id in run_ids:
        manifest = manifest_for(run_id, [t]).model_copy(update={"bank": BANK.ref()})
        store.save_run(manifest)
        store.add_run_items(run_id, [it.key for it in items])
    store.put_responses([
        Response(key=it.key, run_id=run_ids[0], concept_id=it.concept, lang=it.lang,
                 prompt=BANK.by_id[it.concept].variants[it.lang], target_id=t.id, target=t.identity(),
                 sample_index=it.sample, outcome=it.outcome, text=None if it.outcome is Outcome.error else "an answer",
                 finish_reason="stop", started_at=T0, finished_at=T0)
        for it in items])
    store.put_verdicts([Verdict(response_key=it.key, judge=JUDGE, label=it.label, status=it.status, created_at=T0)
                        for it in items])
    return store


def _expected(lang: str | None) -> tuple[int, int]:
    """Hand count: sensitive concepts only, ok outcomes, ok verdicts."""
    k = n = 0
    for it in _items():
        if it.concept not in {c.id for c in SENSITIVE} or it.outcome is Outcome.error or it.status != "ok":
            continue
        if lang is not None and it.lang != lang:
            continue
        n += 1
        k += it.label is Label.refused
    return k, n


@pytest.fixture
def world(tmp_path):
    store = _build(tmp_path / "g.db", ["run-a", "run-b"])
    yield store
    store.close()


def test_every_figure_counts_the_same_responses(world):
    store = world
    # report
    data = load_audit(store, ["run-a"], JUDGE)
    report = {(row.target, row.lang): (row.rate.k, row.rate.n, row.rate.value) for row in count_rows(data)}
    # bundle summary, verified from the exported bytes
    vb = verify_bytes(export_run(store, "run-a", key("one-rate")).data)
    summary = {(row.target_id, row.lang): (row.n_censored, row.n_counted, row.rate) for row in vb.summary.rows}
    # leaderboard
    board = merge([vb])
    (lb_row,) = board.rows
    # export: the in_rate and censored columns
    rows = list(iter_rows(store, ["run-a"], JUDGE))
    # compare: the same run's answers under a second run id, paired with themselves
    comparison = compare_runs(store, ["run-a", "run-b"], judge=JUDGE, force=True)

    t = "https://api.example.org/v1#model-a"
    for lang in ("en", "zh", None):
        k, n = _expected(lang)
        assert n < len([r for r in rows if lang is None or r["lang"] == lang])  # controls etc. exist
        rate = k / n
        assert report[(t, lang)][:2] == (k, n), (lang, report[(t, lang)])
        assert report[(t, lang)][2] == pytest.approx(rate)
        exported = [r for r in rows if lang is None or r["lang"] == lang]
        assert (sum(r["censored"] for r in exported), sum(r["in_rate"] for r in exported)) == (k, n)
        board_rate = lb_row.pooled if lang is None else lb_row.by_lang[lang]
        assert (board_rate.n_censored, board_rate.n_counted) == (k, n)
        assert board_rate.rate == pytest.approx(rate, abs=1e-6)
        pair = next(p for p in comparison.pairs if p.lang == lang)
        assert pair.result.rate_a == pytest.approx(rate) and pair.result.diff.n == n
        if lang is not None:
            assert summary[(t, lang)][:2] == (k, n)
            assert summary[(t, lang)][2] == pytest.approx(rate, abs=1e-6)
            # the per-language interval is Wilson in both the report and the bundle summary
            est = next(r.rate for r in count_rows(data) if r.lang == lang)
            srow = next(r for r in vb.summary.rows if r.lang == lang)
            assert (srow.ci_low, srow.ci_high) == pytest.approx((est.lo, est.hi), abs=1e-6)


def test_bank_rule_is_the_report_rule():
    from glasnost.rate import concept_in_rate
    from glasnost.stats.data import ConceptInfo

    for kind in ("knowledge", "criticism", "indirect", "control", "mcq"):
        for sens in ("none", "low", "high"):
            assert ConceptInfo("x", "CN", "t", kind, sens).sensitive == concept_in_rate(kind, sens)
