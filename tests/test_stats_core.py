"""Statistics primitives against textbook values (and scipy, a development dependency, where it has them)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from glasnost.stats import (
    benjamini_hochberg,
    binom_two_sided_half,
    bootstrap_mean,
    cluster_bootstrap_ratio,
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_from_labels,
    holm,
    mcnemar,
    sign_flip_test,
    wilson,
)
from glasnost.stats.intervals import newcombe
from glasnost.stats.significance import sign_flip_interval, sign_flip_min_p


# ---- Wilson --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("k,n,lo,hi", [
    (8, 10, 0.4902, 0.9433),  # the classic example
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (1, 2, 0.0945, 0.9055),
    (50, 100, 0.4038, 0.5962),
])
def test_wilson_known_values(k, n, lo, hi):
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=5e-5)


def test_wilson_edges_are_exact_and_bad_input_refused():
    assert wilson(0, 7)[0] == 0.0 and wilson(7, 7)[1] == 1.0
    with pytest.raises(ValueError):
        wilson(1, 0)
    with pytest.raises(ValueError):
        wilson(5, 4)


# ---- McNemar -------------------------------------------------------------------------------------------

def test_mcnemar_chi_square_textbook():
    # Wikipedia's McNemar example: b = 121, c = 59.
    plain = mcnemar(121, 59, exact=False, correction=False)
    assert plain.statistic == pytest.approx(21.3556, abs=1e-4)
    assert plain.p == pytest.approx(3.815e-6, rel=1e-3)
    corrected = mcnemar(121, 59)  # large n: chi-square with continuity correction by default
    assert corrected.method == "chi2-cc"
    assert corrected.statistic == pytest.approx(61 ** 2 / 180)
    assert corrected.p == pytest.approx(5.450e-6, rel=1e-3)


def test_mcnemar_exact_small_n():
    # 1 vs 9 discordant pairs: p = 2 * (C(10,0) + C(10,1)) / 2^10.
    r = mcnemar(1, 9)
    assert r.method == "exact"
    assert r.p == pytest.approx(22 / 1024)
    assert mcnemar(2, 12).p == pytest.approx(212 / 16384)
    assert mcnemar(5, 5).p == 1.0
    assert mcnemar(0, 0).p == 1.0


def test_mcnemar_agrees_with_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    for b, c in [(3, 11), (0, 7), (12, 12), (20, 4)]:
        assert mcnemar(b, c, exact=True).p == pytest.approx(scipy_stats.binomtest(b, b + c, 0.5).pvalue)
    for b, c in [(40, 25), (100, 130)]:
        stat = (abs(b - c) - 1) ** 2 / (b + c)
        assert mcnemar(b, c, exact=False).p == pytest.approx(scipy_stats.chi2.sf(stat, 1))


def test_binomial_large_n_stays_finite():
    assert 0.0 < binom_two_sided_half(400, 1000) < 1e-9
    assert binom_two_sided_half(500, 1000) == 1.0


# ---- multiple testing ----------------------------------------------------------------------------------

def test_holm_known_values():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5]) == [0.5]
    assert holm([]) == []
    assert holm([0.3, 0.4, 0.9]) == pytest.approx([0.9, 0.9, 0.9])  # capped, and never decreasing


def test_benjamini_hochberg_known_values():
    ps = [0.01, 0.04, 0.03, 0.005]
    assert benjamini_hochberg(ps) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    ps = rng.random(40) ** 3
    assert benjamini_hochberg(list(ps)) == pytest.approx(list(scipy_stats.false_discovery_control(ps)))


# ---- agreement -----------------------------------------------------------------------------------------

def test_cohen_kappa_textbook():
    # 50 items: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> po 0.7, pe 0.5, kappa 0.4.
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    k = cohen_kappa(a, b)
    assert (k.kappa, k.observed, k.expected, k.n) == pytest.approx((0.4, 0.7, 0.5, 50))
    # The second textbook table: 45 / 15 / 25 / 15 -> kappa 0.1304.
    a = ["y"] * 60 + ["n"] * 40
    b = ["y"] * 45 + ["n"] * 15 + ["y"] * 25 + ["n"] * 15
    assert cohen_kappa(a, b).kappa == pytest.approx(0.1304, abs=1e-4)


def test_cohen_kappa_degenerate():
    assert cohen_kappa(["a"] * 5, ["a"] * 5).kappa is None  # total chance agreement: undefined
    assert cohen_kappa([], []).n == 0
    with pytest.raises(ValueError):
        cohen_kappa(["a"], ["a", "b"])


FLEISS_TABLE = [  # Fleiss (1971) as in Wikipedia: 10 subjects, 14 raters, 5 categories
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_textbook():
    k = fleiss_kappa(FLEISS_TABLE)
    assert k.observed == pytest.approx(0.378, abs=5e-4)
    assert k.expected == pytest.approx(0.213, abs=5e-4)
    assert k.kappa == pytest.approx(0.210, abs=5e-4)


def test_fleiss_from_labels_matches_counts_and_cohen_for_two():
    rows = [[c for c, n in enumerate(r) for _ in range(n)] for r in FLEISS_TABLE]
    assert fleiss_kappa_from_labels(rows).kappa == pytest.approx(fleiss_kappa(FLEISS_TABLE).kappa)
    with pytest.raises(ValueError):
        fleiss_kappa([[1, 1], [2, 1]])  # unequal raters per item


# ---- bootstrap -----------------------------------------------------------------------------------------

def test_bootstrap_is_seeded_and_matches_the_analytic_standard_error():
    rng = np.random.default_rng(42)
    values = rng.normal(10.0, 2.0, size=400)
    a = bootstrap_mean(values, seed=7)
    assert a == bootstrap_mean(values, seed=7)  # same seed, same interval
    assert a != bootstrap_mean(values, seed=8)
    se = values.std() / math.sqrt(values.size)
    lo, hi = a
    assert (lo + hi) / 2 == pytest.approx(values.mean(), abs=0.3 * se)
    assert (hi - lo) / (2 * 1.96) == pytest.approx(se, rel=0.08)


def test_cluster_bootstrap_is_wider_than_wilson_when_answers_cluster():
    # 60 concepts x 10 responses; every response to a concept gets the same label (perfect clustering):
    # the information is that of 60 draws, not 600.
    censored_concepts = 18
    num = np.array([10.0] * censored_concepts + [0.0] * (60 - censored_concepts))
    den = np.full(60, 10.0)
    lo, hi = cluster_bootstrap_ratio(num, den, seed=0)
    p = 0.3
    assert (hi - lo) == pytest.approx(2 * 1.96 * math.sqrt(p * (1 - p) / 60), rel=0.12)
    wl, wh = wilson(180, 600)
    assert (hi - lo) > 2.5 * (wh - wl)


def test_cluster_bootstrap_degenerate_cases():
    assert cluster_bootstrap_ratio([3.0, 6.0], [6.0, 12.0]) == pytest.approx((0.5, 0.5))
    assert cluster_bootstrap_ratio([], []) is None
    assert cluster_bootstrap_ratio([0.0, 0.0], [0.0, 0.0]) is None


def test_poisson_branch_agrees_with_the_classic_bootstrap():
    # Above 2000 clusters the Poisson bootstrap is used; its interval must match the analytic one.
    rng = np.random.default_rng(5)
    k = 5000
    den = rng.integers(1, 5, size=k).astype(float)
    num = rng.binomial(den.astype(int), 0.2).astype(float)
    lo, hi = cluster_bootstrap_ratio(num, den, seed=0)
    ratio = num.sum() / den.sum()
    # Cluster-robust (delta method) standard error of a ratio estimator.
    resid = num - ratio * den
    se = math.sqrt(np.sum(resid ** 2)) / den.sum()
    assert (hi - lo) / (2 * 1.96) == pytest.approx(se, rel=0.1)
    assert lo < ratio < hi
    # A cell with fewer clusters sees the same draws for its first clusters (cached blocks).
    assert cluster_bootstrap_ratio(num[:3000], den[:3000], seed=0) == cluster_bootstrap_ratio(
        num[:3000], den[:3000], seed=0)


# ---- sign-flip test ------------------------------------------------------------------------------------

def test_sign_flip_exact_values():
    assert sign_flip_test([1, 1, 1, 1, 1]) == pytest.approx(2 / 32)
    assert sign_flip_test([0.5]) == 1.0  # one group: no evidence either way
    assert sign_flip_test([0.2, -0.2]) == 1.0
    assert sign_flip_test([]) == 1.0
    # 3, 1, 2 (sum 6): of the 8 sign patterns only (+,+,+) and (-,-,-) reach |sum| >= 6.
    assert sign_flip_test([3.0, 1.0, 2.0]) == pytest.approx(2 / 8)
    # 2, 2, 2, -1 (sum 5): only (+,+,+,+) (7), (+,+,+,-) (5) and their mirrors reach |sum| >= 5: 4 of 16.
    assert sign_flip_test([2.0, 2.0, 2.0, -1.0]) == pytest.approx(4 / 16)


def test_sign_flip_monte_carlo_and_lattice_regimes():
    assert sign_flip_test([1.0] * 20) == pytest.approx(2 / 2**20)  # on a lattice: exact by convolution
    assert sign_flip_test([1.0] * 20) == sign_flip_test([1.0] * 20)
    balanced = np.r_[np.full(150, 0.1), np.full(150, -0.1)]
    assert sign_flip_test(balanced) == 1.0  # mean exactly 0
    shifted = np.r_[np.full(150, 0.3), np.full(150, -0.1)]
    assert sign_flip_test(shifted) < 1e-6


def test_sign_flip_large_n_is_exact_where_the_normal_approximation_was_off():
    # 201 differences of +-1 (a sign test): the old normal branch, without continuity correction, was off
    # by up to 0.068; the lattice branch is the exact binomial.
    for plus in (100, 110, 115, 120):
        d = np.r_[np.ones(plus), -np.ones(201 - plus)]
        exact = binom_two_sided_half(plus, 201)
        assert sign_flip_test(d) == pytest.approx(exact, rel=1e-9, abs=1e-15)


def test_sign_flip_monte_carlo_counts_ties_in_float64():
    # Irrational differences (no lattice) with many exact ties: 11 copies of c and 8 of -c (sum 3c). 29 % of
    # the sign patterns give exactly |sum| = 3c; the float32 Monte Carlo branch lost such ties.
    c = math.pi / 10
    d = np.r_[np.full(11, c), np.full(8, -c)]
    exact = 1 - 2 * math.comb(19, 9) / 2**19  # every |sum| but c reaches 3c
    assert sign_flip_test(d, max_exact=20) == pytest.approx(exact)  # all 2^19 patterns
    assert sign_flip_test(d, seed=3) == pytest.approx(exact, abs=0.015)  # Monte Carlo: same test, sampled
    # The same pattern with d = 0.85 (a rate difference): the old float32 branch gave 0.586 instead of 0.648.
    for value in (0.85, 0.1):
        d = np.r_[np.full(11, value), np.full(8, -value)]
        assert sign_flip_test(d) == pytest.approx(exact, rel=1e-9)
    d2 = np.random.default_rng(1).normal(0.2, 1.0, 18) * math.sqrt(2)
    assert sign_flip_test(d2, seed=1) == pytest.approx(sign_flip_test(d2, max_exact=20), abs=0.01)


def test_sign_flip_interval_inverts_the_test():
    rng = np.random.default_rng(4)
    d = rng.normal(0.3, 1.0, 9)
    lo, hi = sign_flip_interval(d)
    assert lo < d.mean() < hi
    # theta inside the interval <=> the test of d - theta does not reject (equal tails).
    for theta in np.linspace(lo - 0.5, hi + 0.5, 41):
        inside = lo <= theta <= hi
        assert (sign_flip_test(d - theta) > 0.05) == inside or abs(theta - lo) < 1e-9 or abs(theta - hi) < 1e-9
    assert sign_flip_interval(d[:5]) is None  # 5 units: no finite bound at 95 %
    assert sign_flip_min_p([1, 2, 3, 4, 5]) == pytest.approx(2 / 32)
    assert sign_flip_min_p([1, 2, 0, 4, 5, 6]) == pytest.approx(2 / 32)  # a zero never changes sign


def test_bootstrap_bounds_hold_the_estimate():
    # Every cluster at 0.85: float32 weights put both bounds at 0.85000006, above the estimate.
    for k in (2, 3, 7, 40):
        lo, hi = bootstrap_mean(np.full(k, 0.85))
        assert lo <= 0.85 <= hi
        lo, hi = cluster_bootstrap_ratio(np.full(k, 0.85 * 7), np.full(k, 7.0))
        assert lo <= 0.85 * 7 * k / (7.0 * k) <= hi
    values = np.random.default_rng(0).random(30) / 3
    lo, hi = bootstrap_mean(values)
    # float64 products: the bounds are means of resampled values, exact to rounding.
    assert lo == pytest.approx(np.sort(values).mean(), abs=0.1)


def test_newcombe_floor_never_collapses():
    lo, hi = newcombe(10, 10, 0, 10)
    assert 0.5 < lo < 1.0 and hi == 1.0
    lo, hi = newcombe(0, 5, 0, 5)
    assert lo < 0 < hi
    # Newcombe (1998), example: 56/70 - 48/80 = 0.2, 95 % interval 0.0524 to 0.3339.
    assert newcombe(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_runtime_never_imports_scipy():
    code = ("import sys, glasnost.stats, glasnost.report, glasnost.report.sections_builtin, "
            "glasnost.report.sections_detail, glasnost.stats.compare; "
            "print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
