"""The detailed sections: every comparison with its test, fact coverage, judge agreement, the answers view
and the methods."""

from __future__ import annotations

from glasnost.report.fmt import SIGNIFICANT, STATUS_WORDS, detail, estimate, pct, pvalue, show_controls
from glasnost.report.methods import describe_runs
from glasnost.report.names import short_names
from glasnost.report.model import Cell, ReportContext, Section, SectionOut, Table, cell, register_section
from glasnost.report.sections_builtin import asym_cell, est_cell
from glasnost.stats.analysis import to_plain
from glasnost.stats.data import LABELS

DISAGREEMENT_ROWS = 200  # listed in the table; the answers view filters all of them


def _p_cells(e) -> list[Cell]:
    holm_cls = "num sig" if e.p_holm is not None and e.p_holm < SIGNIFICANT else "num"
    return [cell(e.test or "–"), Cell(pvalue(e.p), cls="num"), Cell(pvalue(e.p_holm), cls=holm_cls),
            Cell(pvalue(e.q_bh), cls="num")]


def build_comparisons(ctx: ReportContext) -> SectionOut | None:
    a = ctx.analysis
    names = short_names(ctx.data)
    if a.judge is None or not (a.asymmetry or a.language_gaps):
        return None
    family = len([e for e in a.tests() if e.p is not None])
    too_few = sum(1 for x in a.asymmetry if x.status == "too_few")
    out = SectionOut("comparisons", "Comparisons", data=lambda: {
        "family_size": family,
        "asymmetry": [to_plain(x) for x in a.asymmetry],
        "language_gaps": [{"target": t, **to_plain(r)} for t, r in a.language_gaps],
    })
    out.paragraphs.append(
        f"{family} comparisons are tested in this report; Holm-adjusted p-values control the chance of any false "
        "finding among them, Benjamini–Hochberg q-values the expected share of false findings."
        + (f" {too_few} asymmetries have too few topic families for any test to reach significance: they are "
           "marked too few to tell and left out of that family." if too_few else "")
    )
    if a.asymmetry:
        rows = []
        for x in a.asymmetry:
            e = x.estimate
            rows.append([cell(show_controls(names[x.target])), cell(x.state), Cell(pct(x.rate_state), cls="num"),
                         Cell(pct(x.rate_mirrors), cls="num"), asym_cell(x, with_n=False), cell(e.n),
                         cell(x.responses), cell(STATUS_WORDS.get(x.status, x.status)),
                         cell(", ".join(x.excluded) or "–"), *_p_cells(e)])
        out.tables.append(Table(
            ["Target", "State", "Rate on the state's questions", "Rate on mirrors", "Asymmetry [95% CI]",
             "topic families", "responses", "finding", "mirrors left out (censored by this target)", "test",
             "p", "Holm p", "BH q"], rows,
            "Asymmetry per target and state (pooled rates for reading; the estimate is the mean over topic "
            "families; comparisons too few to tell stay out of the Holm family)",
            id="asymmetry", folded=len(rows) > 40))
    if a.language_gaps:
        rows = []
        for t, r in a.language_gaps:
            rows.append([cell(show_controls(names[t])), cell(f"{r.b} − {r.a}"), Cell(pct(r.rate_a), cls="num"),
                         Cell(pct(r.rate_b), cls="num"), est_cell(r.diff, with_n=False), cell(r.diff.n),
                         cell(f"{r.b_only} / {r.a_only}"), *_p_cells(r.diff)])
        out.tables.append(Table(
            ["Target", "Languages", f"Rate in {a.reference_lang}", "Rate in the other", "Gap [95% CI]", "pairs",
             "discordant (other only / ref only)", "test", "p", "Holm p", "BH q"], rows,
            "Language gaps over the same concepts and samples", id="language-gaps"))
    return out


def build_host_gaps(ctx: ReportContext) -> SectionOut | None:
    a = ctx.analysis
    names = short_names(ctx.data)
    if a.judge is None or not a.host_gaps:
        return None
    rows = []
    for model, r in a.host_gaps:
        rows.append([cell(show_controls(model)), cell(show_controls(names.get(r.a, r.a))), cell(show_controls(names.get(r.b, r.b))),
                     Cell(pct(r.rate_a), cls="num"), Cell(pct(r.rate_b), cls="num"), est_cell(r.diff, with_n=False),
                     cell(r.diff.n), cell(f"{r.b_only} / {r.a_only}"), *_p_cells(r.diff)])
    out = SectionOut("host-gaps", "Host gaps", data=[{"model": m, **to_plain(r)} for m, r in a.host_gaps])
    out.paragraphs.append("The same model name served by two endpoints, paired on concept, language and sample: "
                          "a gap points at the serving layer (filters, system prompts, quantisation), not the weights.")
    out.tables.append(Table(["Model", "Target A", "Target B", "Rate A", "Rate B", "Gap B − A [95% CI]", "pairs",
                             "discordant (B only / A only)", "test", "p", "Holm p", "BH q"], rows, id="host-gaps"))
    return out


def build_fact_coverage(ctx: ReportContext) -> SectionOut | None:
    a = ctx.analysis
    names = short_names(ctx.data)
    if a.judge is None or not a.fact_coverage:
        return None
    rows = [[cell(show_controls(names[t])), cell(lang), Cell(estimate(e), detail(e), "num")] for t, lang, e in a.fact_coverage]
    out = SectionOut("fact-coverage", "Fact coverage",
                     data=[{"target": t, "lang": lang, **to_plain(e)} for t, lang, e in a.fact_coverage])
    out.paragraphs.append("Share of a question's documented key facts present in answers judged `answered`, "
                          "knowledge questions only: an answer can engage and still leave out what matters.")
    out.tables.append(Table(["Target", "Language", "Mean fact coverage [95% CI]"], rows, id="fact-coverage"))
    return out


def build_agreement(ctx: ReportContext) -> SectionOut | None:
    a, d = ctx.analysis, ctx.data
    names = short_names(ctx.data)
    ag = a.agreement
    if ag is None:
        return None
    out = SectionOut("agreement", "Judge agreement", data=lambda: to_plain(ag))
    out.paragraphs.append(
        f"{len(ag.judges)} judges labelled these runs; {ag.n} responses got a countable label from every judge, "
        f"and they disagree on {ag.disagreements}. Rates above use {a.judge}. Tick “judges disagree” in the "
        "answers view to read them."
    )
    rows = [[cell(x), cell(y), Cell("–" if k.kappa is None else f"{k.kappa:.3f}", cls="num"),
             Cell(pct(k.observed), cls="num"), cell(k.n)] for x, y, k in ag.pairwise]
    if ag.fleiss is not None:
        k = ag.fleiss
        rows.append([cell("all judges (Fleiss)"), cell(""), Cell("–" if k.kappa is None else f"{k.kappa:.3f}",
                     cls="num"), Cell(pct(k.observed), cls="num"), cell(k.n)])
    out.tables.append(Table(["Judge", "Judge", "kappa", "observed agreement", "n"], rows, id="kappa"))
    judges = ag.judges
    labels_of = [d.label] + [d.other_labels[j] for j in judges[1:]]
    drows = []
    for row in a.disagreement_rows[:DISAGREEMENT_ROWS]:
        drows.append([cell(show_controls(d.concept_ids[d.concept[row]])), cell(d.langs[d.lang[row]]),
                      cell(show_controls(names[d.targets[d.target[row]]])), cell(int(d.sample[row])),
                      *[cell(LABELS[int(col[row])], cls=f"label label-{LABELS[int(col[row])]}") for col in labels_of]])
    if drows:
        caption = "Responses where the judges disagree"
        if len(a.disagreement_rows) > DISAGREEMENT_ROWS:
            caption += f" (first {DISAGREEMENT_ROWS} of {len(a.disagreement_rows)})"
        out.tables.append(Table(["Concept", "Language", "Target", "sample", *judges], drows, caption,
                                id="disagreements", folded=len(drows) > 20))
    return out


def build_answers(ctx: ReportContext) -> SectionOut | None:
    if not len(ctx.data):
        return None
    out = SectionOut("answers", "Answers side by side", view=True)
    out.paragraphs.append(
        "Every target's answer in every language, question by question. Labels come from "
        f"{ctx.analysis.judge or 'no judge yet'}; highlighted spans are the evidence the judge used. Model output "
        "is shown as inert text: invisible and direction-changing characters appear as ⟨U+…⟩ markers."
    )
    return out


def build_methods(ctx: ReportContext) -> SectionOut:
    a = ctx.analysis
    info = describe_runs(ctx.data.runs, a.judge, a.judges)
    out = SectionOut("methods", "Methods", data=info)
    run_rows, target_rows, gen_rows = [], [], []
    for r in info["runs"]:
        bank = r["bank"]
        run_rows.append([cell(show_controls(r["run_id"])), cell(r["status"]), cell(r["started_at"]),
                         cell(r["ended_at"] or "–"), cell(f"{show_controls(bank['name'])} {show_controls(bank['version'])}"),
                         Cell(bank["fingerprint"][:16], bank["fingerprint"], "mono"), cell(", ".join(r["languages"])),
                         cell(r["samples"]), cell(f"glasnost {r['tool_version']}" + (f" ({r['git_commit'][:10]})"
                                                                                    if r["git_commit"] else ""))])
        for t in r["targets"]:
            target_rows.append([cell(show_controls(t["id"])), cell(t["kind"]), cell(show_controls(t["provider"])),
                                cell(show_controls(t["model"])), cell(show_controls(t["base_url"] or "–")),
                                cell(show_controls(t["revision"] or "unknown")), cell(show_controls(t["server"] or "–"))])
        gen = r["generation"]
        gen_rows.append([cell(show_controls(r["run_id"])), *[cell(show_controls(str(gen.get(k)))) for k in
                         ("temperature", "top_p", "max_tokens", "seed")],
                         cell(show_controls(str(gen.get("extra") or "–"))),
                         Cell((r["system_prompt_sha"] or "none")[:16], r["system_prompt_sha"], "mono"),
                         Cell(r["comparability"][:16], r["comparability"], "mono")])
    out.tables.append(Table(["Run", "Status", "Started", "Ended", "Bank", "Bank fingerprint", "Languages",
                             "Samples", "Tool"], run_rows, "Runs", id="methods-runs"))
    out.tables.append(Table(["Target", "Kind", "Provider", "Model", "Endpoint", "Revision", "Server"], target_rows,
                            "Targets and hosts", id="methods-targets"))
    out.tables.append(Table(["Run", "temperature", "top_p", "max_tokens", "seed", "extra", "System prompt sha256",
                             "Comparability fingerprint"], gen_rows, "Generation settings", id="methods-generation"))
    judge_rows = []
    for j in info["judges"]:
        metrics = j["metrics"]
        shown = "unknown (the judge ships no measured accuracy)" if not metrics else "; ".join(
            f"{k}={_num(v)}" for k, v in list(metrics.items())[:14])
        judge_rows.append([cell(show_controls(j["judge"])), cell("yes" if j["counted"] else "no"), cell(show_controls(shown))])
    if not judge_rows:
        judge_rows.append([cell("none yet"), cell("–"), cell("not judged")])
    out.tables.append(Table(["Judge", "Counted in rates", "Measured accuracy"], judge_rows, "Judges", id="methods-judges"))
    out.paragraphs += info["statistics"]
    return out


def _num(v: object) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


register_section(Section("comparisons", "Comparisons", build_comparisons, 40))
register_section(Section("host-gaps", "Host gaps", build_host_gaps, 50))
register_section(Section("fact-coverage", "Fact coverage", build_fact_coverage, 60))
register_section(Section("agreement", "Judge agreement", build_agreement, 70))
register_section(Section("answers", "Answers side by side", build_answers, 80))
register_section(Section("methods", "Methods", build_methods, 90))
