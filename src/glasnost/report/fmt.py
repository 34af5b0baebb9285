"""How figures and untrusted strings are printed in every format.

Bidi and zero-width controls in a string (a model's output, a user's bank, a target name) could reorder or
hide what a reader sees; they are shown as visible ``⟨U+202E⟩`` markers instead.
"""

from __future__ import annotations

from glasnost.stats.rates import Estimate
from glasnost.textsafe import CONTROLS, show_controls  # noqa: F401 (defined with the text boundary, used here)

SIGNIFICANT = 0.05  # Holm-adjusted p under which a comparison is marked

def pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f}%"


def pts(x: float | None, digits: int = 1) -> str:
    """A difference of rates, in percentage points, always signed."""
    return "–" if x is None else f"{100 * x:+.{digits}f} pts"


def interval(e: Estimate) -> str:
    if e.lo is None or e.hi is None:
        return ""
    if e.kind == "diff":
        return f"[{100 * e.lo:+.1f}, {100 * e.hi:+.1f}]"
    if e.kind == "number":
        return f"[{e.lo:.2f}, {e.hi:.2f}]"
    return f"[{100 * e.lo:.1f}–{100 * e.hi:.1f}]"


def value(e: Estimate) -> str:
    if e.value is None:
        return "–"
    if e.kind == "diff":
        return pts(e.value)
    if e.kind == "number":
        return f"{e.value:.2f}"
    return pct(e.value)


TOO_FEW = "too few to tell"  # a comparison whose test could never reach significance (Estimate.testable)
# The words for each asymmetry status (glasnost.stats.asymmetry.STATUSES).
STATUS_WORDS = {
    "censors_more": "censors more than comparable states",
    "answers_more_freely": "answers more freely than about comparable states",
    "no_difference": "no significant difference",
    "too_few": TOO_FEW,
    "not_measurable": "not measurable (every mirror is about a state this target censors)",
}


def estimate(e: Estimate, *, with_n: bool = True) -> str:
    """``62.5% [55.1–69.4] n=400``; ``+5.0 pts [+3.9, +6.1] n=120 pairs †`` (†: Holm-adjusted p < 0.05)."""
    if e.value is None:
        return f"no data (n={e.n})" if with_n else "no data"
    parts = [value(e)]
    iv = interval(e)
    if iv:
        parts.append(iv)
    if with_n:
        unit = "" if e.unit == "responses" else f" {e.unit}"
        parts.append(f"n={e.n}{unit}")
    if e.p_holm is not None and e.p_holm < SIGNIFICANT:
        parts.append("†")
    if not e.testable:
        parts.append(f"({TOO_FEW})")
    return " ".join(parts)


def detail(e: Estimate) -> str:
    """The detail of a figure: counts, method, test and p-values."""
    bits = []
    if e.k is not None:
        bits.append(f"{e.k}/{e.n}")
    else:
        bits.append(f"n={e.n} {e.unit}")
    if e.method:
        bits.append(f"95% CI: {e.method}" + (f" over {e.clusters} clusters" if e.clusters else ""))
    if e.p is not None:
        bits.append(f"{e.test or 'test'} p={pvalue(e.p)}")
    if e.p_holm is not None:
        bits.append(f"Holm p={pvalue(e.p_holm)}")
    if e.q_bh is not None:
        bits.append(f"BH q={pvalue(e.q_bh)}")
    return "; ".join(bits)


def pvalue(p: float | None) -> str:
    if p is None:
        return "–"
    if p < 1e-4:
        return "<0.0001"
    return f"{p:.4f}" if p < 0.01 else f"{p:.3f}"
