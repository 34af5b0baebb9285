"""glasnost report: one self-contained HTML file (or Markdown, or JSON) from one or more runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from glasnost.cli.common import console, db_option, open_store, opt

SUFFIX_FORMAT = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json"}


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        runs: list[str] = typer.Argument(..., help="Run ids (or unique prefixes); several runs make one report."),
        out: Optional[Path] = opt(None, "--out", "-o", help="Output file (default report.html; '-' for stdout)."),
        fmt: Optional[str] = opt(None, "--format", "-f", help="html, md or json (default: from --out, else html)."),
        judge: Optional[str] = opt(None, "--judge", help="Whose verdicts count: id@version or id "
                                   "(default: the latest default@*, else the only judge)."),
        db: Path = db_option(),
    ) -> None:
        """Write the report of runs: summary, rates with intervals, asymmetry, language gaps, answers side by side."""
        from glasnost.errors import ConfigError
        from glasnost.outfile import check_out_path, store_files
        from glasnost.report import FORMATS, build_context, render, write_report

        chosen = fmt or (SUFFIX_FORMAT.get(out.suffix.lower()) if out is not None and str(out) != "-" else None) \
            or "html"
        chosen = chosen.lower()
        if chosen not in FORMATS:
            raise ConfigError(f"unknown report format {chosen!r}; choose one of {', '.join(FORMATS)}")
        if out is not None and str(out) != "-":
            check_out_path(out, protect=store_files(db))  # before the store is even opened
        store = open_store(db)
        try:
            _refuse_empty_failed_runs(store, runs)
            if out is not None and str(out) == "-":
                ctx = build_context(store, runs, judge, keep_text=(chosen == "html"))
                sys.stdout.write(render(ctx, chosen))
                return
            target = out if out is not None else Path(f"report.{chosen}")
            path = write_report(store, runs, target, fmt=chosen, judge=judge, protect=store_files(db))
        finally:
            store.close()
        console.print(f"report: {path}", markup=False, highlight=False)


def _refuse_empty_failed_runs(store, runs: list[str]) -> None:
    """A run that failed before storing any answer has nothing to report: say why instead of an empty page."""
    from glasnost.cli.common import safe
    from glasnost.errors import ConfigError

    for ref in runs:
        m = store.get_run(ref)
        if m.status == "failed" and not sum(store.outcome_counts(m.run_id).values()):
            raise ConfigError(f"run {m.run_id} failed before storing any answer ({safe(m.message or 'no reason')}); "
                              "fix that and run the same `glasnost run` command again")
