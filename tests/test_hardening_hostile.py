"""Hardening: model output, target names and other auditors' bundles are hostile input.

Nothing they contain may become markup, a link, a path or a command: the leaderboard (HTML and Markdown)
escapes every string and makes invisible controls visible; file names written by glasnost come only from
the user's own arguments; nothing read from a bundle or a response is ever evaluated.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from glasnost.bundle.browser import script_tag
from glasnost.bundle.export import export_run
from glasnost.bundle.merge import merge
from glasnost.bundle.render import md, render_html, render_md
from glasnost.bundle.verify import verify_bytes, verify_file
from glasnost.cli.main import main
from glasnost.records import Label, Outcome
from test_bundle_fixtures import CONCEPTS, Item, build_run, key, target

SCRIPT = "<script>window.__pwned=1</script>"
BIDI = "\u202e"  # right-to-left override: "gpt-4o\u202eevil" displays reversed
ZW = "\u200b"
HOSTILE_NAME = f'{SCRIPT}"><img src=x onerror=alert(1)>{BIDI}[click](javascript:alert(2))~~x~~{ZW}'
HOSTILE_MODEL = f"![pixel](https://tracker.example/p.png)<b>bold</b>{BIDI}"
HOSTILE_RUN = f"run-</td><td>{BIDI}x"
HOSTILE_JUDGE = f"judge<script>{BIDI}@1"


def _hostile_bundle(tmp_path: Path) -> bytes:
    t = target(HOSTILE_MODEL, base_url="https://evil.example:8443/v1", name=HOSTILE_NAME,
               revision=f"rev{SCRIPT}")
    items = [Item(t, CONCEPTS[0].id, "en", Label.refused, text=f"{SCRIPT} {HOSTILE_NAME}"),
             Item(t, CONCEPTS[1].id, "en", Label.answered, text=HOSTILE_MODEL),
             Item(t, CONCEPTS[2].id, "en", Label.refused, outcome=Outcome.error, text=None)]
    store = build_run(tmp_path / "h.db", HOSTILE_RUN, items, judge=HOSTILE_JUDGE)
    try:
        return export_run(store, HOSTILE_RUN, key("mallory"), judge=HOSTILE_JUDGE).data
    finally:
        store.close()


@pytest.fixture
def hostile_file(tmp_path) -> Path:
    path = tmp_path / f"<img src=x>{BIDI}evil.tar.gz"
    path.write_bytes(_hostile_bundle(tmp_path))
    return path


def test_leaderboard_html_escapes_and_shows_controls(hostile_file):
    board = merge([verify_file(hostile_file)])
    html = render_html(board)
    # The page's one script is the in-page bundle verifier (fixed code, allowed by its CSP hash); none else.
    assert html.count(script_tag()) == 1
    html = html.replace(script_tag(), "")
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<b>" not in lowered
    assert "</td><td>" + BIDI not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html
    # invisible controls become visible markers: a name cannot reorder or hide what the reader sees
    assert BIDI not in html and ZW not in html
    assert "U+202E" in html and "U+200B" in html
    # the error outcome mislabelled "refused" is not counted: 1 censored of 2 counted
    (row,) = board.rows
    assert (row.pooled.n_counted, row.pooled.n_censored) == (2, 1)


def test_leaderboard_markdown_is_inert(hostile_file):
    board = merge([verify_file(hostile_file)])
    text = render_md(board)
    assert BIDI not in text and ZW not in text and "U+202E" in text
    for line in text.splitlines():
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        # every Markdown special character inside a cell is backslash-escaped
        inner = re.sub(r"\[\d+\.\d%, \d+\.\d%\]", "", line.strip().strip("|"))  # our own intervals
        cells = re.split(r"(?<!\\)\|", inner)
        for cell in cells:
            assert re.search(r"(?<!\\)[<>\[\]`*~!]", cell) is None, cell
    # table rows keep their column count whatever the names hold
    head = next(ln for ln in text.splitlines() if ln.startswith("| # |"))
    columns = head.count("|")
    for ln in text.splitlines():
        if ln.startswith("| 1 |"):
            assert len(re.findall(r"(?<!\\)\|", ln)) == columns, ln


def test_md_escape_function():
    assert md("a~~b~~") == "a\\~\\~b\\~\\~"
    assert md(f"x{BIDI}y") == "x⟨U+202E⟩y"
    assert md("line\nbreak|pipe") == "line break\\|pipe"


def test_leaderboard_json_keeps_the_data_exactly(hostile_file):
    board = merge([verify_file(hostile_file)])
    from glasnost.bundle.render import render_json

    doc = json.loads(render_json(board))
    assert doc["rows"][0]["names"] == [HOSTILE_NAME]  # data stays data: escaping is the renderer's job
    assert doc["bundles"][0]["source"] == hostile_file.name  # the file name only, never the folder


def test_cli_leaderboard_writes_only_where_told(hostile_file, tmp_path, capsys, monkeypatch):
    """The output file name comes from --out alone; nothing in a bundle names a file or runs a command."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    monkeypatch.chdir(out_dir)
    for fmt in ("html", "md", "json"):
        rc = main(["leaderboard", str(hostile_file), "--out", f"board.{fmt}"])
        assert rc == 0, capsys.readouterr()
    assert sorted(p.name for p in out_dir.iterdir()) == ["board.html", "board.json", "board.md"]
    printed = capsys.readouterr().out
    assert BIDI not in printed and SCRIPT not in printed


def test_bundle_member_names_are_fixed_whatever_the_run(tmp_path):
    """Member names of a bundle are constants: a hostile run id or target name never names a member."""
    import gzip
    import io
    import tarfile

    from glasnost.bundle.format import ARCHIVE_ORDER

    data = _hostile_bundle(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        assert [i.name for i in tar.getmembers()] == list(ARCHIVE_ORDER)


def test_import_of_a_hostile_bundle_creates_no_file(hostile_file, tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    db = work / "g.db"
    assert main(["bundle", "import", str(hostile_file), "--db", str(db)]) == 0
    printed = capsys.readouterr().out
    assert BIDI not in printed
    assert sorted(p.name for p in work.iterdir() if not p.name.startswith("g.db")) == []


def test_export_and_report_paths_come_from_the_user_only(tmp_path, monkeypatch, capsys):
    """Responses whose text and target names look like paths (../../x, /etc/passwd, $(rm -rf ~)) are data."""
    from glasnost.store import open_store
    from glasnost.testing.synthetic import RunBuilder, make_concept

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    concepts = [make_concept("cn.a.knowledge", "CN", "a", langs=("en",))]
    store = open_store(work / "g.db")
    names = ["../../escape", "/etc/passwd", "$(touch pwned)", "`touch pwned2`"]
    b = RunBuilder(store, concepts, targets=names, langs=["en"], run_id="../../run")
    for n in names:
        b.add(n, "cn.a.knowledge", "en", "answered", text=f"$(touch pwned3); ../../{n}; {SCRIPT}")
    b.commit()
    store.close()
    for out in ("r.html", "r.md", "r.json"):
        assert main(["report", "../../run", "--out", out, "--db", "g.db"]) == 0, capsys.readouterr()
    for out in ("e.csv", "e.jsonl"):
        assert main(["export", "../../run", "--out", out, "--db", "g.db"]) == 0, capsys.readouterr()
    assert sorted(p.name for p in work.iterdir()) == sorted(
        ["g.db", "g.db-wal", "g.db-shm", "r.html", "r.md", "r.json", "e.csv", "e.jsonl"]
    ) or sorted(p.name for p in work.iterdir()) == sorted(["g.db", "r.html", "r.md", "r.json", "e.csv", "e.jsonl"])
    assert not list(tmp_path.glob("escape*")) and not (tmp_path / "run").exists()
    assert not list(Path.cwd().glob("pwned*"))


def test_no_module_evaluates_or_shells_out():
    """No eval/exec/pickle/shell anywhere in the package; the only subprocess is `git rev-parse` (manifest)."""
    root = Path(__file__).resolve().parents[1] / "src" / "glasnost"
    offenders = []
    pattern = re.compile(r"\b(eval|exec)\(|pickle\.|shell\s*=\s*True|os\.system\(|os\.popen\(|allow_pickle\s*=\s*True"
                         r"|yaml\.load\((?![^)]*Loader=_Loader)|trust_remote_code\s*=\s*True|__import__\(")
    for path in root.rglob("*.py"):
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code) and ".eval()" not in code:
                offenders.append(f"{path.relative_to(root)}:{no}: {line.strip()}")
    assert not offenders, offenders
    users = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
             if re.search(r"^\s*(import subprocess|from subprocess)", p.read_text(encoding="utf-8"), re.M)]
    assert users == ["run/manifest.py"], users


TERMINAL_HOSTILE = "[link=https://evil.example]click[/link]\x1b[31mred\x1b]0;title\x07\u202e[bold]b[/bold]"


def _terminal_store(tmp_path) -> tuple[Path, str]:
    from glasnost.store import open_store
    from glasnost.testing.synthetic import RunBuilder, make_concept, target_spec

    concepts = [make_concept("cn.a.knowledge", "CN", "a", langs=("en",))]
    db = tmp_path / "g.db"
    store = open_store(db)
    name = "m" + TERMINAL_HOSTILE
    b = RunBuilder(store, concepts, targets=[target_spec(name, revision="r" + TERMINAL_HOSTILE)], langs=["en"],
                   run_id="run-term")
    b.add(name, "cn.a.knowledge", "en", "answered")
    b.manifest.message = "target stopped: HTTP 401 " + TERMINAL_HOSTILE  # a provider's words, kept in the manifest
    b.commit(status="failed")
    store.close()
    return db, name


@pytest.mark.parametrize("command", [["runs"], ["show", "run-term"]])
def test_terminal_output_cannot_be_hijacked(tmp_path, command):
    """Target names, revisions and provider messages reach the terminal as text: no rich markup (a hidden
    hyperlink), no escape sequences (colours, window titles), no bidi reordering."""
    from helpers_runner import run_cli

    db, _ = _terminal_store(tmp_path)
    result = run_cli(*command, "--db", str(db), env={"FORCE_COLOR": "1", "COLUMNS": "400"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "]8;" not in out, out  # no OSC 8 hyperlink
    assert "\x1b[31m" not in out and "\x1b]0;" not in out and "\u202e" not in out
    assert "[link=https://evil.example]click[/link]" in out  # shown as the text it is
    assert "U+001B" in out and "U+202E" in out
    if command[0] == "show":
        assert "run run-term [failed]" in out  # the status in brackets is text too (it was eaten as markup)


def test_error_lines_cannot_be_hijacked(tmp_path, capsys):
    """A provider's message inside an error line (one line, controls made visible)."""
    import glasnost.cli.runs as runs_module
    from glasnost.errors import TargetFatal

    def boom(*_a, **_k):
        raise TargetFatal("target x: HTTP 401 not authorised (" + TERMINAL_HOSTILE + "\nsecond line); check the key")

    monkey = pytest.MonkeyPatch()
    try:
        monkey.setattr(runs_module, "open_store", boom)
        rc = main(["runs", "--db", str(tmp_path / "x.db")])
    finally:
        monkey.undo()
    err = capsys.readouterr().err
    assert rc == 3
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: target x: HTTP 401"), err
    assert "\x1b" not in err and "\u202e" not in err and "\x07" not in err


def test_bank_show_prints_imported_prompts_as_text(tmp_path):
    """A public prompt set is untrusted text: ``[/bold]`` in a prompt crashed `bank show` (rich markup)."""
    from helpers_runner import run_cli

    csv = tmp_path / "p.csv"
    csv.write_text('subject,prompt\nTiananmen,"What happened [/bold] in 1989 [link=https://evil.example]x[/link]?"\n')
    bank = tmp_path / "b.yaml"
    assert run_cli("bank", "import", str(csv), "--format", "promptfoo-csv", "--out", str(bank)).returncode == 0
    concept_id = next(ln.split()[-1] for ln in bank.read_text().splitlines() if ln.strip().startswith("- id:"))
    result = run_cli("bank", "show", concept_id, "--bank", str(bank), env={"COLUMNS": "300"})
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "[/bold] in 1989 [link=https://evil.example]x[/link]?" in result.stdout
    stats = run_cli("bank", "stats", "--bank", str(bank))
    assert stats.returncode == 0, stats.stderr
