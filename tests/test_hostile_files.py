"""Every command that reads a file, fed every kind of hostile file (issue 11): one line and a non-zero exit
(or a clean success), never a traceback."""

from __future__ import annotations

import gzip
import json

import pytest

from glasnost.cli.main import main

ROW = json.dumps({"id": "a", "prompt": "What happened?", "response": "It happened in 1989.", "lang": "en"})
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)) + "concepts: [*i]\n"
_GZ = gzip.compress((ROW + "\n").encode() * 50)

HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "not-utf8": b"\xff\xfe\xfa not text \x80\x81",
    "nul": b'{"id": "a", "response": "x\x00y"}\n',
    "surrogate": b'{"id": "a", "response": "\\ud800 lone", "prompt": "\\udfff"}\n',
    "deep-json": b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "long-number": b'{"id": ' + b"9" * 5000 + b', "response": "x"}\n',
    "endless-line": b'{"id": "a", "response": "' + b"a" * 300_000,
    "gzip-truncated": _GZ[: len(_GZ) // 2],
    "gzip-damaged": _GZ[:20] + b"\xff" * 20 + _GZ[40:],
    "yaml-bomb": BOMB.encode(),
    "yaml-long-number": b"name: x\nversion: " + b"9" * 5000 + b"\nconcepts: []\n",
    "yaml-deep": b"concepts: " + b"[" * 5000 + b"]" * 5000 + b"\n",
}

COMMANDS = {
    "classify": lambda f, t: ["classify", str(f), "--out", str(t / "o.jsonl"), "--bank", "none"],
    "judge-eval": lambda f, t: ["judge-eval", str(f)],
    "bank validate": lambda f, t: ["bank", "validate", str(f)],
    "bank stats": lambda f, t: ["bank", "stats", "--bank", str(f)],
    "bank import jsonl": lambda f, t: ["bank", "import", str(f), "--format", "jsonl", "--out", str(t / "b.yaml")],
    "bank import csv": lambda f, t: ["bank", "import", str(f), "--format", "csv", "--out", str(t / "b.yaml")],
    "run targets file": lambda f, t: ["run", "--target", str(f), "--dry-run", "--db", str(t / "g.db")],
    "run replay": lambda f, t: ["run", "--target", f"replay:{f}#m", "--bank", "quick", "--lang", "en",
                                "--db", str(t / "g.db"), "--report", "", "--judge", "none", "--limit", "2"],
    "bundle verify": lambda f, t: ["bundle", "verify", str(f)],
    "bundle import": lambda f, t: ["bundle", "import", str(f), "--db", str(t / "g.db")],
    "leaderboard": lambda f, t: ["leaderboard", str(f), "--out", str(t / "lb.html")],
}
SUFFIX = {"run targets file": ".yaml", "bank validate": ".yaml", "bank stats": ".yaml", "bank import csv": ".csv"}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_hostile_file_gets_one_line(tmp_path, capsys, monkeypatch, command, kind):
    monkeypatch.setenv("GLASNOST_MAX_LINE_BYTES", "100000")
    monkeypatch.setenv("GLASNOST_CONFIG_DIR", str(tmp_path / "config"))
    f = tmp_path / ("input" + SUFFIX.get(command, ".jsonl.gz" if kind.startswith("gzip") else ".jsonl"))
    f.write_bytes(HOSTILE[kind])
    rc = main(COMMANDS[command](f, tmp_path))  # an exception escaping main would be the traceback
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if rc != 0:
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) <= 1, err
