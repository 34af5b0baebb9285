"""Readers' reviews in the report: how often the counted judge agreed with them, and where it did not.

Reviews are verdicts of the judge ``human@*`` (``glasnost judge import-review``); the loader lets them
replace the judge's label per response and keeps the judge's own label in ``AuditData.machine_label``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glasnost.report.fmt import interval, show_controls
from glasnost.report.model import Cell, ReportContext, Section, SectionOut, Table, cell
from glasnost.stats.data import LABELS, UNJUDGED, AuditData
from glasnost.stats.rates import wilson_rate


@dataclass
class ReviewAgreement:
    human: str
    n: int  # reviewed responses the judge had labelled countably
    agree: int
    confusions: list[tuple[str, str, int]]  # (judge's label, reader's label, responses), most first
    sentence: str


def review_agreement(d: AuditData) -> ReviewAgreement | None:
    if d.machine_label is None or d.human_judge is None:
        return None
    reviewed = d.machine_label != UNJUDGED
    machine, human = d.machine_label[reviewed], d.label[reviewed]
    n = int(reviewed.sum())
    agree = int(np.sum(machine == human))
    pairs: dict[tuple[str, str], int] = {}
    for m, h in zip(machine.tolist(), human.tolist()):
        if m != h:
            pairs[(LABELS[m], LABELS[h])] = pairs.get((LABELS[m], LABELS[h]), 0) + 1
    confusions = sorted(((m, h, k) for (m, h), k in pairs.items()), key=lambda x: (-x[2], x[0], x[1]))
    e = wilson_rate(agree, n)
    sentence = (f"Readers reviewed {n} answers: the judge {d.judge} agreed with them on {agree} "
                f"({100 * agree / n:.0f}% {interval(e)}); their labels replace the judge's in every figure."
                if n else "Readers reviewed only answers the judge had not labelled; their labels count.")
    if confusions:
        m, h, k = confusions[0]
        sentence += f" Most frequent correction: {m} → {h} ({k})."
    return ReviewAgreement(show_controls(d.human_judge), n, agree, confusions, sentence)


def build_reviews(ctx: ReportContext) -> SectionOut | None:
    r = review_agreement(ctx.data)
    if r is None:
        return None
    out = SectionOut("reviews", "Readers' reviews", data=lambda: {
        "human_judge": r.human, "reviewed": r.n, "agree": r.agree,
        "corrections": [{"judge_label": m, "reader_label": h, "responses": k} for m, h, k in r.confusions]})
    out.paragraphs.append(r.sentence)
    rows = [[Cell(m, cls=f"label label-{m}"), Cell(h, cls=f"label label-{h}"), cell(k)] for m, h, k in r.confusions]
    if rows:
        out.tables.append(Table(["Judge said", "Reader says", "responses"], rows,
                                "Corrections by readers", id="review-corrections"))
    return out


SECTION = Section("reviews", "Readers' reviews", build_reviews, 75)
