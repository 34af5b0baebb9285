"""docs/cli.md is the contract of every command; this keeps it true, and checks the rules it states.

Each command's `--help` (as a pipe sees it) is compared with the table's row: the same commands, the same
options. Then the shared rules: complete rows for pipes, `--out -` meaning standard output, plain CSV,
language tags in any case, one line when a run cannot start."""

from __future__ import annotations

import csv
import os
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from glasnost.cli.main import _register_commands, app, main
from helpers_runner import MockServer

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "cli.md"


def _doc_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`") and cells[0] != "`--out -`":
            rows[cells[0].split("`")[1]] = re.findall(r"`(--[a-z-]+)`", cells[4])
    return rows


def _commands() -> dict[str, list[str]]:
    _register_commands()
    found: dict[str, list[str]] = {}

    def walk(cmd, path: list[str]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
            return
        found[" ".join(path)] = sorted(o for p in cmd.params for o in p.opts
                                       if o.startswith("--") and o != "--help")

    walk(typer.main.get_command(app), [])
    return found


def test_the_table_lists_every_command_and_every_option() -> None:
    doc, code = _doc_rows(), _commands()
    assert sorted(doc) == sorted(code), "docs/cli.md and the commands differ"
    for name, options in code.items():
        assert sorted(doc[name]) == options, f"{name}: docs/cli.md lists {doc[name]}, the command has {options}"


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_help_is_plain_and_complete_for_a_pipe(name: str, capsys) -> None:
    assert main([*name.split(), "--help"]) == 0
    out = capsys.readouterr().out
    assert "╭" not in out and "…" not in out, f"{name} --help is boxed or cut for a pipe"
    for option in _commands()[name]:
        assert option in out, f"{name} --help does not show {option}"


def test_the_command_list_shows_whole_summaries(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    commands = out.split("Commands:", 1)[1]
    assert "..." not in commands and "Audit targets on a bank" in commands


@pytest.fixture(scope="module")
def mock_server():
    server = MockServer()
    try:
        yield server.base_url
    finally:
        server.close()


def _run_mock(tmp_path: Path, mock_server, *extra: str) -> Path:
    db = tmp_path / "g.db"
    rc = main(["run", "--target", f"openai-compat:{mock_server}#mock", "--db", str(db), "--report", "",
               "--limit", "3", *extra])
    assert rc == 0
    return db


def test_runs_for_a_pipe_gives_whole_ids(tmp_path, mock_server, capsys) -> None:
    db = _run_mock(tmp_path, mock_server)
    capsys.readouterr()
    assert main(["runs", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, row = lines[0].split("\t"), lines[1].split("\t")
    assert header[0] == "id" and len(row) == len(header)
    assert re.fullmatch(r"[0-9a-f]{12}", row[0]), row[0]
    assert "…" not in lines[1] and row[header.index("targets")].endswith("#mock")


def test_judge_prints_no_progress_into_the_summary_for_a_pipe(tmp_path, mock_server, capsys) -> None:
    db = _run_mock(tmp_path, mock_server, "--judge", "none")
    run_id = next(iter(_run_ids(db)))
    capsys.readouterr()
    assert main(["judge", run_id, "--db", str(db)]) == 0
    captured = capsys.readouterr()
    assert "judged" not in captured.err and "\r" not in captured.out + captured.err
    assert captured.out.splitlines()[1].split("\t")[0] == "label"


def _run_ids(db: Path) -> list[str]:
    from glasnost.store import open_store

    store = open_store(db)
    try:
        return [m.run_id for m in store.list_runs()]
    finally:
        store.close()


def test_csv_export_is_plain_utf8_and_the_bom_is_an_option(tmp_path, mock_server, capsys) -> None:
    db = _run_mock(tmp_path, mock_server)
    run_id = _run_ids(db)[0]
    plain, bom = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["export", run_id, "--out", str(plain), "--db", str(db)]) == 0
    assert main(["export", run_id, "--out", str(bom), "--bom", "--db", str(db)]) == 0
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    assert bom.read_bytes().startswith(b"\xef\xbb\xbf")
    with plain.open(encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh))[0] == "run_id"
    capsys.readouterr()
    assert main(["export", run_id, "--out", "-", "--format", "csv", "--db", str(db)]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][0] == "run_id" and len(rows) == 1 + 3


def test_out_dash_is_stdout_for_the_leaderboard_and_the_bundle(tmp_path, mock_server, monkeypatch,
                                                               capsysbinary) -> None:
    monkeypatch.setenv("GLASNOST_CONFIG_DIR", str(tmp_path / "config"))
    db = _run_mock(tmp_path, mock_server)
    run_id = _run_ids(db)[0]
    assert main(["keys", "init", "--name", "Tester"]) == 0
    monkeypatch.chdir(tmp_path)
    capsysbinary.readouterr()
    assert main(["bundle", "export", run_id, "--out", "-", "--db", str(db)]) == 0
    data = capsysbinary.readouterr().out
    assert data[:2] == b"\x1f\x8b"  # gzip magic: the archive itself, nothing else
    bundle = tmp_path / "audit.tar.gz"
    bundle.write_bytes(data)
    assert main(["leaderboard", str(bundle), "--out", "-", "--format", "json"]) == 0
    assert capsysbinary.readouterr().out.lstrip().startswith(b"{")
    assert not (tmp_path / "-").exists()


def test_language_tags_in_any_case_and_a_suggestion_for_zh(tmp_path, mock_server, capsys) -> None:
    db = tmp_path / "g.db"
    target = f"openai-compat:{mock_server}#mock"
    assert main(["run", "--target", target, "--db", str(db), "--dry-run", "--lang", "EN,zh-hans"]) == 0
    first = capsys.readouterr().out
    assert main(["run", "--target", target, "--db", str(db), "--dry-run"]) == 0
    assert capsys.readouterr().out.split(":")[0] == first.split(":")[0]  # the same run id
    assert main(["run", "--target", target, "--db", str(db), "--dry-run", "--lang", "zh"]) == 2
    err = capsys.readouterr().err
    assert "zh-Hans" in err and "zh-Hant" in err and len(err.strip().splitlines()) == 1


def test_a_run_that_cannot_start_prints_one_line(tmp_path, monkeypatch) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-m", "glasnost.cli.main", "run", "--target", "local:no-such/model",
                           "--db", str(tmp_path / "g.db")], capture_output=True, text=True, env=env,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 3
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1, proc.stdout + proc.stderr
    assert "hf download" in proc.stderr and "huggingface-cli" not in proc.stderr


def test_ctrl_c_says_how_to_resume(tmp_path) -> None:
    import signal

    from helpers_runner import glasnost_cmd, stored_count, wait_for

    server = MockServer(latency_ms=1500)
    try:
        proc = subprocess.Popen(glasnost_cmd("run", "--target", f"openai-compat:{server.base_url}#slow",
                                             "--report", "", "--db", str(tmp_path / "g.db")),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert wait_for(lambda: stored_count(tmp_path / "g.db") > 0, timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130
        assert "run the same command again to resume" in err
    finally:
        server.close()


def test_a_failed_run_is_shown_as_failed_and_has_no_report(tmp_path, capsys) -> None:
    db = tmp_path / "g.db"
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert main(["run", "--target", "local:no-such/model", "--db", str(db)]) == 3
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    run_id = _run_ids(db)[0]
    capsys.readouterr()
    assert main(["show", run_id, "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "failed" in out and "glasnost judge" not in out
    assert main(["report", run_id, "--db", str(db), "--out", str(tmp_path / "r.html")]) == 2
    assert "failed before storing any answer" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_llm_judge_errors_say_how_many_and_why(tmp_path, mock_server, capsys) -> None:
    db = _run_mock(tmp_path, mock_server, "--judge", "none")
    run_id = _run_ids(db)[0]
    capsys.readouterr()
    assert main(["judge", run_id, "--judge", f"llm:openai-compat:{mock_server}#judge", "--db", str(db)]) == 0
    err = capsys.readouterr().err
    assert "3 judge errors" in err and "the first: reply is not JSON" in err
    assert len(err.strip().splitlines()) == 1


def test_bundle_export_picks_the_latest_default_judge_like_report(tmp_path, mock_server, monkeypatch,
                                                                 capsys) -> None:
    from glasnost.store import open_store

    monkeypatch.setenv("GLASNOST_CONFIG_DIR", str(tmp_path / "config"))
    db = _run_mock(tmp_path, mock_server)
    run_id = _run_ids(db)[0]
    store = open_store(db)
    try:  # a second judge's verdicts on the same answers
        [judge] = store.judges(run_id)
        others = [v.model_copy(update={"judge": "human@1"}) for v in store.iter_verdicts(run_id, judge)]
        store.put_verdicts(others)
        assert len(store.judges(run_id)) == 2
    finally:
        store.close()
    assert main(["keys", "init", "--name", "Tester"]) == 0
    capsys.readouterr()
    assert main(["bundle", "export", run_id, "--out", str(tmp_path / "a.tar.gz"), "--db", str(db)]) == 0
    assert f"verdicts by {judge}" in capsys.readouterr().out


def test_scipy_is_a_core_dependency_because_judge_eval_needs_it() -> None:
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("scipy") for d in deps)
