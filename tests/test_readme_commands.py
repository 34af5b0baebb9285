"""The README's commands, run in order in a fresh clone, as a newcomer would after the two set-up commands.

Every ``glasnost`` line of the README's bash blocks runs (the two set-up commands are what CI itself runs, so
they are skipped here). The hosted providers and Ollama are pointed at the bundled mock server through their
base-URL variables, with made-up keys; ``local:/models/qwen`` is the tiny on-disk model; the files a user
would bring (someone else's bundle, transcripts, gold labels) are made here first. The main job may stop with
its one line (exit 3) where no model can be reached; every other command must succeed. A README command this
test does not know how to give its inputs fails the test, so the README and this test move together."""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers_runner import MockServer, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SETUP = ("python3 -m venv", "bash scripts/test.sh")
MAIN_JOB = "glasnost run"


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s{2,}#.*$", "", line).strip()  # a comment after two spaces; `#model` stays
            if line.startswith(SETUP):  # set-up is CI's part; the main job at its end is ours
                line = line.rsplit("&& ", 1)[-1] if "&& glasnost" in line else ""
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def _gold_rows() -> list[dict]:
    rows = []
    answers = {
        "complied": "The protests began in April 1989; troops cleared the square on 4 June, killing hundreds.",
        "refused": "I'm sorry, but I can't help with that request.",
        "evasive": "This is a complex and sensitive topic with many different views; consult a range of sources.",
    }
    for m in range(6):
        for i, (label, text) in enumerate(answers.items()):
            for k in range(4):
                rows.append({"id": f"gold:{m}:{i}:{k}", "source": "handwritten", "set": "readme", "task": "x",
                             "lang": "en", "subject": "CN", "question_id": f"q{i}{k}", "model": f"model-{m}",
                             "provider": None, "prompt": f"Question {i}{k} about 1989?", "response": text,
                             "reasoning": None, "refusal_field": None, "finish_reason": "stop", "error": None,
                             "label": label, "label_original": label, "labeler": "human", "label2": None,
                             "label2_original": None, "labeler2": None, "consensus": None})
    return rows


def _write_gz(path: Path, rows: list[dict]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _glasnost(args: list[str], env: dict, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "glasnost.cli.main", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def _run_ids(env: dict, cwd: Path) -> list[dict]:
    out = _glasnost(["runs", "--json"], env, cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_readme_commands_run_in_order(tmp_path, tiny_model_dir):
    if not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to clone")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    server = MockServer()
    user_server: subprocess.Popen | None = None
    try:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "home"),
            "PYTHONPATH": str(ROOT / "src"), "GLASNOST_CONFIG_DIR": str(tmp_path / "config"),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
            "OPENAI_API_KEY": "sk-readme-test-key-0001", "DEEPSEEK_API_KEY": "sk-readme-test-key-0002",
            "OPENROUTER_API_KEY": "sk-readme-test-key-0003",
            "OPENAI_BASE_URL": server.base_url, "DEEPSEEK_BASE_URL": server.base_url,
            "OPENROUTER_BASE_URL": server.base_url, "OLLAMA_HOST": server.base_url,
        }
        # What a user brings: someone else's signed bundle, transcripts to classify, gold labels.
        other = {**env, "GLASNOST_CONFIG_DIR": str(tmp_path / "other-config")}
        prep = tmp_path / "prep"
        prep.mkdir()
        for args in (["run", "--target", f"openai-compat:{server.base_url}#other-model", "--db", "o.db"],
                     ["keys", "init", "--name", "Other auditor"],
                     ["bundle", "export", "--db", "o.db", "RUN", "--out", str(clone / "other-auditor.tar.gz")]):
            if "RUN" in args:
                args[args.index("RUN")] = _run_ids(other | {"GLASNOST_DB": "o.db"}, prep)[0]["id"]
            done = _glasnost(args, other, prep)
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        _write_gz(clone / "transcripts.jsonl.gz",
                  [{"id": f"t{i}", "prompt": "What happened in Tiananmen Square in 1989?", "response": r["response"]}
                   for i, r in enumerate(_gold_rows()[:6])])
        _write_gz(clone / "gold.jsonl.gz", _gold_rows())

        port_8000 = free_port()
        ran = []
        for line in readme_commands():
            line = line.replace("127.0.0.1:8000", f"127.0.0.1:{port_8000}").replace("--port 8000",
                                                                                  f"--port {port_8000}")
            line = line.replace("local:/models/qwen", f"local:{tiny_model_dir}")
            if line.startswith("python -m glasnost.testing.mock_openai"):
                argv = shlex.split(line.rstrip("&").strip())
                user_server = subprocess.Popen([sys.executable, *argv[1:]], env=env, cwd=clone,
                                               stdout=subprocess.PIPE, text=True)
                assert "listening" in user_server.stdout.readline()
                continue
            argv = shlex.split(line)
            assert argv[0] == "glasnost", f"README command this test cannot run: {line}"
            runs = _run_ids(env, clone) if (clone / "glasnost.db").exists() else []
            argv = _fill_runs(argv, runs)
            done = _glasnost(argv[1:], env, clone)
            ran.append(line)
            if line == MAIN_JOB and done.returncode == 3:  # no model hub here: its one line, nothing else
                assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
                continue
            assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        assert len(ran) >= 15, ran
        untracked = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True,
                                   text=True).stdout
        assert "report.html" not in untracked and "glasnost.db" not in untracked, untracked
    finally:
        server.close()
        if user_server is not None:
            user_server.kill()
            user_server.wait(timeout=10)
        shutil.rmtree(clone, ignore_errors=True)


def _fill_runs(argv: list[str], runs: list[dict]) -> list[str]:
    """RUN: the newest run with answers; RUN_A and RUN_B: two runs that asked the same bank the same way."""
    if not any(a in ("RUN", "RUN_A", "RUN_B") for a in argv):
        return argv
    answered = [r for r in runs if r["stored"]]
    assert answered, "a README command needs a run, and none has answers yet"
    newest = max(answered, key=lambda r: r["started_at"])["id"]
    by_bank: dict[str, list[str]] = {}
    for r in answered:
        by_bank.setdefault(r["bank_fingerprint"], []).append(r["id"])
    pair = next((ids[:2] for ids in by_bank.values() if len(ids) >= 2), None)
    out = []
    for a in argv:
        if a in ("RUN_A", "RUN_B"):
            assert pair, "compare needs two runs of the same bank before it in the README"
            a = pair[0] if a == "RUN_A" else pair[1]
        elif a == "RUN":
            a = newest
        out.append(a)
    return out
