"""`glasnost bank validate`: each kind of error names its file and line; all errors are listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from glasnost.bank.codes import check_jurisdiction, check_language_tag
from glasnost.bank.validate import validate_bank
from glasnost.cli.main import main

GOOD = """\
concepts:
  - id: cn.topic-a.knowledge
    jurisdiction: CN
    topic: topic-a
    kind: knowledge
    sensitivity: high
    variants:
      en: What happened at A?
      zh-Hans: A发生了什么？
    facts:
      - id: f1
        text: Troops fired.
        aliases:
          en: ["fired"]
          zh-Hans: ["开枪"]
    narrative:
      en: ["stability"]
    mirrors: [us.topic-b.knowledge]
    control: [cn.control.geography]
    prefill:
      - prefix: {en: "At A, the army", zh-Hans: "在A，军队"}
        documented: {en: " fired.", zh-Hans: "开枪。"}
        official: {en: " kept order.", zh-Hans: "维持秩序。"}
    sources:
      - title: Source A
        url: https://example.org/a
  - id: cn.topic-a.mcq
    jurisdiction: CN
    topic: topic-a
    kind: mcq
    variants:
      en: How did A end?
      zh-Hans: A是如何结束的？
    mcq:
      options:
        - text: {en: "Troops fired", zh-Hans: "军队开枪"}
          correct: true
        - text: {en: "Rain came", zh-Hans: "下了雨"}
        - text: {en: "Order restored", zh-Hans: "恢复秩序"}
          official: true
    control: [cn.control.geography]
    sources:
      - title: Source A
  - id: us.topic-b.knowledge
    jurisdiction: US
    topic: topic-b
    kind: knowledge
    variants:
      en: What happened at B?
      zh-Hans: B发生了什么？
    facts:
      - id: f1
        text: Something happened at B.
        aliases: {en: ["shot"], zh-Hans: ["开枪"]}
    mirrors: [cn.topic-a.knowledge]
    control: [us.control.geography]
    sources:
      - title: Source B
  - id: cn.control.geography
    jurisdiction: CN
    topic: control
    kind: control
    sensitivity: none
    variants: {en: "What is the longest river in China?", zh-Hans: "中国最长的河流是哪条？"}
  - id: us.control.geography
    jurisdiction: US
    topic: control
    kind: control
    sensitivity: none
    variants: {en: "What is the longest river in the US?", zh-Hans: "美国最长的河流是哪条？"}
"""


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not in the test bank"
    return hits[nth - 1]


def write(folder: Path, text: str, name: str = "bank.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_bank_has_no_errors(tmp_path: Path) -> None:
    report = validate_bank(write(tmp_path, GOOD))
    assert report.errors == [], [str(e) for e in report.errors]
    assert (report.concepts, report.probes) == (5, 10)
    assert report.summary().startswith("OK: ")


# (old text, new text, needle on the expected line (after the change), fragment of the message)
CASES = {
    "schema-kind": ("kind: knowledge\n    sensitivity: high", "kind: essay\n    sensitivity: high", "kind: essay", "kind"),
    "schema-extra-field": ("    topic: topic-b\n", "    topic: topic-b\n    colour: red\n", "colour: red", "colour"),
    "schema-missing-variants": ('    variants: {en: "What is the longest river in the US?", zh-Hans: "美国最长的河流是哪条？"}\n', "",
                                "- id: us.control.geography", "variants: Field required"),
    "unknown-mirror": ("mirrors: [us.topic-b.knowledge]", "mirrors: [us.topic-x.knowledge]", "us.topic-x", "unknown concept 'us.topic-x.knowledge'"),
    "mirror-same-jurisdiction": ("mirrors: [us.topic-b.knowledge]", "mirrors: [cn.topic-a.mcq]", "mirrors: [cn.topic-a.mcq]", "about CN too"),
    "unknown-control": ("control: [us.control.geography]", "control: [us.control.nothing]", "us.control.nothing", "unknown concept"),
    "control-other-state": ("control: [us.control.geography]", "control: [cn.control.geography]", "control: [cn.control.geography]", "same state"),
    "fact-alias-missing-language": ('          zh-Hans: ["开枪"]\n', "", "        aliases:", "no aliases in zh-Hans"),
    "narrative-language-without-variant": ('      en: ["stability"]', '      fr: ["stabilité"]', "stabilité", "narrative language fr"),
    "mcq-two-correct": ('        - text: {en: "Rain came", zh-Hans: "下了雨"}', '        - text: {en: "Rain came", zh-Hans: "下了雨"}\n          correct: true',
                        "      options:", "exactly one correct option"),
    "mcq-option-language": ('{en: "Rain came", zh-Hans: "下了雨"}', '{en: "Rain came"}', '{en: "Rain came"}', "mcq option 2 has no text in zh-Hans"),
    "mcq-missing-block": (GOOD[GOOD.index("    mcq:\n"):GOOD.index("    control: [cn.control.geography]\n    sources:\n      - title: Source A\n  - id: us")], "",
                          "kind: mcq", "needs an 'mcq' block"),
    "prefill-language": ('official: {en: " kept order.", zh-Hans: "维持秩序。"}', 'official: {en: " kept order."}', "official:",
                         "prefill 1 official has no text in zh-Hans"),
    "language-tag-case": ("      zh-Hans: A发生了什么？", "      zh-hans: A发生了什么？", "zh-hans: A", "write 'zh-Hans'"),
    "language-tag-unknown": ("      en: What happened at A?", "      qq: What happened at A?", "qq: What", "unknown language 'qq'"),
    "language-tag-shape": ("      en: What happened at A?", "      english: What happened at A?", "english: What", "language[-Script][-REGION]"),
    "jurisdiction": ("    jurisdiction: US\n    topic: topic-b", "    jurisdiction: USA\n    topic: topic-b", "jurisdiction: USA", "ISO 3166-1"),
    "sensitive-without-sources": ("    sources:\n      - title: Source B\n", "", "- id: us.topic-b.knowledge", "needs sources"),
    "duplicate-yaml-key": ("      en: What happened at A?\n", "      en: What happened at A?\n      en: Again?\n", "en: Again?", "duplicate key 'en'"),
    "duplicate-id-in-file": ("  - id: us.control.geography", "  - id: cn.control.geography", "- id: cn.control.geography", "duplicate concept id"),
    "yaml-syntax": ("    topic: topic-b\n", "    topic: topic-b: b\n", "topic: topic-b: b", "YAML syntax error"),
    "empty-alias": ('aliases: {en: ["shot"]', 'aliases: {en: [""]', 'aliases: {en: [""]', "empty alias"),
}

# Needles that occur more than once: which occurrence carries the error.
NTH = {"duplicate-id-in-file": 2, "control-other-state": 3}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_error_names_file_and_line(tmp_path: Path, case: str) -> None:
    old, new, needle, fragment = CASES[case]
    assert old in GOOD, case
    text = GOOD.replace(old, new, 1)
    path = write(tmp_path, text)
    report = validate_bank(path)
    nth = NTH.get(case, 1)
    expected = f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}:{line_of(text, needle, nth)}:"
    hits = [str(e) for e in report.errors if fragment in e.message]
    assert hits, f"{case}: no error with {fragment!r}; got {[str(e) for e in report.errors]}"
    assert any(h.startswith(expected) for h in hits), f"{case}: expected at {expected}, got {hits}"


def test_all_errors_are_listed_not_just_the_first(tmp_path: Path) -> None:
    text = GOOD.replace("kind: knowledge\n    sensitivity: high", "kind: essay\n    sensitivity: high")
    text = text.replace("mirrors: [cn.topic-a.knowledge]", "mirrors: [cn.nothing.knowledge]")
    text = text.replace("    jurisdiction: US\n    topic: topic-b", "    jurisdiction: USA\n    topic: topic-b")
    report = validate_bank(write(tmp_path, text))
    lines = {e.line for e in report.errors}
    assert {line_of(text, "kind: essay"), line_of(text, "cn.nothing"), line_of(text, "jurisdiction: USA")} <= lines


def test_duplicate_id_across_files_names_both(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    other = "concepts:\n  - id: cn.control.geography\n    jurisdiction: CN\n    topic: control\n    kind: control\n" \
            "    sensitivity: none\n    variants: {en: Where is Beijing}\n"
    write(tmp_path, other, "b.yaml")
    report = validate_bank(tmp_path)
    dup = [e for e in report.errors if "duplicate concept id" in e.message]
    assert len(dup) == 1 and dup[0].file.endswith("b.yaml") and dup[0].line == 2
    assert f"a.yaml:{line_of(GOOD, '- id: cn.control.geography')}" in dup[0].message


def test_subset_with_unknown_id(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    meta = write(tmp_path, "name: mine\nversion: '1'\nsubsets:\n  quick:\n    - cn.topic-a.knowledge\n    - cn.gone\n", "_bank.yaml")
    report = validate_bank(tmp_path)
    hits = [e for e in report.errors if "cn.gone" in e.message]
    assert len(hits) == 1 and hits[0].file.endswith(meta.name) and hits[0].line == 6


def test_knowledge_without_facts_error_for_builtin_warning_otherwise(tmp_path: Path) -> None:
    start, end = GOOD.index("    facts:\n      - id: f1\n        text: Something happened at B."), GOOD.index("    mirrors: [cn.topic-a.knowledge]")
    text = GOOD[:start] + GOOD[end:]
    path = write(tmp_path, text)
    needle = line_of(text, "kind: knowledge", 2)
    assert not validate_bank(path).errors
    assert any(w.line == needle and "without facts" in w.message for w in validate_bank(path).warnings)
    assert any(e.line == needle and "needs facts" in e.message for e in validate_bank(path, builtin=True).errors)
    tagged = text.replace("    mirrors: [cn.topic-a.knowledge]", "    mirrors: [cn.topic-a.knowledge]\n    tags: [imported]")
    assert not validate_bank(write(tmp_path, tagged), builtin=True).errors


def test_balance_warnings_for_builtin_rules(tmp_path: Path) -> None:
    report = validate_bank(write(tmp_path, GOOD), builtin=True)
    messages = [w.message for w in report.warnings]
    assert any("cn.topic-a.knowledge" in m and "missing zh-Hant, es" in m for m in messages)
    assert any("topic cn.topic-a lacks .criticism, .indirect" in m for m in messages)
    assert any("lacks the control concepts cn.control.culture" in m for m in messages)
    assert not report.errors


def test_cli_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good", GOOD)
    assert main(["bank", "validate", str(good)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("OK: bank bank: 5 concepts, 10 probes")
    bad = write(tmp_path / "bad", GOOD.replace("mirrors: [us.topic-b.knowledge]", "mirrors: [us.nope.knowledge]"))
    assert main(["bank", "validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"bank.yaml:{line_of(GOOD, 'mirrors: [us.topic-b')}: cn.topic-a.knowledge: mirrors names unknown" in out
    assert "1 errors" in out and "Traceback" not in out
    assert main(["bank", "validate", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("tag", "ok"),
    [("en", True), ("zh-Hans", True), ("zh-Hant-TW", True), ("pt-BR", True), ("es-419", True), ("yue", True),
     ("zh-hans", False), ("EN", False), ("xx", False), ("zh-Hanz", False), ("en-QQ", False), ("en-US-x-foo", False),
     ("", False), ("e", False)],
)
def test_language_tags(tag: str, ok: bool) -> None:
    assert (check_language_tag(tag) is None) is ok


def test_jurisdiction_codes() -> None:
    assert check_jurisdiction("CN") is None and check_jurisdiction("XX") is None and check_jurisdiction("PS") is None
    assert "upper case" in (check_jurisdiction("cn") or "")
    assert check_jurisdiction("EU") is not None and check_jurisdiction("CHN") is not None


def test_file_level_problems(tmp_path: Path) -> None:
    write(tmp_path, "concept:\n  - id: a.b.c\n", "wrong-key.yaml")
    (tmp_path / "latin1.yaml").write_bytes("concepts:\n  - id: cn.caf\xe9.x\n".encode("latin-1"))
    write(tmp_path, GOOD, "old.yml")
    report = validate_bank(tmp_path)
    found = {(Path(e.file).name, e.line, e.severity) for e in report.issues}
    assert ("wrong-key.yaml", 1, "error") in found
    assert ("latin1.yaml", 2, "error") in found  # the line of the first byte that is not UTF-8
    assert ("old.yml", 1, "warning") in found
    assert any("not UTF-8" in e.message for e in report.errors)
