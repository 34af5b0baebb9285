"""glasnost compare: paired differences between runs, and the refusal to pair runs that differ."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from glasnost.errors import ConfigError
from glasnost.records import GenerationConfig
from glasnost.stats.compare import compare_runs
from glasnost.store import open_store
from glasnost.testing.synthetic import RunBuilder, make_concept, target_spec

CONCEPTS = [make_concept(f"cn.t{i}.knowledge", "CN", f"t{i}") for i in range(20)]


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "g.db")
    yield s
    s.close()


def _run(store, censored_en: set[int], censored_zh: set[int], *, target="m", generation=None, system=None):
    # Each run gets its own model revision: the same target asked again under the same settings would
    # share its work-item keys (and so its responses) with the first run.
    _run.revision += 1
    spec = target_spec(target, revision=f"rev-{_run.revision}")
    b = RunBuilder(store, CONCEPTS, targets=[spec], langs=["en", "zh-Hans"], generation=generation,
                   system_prompt=system)
    for i, c in enumerate(CONCEPTS):
        b.add(target, c.id, "en", "refused" if i in censored_en else "answered")
        b.add(target, c.id, "zh-Hans", "refused" if i in censored_zh else "answered")
    return b.commit()


_run.revision = 0


def test_paired_differences_between_two_runs(store):
    before = _run(store, censored_en={0, 1}, censored_zh={0, 1, 2})
    after = _run(store, censored_en={0, 1, 5, 6, 7, 8}, censored_zh={2})
    result = compare_runs(store, [before.run_id, after.run_id])
    assert result.judge == "default@1" and result.differences == {after.run_id: []}
    by_lang = {p.lang: p for p in result.pairs}
    assert set(by_lang) == {None, "en", "zh-Hans"}
    en = by_lang["en"].result
    assert (en.diff.n, en.b_only, en.a_only) == (20, 4, 0)
    assert en.diff.value == pytest.approx(4 / 20)
    assert en.diff.p == pytest.approx(2 / 16)  # exact McNemar, 4 vs 0
    zh = by_lang["zh-Hans"].result
    assert zh.diff.value == pytest.approx(-2 / 20)
    everything = by_lang[None]
    assert everything.result.diff.n == 40
    assert everything.newly_censored == [(f"cn.t{i}.knowledge", "en", 0) for i in (5, 6, 7, 8)]
    assert everything.newly_answered == [("cn.t0.knowledge", "zh-Hans", 0), ("cn.t1.knowledge", "zh-Hans", 0)]
    # Testable comparisons are Holm-adjusted together; too few discordant pairs to ever reach p < 0.05
    # (en: 4 discordant pairs, smallest p 0.125) is "too few to tell" and stays out of the family (Tarone).
    assert all(p.result.diff.p_holm >= p.result.diff.p for p in result.pairs if p.result.diff.testable)
    assert not en.diff.testable and en.diff.min_p == pytest.approx(0.125) and en.diff.p_holm is None
    assert everything.result.diff.testable and everything.result.diff.p_holm is not None  # 6 discordant


def test_compare_refuses_runs_that_differ_and_says_what(store):
    base = _run(store, set(), set())
    hotter = _run(store, set(), set(), generation=GenerationConfig(temperature=0.7, max_tokens=256))
    prompted = _run(store, set(), set(), system="You are a helpful assistant.")
    with pytest.raises(ConfigError) as err:
        compare_runs(store, [base.run_id, hotter.run_id])
    message = str(err.value)
    assert "not comparable" in message and "--force" in message and "\n" not in message
    assert "generation.temperature: 0.0 vs 0.7" in message and "generation.max_tokens: 1024 vs 256" in message
    with pytest.raises(ConfigError, match="system prompt: none vs [0-9a-f]{12}"):
        compare_runs(store, [base.run_id, prompted.run_id])
    forced = compare_runs(store, [base.run_id, hotter.run_id], force=True)
    assert forced.differences[hotter.run_id] and forced.pairs


def test_compare_refuses_another_bank(store):
    base = _run(store, set(), set())
    other_bank = [make_concept("ru.x.knowledge", "RU", "x")]
    b = RunBuilder(store, other_bank, targets=["m"], langs=["en"])
    b.add("m", "ru.x.knowledge", "en", "answered")
    other = b.commit()
    with pytest.raises(ConfigError, match="bank: synthetic 1 \\([0-9a-f]{12}\\) vs synthetic 1"):
        compare_runs(store, [base.run_id, other.run_id])


def test_compare_two_models_run_separately(store):
    a = _run(store, {0, 1, 2, 3}, {0, 1, 2, 3}, target="model-x")
    b = _run(store, set(), set(), target="model-y")
    result = compare_runs(store, [a.run_id, b.run_id])
    everything = next(p for p in result.pairs if p.lang is None)
    assert (everything.target_a, everything.target_b) == ("model-x", "model-y")
    assert everything.result.diff.value == pytest.approx(-8 / 40)


def test_compare_needs_two_judged_runs(store):
    base = _run(store, set(), set())
    with pytest.raises(ConfigError, match="at least two runs"):
        compare_runs(store, [base.run_id])
    b = RunBuilder(store, CONCEPTS, targets=["m"], langs=["en"])
    b.add("m", CONCEPTS[0].id, "en", None)
    unjudged = b.commit()
    c = RunBuilder(store, CONCEPTS, targets=["m"], langs=["en"])
    c.add("m", CONCEPTS[0].id, "en", None)
    with pytest.raises(ConfigError, match="none of these runs is judged yet"):
        compare_runs(store, [unjudged.run_id, c.commit().run_id])


def test_cli_compare(store, tmp_path):
    base = _run(store, {0}, {0})
    later = _run(store, {0, 1, 2}, {0})
    hotter = _run(store, set(), set(), generation=GenerationConfig(temperature=1.0))
    store.close()
    db = str(tmp_path / "g.db")
    cli = [sys.executable, "-m", "glasnost.cli.main", "compare"]
    ok = subprocess.run([*cli, base.run_id, later.run_id, "--db", db], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "Paired differences" in ok.stdout and "+10.0 pts" in ok.stdout
    assert "censored now, answered before: cn.t1.knowledge [en#0], cn.t2.knowledge [en#0]" in ok.stdout
    refused = subprocess.run([*cli, base.run_id, hotter.run_id, "--db", db], capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: runs are not comparable") and refused.stderr.count("\n") == 1
    assert "generation.temperature: 0.0 vs 1.0" in refused.stderr
    forced = subprocess.run([*cli, base.run_id, hotter.run_id, "--db", db, "--force", "--json"],
                            capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0
    assert "differ in: generation.temperature: 0.0 vs 1.0" in forced.stderr
    doc = json.loads(forced.stdout)
    assert doc["differences"][hotter.run_id] == ["generation.temperature: 0.0 vs 1.0"]
