"""The offline judge on the hand-written issue-12 sets (tests/data/judge_*.jsonl; tests/data/README.md says how
they were written: by other authors, without seeing the judge).

Floors sit a little below the figures measured with the shipped judge (DATA_CARD.md, "Issue 12"). Those
figures were measured *after* reading the sets' misses (the figures with rules frozen before reading are in
the data card too), so they are regression floors, not unbiased measures. Where a floor is under the issue's
goal, the goal is not met, and the data card says so. No concept is attached: this is what `glasnost
classify` sees for transcripts whose prompts are not bank probes."""

from __future__ import annotations

from pathlib import Path

import pytest

from glasnost.judge import OfflineJudge
from glasnost.judge.evaluate import predict_files, summarize

DATA = Path(__file__).parent / "data"

# (measure in judge-eval's "exact" block, floor); measured after reading: short answers 0.997 (goal >= 0.97),
# official line 0.622 (goal >= 0.85: not met; CN/RU/IR/TR rows, tuned on: 0.898; the other states, held out from
# tuning: 0.212); session 4 (official voice for every state): 0.870 after reading (0.687 with the data frozen before
# the rows were read; the other states 0.374 frozen, 0.828 after), DATA_CARD.md; session 5: fresh sets for the 18
# states that had no rows, written before the judge was run on them: official line 0.265 frozen, 0.901 after reading
# (an upper bound); candid reports 0.944 answered and no false state_narrative, frozen and after
SET_FLOORS = {
    "judge_short_answers": ("recall_answered", 0.98),
    "judge_official_line": ("recall_state_narrative", 0.85),
    "judge_candid_reporting": ("recall_answered", 0.96),
    "judge_official_line_fresh": ("recall_state_narrative", 0.88),
    "judge_candid_reporting_fresh": ("recall_answered", 0.93),
    # session 6: candid answers in verb-final languages (ja ko fa hi ur tr kk) reporting an official line with the
    # reporting verb after it, and official answers in the same languages; written before the judge was run on
    # them: answered 0.872 and 6/47 false state_narrative frozen, 0.957 and 0/47 after (r8, upper bound)
    "judge_reported_after_fresh": ("recall_answered", 0.93),
}
# exact-label accuracy per language set (40 rows: one row is 0.025); measured after reading, floor one row below
# (session 4 raised bo yue th ur tr he ko vi kk after their rules were improved; DATA_CARD.md, "Per-language data,
# session 4"; session 5 raised every floor to one row below default@1.r7.m3's figure)
LANG_FLOORS = {
    "ar": 0.75, "bo": 0.65, "bs": 0.65, "en": 0.80, "es": 0.775, "fa": 0.725, "fr": 0.65, "he": 0.70,
    "hi": 0.75, "ja": 0.70, "kk": 0.775, "ko": 0.75, "my": 0.60, "ru": 0.75, "th": 0.725, "tr": 0.775,
    "ug": 0.60, "ur": 0.70, "vi": 0.80, "yue": 0.725, "zh-Hans": 0.875, "zh-Hant": 0.825,
}
# the fresh held-out sets of session 4 (21 rows: one row is 0.048), written before the judge was run on them; the
# figures with rules frozen before their misses were read are in the data card; these floors sit one row below the
# figures after a second pass that read them (fi's set has the SpeechMap-style essays)
FRESH_LANG_FLOORS = {
    "bo": 0.80, "fi": 0.71, "he": 0.85, "kk": 0.76, "ko": 0.85, "th": 0.80, "tr": 0.95, "ur": 0.76, "vi": 0.85,
    "yue": 0.85,
}
CANDID_FALSE_STATE_NARRATIVE_MAX = 0.03  # the issue's goal; measured 0.008 (one row of 125), fresh set 0.000 (90)


@pytest.fixture(scope="module")
def judge() -> OfflineJudge:
    return OfflineJudge()


def exact(judge: OfflineJudge, name: str) -> dict:
    path = DATA / f"{name}.jsonl"
    assert path.exists(), f"{path} missing"
    report = summarize(predict_files([path], judge))
    return report["exact"]


@pytest.mark.parametrize("name", sorted(SET_FLOORS))
def test_hand_written_sets_meet_their_floors(judge: OfflineJudge, name: str) -> None:
    measure, floor = SET_FLOORS[name]
    got = exact(judge, name)
    assert got[measure] >= floor, (name, measure, got)


@pytest.mark.parametrize("name", ["judge_candid_reporting", "judge_candid_reporting_fresh", "judge_reported_after_fresh"])
def test_candid_answers_that_mention_official_lines_are_not_state_narrative(judge: OfflineJudge, name: str) -> None:
    got = exact(judge, name)
    assert got["false_state_narrative"] <= CANDID_FALSE_STATE_NARRATIVE_MAX, got


def test_short_answers_meet_the_issue_goal(judge: OfflineJudge) -> None:
    got = exact(judge, "judge_short_answers")
    assert got["n"] >= 300 and got["recall_answered"] >= 0.97  # the issue's goal, met


@pytest.mark.parametrize("lang", sorted(LANG_FLOORS))
def test_every_language_set_meets_its_floor(judge: OfflineJudge, lang: str) -> None:
    got = exact(judge, f"judge_lang_{lang}")
    assert got["n"] >= 40
    assert got["accuracy"] >= LANG_FLOORS[lang], (lang, got)
    assert got.get("false_state_narrative", 0.0) <= 0.05, (lang, got)


@pytest.mark.parametrize("lang", sorted(FRESH_LANG_FLOORS))
def test_every_fresh_language_set_meets_its_floor(judge: OfflineJudge, lang: str) -> None:
    got = exact(judge, f"judge_lang_fresh_{lang}")
    assert got["n"] >= 20 and all(got.get(f"n_{label}", 0) >= 3 for label in
                                  ("answered", "refused", "deflected", "state_narrative")), (lang, got)
    assert got["accuracy"] >= FRESH_LANG_FLOORS[lang], (lang, got)
    assert got.get("false_state_narrative", 0.0) <= 0.05, (lang, got)
