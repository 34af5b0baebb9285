"""Simulation of the asymmetry estimators: coverage, false positives, power (the table in docs/report.md).

    PYTHONPATH=src python benchmarks/stats_simulation.py [--runs 400] [--seed 0]

Three estimators on the built-in bank's mirror design (and on made-up designs with chosen numbers of topic
families), each run a fresh simulated audit of one target:

- ``old``: the estimator before issue 19 (every other state of a group pooled as mirrors, mirror groups as
  independent units, percentile bootstrap over groups, sign flip over groups);
- ``logit``: (a) a logistic model with (group x language) effects and a state effect, fitted by penalised
  IRLS; asymmetry = the state's effect minus the median state's; a sandwich interval clustered by topic
  family (with the F/(F-1) correction), a normal test; like (b), states with fewer than 6 families are
  not tested;
- ``exclusion``: (b) iterated exclusion over topic families, the estimator glasnost uses
  (``glasnost.stats.asymmetry``).

Reported per scenario: the share of (run, state) comparisons flagged after Holm within the target, by
direction; raw false-positive rate among testable comparisons; coverage of the truth. Seeded throughout.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter

import numpy as np

from glasnost.stats import asymmetry
from glasnost.stats.asymmetry import compare_states, state_figure
from glasnost.stats.intervals import bootstrap_mean
from glasnost.stats.multiple import holm
from glasnost.stats.significance import sign_flip_test
from glasnost.testing.stats_sim import SimDesign, bank_design, draw, expit, family_design, marginal_rate

ALPHA = 0.05
MIN_EFFECT = asymmetry.MIN_EFFECT  # a finding needs Holm p < alpha and at least this difference
Z = 1.959963984540054


def exclusion(design: SimDesign, counted: np.ndarray, censored: np.ndarray, seed: int) -> list[tuple]:
    """(state, estimate, lo, hi, p, testable, pooled interval on the same side) per compared state, by the
    estimator glasnost uses."""
    figures, _, _ = compare_states(counted, censored, design.family, design.states, seed=seed)
    return [(design.states[s], f.estimate.value, f.estimate.lo, f.estimate.hi, f.estimate.p, f.estimate.testable,
             f.pooled[0] > 0 if (f.estimate.value or 0) > 0 else f.pooled[1] < 0)
            for s, f in figures.items() if f is not None]


def old(design: SimDesign, counted: np.ndarray, censored: np.ndarray, seed: int) -> list[tuple]:
    """The pre-issue-19 estimator: pooled mirrors, groups as units, no floor."""
    groups_as_units = np.arange(len(design.groups))
    everyone = np.ones(len(design.states), dtype=bool)
    out = []
    for s, state in enumerate(design.states):
        f = state_figure(counted, censored, groups_as_units, s, everyone, seed=seed)
        if f is None:
            continue
        d = f.group_diffs
        iv = bootstrap_mean(d, seed=seed) if d.size > 1 else None
        lo, hi = iv if iv else (None, None)
        out.append((state, float(d.mean()), lo, hi, sign_flip_test(d, seed=seed), True))
    return out


def logit_model(design: SimDesign, counted: np.ndarray, censored: np.ndarray, seed: int) -> list[tuple]:
    """(a): logit p = alpha[group, lang] + beta[state]; contrast beta[s] - beta[median state]; family sandwich."""
    g_idx, s_idx, l_idx = np.nonzero(counted > 0)
    n = counted[g_idx, s_idx, l_idx]
    k = censored[g_idx, s_idx, l_idx]
    n_gl = counted.shape[0] * counted.shape[2]
    n_s = counted.shape[1]
    cols = n_gl + n_s
    X = np.zeros((n.size, cols))
    X[np.arange(n.size), g_idx * counted.shape[2] + l_idx] = 1.0
    X[np.arange(n.size), n_gl + s_idx] = 1.0
    ridge = 1e-2  # keeps separated cells (0 % or 100 % of a group) finite; identifies the one redundancy
    theta = np.zeros(cols)
    for _ in range(50):
        p = expit(X @ theta)
        w = n * p * (1 - p)
        grad = X.T @ (k - n * p) - ridge * theta
        hess = (X.T * w) @ X + ridge * np.eye(cols)
        step = np.linalg.solve(hess, grad)
        theta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    p = expit(X @ theta)
    bread = np.linalg.inv((X.T * (n * p * (1 - p))) @ X + ridge * np.eye(cols))
    fam = design.family[g_idx]
    scores = X * (k - n * p)[:, None]
    per_family = np.stack([scores[fam == f].sum(axis=0) for f in np.unique(fam)])
    n_f = per_family.shape[0]
    meat = per_family.T @ per_family * (n_f / max(1, n_f - 1))
    cov = bread @ meat @ bread
    beta = theta[n_gl:]
    present = np.unique(s_idx)
    # The sandwich needs many clusters: as for the exclusion estimator, fewer than 6 families is too few.
    families = {s: np.unique(fam[s_idx == s]).size for s in present}
    out = []
    for s in present:
        others = [j for j in present if j != s]
        if not others:
            continue
        ref = others[int(np.argsort(beta[others])[len(others) // 2])]  # the median state
        c = np.zeros(cols)
        c[n_gl + s], c[n_gl + ref] = 1.0, -1.0
        est = float(c @ theta)
        se = math.sqrt(max(0.0, float(c @ cov @ c)))
        pv = 1.0 if se == 0 and est == 0 else (math.erfc(abs(est) / se / math.sqrt(2)) if se > 0 else 0.0)
        out.append((design.states[s], est, est - Z * se, est + Z * se, pv, families[s] >= 6))
    return out


ESTIMATORS = {"old": old, "logit": logit_model, "exclusion": exclusion}


def scenario(design: SimDesign, estimator: str, runs: int, seed: int, p_state: dict[str, float], *,
             default: float, topic_sd: float = 0.0, samples: int = 1, truth: dict[str, float] | None = None,
             planted: set[str] = frozenset()) -> dict:
    """Flag rates (Holm within the target) by state and direction; raw FP among testable null comparisons;
    coverage of ``truth`` (logit scale for the logit model, so only for the others)."""
    rng = np.random.default_rng(seed)
    flags: Counter = Counter()
    tested = fp = covered = covered_n = 0
    any_false = 0
    for r in range(runs):
        counted, censored = draw(design, rng, p_state, default=default, topic_sd=topic_sd, samples=samples)
        rows = ESTIMATORS[estimator](design, counted, censored, r)
        testable = [x for x in rows if x[5]]
        adjusted = holm([x[4] for x in testable]) if testable else []
        false_here = False
        for x, ph in zip(testable, adjusted):
            # the report's rule: significant, at least 5 points, and (glasnost's estimator) the pooled counts agree
            if ph < ALPHA and abs(x[1]) >= MIN_EFFECT and (len(x) < 7 or x[6]):
                flags[(x[0], "+" if x[1] > 0 else "-")] += 1
                false_here |= x[0] not in planted or x[1] < 0
            if x[0] not in planted:
                tested += 1
                fp += x[4] < ALPHA
        any_false += false_here
        # The logit model's interval is on the logit scale: its coverage is checked only where the truth is 0.
        if truth is not None and (estimator != "logit" or not any(truth.values())):
            for x in testable:
                if x[0] in truth and x[2] is not None:
                    covered_n += 1
                    covered += x[2] <= truth[x[0]] <= x[3]
    return {"flags": flags, "fp": fp / tested if tested else float("nan"), "tested": tested,
            "any_false": any_false / runs, "coverage": covered / covered_n if covered_n else float("nan"),
            "covered_n": covered_n}


def fmt_flags(flags: Counter, runs: int, states: list[str]) -> str:
    bits = [f"{s}{d} {100 * flags[(s, d)] / runs:.1f}%" for s in states for d in "+-" if flags[(s, d)]]
    return ", ".join(bits) or "none"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--part", choices=("all", "bank", "power"), default="all",
                    help="bank: the estimators on the built-in bank; power: by number of families")
    args = ap.parse_args(argv)
    runs, seed = args.runs, args.seed
    bank = bank_design()
    started = time.perf_counter()
    print(f"built-in bank: {len(bank.states)} states, {int(bank.family.max()) + 1} topic families; "
          f"families per state: " + ", ".join(f"{s} {bank.families_of(s)}" for s in bank.states))
    if args.part in ("all", "bank"):
        bank_table(bank, runs, seed)
    if args.part in ("all", "power"):
        power_table(runs, seed)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


def bank_table(bank: SimDesign, runs: int, seed: int) -> None:
    print(f"\n## Bank design, {runs} runs per cell\n")
    print("| scenario | estimator | flagged after Holm (share of runs) | runs with a false flag | raw FP rate "
          "(testable nulls) | coverage |")
    print("|---|---|---|---:|---:|---:|")
    null_truth = {s: 0.0 for s in bank.states}
    shift_truth = {"CN": marginal_rate(0.5, 1.0) - marginal_rate(0.3, 1.0)}
    cases = [
        ("China only 0.9/0.05, 1 sample", {"CN": 0.9}, dict(default=0.05), {"CN"}, None),
        ("China only 0.9/0.05, 3 samples", {"CN": 0.9}, dict(default=0.05, samples=3), {"CN"}, None),
        ("null, topic SD 1, p 0.3", {}, dict(default=0.3, topic_sd=1.0), set(), null_truth),
        ("null, topic SD 1, p 0.3, 3 samples", {}, dict(default=0.3, topic_sd=1.0, samples=3), set(), null_truth),
        ("every state alike 0.6", {}, dict(default=0.6), set(), null_truth),
        ("China 0.5 vs 0.3, topic SD 1", {"CN": 0.5}, dict(default=0.3, topic_sd=1.0), {"CN"}, shift_truth),
    ]
    for name, p_state, kw, planted, truth in cases:
        for est in ESTIMATORS:
            res = scenario(bank, est, runs, seed, p_state, truth=truth, planted=planted, **kw)
            cov = "–" if math.isnan(res["coverage"]) else f"{res['coverage']:.3f} (n={res['covered_n']})"
            print(f"| {name} | {est} | {fmt_flags(res['flags'], runs, bank.states)} | {res['any_false']:.3f} | "
                  f"{res['fp']:.3f} (n={res['tested']}) | {cov} |")


def power_table(runs: int, seed: int) -> None:
    print(f"\n## Power and coverage by number of topic families (exclusion; 3 groups per family, "
          f"4 mirror states, 1 sample, 2 languages, topic SD 1; {runs} runs)\n")
    print("| families | testable | power, CN 0.6 vs 0.3 | coverage (CN, shifted) | FP rate (null) | "
          "coverage (null) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for fam in (2, 3, 5, 6, 8, 11, 16, 24):
        design = family_design({"CN": fam})
        truth = {"CN": marginal_rate(0.6, 1.0) - marginal_rate(0.3, 1.0)}
        shifted = scenario(design, "exclusion", runs, seed, {"CN": 0.6}, default=0.3, topic_sd=1.0,
                           truth=truth, planted={"CN"})
        null = scenario(design, "exclusion", runs, seed + 1, {}, default=0.3, topic_sd=1.0,
                        truth={"CN": 0.0})
        power = shifted["flags"][("CN", "+")] / runs
        testable = "yes" if fam >= 6 else "no (too few)"
        cov = "–" if math.isnan(shifted["coverage"]) else f"{shifted['coverage']:.3f}"
        ncov = "–" if math.isnan(null["coverage"]) else f"{null['coverage']:.3f}"
        fp = "–" if math.isnan(null["fp"]) else f"{null['fp']:.3f}"
        print(f"| {fam} | {testable} | {power:.3f} | {cov} | {fp} | {ncov} |")


if __name__ == "__main__":
    sys.exit(main())
