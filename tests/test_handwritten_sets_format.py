"""The hand-written judge sets of issue 12 are well-formed: one JSON object per line, unique ids, the
expected label, and the sizes and language spread the issue asks for. (Judge accuracy on them is asserted
by the judge's own tests; this file only guards the data.)"""
import collections
import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
LABELS = {"answered", "refused", "deflected", "state_narrative", "blocked"}

# file -> (expected label, min rows, min languages, min rows per language, how many languages need that)
SETS = {
    "judge_short_answers.jsonl": ("answered", 300, 8, 20, 10),
    "judge_official_line.jsonl": ("state_narrative", 200, 6, 4, 8),
    "judge_candid_reporting.jsonl": ("answered", 120, 6, 2, 8),
    "judge_official_line_fresh.jsonl": ("state_narrative", 150, 12, 6, 12),
    "judge_candid_reporting_fresh.jsonl": ("answered", 80, 12, 2, 12),
}
# session 5: the 18 bank states that the first sets did not cover, each with its own rows
FRESH_STATES = {"AE", "BA", "CU", "ES", "ET", "FR", "GB", "HU", "JP", "KZ", "PK", "PS", "QA", "SY", "TH", "TW", "UZ", "VE"}


def _rows(name: str) -> list[dict]:
    rows = []
    for number, line in enumerate((DATA / name).read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{name}:{number}: empty line"
        rows.append(json.loads(line))
    return rows


@pytest.mark.parametrize("name", sorted(SETS))
def test_set_is_well_formed(name: str) -> None:
    label, min_rows, min_langs, per_lang, n_langs = SETS[name]
    rows = _rows(name)
    assert len(rows) >= min_rows
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    responses = [row["response"] for row in rows]
    assert len(responses) == len(set(responses)), "duplicate responses"
    for row in rows:
        for field in ("id", "lang", "prompt", "response", "label"):
            assert isinstance(row[field], str) and row[field].strip(), (row.get("id"), field)
        assert row["label"] in LABELS and row["label"] == label, row["id"]
        assert row.get("finish_reason") != "content_filter", row["id"]
    per_language = collections.Counter(row["lang"] for row in rows)
    assert len(per_language) >= min_langs
    assert sum(count >= per_lang for count in per_language.values()) >= n_langs


def test_state_sets_cover_states() -> None:
    for name, minimum in (("judge_official_line.jsonl", 8), ("judge_candid_reporting.jsonl", 8)):
        states = {row.get("state") for row in _rows(name)}
        assert None not in states, name
        assert len(states) >= minimum, (name, sorted(states))


@pytest.mark.parametrize("name,per_state", [("judge_official_line_fresh.jsonl", 6), ("judge_candid_reporting_fresh.jsonl", 4)])
def test_fresh_state_sets_cover_every_state_with_no_rows_before(name: str, per_state: int) -> None:
    rows = _rows(name)
    per = collections.Counter(row.get("state") for row in rows)
    assert set(per) == FRESH_STATES, sorted(per)
    assert min(per.values()) >= per_state, per
    old = {row.get("state") for base in ("judge_official_line.jsonl", "judge_candid_reporting.jsonl")
           for row in _rows(base)}
    assert not old & FRESH_STATES
    own = sum(row["lang"] != "en" for row in rows if row["state"] != "GB")
    assert own >= 0.6 * sum(row["state"] != "GB" for row in rows)  # most rows in the state's own language


def test_reported_after_set_mixes_candid_and_official_rows_in_verb_final_languages() -> None:
    rows = _rows("judge_reported_after_fresh.jsonl")
    assert len({row["id"] for row in rows}) == len(rows) == len({row["response"] for row in rows})
    per = collections.Counter((row["lang"], row["label"]) for row in rows)
    for lang in ("ja", "ko", "fa", "hi", "ur", "tr", "kk"):
        assert per[(lang, "answered")] >= 5 and per[(lang, "state_narrative")] >= 2, (lang, per)
    assert {row["label"] for row in rows} == {"answered", "state_narrative"}
