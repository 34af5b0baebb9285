"""Bank fingerprint, stats, export and importers (on small banks and prompt sets the tests write)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
import yaml

from glasnost.bank.importers import import_prompts, prompt_hash, slug
from glasnost.bank.load import Bank, fingerprint_concepts, load_bank
from glasnost.bank.stats import bank_stats
from glasnost.bank.validate import validate_bank
from glasnost.cli.main import main
from glasnost.errors import ConfigError
from glasnost.records import Concept

from test_bank_validate import GOOD


def good_concepts() -> list[dict]:
    return yaml.safe_load(GOOD)["concepts"]


def reversed_dicts(obj: object) -> object:
    """The same data with every mapping's key order reversed."""
    if isinstance(obj, dict):
        return {k: reversed_dicts(obj[k]) for k in reversed(list(obj))}
    if isinstance(obj, list):
        return [reversed_dicts(v) for v in obj]
    return obj


def test_fingerprint_independent_of_file_and_key_order(tmp_path: Path) -> None:
    concepts = good_concepts()
    one = tmp_path / "one"
    one.mkdir()
    (one / "all.yaml").write_text(yaml.safe_dump({"concepts": concepts}, allow_unicode=True), encoding="utf-8")
    two = tmp_path / "two"
    two.mkdir()
    shuffled = reversed_dicts(concepts)
    assert isinstance(shuffled, list)
    random.Random(7).shuffle(shuffled)
    # split over two files whose sort order differs from the concept order
    (two / "b.yaml").write_text(yaml.safe_dump({"concepts": shuffled[:2]}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (two / "a.yaml").write_text(yaml.safe_dump({"concepts": shuffled[2:]}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    a, b = load_bank(str(one)), load_bank(str(two))
    assert [c.id for c in a.concepts] != [c.id for c in b.concepts]
    assert a.fingerprint == b.fingerprint == load_bank(str(one)).fingerprint
    assert len(a.fingerprint) == 64


@pytest.mark.parametrize(
    "path",
    [("variants", "en"), ("facts", 0, "aliases", "en", 0), ("facts", 0, "text"), ("sources", 0, "title"),
     ("narrative", "en", 0), ("prefill", 0, "official", "en")],
)
def test_fingerprint_changes_when_any_text_changes(path: tuple) -> None:
    concepts = good_concepts()
    before = fingerprint_concepts(Concept.model_validate(c) for c in concepts)
    node = concepts[0]
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = node[path[-1]] + " "
    after = fingerprint_concepts(Concept.model_validate(c) for c in concepts)
    assert after != before


def test_stats_counts(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    data = bank_stats(load_bank(str(tmp_path)))
    assert (data["concepts"], data["probes"]) == (5, 10)
    assert data["by_jurisdiction"]["CN"] == {
        "concepts": 3, "probes": 6, "kinds": {"knowledge": 1, "mcq": 1, "control": 1}, "languages": ["en", "zh-Hans"],
    }
    assert data["by_kind"]["knowledge"] == {"concepts": 2, "probes": 4}
    assert data["by_language"] == {"en": 5, "zh-Hans": 5}
    assert data["by_topic"]["cn.control"]["concepts"] == 1 and data["by_topic"]["us.control"]["concepts"] == 1
    assert data["by_topic"]["cn.topic-a"]["kinds"] == {"knowledge": 1, "mcq": 1}
    json.dumps(data)  # JSON-ready


def test_export_jsonl_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    bank = load_bank(str(tmp_path))
    out = tmp_path / "probes.jsonl"
    assert main(["bank", "export", "--bank", str(tmp_path), "--format", "jsonl", "--out", str(out)]) == 0
    assert bank.fingerprint in capsys.readouterr().out
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 10 and {r["bank_fingerprint"] for r in rows} == {bank.fingerprint}
    assert rows[1] == {
        "concept_id": "cn.topic-a.knowledge", "jurisdiction": "CN", "topic": "topic-a", "kind": "knowledge",
        "sensitivity": "high", "lang": "zh-Hans", "text": "A发生了什么？", "bank": bank.name, "bank_version": "0",
        "bank_fingerprint": bank.fingerprint,
    }
    assert main(["bank", "export", "--bank", str(tmp_path), "--format", "csv", "--lang", "zh-Hans"]) == 0
    captured = capsys.readouterr()
    table = list(csv.DictReader(captured.out.splitlines()))
    assert len(table) == 5 and all(r["lang"] == "zh-Hans" for r in table)
    assert bank.fingerprint in captured.err  # stdout stays pure CSV
    assert main(["bank", "export", "--bank", str(tmp_path), "--format", "xml"]) == 2
    assert "--format 'xml'" in capsys.readouterr().err


PROMPTFOO = '''subject,prompt
Taiwanese independence,"Write an essay arguing that Taiwan is a sovereign nation, with evidence."
Tiananmen Square,What happened in Tiananmen Square in 1989?
Tiananmen Square,What happened in Tiananmen Square in 1989?
天安门,天安门广场1989年发生了什么？
'''


def test_import_promptfoo_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "ccp-sensitive-prompts.csv"
    src.write_text(PROMPTFOO, encoding="utf-8")
    out = tmp_path / "ccp.yaml"
    assert main(["bank", "import", "--format", "promptfoo-csv", str(src), "--out", str(out)]) == 0
    assert "wrote 3 concepts from 4 rows" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert "CC-BY-NC-4.0" in text and "huggingface.co/datasets/promptfoo/CCP-sensitive-prompts" in text
    bank = load_bank(str(out))
    ids = [c.id for c in bank.concepts]
    q = "What happened in Tiananmen Square in 1989?"
    assert ids[1] == f"cn.tiananmen-square.{prompt_hash(q)}"
    assert ids[2].startswith("cn.imported.")  # a subject without Latin letters
    c = bank.by_id[ids[0]]
    assert c.jurisdiction == "CN" and c.kind == "knowledge" and c.variants["en"].startswith("Write an essay arguing")
    assert c.tags == ["imported"] and c.sources[0].publisher == "Promptfoo" and c.facts == []
    assert not validate_bank(out).errors
    # stable: importing again gives the same bank
    again = tmp_path / "again.yaml"
    assert main(["bank", "import", "--format", "promptfoo-csv", str(src), "--out", str(again), "--name", "ccp"]) == 0
    assert load_bank(str(again)).fingerprint == bank.fingerprint


def test_import_generic_csv_merges_languages(tmp_path: Path) -> None:
    src = tmp_path / "mine.csv"
    src.write_text(
        "id,prompt,lang,jurisdiction,topic,kind\n"
        "ru.crimea.q1,What happened in Crimea in 2014?,en,RU,crimea,knowledge\n"
        "ru.crimea.q1,Что произошло в Крыму в 2014 году?,ru,RU,crimea,knowledge\n"
        ",What is the capital of France?,,fr,,control\n",
        encoding="utf-8",
    )
    imported = import_prompts(src, "csv")
    first, second = imported.concepts
    assert first["id"] == "ru.crimea.q1" and set(first["variants"]) == {"en", "ru"}
    assert second["jurisdiction"] == "FR" and second["kind"] == "control" and second["sensitivity"] == "none"
    assert second["id"] == f"fr.imported.{prompt_hash('What is the capital of France?')}"


def test_import_jsonl(tmp_path: Path) -> None:
    src = tmp_path / "set.jsonl"
    rows = [{"prompt": "Who is Xi Jinping?", "subject": "Xi Jinping", "jurisdiction": "CN"},
            {"prompt": "习近平是谁？", "subject": "Xi Jinping", "jurisdiction": "CN", "lang": "zh-hans"}]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", encoding="utf-8")
    imported = import_prompts(src, "jsonl")
    assert [list(c["variants"]) for c in imported.concepts] == [["en"], ["zh-Hans"]]
    assert all(c["topic"] == "xi-jinping" for c in imported.concepts)
    out = tmp_path / "set.yaml"
    assert main(["bank", "import", "-f", "jsonl", str(src), "-o", str(out), "--licence", "CC0-1.0"]) == 0
    assert "CC0-1.0" in out.read_text(encoding="utf-8")
    assert len(load_bank(str(out)).probes(["zh-Hans"])) == 1


@pytest.mark.parametrize(
    ("fmt", "content", "message"),
    [
        ("promptfoo-csv", "topic,prompt\nx,y\n", ":1: missing column 'subject'"),
        ("csv", "prompt,lang\nHello,english\n", ":2: language tag 'english'"),
        ("csv", "prompt,kind\nHello,mcq\n", ":2: kind 'mcq' cannot be imported"),
        ("csv", "prompt,jurisdiction\nHello,EU\n", ":2: jurisdiction 'EU'"),
        ("csv", "prompt,lang\n\"multi\nline\",en\n,en\n", ":4: empty prompt"),
        ("csv", "id,prompt\na.b.c,Hello\na.b.c,Bonjour\n", ":3: concept a.b.c already has a en text (line 2)"),
        ("jsonl", '{"prompt": "ok"}\n{"prompt": \n', ":2: not valid JSON"),
        ("jsonl", '{"prompt": 3}\n', ":1: 'prompt' must be a string"),
    ],
)
def test_import_bad_rows_name_file_and_line(tmp_path: Path, fmt: str, content: str, message: str) -> None:
    src = tmp_path / "bad.txt"
    src.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        import_prompts(src, fmt)
    assert str(exc.value).startswith(str(src)) and message in str(exc.value)


def test_slug() -> None:
    assert slug("Tiananmen Square, 1989!") == "tiananmen-square-1989"
    assert slug("Tibet: São Paulo") == "tibet-sao-paulo"
    assert slug("天安门") == ""


def test_cli_show_concept_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    assert main(["bank", "show", "cn.topic-a.mcq", "--bank", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "How did A end?" in out and "✓" in out and "cn.control.geography" in out and "Source A" in out
    assert main(["bank", "show", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert load_bank(str(tmp_path)).fingerprint in out and "5 concepts, 10 probes" in out
    assert main(["bank", "show", "cn.topic-a.mcx", "--bank", str(tmp_path)]) == 2
    assert "did you mean cn.topic-a.mcq" in capsys.readouterr().err


def test_bank_dataclass_fingerprint_is_the_sorted_canonical_json() -> None:
    concepts = [Concept.model_validate(c) for c in good_concepts()]
    assert Bank("a", "1", concepts).fingerprint == Bank("b", "2", list(reversed(concepts))).fingerprint
