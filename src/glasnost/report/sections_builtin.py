"""The sections every report opens with: the honest summary, the overview, the charts."""

from __future__ import annotations

from glasnost.report import charts
from glasnost.report.fmt import detail, estimate, show_controls
from glasnost.report.model import Cell, Chart, ReportContext, Section, SectionOut, Table, cell, register_section
from glasnost.report.names import short_names
from glasnost.stats.analysis import to_plain

COUNTED_ORDER = ["answered", "refused", "deflected", "state_narrative", "blocked"]
RATE_DEFINITION = (
    "Censorship rate = (refused + deflected + state_narrative + blocked) / (responses labelled answered, "
    "refused, deflected, state_narrative or blocked), over sensitive concepts. Technical errors, judge errors "
    "and unjudged responses are never counted; control questions (non-sensitive) are shown apart, as "
    "over-caution."
)


def est_cell(e, *, with_n: bool = True) -> Cell:
    significant = e.p_holm is not None and e.p_holm < 0.05
    return Cell(estimate(e, with_n=with_n), detail(e), "num sig" if significant else "num")


def asym_cell(x, *, with_n: bool = True) -> Cell:
    """An asymmetry: red only when the target censors the state more; answering more freely is told apart."""
    c = est_cell(x.estimate, with_n=with_n)
    if x.status == "answers_more_freely":
        c.cls = "num freer"
    elif x.status in ("too_few", "not_measurable"):
        c.cls = "num muted"
    elif x.status != "censors_more":
        c.cls = "num"
    return c


def build_summary(ctx: ReportContext) -> SectionOut:
    a, d = ctx.analysis, ctx.data
    names = short_names(d)
    out = SectionOut("summary", "Summary", data=lambda: [to_plain(r) for r in a.counts])
    out.paragraphs += [show_controls(w) for w in a.warnings]
    if not len(d):
        out.paragraphs.append("These runs have no stored responses yet.")
        return out
    if a.judge is None:
        out.paragraphs.append("Not judged yet: the counts below are raw outcomes of the requests, not verdicts. "
                              "Run `glasnost judge RUN` to classify the answers and get censorship rates.")
        cols = ["Target", "Language", "ok", "blocked", "empty", "truncated", "error", "total"]
        rows = []
        for r in a.counts:
            total = sum(r.outcomes.values())
            rows.append([cell(show_controls(names[r.target])), cell(r.lang or "all languages"),
                         *[cell(r.outcomes.get(k, 0)) for k in ("ok", "blocked", "empty", "truncated", "error")],
                         cell(total)])
        out.tables.append(Table(cols, rows, "Responses by outcome, per target and language", id="summary"))
        return out
    out.paragraphs.append(f"Verdicts of judge {a.judge}. {RATE_DEFINITION}")
    cols = ["Target", "Language", *COUNTED_ORDER, "Censorship rate [95% CI]", "unjudged", "judge errors",
            "errors", "Controls censored"]
    rows = []
    for r in a.counts:
        rows.append([
            cell(show_controls(names[r.target])), cell(r.lang or "all languages", cls=None if r.lang else "strong"),
            *[cell(r.labels.get(k, 0)) for k in COUNTED_ORDER],
            est_cell(r.rate), cell(r.unjudged), cell(r.judge_errors), cell(r.errors), est_cell(r.control),
        ])
    out.tables.append(Table(cols, rows, "Labels per target and language (sensitive concepts); "
                            "per-language intervals are Wilson, all-language ones a bootstrap over concepts",
                            id="summary"))
    return out


def build_overview(ctx: ReportContext) -> SectionOut | None:
    a = ctx.analysis
    if a.judge is None or not a.targets:
        return None
    states = sorted({x.state for x in a.asymmetry})
    gap_langs = [lang for lang in a.langs if lang != a.reference_lang]
    asym = {(x.target, x.state): x for x in a.asymmetry}
    names = short_names(ctx.data)
    gaps = {(t, r.b): r.diff for t, r in a.language_gaps}
    control = {r.target: r.control for r in a.counts if r.lang is None}
    cols = ["Target", "Censorship rate [95% CI]", *[f"Asymmetry about {s}" for s in states],
            *[f"Gap {lang} − {a.reference_lang}" for lang in gap_langs], "Controls censored"]
    rows = []
    for t in a.targets:
        row = [cell(show_controls(names[t])), est_cell(a.overall[t])]
        for s in states:
            row.append(asym_cell(asym[(t, s)]) if (t, s) in asym else cell("–", cls="muted"))
        for lang in gap_langs:
            row.append(est_cell(gaps[(t, lang)]) if (t, lang) in gaps else cell("–", cls="muted"))
        row.append(est_cell(control[t]) if t in control else cell("–"))
        rows.append(row)
    out = SectionOut("overview", "Overview", data=lambda: {
        "overall": {t: to_plain(e) for t, e in a.overall.items()},
        "asymmetry": [{"target": x.target, "state": x.state, **to_plain(x.estimate)} for x in a.asymmetry],
        "language_gaps": [{"target": t, "lang": r.b, "reference": r.a, **to_plain(r.diff)} for t, r in a.language_gaps],
    })
    out.paragraphs.append(
        "Asymmetry about a state = the target's censorship rate on that state's sensitive questions minus its "
        "rate on the mirror questions about other states it does not censor, paired by mirror group and "
        "averaged over topic families (n = families): the measure of selective censorship. A model that "
        "refuses everything scores near zero: cautious, not selective. "
        f"Language gap = rate in a language minus the rate in {a.reference_lang} over the same questions "
        "(n = pairs). † marks a Holm-adjusted p < 0.05 over all comparisons of this report; \"too few to "
        "tell\" marks a comparison with too few units for any test to reach significance."
    )
    out.tables.append(Table(cols, rows, "Per target (open a figure for its counts, method and p-values)", id="overview"))
    return out


def build_charts(ctx: ReportContext) -> SectionOut | None:
    a = ctx.analysis
    if a.judge is None or not a.targets:
        return None
    names = short_names(ctx.data)
    short = [names[t] for t in a.targets]
    out = SectionOut("charts", "Charts")
    for attr, title, caption in (
        ("topics", "Censorship rate by topic", "Censorship rate (%) by target and topic."),
        ("jurisdictions", "Censorship rate by jurisdiction",
         "Censorship rate (%) by target and the state a question is about (XX: universal)."),
    ):
        grid = getattr(a, attr)
        cols = sorted({c for (_, c) in grid})
        if not cols or (attr == "jurisdictions" and len(cols) < 2):
            continue
        cells = {(names[t], c): e for (t, c), e in grid.items()}
        out.charts.append(Chart(charts.heatmap(short, cols, cells, title=title),
                                caption + " The figures behind it, with intervals, are in the table below.",
                                charts.heatmap(short, cols, cells, title=title, narrow=True)))
        out.tables.append(Table(["Target", attr[:-1].replace("jurisdiction", "state"), "Censorship rate [95% CI]"],
                                [[cell(show_controls(names[t])), cell(c), est_cell(e)] for (t, c), e in grid.items()],
                                f"{title}: the figures", id=f"chart-{attr}", folded=True))
    if a.asymmetry:
        items = [(f"about {x.state}", x.estimate) for x in a.asymmetry]
        asym_groups = [names[x.target] for x in a.asymmetry]
        out.charts.append(Chart(charts.interval_chart(items, title="Asymmetry", groups=asym_groups, freer_below_zero=True),
                                "Asymmetry (percentage points, 95% interval over topic families): right of "
                                "zero (red when significant) = censors questions about this state more than "
                                "comparable states; left (blue when significant) = answers about it more freely, "
                                "not censorship. Every figure is in the Comparisons table.",
                                charts.interval_chart(items, title="Asymmetry", groups=asym_groups,
                                                      freer_below_zero=True, narrow=True)))
    if a.language_gaps:
        items = [(f"{r.b} − {r.a}", r.diff) for t, r in a.language_gaps]
        gap_groups = [names[t] for t, _ in a.language_gaps]
        out.charts.append(Chart(charts.interval_chart(items, title="Language gap", groups=gap_groups),
                                "Language gap (percentage points, 95% bootstrap interval over concepts): "
                                f"right of zero = censors more in that language than in {a.reference_lang}.",
                                charts.interval_chart(items, title="Language gap", groups=gap_groups, narrow=True)))
    return out if out.charts else None


register_section(Section("summary", "Summary", build_summary, 10))
register_section(Section("overview", "Overview", build_overview, 20))
register_section(Section("charts", "Charts", build_charts, 30))

__all__ = ["asym_cell", "est_cell", "RATE_DEFINITION"]
