"""Hardening: every command, fed bad input, says so in one clear line and exits non-zero; never a traceback,
and nothing stored is lost. Every option of every command can also come from ``GLASNOST_<OPTION>``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from glasnost.cli.common import env_name
from glasnost.cli.main import main
from glasnost.store import open_store
from glasnost.testing.synthetic import RunBuilder, make_concept
from helpers_runner import glasnost_cmd, write_small_bank

SPEC = "openai-compat:http://127.0.0.1:9/v1#m"
CONCEPTS = [make_concept("cn.a.knowledge", "CN", "a", langs=("en",), mirrors=["us.a.knowledge"]),
            make_concept("us.a.knowledge", "US", "a", langs=("en",))]


def _build(db: Path, run_id: str, labels: tuple[str, str]) -> None:
    store = open_store(db)
    b = RunBuilder(store, CONCEPTS, targets=["alpha"], langs=["en"], run_id=run_id)
    b.add("alpha", "cn.a.knowledge", "en", labels[0])
    b.add("alpha", "us.a.knowledge", "en", labels[1])
    b.add("alpha", "us.a.knowledge", "en", "error", outcome="error", text=None, sample=1)
    b.commit()
    store.close()


def dump(db: Path) -> dict[str, list]:
    """Everything stored, table by table (read-only, so looking changes nothing)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}")))  # noqa: S608 - table names from code
                for t in ("runs", "run_items", "responses", "verdicts", "bank_snapshots")}
    finally:
        con.close()


def make_world(path: Path) -> Path:
    """A folder with a good store (two judged runs), a bundle, a key, and every kind of bad file."""
    from glasnost.bundle.export import export_run
    from glasnost.bundle.keys import init_key
    from test_bundle_fixtures import key

    db = path / "good.db"
    _build(db, "run-good", ("refused", "answered"))
    _build(db, "run-other", ("answered", "answered"))
    store = open_store(db)
    (path / "good.tar.gz").write_bytes(export_run(store, "run-good", key("alice")).data)
    store.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GLASNOST_CONFIG_DIR", str(path / "cfg"))
        init_key("tester")
    (path / "foreign.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    con = sqlite3.connect(path / "other.db")
    con.execute("CREATE TABLE x (a)")
    con.commit()
    con.close()
    (path / "text.db").write_text("hello, not a database")
    (path / "folder").mkdir()
    (path / "bad.yaml").write_text("concepts: [ {id: x\n  : : :")
    (path / "bad.jsonl").write_text('{"a": 1}\n{not json\n')
    (path / "junk.tar.gz").write_bytes(b"\x1f\x8b\x08junk")
    (path / "trust.txt").write_text("garbage line\n")
    write_small_bank(path / "bank.yaml", n=2, langs=("en",))
    return path


def _enter(path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(path)
    for var in [v for v in os.environ if v.startswith("GLASNOST_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("GLASNOST_CONFIG_DIR", str(path / "cfg"))
    return path


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory) -> Path:
    return make_world(tmp_path_factory.mktemp("world"))


@pytest.fixture
def bad_world(shared_world, monkeypatch) -> Path:
    """The shared world, for commands that fail (and so change nothing)."""
    return _enter(shared_world, monkeypatch)


@pytest.fixture
def world(tmp_path, monkeypatch) -> Path:
    """A world of its own, for tests that write into it."""
    return _enter(make_world(tmp_path), monkeypatch)


def one_clear_line(err: str) -> bool:
    """Exactly one non-empty line starting with ``error:``, or click's usage error (Usage/Try/Error)."""
    if "Traceback" in err:
        return False
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) > len("error: ") + 10:
        return True
    return bool(lines) and lines[0].startswith("Usage:") and lines[-1].startswith("Error:") and len(lines) <= 3


BAD = [
    # stores: missing, a folder, foreign, another program's, not SQLite; unknown runs and judges
    (["runs", "--db", "missing.db"], "no store at missing.db"),
    (["runs", "--db", "folder"], "is a folder"),
    (["runs", "--db", "foreign.db"], "not a readable SQLite file"),
    (["runs", "--db", "other.db"], "another program"),
    (["show", "run-good", "--db", "text.db"], "not a readable SQLite file"),
    (["show", "nosuchrun", "--db", "good.db"], "no run 'nosuchrun'"),
    (["show", "run-%", "--db", "good.db"], "no run 'run-%'"),  # LIKE wildcards are not wildcards
    (["show", "run-good", "--db", "good.db", "--judge", "nosuch@1"], "no verdicts from judge 'nosuch@1'"),
    (["report", "nosuchrun", "--db", "good.db"], "no run"),
    (["report", "run-good", "--db", "good.db", "--judge", "nosuch"], "no verdicts from judge"),
    (["report", "run-good", "--db", "good.db", "--format", "pdf"], "unknown report format"),
    (["report", "run-good", "--db", "good.db", "--out", "missing/r.html"], "does not exist"),
    (["report", "run-good", "--db", "good.db", "--out", "/proc/r.html"], "cannot write /proc/r.html"),
    (["report", "run-good", "--db", "good.db", "--out", "folder"], "is a folder"),
    (["export", "run-good", "--db", "good.db", "--out", "missing/e.csv"], "does not exist"),
    (["export", "run-good", "--db", "good.db", "--out", "/proc/e.csv"], "cannot write /proc/e.csv"),
    (["export", "run-good", "--db", "good.db", "--out", "e.xyz"], "cannot tell the format"),
    (["export", "run-good", "--db", "good.db", "--out", "e.csv", "--format", "xls"], "unknown export format"),
    (["export", "nosuchrun", "--db", "good.db", "--out", "e.csv"], "no run"),
    (["compare", "run-good", "--db", "good.db"], "at least two runs"),
    (["compare", "run-good", "nosuch", "--db", "good.db"], "no run 'nosuch'"),
    (["compare", "run-good", "run-good", "--db", "good.db"], "the same run is given twice"),
    (["compare", "run-good", "run-other", "--db", "good.db", "--judge", "nosuch"], "no verdicts from judge"),
    # bundles and keys
    (["leaderboard", "missing.tar.gz"], "no bundle at missing.tar.gz"),
    (["leaderboard", "folder"], "is a folder"),
    (["leaderboard", "junk.tar.gz"], "not valid gzip"),
    (["leaderboard", "good.tar.gz", "--out", "missing/l.html"], "does not exist"),
    (["leaderboard", "good.tar.gz", "--out", "/proc/l.html"], "cannot write /proc/l.html"),
    (["leaderboard", "good.tar.gz", "--out", "folder"], "folder is a folder"),
    (["leaderboard", "good.tar.gz", "--format", "pdf"], "is not one of"),
    (["leaderboard", "good.tar.gz", "--trust", "missing.txt"], "cannot read trust file"),
    (["leaderboard", "good.tar.gz", "--trust", "trust.txt"], "trust.txt:1"),
    (["bundle", "verify", "missing.tar.gz"], "no bundle at"),
    (["bundle", "verify", "text.db"], "not gzip-compressed"),
    (["bundle", "verify", "good.tar.gz", "--trust", "folder"], "cannot read trust file"),
    (["bundle", "import", "junk.tar.gz", "--db", "good.db"], "not valid gzip"),
    (["bundle", "import", "good.tar.gz", "--db", "text.db"], "not a readable SQLite file"),
    (["bundle", "import", "good.tar.gz", "--db", "missing/g.db"], "does not exist"),
    (["bundle", "export", "run-good", "--db", "good.db", "--out", "missing/x.tar.gz"], "does not exist"),
    (["bundle", "export", "run-good", "--db", "good.db", "--out", "/proc/x.tar.gz"], "cannot write /proc/x.tar.gz"),
    (["bundle", "export", "nosuch", "--db", "good.db", "--out", "y.tar.gz"], "no run"),
    (["bundle", "export", "run-good", "--db", "good.db", "--out", "z.tar.gz", "--judge", "nosuch@1"], "nosuch@1"),
    (["keys", "init", "--force", "--name", ""], "name is empty"),
    (["keys", "init", "--force", "--name", "a\u202eb"], "control characters"),
    (["keys", "init", "--name", "again"], "already"),
    # run: banks, targets, stores and option values that cannot work
    (["run", "--target", SPEC, "--bank", "missing.yaml", "--db", "n.db"], "missing.yaml"),
    (["run", "--target", SPEC, "--bank", "bad.yaml", "--db", "n.db"], "bad.yaml:2"),
    (["run", "--target", "bad.yaml", "--bank", "bank.yaml", "--lang", "en", "--db", "n.db"], "not valid YAML"),
    (["run", "--target", "missing.yaml", "--bank", "bank.yaml", "--db", "n.db"], "no targets file"),
    (["run", "--target", "replay:bad.jsonl", "--bank", "bank.yaml", "--lang", "en", "--db", "n.db"], "line 2"),
    (["run", "--target", "replay:folder", "--bank", "bank.yaml", "--db", "n.db"], "no replay file"),
    (["run", "--target", "local:./nosuch", "--bank", "bank.yaml", "--db", "n.db"], "no model folder"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "en", "--db", "text.db"], "not a readable"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "en", "--db", "folder"], "is a folder"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "en", "--db", "missing/n.db"], "does not exist"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "", "--db", "n.db"], "--lang is empty"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "en", "--kinds", "bogus", "--db", "n.db"], "bogus"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "en", "--judge", "bogus", "--db", "n.db"],
     "unknown judge 'bogus'"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "en", "--report", "missing/r.html", "--db", "n.db"],
     "folder missing does not exist"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "en", "--report", "folder", "--db", "n.db"],
     "is a folder"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--samples", "0", "--db", "n.db"], "--samples"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--samples", "abc", "--db", "n.db"], "--samples"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--temperature", "-1", "--db", "n.db"], "--temperature"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--top-p", "2", "--db", "n.db"], "--top-p"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--max-tokens", "0", "--db", "n.db"], "--max-tokens"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--concurrency", "0", "--db", "n.db"], "--concurrency"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--timeout", "0", "--db", "n.db"], "--timeout"),
    (["run", "--target", SPEC, "--bank", "bank.yaml", "--max-retries", "-1", "--db", "n.db"], "--max-retries"),
    # the bank commands
    (["bank", "show", "nosuch.concept"], "nosuch.concept"),
    (["bank", "stats", "--bank", "missing.yaml"], "missing.yaml"),
    (["bank", "validate", "missing.yaml"], "does not exist"),
    (["bank", "export", "--format", "xml"], "xml"),
    (["bank", "export", "--out", "missing/p.jsonl"], "does not exist"),  # the shared atomic writer names the missing folder
    (["bank", "export", "--out", "/proc/p.jsonl"], "cannot write"),
    (["bank", "export", "--kinds", "bogus"], "unknown kind bogus"),
    (["bank", "export", "--lang", "tlh"], "tlh"),
    (["bank", "import", "missing.csv", "--format", "csv", "--out", "i.yaml"], "missing.csv"),
    (["bank", "import", "bad.jsonl", "--format", "jsonl", "--out", "i.yaml"], "bad.jsonl:2"),
    (["bank", "import", "text.db", "--format", "promptfoo-csv", "--out", "i.yaml"], "missing column"),
    # click's own usage errors
    (["nosuchcommand"], "No such command"),
    (["runs", "--bogus-flag"], "No such option"),
    (["show"], "Missing argument"),
]


@pytest.mark.parametrize("args,needle", BAD, ids=[" ".join(a)[:80] for a, _ in BAD])
def test_bad_input_is_one_clear_line(bad_world, capsys, args, needle):
    world = bad_world
    before = dump(world / "good.db")
    rc = main(args)
    out, err = capsys.readouterr()
    assert rc not in (0, None), (args, out, err)
    assert one_clear_line(err), err
    assert needle in err, (needle, err)
    assert dump(world / "good.db") == before  # a failed command changes nothing stored
    assert not (world / "n.db").exists() or not dump(world / "n.db")["responses"]


def test_a_stopped_run_keeps_what_the_store_had(world, tmp_path):
    """A run whose target is unreachable stops with one line; every run and response stays as it was."""
    db = world / "good.db"
    before = dump(db)
    result = subprocess.run(glasnost_cmd("run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "en",
                                         "--db", str(db), "--judge", "none", "--report", ""),
                            capture_output=True, text=True, timeout=120, cwd=world)
    assert result.returncode == 3 and one_clear_line(result.stderr), result.stderr
    after = dump(db)
    for table in ("responses", "verdicts", "run_items", "bank_snapshots"):
        assert set(before[table]) <= set(after[table]), table
    assert after["responses"] == before["responses"]
    assert len(after["runs"]) >= len(before["runs"])  # the failed run may be recorded, never the others lost
    runs = json.loads(subprocess.run(glasnost_cmd("runs", "--json", "--db", str(db)), capture_output=True,
                                     text=True, timeout=60).stdout)
    assert {"run-good", "run-other"} <= {r["id"] for r in runs}


# ---- a store we may read but not write ------------------------------------------------------------------


def _unprivileged() -> list[str]:
    """A prefix that runs a command without the power to ignore file permissions (root has it)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions cannot be tested")
    caps = "-dac_override,-dac_read_search,-fowner"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GLASNOST_CONFIG_DIR": str(cwd / "cfg")}
    return subprocess.run([*_unprivileged(), *glasnost_cmd(*args)], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=env)


@pytest.fixture
def read_only(world):
    """ro.db: a read-only file in a writable folder; shelf/g.db: a store in a folder nobody may write."""
    shutil.copy(world / "good.db", world / "ro.db")
    (world / "shelf").mkdir()
    shutil.copy(world / "good.db", world / "shelf" / "g.db")
    os.chmod(world / "ro.db", 0o444)
    os.chmod(world / "shelf" / "g.db", 0o444)
    os.chmod(world / "shelf", 0o555)
    yield world
    os.chmod(world / "shelf", 0o755)
    os.chmod(world / "shelf" / "g.db", 0o644)
    os.chmod(world / "ro.db", 0o644)


@pytest.mark.parametrize("db", ["ro.db", "shelf/g.db"])
def test_a_read_only_store_is_read_and_never_changed(read_only, db):
    world = read_only
    before = dump(world / db)
    for args in (["runs", "--json"], ["show", "run-good"], ["report", "run-good", "--out", "r.md"],
                 ["export", "run-good", "--out", "e.jsonl"],
                 ["run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "en", "--dry-run"]):
        result = _cli(*args, "--db", db, cwd=world)
        assert result.returncode == 0, (args, result.stderr)
    for args in (["bundle", "import", "good.tar.gz"],
                 ["run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "en", "--judge", "none", "--report", ""]):
        result = _cli(*args, "--db", db, cwd=world)
        assert result.returncode == 2 and one_clear_line(result.stderr), (args, result.stderr)
        assert "read-only" in result.stderr, result.stderr
    assert dump(world / db) == before


def test_unwritable_outputs_and_folders(read_only):
    world = read_only
    for args, needle in [
        (["report", "run-good", "--db", "good.db", "--out", "shelf/r.html"], "cannot write shelf/r.html"),
        (["export", "run-good", "--db", "good.db", "--out", "shelf/e.csv"], "cannot write shelf/e.csv"),
        (["leaderboard", "good.tar.gz", "--out", "shelf/l.html"], "cannot write shelf/l.html"),
        (["bundle", "export", "run-good", "--db", "good.db", "--out", "shelf/b.tar.gz"], "cannot write"),
        (["run", "--target", SPEC, "--bank", "bank.yaml", "--lang", "en", "--db", "shelf/new.db"], "cannot create"),
    ]:
        result = _cli(*args, cwd=world)
        assert result.returncode != 0 and one_clear_line(result.stderr), (args, result.stderr)
        assert needle in result.stderr, (needle, result.stderr)
    assert sorted(p.name for p in (world / "shelf").iterdir()) == ["g.db"]


# ---- GLASNOST_<OPTION> ----------------------------------------------------------------------------------


def _commands():
    import glasnost.cli.main as cli_main

    cli_main._register_commands()
    root = typer.main.get_command(cli_main.app)

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, (*path, name))
        else:
            yield " ".join(path), cmd

    return list(walk(root, ()))


def test_every_option_of_every_command_reads_the_environment():
    missing = []
    for name, cmd in _commands():
        for param in cmd.params:
            if param.param_type_name != "option" or param.name in ("help",):
                continue
            longs = [o for o in param.opts if o.startswith("--")]
            want = env_name(longs[0])
            if param.envvar != want:
                missing.append(f"{name} {longs[0]}: envvar {param.envvar!r}, want {want!r}")
    assert not missing, missing
    assert env_name("--warnings/--no-warnings") == "GLASNOST_WARNINGS"


def test_environment_values_drive_each_command(world, capsys, monkeypatch):
    db = str(world / "good.db")
    monkeypatch.setenv("GLASNOST_DB", db)

    monkeypatch.setenv("GLASNOST_JSON", "1")  # runs --json, show --json, compare --json, bank stats --json
    assert main(["runs"]) == 0
    assert {r["id"] for r in json.loads(capsys.readouterr().out)} == {"run-good", "run-other"}
    assert main(["show", "run-good"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == "run-good"
    assert main(["compare", "run-good", "run-other"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"] == ["run-good", "run-other"]
    assert main(["bank", "stats", "--bank", "bank.yaml"]) == 0
    assert json.loads(capsys.readouterr().out)["concepts"] == 2
    monkeypatch.delenv("GLASNOST_JSON")

    monkeypatch.setenv("GLASNOST_JUDGE", "nosuch@9")  # show/report/export --judge
    for args in (["show", "run-good"], ["report", "run-good", "--out", "x.html"],
                 ["export", "run-good", "--out", "x.csv"]):
        assert main(args) == 2
        assert "nosuch@9" in capsys.readouterr().err
    monkeypatch.delenv("GLASNOST_JUDGE")

    monkeypatch.setenv("GLASNOST_OUT", str(world / "from-env.md"))  # report --out, export --out
    assert main(["report", "run-good"]) == 0
    assert (world / "from-env.md").read_text().startswith("# Censorship audit")
    monkeypatch.setenv("GLASNOST_OUT", str(world / "from-env.jsonl"))
    assert main(["export", "run-good"]) == 0
    assert len((world / "from-env.jsonl").read_text().splitlines()) == 3
    monkeypatch.setenv("GLASNOST_OUT", str(world / "board.json"))  # leaderboard --out
    assert main(["leaderboard", "good.tar.gz"]) == 0
    assert json.loads((world / "board.json").read_text())["format"] == "glasnost-leaderboard"
    monkeypatch.setenv("GLASNOST_OUT", str(world / "b.tar.gz"))  # bundle export --out
    assert main(["bundle", "export", "run-good"]) == 0
    assert (world / "b.tar.gz").stat().st_size > 0
    monkeypatch.delenv("GLASNOST_OUT")
    capsys.readouterr()

    monkeypatch.setenv("GLASNOST_FORMAT", "md")  # report --format
    assert main(["report", "run-good", "--out", "-"]) == 0
    assert capsys.readouterr().out.startswith("# Censorship audit")
    monkeypatch.delenv("GLASNOST_FORMAT")

    monkeypatch.setenv("GLASNOST_TRUST", str(world / "trust.txt"))  # bundle verify/import, leaderboard --trust
    assert main(["bundle", "verify", "good.tar.gz"]) == 2
    assert "trust.txt:1" in capsys.readouterr().err
    monkeypatch.delenv("GLASNOST_TRUST")

    monkeypatch.setenv("GLASNOST_FORCE", "1")  # keys init --force, with GLASNOST_NAME
    monkeypatch.setenv("GLASNOST_NAME", "from-env")
    assert main(["keys", "init"]) == 0
    assert "'from-env'" in capsys.readouterr().out
    monkeypatch.delenv("GLASNOST_FORCE")
    monkeypatch.delenv("GLASNOST_NAME")

    (world / "p.csv").write_text('subject,prompt\nTiananmen,"What happened?"\n')  # imported: warned, no facts
    assert main(["bank", "import", "p.csv", "--format", "promptfoo-csv", "--out", "imported.yaml"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("GLASNOST_WARNINGS", "0")  # bank validate --no-warnings
    main(["bank", "validate", "imported.yaml"])
    quiet = capsys.readouterr().out
    monkeypatch.delenv("GLASNOST_WARNINGS")
    main(["bank", "validate", "imported.yaml"])
    loud = capsys.readouterr().out
    assert len(quiet.splitlines()) < len(loud.splitlines()), (quiet, loud)

    # run: target (repeatable), bank, lang, samples, limit, dry-run, all from the environment
    monkeypatch.setenv("GLASNOST_TARGET", f"{SPEC} openai-compat:http://127.0.0.1:9/v1#other")
    monkeypatch.setenv("GLASNOST_BANK", "bank.yaml")
    monkeypatch.setenv("GLASNOST_LANG", "en")
    monkeypatch.setenv("GLASNOST_SAMPLES", "3")
    monkeypatch.setenv("GLASNOST_LIMIT", "1")
    monkeypatch.setenv("GLASNOST_DRY_RUN", "1")
    monkeypatch.setenv("GLASNOST_DB", str(world / "env.db"))
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "6 items in total" in out, out  # 1 probe x 2 targets x 3 samples
    monkeypatch.setenv("GLASNOST_MAX_TOKENS", "0")
    assert main(["run"]) == 2
    assert "--max-tokens" in capsys.readouterr().err


def test_cli_as_a_process_never_prints_a_traceback(bad_world):
    world = bad_world
    """The same, through the installed entry point: click usage errors included."""
    for args in (["nosuchcommand"], ["run", "--samples", "abc"], ["report"], ["runs", "--db", "folder"],
                 ["report", "run-good", "--db", "good.db", "--out", "/proc/x.html"]):
        result = subprocess.run([sys.executable, "-m", "glasnost.cli.main", *args], capture_output=True,
                                text=True, timeout=60, cwd=world)
        assert result.returncode == 2 and one_clear_line(result.stderr), (args, result.stderr)
