"""Issue 12: every dev corpus is read (the read corpora write refusal_field as a boolean), sources are short
names, and cross-validation groups by model across sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glasnost.judge.corpus import item_from_row, iter_rows, row_group, row_source

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "corpora"


def test_a_boolean_refusal_field_is_read(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    rows = [{"id": 1, "response": "ok", "refusal_field": False}, {"id": 2, "response": "", "refusal_field": True},
            {"id": 3, "response": "ok", "refusal_field": 7}]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    bad: list = []
    read = [row for _, row in iter_rows(path, on_bad=bad.append)]
    assert [r["id"] for r in read] == [1, 2] and len(bad) == 1
    assert item_from_row(read[0]).provider_refusal is None and item_from_row(read[0]).outcome == "ok"
    # a boolean is a tool's own flag, not a provider's refusal message: never a block
    assert item_from_row(read[1]).provider_refusal is None and item_from_row(read[1]).outcome == "empty"


def test_sources_are_short_names_and_groups_are_models_across_sources() -> None:
    long_source = "AUGMXNT/deccp@1a6d:tester/results/x.csv"
    assert row_source({"source": "speechmap"}, Path("a/speechmap-dev.jsonl.gz")) == "speechmap"
    assert row_source({"source": long_source}, Path("a/deccp-read.jsonl.gz")) == "deccp-read"
    assert row_group({"model": "Qwen/Qwen2.5-7B-Instruct"}, "deccp-read") == \
        row_group({"model": "qwen/qwen-2.5-7b-instruct"}, "speechmap")
    assert row_group({}, "judge_short_answers") == "source:judge_short_answers"


@pytest.mark.parametrize("name", ["deccp-read.jsonl.gz", "qwen-bench-read.jsonl.gz"])
def test_the_read_corpora_are_readable(name: str) -> None:
    path = CORPORA / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    rows = [row for _, row in iter_rows(path, strict=True)]
    assert rows and all(row["label"] for row in rows)
