"""glasnost compare: paired differences between runs (same question, language and sample)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from glasnost.cli.common import console, db_option, err_console, open_store, opt


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare(
        runs: list[str] = typer.Argument(..., help="RUN_A RUN_B [...]: each later run is compared with the first."),
        judge: Optional[str] = opt(None, "--judge", help="Whose verdicts count (default: latest default@*)."),
        force: bool = opt(False, "--force", help="Pair runs even when bank, generation or system prompt differ."),
        as_json: bool = opt(False, "--json", help="Print JSON instead of a table."),
        db: Path = db_option(),
    ) -> None:
        """Compare runs response by response; refuses runs that asked different questions or asked differently."""
        from glasnost.report.fmt import estimate, pct, pvalue, show_controls
        from glasnost.stats.analysis import to_plain
        from glasnost.stats.compare import compare_runs

        store = open_store(db)
        try:
            result = compare_runs(store, runs, judge=judge, force=force)
        finally:
            store.close()
        differing = {rid: d for rid, d in result.differences.items() if d}
        for rid, d in differing.items():
            err_console.print(Text(f"warning: {result.runs[0]} and {rid} differ in: " + "; ".join(d)
                                   + " (compared anyway: --force)"), soft_wrap=True)
        for w in result.warnings:
            err_console.print(Text(f"warning: {show_controls(w)}"), soft_wrap=True)
        if as_json:
            print(json.dumps(to_plain(result), ensure_ascii=False, indent=1))
            return
        table = Table(title=Text(f"Paired differences (judge {result.judge}); † Holm p < 0.05"), title_justify="left")
        for col in ("base run", "other run", "target (base)", "target (other)", "lang", "pairs", "rate base",
                    "rate other", "difference [95% CI]", "newly censored / answered", "p", "Holm p"):
            table.add_column(Text(col), overflow="fold")
        for p in result.pairs:
            r = p.result
            table.add_row(*[Text(show_controls(str(x))) for x in (
                p.base[:12], p.other[:12], p.target_a, p.target_b, p.lang or "all", r.diff.n, pct(r.rate_a),
                pct(r.rate_b), estimate(r.diff, with_n=False), f"{r.b_only} / {r.a_only}", pvalue(r.diff.p),
                pvalue(r.diff.p_holm))])
        # Piped output is not squeezed into 80 columns: scripts and logs read whole figures.
        out = console if console.is_terminal else Console(width=220, highlight=False)
        out.print(table if result.pairs else Text("no pairs: the runs share no judged question, language "
                                                  "and sample"))
        for p in result.pairs:
            if p.lang is None and (p.newly_censored or p.newly_answered):
                head = f"{p.target_a} → {p.target_b}: "
                if p.newly_censored:
                    console.print(Text(show_controls(head + "censored now, answered before: " + ", ".join(
                        f"{c} [{lang}#{s}]" for c, lang, s in p.newly_censored[:10]))), soft_wrap=True)
                if p.newly_answered:
                    console.print(Text(show_controls(head + "answered now, censored before: " + ", ".join(
                        f"{c} [{lang}#{s}]" for c, lang, s in p.newly_answered[:10]))), soft_wrap=True)
