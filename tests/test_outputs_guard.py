"""Outputs never overwrite inputs (issue 11): an --out that resolves to the store (or its -wal/-shm), an input
file or a bank file -- by path, through a symlink or a hard link -- is refused with one line before anything is
written; every writer is atomic and leaves no temporary file; stale ones are cleaned."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import pytest

from glasnost.cli.main import main
from glasnost.outfile import STALE_AFTER_S, clean_stale, write_atomically
from test_bundle_fixtures import build_run, key, standard_items


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASNOST_CONFIG_DIR", str(tmp_path / "config"))
    db = tmp_path / "g.db"
    build_run(db, "run-a", standard_items()).close()
    return tmp_path, db


def refused(capsys, rc) -> str:
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and err.startswith("error: refusing to write"), err
    return err


def snapshot(path: Path) -> bytes:
    return path.read_bytes()


@pytest.mark.parametrize("command", [
    ["report", "run-a", "--out", "{out}"],
    ["report", "run-a", "--format", "md", "--out", "{out}"],
    ["export", "run-a", "--format", "csv", "--out", "{out}"],
    ["bundle", "export", "run-a", "--out", "{out}"],
])
@pytest.mark.parametrize("how", ["same", "wal", "symlink", "hardlink"])
def test_no_command_writes_over_the_store(world, capsys, command, how):
    """Before: `report --out g.db` replaced the store with HTML (every answer lost)."""
    tmp_path, db = world
    main(["keys", "init", "--name", "t"])
    capsys.readouterr()
    before = snapshot(db)
    if how == "same":
        out = db
    elif how == "wal":
        out = db.with_name(db.name + "-wal")
    elif how == "symlink":
        out = tmp_path / "innocent.html"
        out.symlink_to(db)
    else:
        out = tmp_path / "hard.html"
        os.link(db, out)
    args = [a.replace("{out}", str(out)) for a in command] + ["--db", str(db)]
    refused(capsys, main(args))
    assert snapshot(db) == before
    assert not list(tmp_path.glob(".glasnost-*.tmp"))


def test_classify_never_empties_its_input(tmp_path, capsys):
    """Before: `classify X -o X` emptied X."""
    src = tmp_path / "t.jsonl"
    src.write_text(json.dumps({"id": "a", "response": "It happened.", "lang": "en"}) + "\n")
    before = src.read_bytes()
    refused(capsys, main(["classify", str(src), "-o", str(src), "--bank", "none"]))
    link = tmp_path / "link.jsonl"
    link.symlink_to(src)
    refused(capsys, main(["classify", str(src), "-o", str(link), "--bank", "none"]))
    assert src.read_bytes() == before


def test_bank_export_and_import_never_overwrite_the_bank(tmp_path, capsys):
    from helpers_runner import write_small_bank

    bank = write_small_bank(tmp_path / "bank.yaml", n=2, langs=("en",))
    before = bank.read_bytes()
    refused(capsys, main(["bank", "export", "--bank", str(bank), "-o", str(bank)]))
    prompts = tmp_path / "p.csv"
    prompts.write_text("prompt\nWhat happened in 1989?\n")
    refused(capsys, main(["bank", "import", str(prompts), "--format", "csv", "-o", str(prompts)]))
    assert bank.read_bytes() == before and prompts.read_text().startswith("prompt")


def test_leaderboard_never_overwrites_a_bundle_it_reads(world, capsys):
    from glasnost.bundle.export import export_run
    from glasnost.store.sqlite import SQLiteStore

    tmp_path, db = world
    store = SQLiteStore(db)
    bundle = tmp_path / "a.tar.gz"
    bundle.write_bytes(export_run(store, "run-a", key("lb")).data)
    store.close()
    before = bundle.read_bytes()
    refused(capsys, main(["leaderboard", str(bundle), "--out", str(bundle)]))
    assert bundle.read_bytes() == before


def test_run_report_never_overwrites_the_store(tmp_path, capsys):
    from helpers_runner import write_small_bank

    bank = write_small_bank(tmp_path / "bank.yaml", n=2, langs=("en",))
    db = tmp_path / "g.db"
    build_run(db, "run-x", standard_items()).close()
    before = db.read_bytes()
    rc = main(["run", "--target", "openai-compat:http://127.0.0.1:9/v1#m", "--bank", str(bank), "--lang", "en",
               "--db", str(db), "--report", str(db), "--judge", "none"])
    refused(capsys, rc)
    assert db.read_bytes() == before


def test_a_failed_writer_leaves_nothing_and_stale_temp_files_are_cleaned(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("previous")

    def boom(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_atomically(out, boom)
    assert out.read_text() == "previous" and not list(tmp_path.glob(".glasnost-*.tmp"))

    stale = tmp_path / ".glasnost-abc123.tmp"  # what a kill -9 leaves behind
    stale.write_text("partial")
    old = time.time() - STALE_AFTER_S - 60
    os.utime(stale, (old, old))
    fresh = tmp_path / ".glasnost-def456.tmp"  # another writer's, still at work: kept
    fresh.write_text("in progress")
    write_atomically(out, lambda tmp: tmp.write_text("new"))
    assert out.read_text() == "new" and not stale.exists() and fresh.exists()
    assert clean_stale(tmp_path, now=time.time() + STALE_AFTER_S + 60) == 1 and not fresh.exists()


def test_classify_output_appears_only_when_complete(tmp_path, capsys):
    src = tmp_path / "t.jsonl.gz"
    rows = [json.dumps({"id": str(i), "response": "It happened in 1989.", "lang": "en"}) for i in range(5)]
    src.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    out = tmp_path / "labels.jsonl.gz"
    assert main(["classify", str(src), "-o", str(out), "--bank", "none"]) == 0
    assert len(gzip.decompress(out.read_bytes()).splitlines()) == 5
    assert not list(tmp_path.glob(".glasnost-*.tmp"))


def test_no_output_replaces_the_auditor_key(world, capsys):
    tmp_path, db = world
    assert main(["keys", "init", "--name", "t"]) == 0
    capsys.readouterr()
    key_file = tmp_path / "config" / "keys" / "auditor.key"
    before = key_file.read_bytes()
    refused(capsys, main(["bundle", "export", "run-a", "--out", str(key_file), "--db", str(db)]))
    refused(capsys, main(["report", "run-a", "--out", str(key_file), "--db", str(db)]))
    assert key_file.read_bytes() == before
