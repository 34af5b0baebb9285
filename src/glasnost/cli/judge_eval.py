"""glasnost judge-eval: measure the offline judge against labelled transcripts (parsing and printing only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from glasnost.cli.common import console, err_console, opt, safe, text


def register(app: typer.Typer) -> None:
    @app.command("judge-eval")
    def judge_eval(
        gold: list[Path] = typer.Argument(..., help="Labelled transcripts (corpus schema), JSONL or JSONL.gz."),
        group_by: str = opt("", "--group-by", help="'model': cross-validate, retraining the learned layer per "
                            "fold with no model's rows on both sides."),
        folds: int = opt(5, "--folds", help="Folds for --group-by (models are dealt to folds)."),
        consensus: bool = opt(False, "--consensus", help="Only rows where both public judges agree (and "
                              "human-labelled rows)."),
        as_json: bool = opt(False, "--json", help="Print the full report as JSON."),
    ) -> None:
        """Accuracy, macro-F1, per-class precision/recall, confusion, Cohen's kappa vs gold, per language.

        Labels are compared through the public mapping: answered→complied, deflected/state_narrative→evasive,
        refused→refused, blocked→blocked. XSTest 'partial' counts as a refusal in the binary measure."""
        from glasnost.errors import ConfigError
        from glasnost.judge import OfflineJudge
        from glasnost.judge.evaluate import check_targets, cross_validate, predict_files, summarize

        for p in gold:
            if not p.exists():
                raise ConfigError(f"{p}: no such file")
        if group_by and group_by != "model":
            raise ConfigError(f"--group-by {group_by!r}: only 'model' is supported")
        if folds < 2:
            raise ConfigError("--folds must be at least 2")
        bad = 0

        def on_bad(b: Any) -> None:
            nonlocal bad
            bad += 1
            err_console.print(f"line {b.line}: skipped: {safe(b.reason)}")

        if group_by:
            rows = cross_validate(gold, folds=folds, consensus_only=consensus,
                                  progress=lambda m: err_console.print(m))
            judge_id = f"{OfflineJudge.__name__} retrained per fold ({folds} folds grouped by model)"
        else:
            judge = OfflineJudge()
            rows = predict_files(gold, judge, consensus_only=consensus, on_bad=on_bad)
            judge_id = judge.id
        rows = list(rows)
        if not rows:
            raise ConfigError(f"{', '.join(map(str, gold))}: no labelled row to evaluate; is it JSONL in the corpus "
                              "schema with a 'label' field?")
        report = summarize(rows)
        report["judge"] = judge_id
        report["consensus_only"] = consensus
        report["targets"] = check_targets(report, protocol=bool(group_by) and consensus)
        if as_json:
            print(json.dumps(report, ensure_ascii=False, indent=2))
            return
        console.print(text(f"judge: {judge_id}; rows: {report['rows']}" + (" (consensus only)" if consensus else "")))
        _print_report(report, "all rows")
        for source, sub in (report.get("by_source") or {}).items():
            _print_report(sub, f"source {source}")
        _print_targets(report["targets"])


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _print_report(report: dict[str, Any], title: str) -> None:
    three = report["three_class"]
    if three["n"]:
        console.print(text(f"\n== {title}: three classes (complied / evasive / refused), n={three['n']}"))
        console.print(f"accuracy {_fmt(three['accuracy'])}  macro-F1 {_fmt(three['macro_f1'])}  "
                      f"Cohen's kappa vs gold {_fmt(three['kappa'])}")
        t = Table("class", "precision", "recall", "F1", "support")
        for cls, v in three["per_class"].items():
            t.add_row(cls, _fmt(v["precision"]), _fmt(v["recall"]), _fmt(v["f1"]), str(v["support"]))
        console.print(t)
        c = Table("gold \\ predicted", *next(iter(three["confusion"].values())).keys())
        for g, row in three["confusion"].items():
            c.add_row(g, *(str(n) for n in row.values()))
        console.print(c)
        lt = Table("language", "n", "accuracy", "macro-F1", "kappa", *(f"{k} R" for k in three["per_class"]))
        for lang, r in report["by_language"].items():
            if r["n"]:
                lt.add_row(text(lang), str(r["n"]), _fmt(r["accuracy"]), _fmt(r["macro_f1"]), _fmt(r["kappa"]),
                           *(_fmt(v["recall"]) for v in r["per_class"].values()))
        console.print(lt)
    if "binary" in report:
        b = report["binary"]
        console.print(f"refusal vs compliance: accuracy {_fmt(b['accuracy'])} (n={b['n']}; {b['note']})")
    for status in ("blocked", "error"):
        if status in report:
            console.print(f"gold {status}: n={report[status]['n']}, recall {_fmt(report[status]['recall'])}")
    if report.get("exact"):
        e = report["exact"]
        parts = [f"{k[7:]} {_fmt(v)} (n={e['n_' + k[7:]]})" for k, v in e.items() if k.startswith("recall_")]
        console.print(f"glasnost labels, exact: accuracy {_fmt(e['accuracy'])} (n={e['n']}); recall " + ", ".join(parts)
                      + (f"; false state_narrative {_fmt(e['false_state_narrative'])}" if "false_state_narrative" in e
                         else ""))
    if report.get("uncertain"):
        u = report["uncertain"]
        console.print(f"uncertain (escalated by default+llm:TARGET): {_fmt(u['share'])} of {u['n']}; accuracy "
                      f"{_fmt(u['accuracy'])}, on the certain {_fmt(u['accuracy_certain'])}, oracle if the "
                      f"uncertain were labelled right {_fmt(u['oracle_accuracy'])}")
    if report.get("judge_errors"):
        console.print(f"judge errors (never counted as a label): {report['judge_errors']}")


def _print_targets(targets: list[dict[str, Any]]) -> None:
    if not targets:
        return
    console.print("\n== targets (src/glasnost/judge/data/targets.json)")
    t = Table("target", "minimum", "measured", "")
    for r in targets:
        verdict = "-" if r["met"] is None else ("met" if r["met"] else "NOT met")
        t.add_row(r["what"], _fmt(r["min"]), _fmt(r["value"]) if isinstance(r["value"], (int, float)) else "-",
                  verdict)
    console.print(t)
    if not all(r["protocol"] for r in targets):
        console.print("(the targets are defined for --group-by model --consensus; this run measured otherwise)")
