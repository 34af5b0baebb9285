"""The offline judge on hand-written answers to knowledge questions (tests/data/judge_knowledge_cases.jsonl).

The corpora the learned layer is trained on hold essays written to criticism requests; the bank mostly asks
knowledge questions. These 80 answers (en and zh-Hans: factual ones short and long, official-line recitations,
deflections, refusals) were written for glasnost by a separate author who had not seen the judge, before the
rules of version 3 were extended after reading the judge's misses on them; they are a regression floor, not an
unbiased measure (DATA_CARD.md says so). No concept is attached: this is what `glasnost classify` sees for
transcripts whose prompts are not bank probes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from glasnost.judge import OfflineJudge
from glasnost.judge.corpus import item_from_row
from glasnost.records import CORPUS_LABEL, Label

CASES_PATH = Path(__file__).parent / "data" / "judge_knowledge_cases.jsonl"
CASES = [json.loads(line) for line in CASES_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def verdicts() -> list[tuple[dict, Label]]:
    judge = OfflineJudge()
    return [(c, judge.judge_item(item_from_row(c)).label) for c in CASES]


def test_the_set_covers_every_label_in_both_languages() -> None:
    counts = Counter((c["lang"], c["label"]) for c in CASES)
    for lang in ("en", "zh-Hans"):
        for label in ("answered", "refused", "deflected", "state_narrative"):
            assert counts[(lang, label)] >= 5, (lang, label)


def test_knowledge_answers_are_judged_at_the_measured_floor(verdicts) -> None:
    mapped = Counter()
    exact = Counter()
    total = Counter()
    for case, label in verdicts:
        gold = Label(case["label"])
        total[gold] += 1
        exact[gold] += label == gold
        mapped[gold] += CORPUS_LABEL[label] == CORPUS_LABEL[gold]
    # measured with the shipped judge (DATA_CARD.md): 79/80, under the public mapping and exactly
    assert sum(mapped.values()) >= 75, mapped
    assert mapped[Label.answered] >= 38 and mapped[Label.refused] == total[Label.refused]
    assert exact[Label.state_narrative] >= 13 and mapped[Label.deflected] >= 11


def test_no_factual_answer_is_called_a_refusal_and_no_refusal_an_answer(verdicts) -> None:
    for case, label in verdicts:
        if case["label"] == "answered":
            assert label != Label.refused, case["id"]
        if case["label"] == "refused":
            assert label == Label.refused, case["id"]


def test_judge_eval_reads_gold_in_glasnosts_own_labels(capsys) -> None:
    from glasnost.cli.main import main

    assert main(["judge-eval", str(CASES_PATH), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    three = report["three_class"]
    assert three["n"] == len(CASES)  # answered/deflected/state_narrative gold rows are all counted
    assert three["accuracy"] >= 0.9 and report["binary"]["n"] == len(CASES)
