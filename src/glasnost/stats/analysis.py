"""Every measure of a report, computed once from an AuditData, with one multiple-testing family.

The family is every *testable* asymmetry, language gap and host gap of the report: they are read together,
so their p-values are adjusted together (Holm for the family-wise error, Benjamini–Hochberg q-values beside
it). A comparison whose test could never reach p < 0.05 with its units (``Estimate.testable`` False: too few
families, or too few discordant pairs) can never be a finding; counting it would only inflate the others'
adjustment, so it is left out of the family (Tarone 1990) and reported as "too few to tell".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from itertools import combinations
from typing import Any

import numpy as np

from glasnost.stats.agreement import Kappa, cohen_kappa, fleiss_kappa_from_labels
from glasnost.stats.asymmetry import Asymmetry, asymmetries, classify
from glasnost.stats.data import COUNTED_CODES, LABELS, UNJUDGED, AuditData
from glasnost.stats.multiple import benjamini_hochberg, holm
from glasnost.stats.paired import PairedResult, host_gaps, language_gaps, reference_language
from glasnost.stats.rates import CountRow, Estimate, count_rows, fact_coverage, overall_rates, rate_grid


@dataclass
class Agreement:
    judges: list[str]
    n: int  # responses every judge labelled with a countable label
    pairwise: list[tuple[str, str, Kappa]]
    fleiss: Kappa | None  # three judges or more
    disagreements: int


@dataclass
class Analysis:
    judge: str | None
    judges: list[str]
    run_ids: list[str]
    targets: list[str]
    langs: list[str]
    reference_lang: str | None
    counts: list[CountRow]
    overall: dict[str, Estimate]  # target -> censorship rate over all sensitive concepts (bootstrap)
    topics: dict[tuple[str, str], Estimate]
    jurisdictions: dict[tuple[str, str], Estimate]
    asymmetry: list[Asymmetry]
    language_gaps: list[tuple[str, PairedResult]]
    host_gaps: list[tuple[str, PairedResult]]
    fact_coverage: list[tuple[str, str, Estimate]]
    agreement: Agreement | None
    disagreement_rows: list[int] = field(default_factory=list)  # rows where the judges disagree
    warnings: list[str] = field(default_factory=list)

    def tests(self) -> list[Estimate]:
        """The family of comparisons whose p-values are adjusted together (testable ones only)."""
        every = ([a.estimate for a in self.asymmetry] + [r.diff for _, r in self.language_gaps]
                 + [r.diff for _, r in self.host_gaps])
        return [e for e in every if e.testable]

    def to_dict(self) -> dict[str, Any]:
        return {
            "judge": self.judge,
            "judges": self.judges,
            "runs": self.run_ids,
            "targets": self.targets,
            "languages": self.langs,
            "reference_language": self.reference_lang,
            "warnings": self.warnings,
            "summary": [to_plain(r) for r in self.counts],
            "overall": {t: to_plain(e) for t, e in self.overall.items()},
            "topics": [{"target": t, "topic": v, **to_plain(e)} for (t, v), e in self.topics.items()],
            "jurisdictions": [{"target": t, "jurisdiction": v, **to_plain(e)} for (t, v), e in self.jurisdictions.items()],
            "asymmetry": [to_plain(a) for a in self.asymmetry],
            "language_gaps": [{"target": t, **to_plain(r)} for t, r in self.language_gaps],
            "host_gaps": [{"model": m, **to_plain(r)} for m, r in self.host_gaps],
            "fact_coverage": [{"target": t, "lang": lang, **to_plain(e)} for t, lang, e in self.fact_coverage],
            "agreement": to_plain(self.agreement) if self.agreement else None,
        }


def to_plain(obj: Any) -> Any:
    """Dataclasses to JSON-ready data: tuples to lists, NaN and infinities to None."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def judge_agreement(data: AuditData) -> tuple[Agreement | None, list[int]]:
    if len(data.other_labels) < 1 or data.judge is None:
        return None, []
    judges = [data.judge, *sorted(data.other_labels)]
    columns = [np.where(data.status_ok, data.label, UNJUDGED).astype(np.int16)]
    columns += [data.other_labels[j] for j in judges[1:]]
    matrix = np.stack(columns, axis=1)
    rated = np.all(np.isin(matrix, COUNTED_CODES), axis=1)
    items = matrix[rated]
    pairwise = []
    for (i, a), (j, b) in combinations(enumerate(judges), 2):
        pairwise.append((a, b, cohen_kappa(items[:, i].tolist(), items[:, j].tolist())))
    fleiss = fleiss_kappa_from_labels(items.tolist()) if len(judges) >= 3 and len(items) else None
    disagree = rated & np.any(matrix != matrix[:, :1], axis=1)
    rows = np.flatnonzero(disagree).tolist()
    return Agreement(judges, int(rated.sum()), pairwise, fleiss, len(rows)), rows


def analyze(data: AuditData, *, seed: int = 0) -> Analysis:
    overall = overall_rates(data, seed=seed)
    agreement, disagreement_rows = judge_agreement(data)
    result = Analysis(
        judge=data.judge,
        judges=data.judges,
        run_ids=[m.run_id for m in data.runs],
        targets=data.targets,
        langs=data.langs,
        reference_lang=reference_language(data.langs),
        counts=count_rows(data, seed=seed, overall=overall),
        overall=overall,
        topics=rate_grid(data, "topic"),
        jurisdictions=rate_grid(data, "jurisdiction"),
        asymmetry=asymmetries(data, seed=seed),
        language_gaps=language_gaps(data, seed=seed),
        host_gaps=host_gaps(data, seed=seed),
        fact_coverage=fact_coverage(data, seed=seed),
        agreement=agreement,
        disagreement_rows=disagreement_rows,
        warnings=list(data.warnings),
    )
    adjust(result.tests())
    for x in result.asymmetry:  # statuses from the report-wide Holm p
        x.status = classify(x.estimate, pooled=x.pooled)
    if data.judge is None:
        result.warnings.insert(0, "not judged yet: counts are by outcome only; run `glasnost judge RUN` for rates")
    return result


def adjust(estimates: list[Estimate]) -> None:
    """Fill p_holm and q_bh of every estimate that carries a p-value, as one family."""
    tested = [e for e in estimates if e.p is not None and e.testable]
    if not tested:
        return
    ps = [float(e.p) for e in tested]  # type: ignore[arg-type]
    for e, ph, q in zip(tested, holm(ps), benjamini_hochberg(ps)):
        e.p_holm, e.q_bh = ph, q


__all__ = ["Analysis", "Agreement", "analyze", "adjust", "judge_agreement", "LABELS"]
