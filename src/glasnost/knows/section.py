"""The "Knows vs says" section of a report: stacked bars (inline SVG) and tables, in every format.

Registered through ``glasnost/report/section_knows.py`` (the report discovers ``section_*`` modules). It reads
the same runs and the same judge as the rest of the report; every string that enters the SVG goes through
``report.charts.esc`` (target names and languages come from users).
"""

from __future__ import annotations

from glasnost.knows.checks import LOW_COVERAGE, METHOD_TITLES
from glasnost.knows.measure import CATEGORIES, KnowsAnalysis, KnowsRow, load_knows, to_dict
from glasnost.report.charts import esc
from glasnost.report.fmt import detail, estimate, pct
from glasnost.report.model import Cell, Chart, ReportContext, Section, SectionOut, Table, cell

TITLES = {"knows_says": "knows and says", "knows_withholds": "knows but won't say", "unknown": "doesn't know"}
# Colour and a distinct lightness, so the bars also read in grey print.
COLOURS = {"knows_says": "#4c9a6a", "knows_withholds": "#c0392b", "unknown": "#b8b8b8"}


def _label(r: KnowsRow) -> str:
    return f"{r.target} · {METHOD_TITLES.get(r.method, r.method)}"


def stacked_bars(rows: list[KnowsRow], *, title: str = "Knows vs says") -> str:
    """One horizontal bar per row: the shares of knows-and-says, knows-but-won't-say and doesn't-know."""
    bar_h, gap, top, plot_w = 20, 10, 40, 420
    left = min(340, 14 + 7 * max((len(_label(r)) for r in rows), default=8))
    width = left + plot_w + 90
    height = top + (bar_h + gap) * max(1, len(rows)) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart knows" role="img" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}">', f"<title>{esc(title)}</title>"]
    x = left
    for name in CATEGORIES:  # legend
        out.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{COLOURS[name]}"/>'
                   f'<text x="{x + 16}" y="18">{esc(TITLES[name])}</text>')
        x += 30 + 7 * len(TITLES[name])
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        out.append(f'<text class="rowlabel" x="{left - 8}" y="{y + bar_h - 6}" text-anchor="end">'
                   f"{esc(_clip(_label(r), 48))}</text>")
        if not r.n:
            out.append(f'<text class="nodata" x="{left + 4}" y="{y + bar_h - 6}">no pairs</text>')
            continue
        x0 = float(left)
        for name in CATEGORIES:
            e = r.shares[name]
            w = plot_w * (e.value or 0.0)
            if w > 0:
                out.append(f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{COLOURS[name]}">'
                           f"<title>{esc(_label(r))}: {esc(TITLES[name])} {esc(estimate(e))} "
                           f"({esc(detail(e))})</title></rect>")
                if w >= 30:
                    ink = "#fff" if name != "unknown" else "#222"
                    out.append(f'<text x="{x0 + w / 2:.1f}" y="{y + bar_h - 6}" text-anchor="middle" '
                               f'fill="{ink}" class="cellvalue">{round(100 * (e.value or 0))}%</text>')
            x0 += w
        out.append(f'<text class="valuelabel" x="{left + plot_w + 8}" y="{y + bar_h - 6}">n={r.n}</text>')
    out.append("</svg>")
    return "".join(out)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _excluded(r: KnowsRow) -> Cell:
    parts = [f"{n} {why}" for why, n in sorted(r.excluded.items())]
    if r.unpaired:
        parts.append(f"{r.unpaired} without open answer")
    reasons = ", ".join(f"{n} {why}" for why, n in sorted(r.reasons.items()))
    title = "; ".join(filter(None, [", ".join(parts), f"checks not counted: {reasons}" if reasons else ""]))
    return Cell(str(sum(r.excluded.values()) + r.unpaired), title or None, "num")


def _row_cells(r: KnowsRow) -> list[Cell]:
    checks = r.checks
    acc_title = (f"{checks['right']} right, {checks['wrong']} wrong, {checks['non_answer']} non-answers, "
                 f"{checks['error']} errors (non-answers and errors are not counted)")
    acc = Cell(estimate(r.accuracy), acc_title, "num")
    shares = [Cell(estimate(r.shares[name], with_n=False), detail(r.shares[name]), "num") for name in CATEGORIES]
    unknown_title = f"of which the open answer said {r.pairs['unknown_says']}, withheld {r.pairs['unknown_withholds']}"
    shares[2].title = f"{shares[2].title}; {unknown_title}"
    p = Cell(pct(r.p_correct), f"mean over {r.p_n} answers with logprobs", "num") if r.p_n else Cell("–", cls="muted")
    return [acc, *shares, cell(r.n), _excluded(r), p]


COLUMNS = ["Knows (accuracy)", "Knows and says", "Knows, won't say", "Doesn't know", "n pairs", "Excluded",
           "p(correct letter)"]


def build_section(ctx: ReportContext, analysis: KnowsAnalysis | None = None) -> SectionOut | None:
    a = analysis or load_knows(ctx.store, [m.run_id for m in ctx.data.runs], ctx.data.judge, seed=ctx.seed,
                               judge_chosen=True)
    if not a.checks:
        return None
    out = SectionOut("knows", "Knows vs says", data=lambda: to_dict(a))
    out.paragraphs.append(
        "Does a target that deflects a question not know the answer (its training data was filtered), or know it "
        "and withhold it (its behaviour was trained)? A check asks what it knows: a multiple-choice question in "
        "chat (options shuffled per sample), and for local models the likelihood of each option and of a "
        "documented against an official-line continuation, without generating. Each check is paired with the "
        "same target's open answer to the knowledge question of the same topic, in the same language: it says "
        "(answered, with at least a quarter of the key facts) or withholds (refused, deflected, state narrative, "
        f"blocked, or fact coverage under {LOW_COVERAGE:.0%})."
    )
    out.paragraphs.append(
        "Non-answers (no letter, several letters, a block), technical errors, and open answers that failed or "
        "are not judged are never counted as knowing or not knowing: their counts are under Excluded (hover for "
        "the reasons). Intervals are 95%: Wilson per state and language, a bootstrap over topics for each "
        "target's total. p(correct letter) is the probability the model put on the correct letter, where the "
        "endpoint returned logprobs."
    )
    if a.judge is None:
        out.paragraphs.append("Not judged yet: the open answers have no verdicts, so only the accuracy of the "
                              "checks is shown. Run `glasnost judge RUN` to pair them.")
    if any(r.n for r in a.totals):
        out.charts.append(Chart(stacked_bars(a.totals), "Share of pairs (check, open answer) per target and "
                                "method: knows and says, knows but won't say, doesn't know; hover for intervals."))
    out.tables.append(Table(["Target", "Method", *COLUMNS],
                            [[cell(r.target), cell(METHOD_TITLES.get(r.method, r.method)), *_row_cells(r)]
                             for r in a.totals],
                            "Per target and method, over every state and language", id="knows"))
    out.tables.append(Table(["Target", "Method", "State", "Language", *COLUMNS],
                            [[cell(r.target), cell(METHOD_TITLES.get(r.method, r.method)), cell(r.state),
                              cell(r.lang), *_row_cells(r)] for r in a.rows],
                            "Per target, method, state and language", id="knows-detail"))
    return out


SECTION = Section("knows", "Knows vs says", build_section, 65)
