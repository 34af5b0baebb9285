"""The headline: what a reader should know in five seconds, generated from the figures of the report.

One card per target: its censorship rate with interval, its largest significant asymmetries (censoring a
state more, and apart from that, answering about a state more freely), its significant language and host
gaps, each in one plain sentence; then one line on how far the judge can be trusted (its measured accuracy,
and its agreement with readers' reviews when there are any). Every figure is the one the tables print.
"""

from __future__ import annotations

from dataclasses import replace

from glasnost.report.fmt import interval, show_controls, value
from glasnost.report.methods import judge_accuracy
from glasnost.report.model import Card, Cell, ReportContext, Section, SectionOut
from glasnost.report.names import short_names
from glasnost.report.section_reviews import review_agreement

SIGNIFICANT = 0.05
TOP = 2  # findings of each kind per target


def _sig(e) -> bool:
    return e.value is not None and e.p_holm is not None and e.p_holm < SIGNIFICANT


def _neg(x: float | None) -> float | None:
    return None if x is None else -x


def _points(e) -> str:
    return f"{abs(100 * e.value):.0f} points"


def build_headline(ctx: ReportContext) -> SectionOut | None:
    a, d = ctx.analysis, ctx.data
    if a.judge is None or not a.targets:
        return None
    names = short_names(d)
    out = SectionOut("headline", "Findings", data=lambda: {"cards": [
        {"target": c.title, "id": c.full, "lines": [x.text for x in c.lines]} for c in out.cards]})
    for t in a.targets:
        name = show_controls(names[t])
        lines: list[Cell] = []
        overall = a.overall.get(t)
        if overall is not None and overall.value is not None:
            lines.append(Cell(f"Censors {value(overall)} of sensitive questions {interval(overall)} "
                              f"(n = {overall.n} answers).", cls="rate"))
        asym = [x for x in a.asymmetry if x.target == t]
        more = sorted((x for x in asym if x.status == "censors_more" and _sig(x.estimate)),
                      key=lambda x: -x.estimate.value)
        freer = sorted((x for x in asym if x.status == "answers_more_freely" and _sig(x.estimate)),
                       key=lambda x: x.estimate.value)
        for x in more[:TOP]:
            lines.append(Cell(f"Censors questions about {x.state} {_points(x.estimate)} more than comparable "
                              f"questions about other states {interval(x.estimate)}, over {x.estimate.n} "
                              "topic families.", cls="finding-censor"))
        for x in freer[:TOP]:
            lines.append(Cell(f"Answers about {x.state} more freely than about comparable states, by "
                              f"{_points(x.estimate)} {interval(x.estimate)} (not censorship).", cls="finding-freer"))
        if any(x.status == "no_difference" for x in asym) and not more and not freer:
            lines.append(Cell("No significant selective censorship of any state.", cls="finding-none"))
        too_few = sorted(x.state for x in asym if x.status == "too_few")
        if too_few:
            lines.append(Cell(f"Too few questions to tell about {', '.join(too_few[:6])}"
                              + (f" and {len(too_few) - 6} more" if len(too_few) > 6 else "") + ".", cls="muted"))
        gaps = sorted((r for tt, r in a.language_gaps if tt == t and _sig(r.diff)), key=lambda r: -abs(r.diff.value))
        for r in gaps[:TOP]:
            more_less = "more" if r.diff.value > 0 else "less"
            lines.append(Cell(f"Censors {_points(r.diff)} {more_less} in {r.b} than in {r.a} on the same "
                              f"questions {interval(r.diff)}.", cls="finding-gap"))
        for model, r in a.host_gaps:
            if t not in (r.a, r.b) or not _sig(r.diff):
                continue
            other = r.b if t == r.a else r.a
            diff = r.diff if t == r.a else replace(r.diff, value=-r.diff.value, lo=_neg(r.diff.hi), hi=_neg(r.diff.lo))
            lines.append(Cell(f"Served as {show_controls(names.get(other, other))}, the same model censors "
                              f"{_points(diff)} {'more' if diff.value > 0 else 'less'} on the same questions "
                              f"{interval(diff)}.", cls="finding-gap"))
        out.cards.append(Card(name, lines, full=show_controls(t)))
    judge_line = judge_accuracy(a.judge)
    out.paragraphs.append(f"Judge {a.judge}: {judge_line}")
    share = uncertain_share(d)
    if share is not None:
        out.paragraphs.append(
            f"{share[0]:,} of the {share[1]:,} counted verdicts ({share[0] / share[1]:.0%}) are marked uncertain "
            "(their calibrated confidence is below the judge's threshold): the ones to review first, or to send to "
            "an LLM judge with --judge default+llm:TARGET.")
    reviews = review_agreement(d)
    if reviews is not None:
        out.paragraphs.append(reviews.sentence)
    out.paragraphs.append("In the HTML report red marks a state a target censors more; blue, one it answers about "
                          "more freely. "
                          "Figures in brackets are 95% intervals; the tables below give every comparison.")
    return out


SECTION = Section("headline", "Findings", build_headline, 5)


def uncertain_share(d) -> tuple[int, int] | None:
    """(uncertain, counted) verdicts of the counted judge; None when nothing is counted."""
    counted = d.counted
    total = int(counted.sum())
    if not total or d.uncertain is None:
        return None
    return int((d.uncertain & counted).sum()), total
