"""The text boundary and bad input (issue 11): one character never costs a batch, sizes are bounded, and
every bad file gets one line, never a traceback."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
import yaml

from glasnost import textsafe
from glasnost.cli.main import main
from glasnost.errors import ConfigError
from glasnost.records import Completion, Outcome
from helpers_runner import write_small_bank
from test_bundle_fixtures import build_run, response_for, standard_items


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


# ---- the sanitiser -------------------------------------------------------------------------------------


def test_repair_marks_lone_surrogates_and_nuls():
    assert textsafe.repair("fine") == ("fine", False)
    assert textsafe.repair("a\ud800b\x00c") == ("a\ufffdb\ufffdc", True)
    assert textsafe.repair("中文\udfff") == ("中文\ufffd", True)
    c = textsafe.safe_record(Completion(outcome=Outcome.ok, text="x\ud800", reasoning="\x00"))
    assert c.repaired is True and c.text == "x\ufffd" and c.reasoning == "\ufffd"
    c.model_dump_json()  # encodable


def test_answer_cap_is_configurable_and_marks_the_cut(monkeypatch):
    monkeypatch.setenv("GLASNOST_MAX_ANSWER_CHARS", "100")
    c = textsafe.safe_record(Completion(outcome=Outcome.ok, text="y" * 250))
    assert len(c.text) == 100 and c.clipped == 150
    assert c.outcome is Outcome.error and "cap" in c.error  # longer than any real completion: never judged
    monkeypatch.setenv("GLASNOST_MAX_ANSWER_CHARS", "lots")
    with pytest.raises(ConfigError):
        textsafe.max_answer_chars()
    monkeypatch.delenv("GLASNOST_MAX_ANSWER_CHARS")
    assert textsafe.max_answer_chars() == 1_000_000


def test_a_lone_surrogate_never_costs_its_batch(tmp_path):
    """Before: PydanticSerializationError in the store writer, and the whole batch thrown away."""
    store = build_run(tmp_path / "g.db", "run-a", standard_items())
    items = standard_items()
    bad = response_for(items[0], "run-a").model_copy(update={"key": "k-bad", "text": "broken \ud800 reply"})
    good = response_for(items[1], "run-a").model_copy(update={"key": "k-good"})
    assert store.put_responses([bad, good]) == 2
    assert store.get_response("k-good") is not None
    stored = store.get_response("k-bad")
    assert stored.text == "broken \ufffd reply" and stored.repaired is True
    store.close()


# ---- transcripts: classify / judge-eval -------------------------------------------------------------------


def _classify(tmp_path, data: bytes, name: str = "in.jsonl", *extra: str) -> int:
    src = tmp_path / name
    src.write_bytes(data)
    return main(["classify", str(src), "--out", str(tmp_path / "out.jsonl"), "--bank", "none", *extra])


ROW = {"id": "a", "prompt": "What happened?", "response": "It happened in 1989.", "lang": "en"}


def test_damaged_gzip_is_one_line(tmp_path, capsys):
    data = gzip.compress((json.dumps(ROW) + "\n").encode() * 200)
    assert _classify(tmp_path, data[: len(data) // 2], "in.jsonl.gz") == 2  # EOFError before
    assert "truncated" in one_line_error(capsys)
    damaged = bytearray(data)
    damaged[20:40] = b"\xff" * 20
    assert _classify(tmp_path, bytes(damaged), "in.jsonl.gz") == 2  # zlib.error before
    one_line_error(capsys)


def test_deep_json_and_endless_numbers_are_bad_lines_not_crashes(tmp_path, capsys):
    lines = ["[" * 100_000 + "]" * 100_000, '{"id": ' + "9" * 5000 + ', "response": "x"}', json.dumps(ROW)]
    assert _classify(tmp_path, "\n".join(lines).encode()) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "in.jsonl:1: skipped" in err and "in.jsonl:2: skipped" in err
    assert (tmp_path / "out.jsonl").read_text().count("\n") == 1


def test_a_lone_surrogate_in_a_transcript_is_repaired(tmp_path, capsys):
    row = '{"id": "s", "response": "\\ud800 the massacre was documented \\udfff", "lang": "en"}'
    assert _classify(tmp_path, row.encode()) == 0  # judge/langid.py crashed before
    out = json.loads((tmp_path / "out.jsonl").read_text())
    assert out["id"] == "s" and out["status"] == "ok"


def test_an_endless_line_is_refused_in_bounded_memory(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GLASNOST_MAX_LINE_BYTES", "10000")
    assert _classify(tmp_path, b'{"id": "x", "response": "' + b"a" * 200_000) == 2
    assert "longer than 10,000" in one_line_error(capsys)


def test_a_gzip_bomb_streams_in_bounded_memory(tmp_path, capsys, monkeypatch):
    """150 KB of gzip that inflates to 150 MB of one line: refused at the line cap while streaming."""
    import resource

    monkeypatch.setenv("GLASNOST_MAX_LINE_BYTES", str(4 * 1024 * 1024))
    data = gzip.compress(b'{"id": "x", "response": "' + b"a" * 150_000_000, compresslevel=9)
    assert len(data) < 200_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert _classify(tmp_path, data, "bomb.jsonl.gz") == 2
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    one_line_error(capsys)
    assert grown_mb < 100, grown_mb  # 2.7 GB before


# ---- banks --------------------------------------------------------------------------------------------


def _mcq_bank(path: Path, options: int, correct: int) -> Path:
    concept = {"id": "cn.q.mcq", "jurisdiction": "CN", "topic": "q", "kind": "mcq",
               "variants": {"en": "Which?"}, "sources": [{"title": "t"}],
               "mcq": {"options": [{"text": {"en": f"option {i}"}, "correct": i < correct} for i in range(options)]}}
    path.write_text(yaml.safe_dump({"name": "m", "version": "1", "concepts": [concept]}))
    return path


@pytest.mark.parametrize("options,correct,needle", [(30, 1, "at most 8 options"), (4, 0, "has 0")])
def test_bank_validate_rejects_impossible_mcq(tmp_path, capsys, options, correct, needle):
    bank = _mcq_bank(tmp_path / "b.yaml", options, correct)
    assert main(["bank", "validate", str(bank)]) == 1
    assert needle in capsys.readouterr().out


def test_a_yaml_alias_bomb_is_refused_fast(tmp_path, capsys):
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)) + "concepts: [*i]\n"
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(text)
    started = time.perf_counter()
    assert main(["bank", "validate", str(bomb)]) == 1
    assert "billion laughs" in capsys.readouterr().out
    assert main(["bank", "stats", "--bank", str(bomb)]) == 2
    assert "billion laughs" in one_line_error(capsys)
    assert time.perf_counter() - started < 10  # 87 s before


def test_run_refuses_a_bank_that_bank_validate_rejects(tmp_path, capsys):
    """Before: duplicate ids printed "6/6 stored" and stored 4."""
    bank = write_small_bank(tmp_path / "bank.yaml", n=6, langs=("en",))
    data = yaml.safe_load(bank.read_text())
    data["concepts"][1]["id"] = data["concepts"][0]["id"]
    bank.write_text(yaml.safe_dump(data))
    rc = main(["run", "--target", "openai-compat:http://127.0.0.1:9/v1#m", "--bank", str(bank), "--lang", "en",
               "--db", str(tmp_path / "g.db"), "--report", "", "--judge", "none"])
    assert rc == 2
    assert "does not validate" in one_line_error(capsys)
    assert not (tmp_path / "g.db").exists()  # refused before anything was created


def test_a_5000_digit_number_in_yaml_is_one_line(tmp_path, capsys):
    bank = tmp_path / "big.yaml"
    bank.write_text("name: x\nversion: " + "9" * 5000 + "\nconcepts: []\n")
    assert main(["bank", "validate", str(bank)]) == 1
    assert "cannot be read" in capsys.readouterr().out
    assert main(["bank", "stats", "--bank", str(bank)]) == 2
    one_line_error(capsys)
    targets = tmp_path / "t.yaml"
    targets.write_text("- {kind: vllm, model: m, revision: " + "9" * 5000 + "}\n")
    assert main(["run", "--target", str(targets), "--dry-run", "--db", str(tmp_path / "g.db")]) == 2
    one_line_error(capsys)


def test_bank_import_survives_nuls_and_deep_json(tmp_path, capsys):
    src = tmp_path / "p.jsonl"
    src.write_text('{"prompt": "What happened \\u0000 in 1989?"}\n' + "[" * 50_000 + "]" * 50_000 + "\n")
    assert main(["bank", "import", str(src), "--format", "jsonl", "--out", str(tmp_path / "b.yaml")]) == 2
    assert "nested too deeply" in one_line_error(capsys)


def test_a_huge_targets_yaml_alias_bomb_is_one_line(tmp_path, capsys):
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)) + "targets: [*i]\n"
    f = tmp_path / "targets.yaml"
    f.write_text(text)
    assert main(["run", "--target", str(f), "--dry-run", "--db", str(tmp_path / "g.db")]) == 2
    assert "billion laughs" in one_line_error(capsys)
