"""glasnost judge: classify a run's responses and store the verdicts (parsing and printing only)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from glasnost.cli.common import console, db_option, emit_rows, err_console, open_store, opt, text


def register(app: typer.Typer) -> None:
    @app.command("judge")
    def judge(
        run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
        judge_spec: str = opt("default", "--judge", help="default | llm:TARGET | default+llm:TARGET | panel:TARGET,TARGET (GLASNOST_JUDGE)."),
        as_json: bool = opt(False, "--json", help="Print the summary as JSON."),
        db: Path = db_option(),
    ) -> None:
        """Judge a run's responses (never calls the audited models again) and print a label table."""
        from glasnost.judge import get_judge, judge_run

        judge_obj = get_judge(judge_spec)  # a bad spec fails before the store is touched
        store = open_store(db, writable=True)
        try:
            live = err_console.is_terminal and not as_json  # a pipe or a log gets the summary alone

            def progress(done: int, total: int) -> None:
                if live:
                    err_console.print(f"judged {done}/{total}", end="\r")

            summary = judge_run(store, run_id, judge_spec, progress=progress, judge=judge_obj)
        finally:
            store.close()
        if as_json:
            print(json.dumps(summary, ensure_ascii=False, indent=2))
            return
        if live:  # the progress line is overwritten, not continued
            err_console.print(" " * 40, end="\r")
        console.print(text(f"run {summary['run_id']} · judge {summary['judge']}"))
        counted = sum(summary["labels"].values()) + summary["judge_errors"]
        rows = [[label, n, f"{n / counted:.1%}" if counted else "-"]
                for label, n in sorted(summary["labels"].items(), key=lambda kv: -kv[1])]
        if summary["judge_errors"]:
            rows.append(["judge_error (not counted)", summary["judge_errors"],
                         f"{summary['judge_errors'] / counted:.1%}"])
        emit_rows(["label", "responses", "share"], rows)
        stale = summary.get("stale", 0)
        again = f" ({stale} of them again: their responses changed since, e.g. an error answered by a rerun)" \
            if stale else ""
        console.print(f"newly judged {summary['judged']}{again}, already judged (cached) {summary['skipped']}")
        if summary["judge_errors"]:
            err_console.print(text(f"{summary['judge_errors']} judge errors (not counted as any label; run the same "
                                   f"command again to retry them); the first: {summary.get('first_judge_error')}"))
        agreement = summary.get("agreement")
        if agreement:
            kappa = agreement.get("kappa")
            raw = agreement.get("raw")
            raw_s = f"{raw:.3f}" if raw is not None else "undefined"
            # kappa is undefined when both judges gave one and the same label throughout (no chance baseline)
            kappa_s = f"{kappa:.3f}" if kappa is not None else "undefined"
            console.print(f"panel agreement over {agreement['n']} responses: raw {raw_s}, Cohen's kappa {kappa_s}")
