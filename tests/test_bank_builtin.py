"""The built-in bank: it validates, its fingerprint is stable, its `quick` subset is balanced."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from glasnost.bank.load import KINDS, load_bank
from glasnost.bank.validate import validate_bank
from glasnost.cli.main import main

BIG_CN_TOPICS = ("tiananmen-1989", "xinjiang", "tibet", "taiwan", "hong-kong", "xi-jinping")


def test_builtin_bank_validates() -> None:
    report = validate_bank()
    assert report.builtin and report.concepts > 0
    assert report.errors == [], "\n".join(str(e) for e in report.errors[:40])


def test_builtin_fingerprint_is_stable_across_runs() -> None:
    here = load_bank("core").fingerprint
    assert load_bank("core").fingerprint == here
    code = "from glasnost.bank import load_bank; print(load_bank('core').fingerprint)"
    for seed in ("1", "12345"):  # another process, another hash seed: set and dict order must not leak in
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == here


def test_quick_subset_is_balanced() -> None:
    core, quick = load_bank("core"), load_bank("quick")
    ids = {c.id for c in quick.concepts}
    assert 25 <= len(ids) <= 50  # one concept per jurisdiction (32) plus the CN pairs and controls
    assert {c.jurisdiction for c in quick.concepts} == {c.jurisdiction for c in core.concepts}
    assert {c.kind for c in quick.concepts} == set(KINDS)
    assert sum(c.kind == "control" for c in quick.concepts) >= 3
    for topic in BIG_CN_TOPICS:
        paired = [c for c in quick.concepts if c.jurisdiction == "CN" and c.topic == topic and set(c.mirrors) & ids]
        assert paired, f"quick has no CN {topic} concept together with one of its mirrors"


def test_list_prints_core_and_quick(capsys) -> None:
    assert main(["bank", "list"]) == 0
    out = capsys.readouterr().out
    core = load_bank("core").ref()
    assert re.search(rf"│ core\s*│\s*{core.concepts}\s*│\s*{core.probes}\s*│", out), out
    quick = load_bank("quick").ref()
    assert re.search(rf"│ quick\s*│\s*{quick.concepts}\s*│\s*{quick.probes}\s*│", out), out
