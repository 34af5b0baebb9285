"""glasnost export: responses joined with verdicts, as CSV, JSON Lines or Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from glasnost.cli.common import console, db_option, is_stdout, open_store, opt

SUFFIX_FORMAT = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        runs: list[str] = typer.Argument(..., help="Run id(s) (or unique prefixes)."),
        out: Path = opt(..., "--out", "-o", help="Output file; '-' writes CSV or JSON Lines to standard output."),
        fmt: Optional[str] = opt(None, "--format", "-f", help="csv, jsonl or parquet (default: from --out)."),
        judge: Optional[str] = opt(None, "--judge", help="Whose verdicts to join (default: latest default@*)."),
        bom: bool = opt(False, "--bom", help="Start a CSV with a byte-order mark (for spreadsheet programs that "
                        "need one to read non-Latin text)."),
        db: Path = db_option(),
    ) -> None:
        """Export one row per response with its verdict (parquet needs the 'parquet' extra)."""
        from glasnost.errors import ConfigError
        from glasnost.report.export import FORMATS
        from glasnost.report.export import export as do_export

        to_stdout = is_stdout(out)
        chosen = (fmt or ("" if to_stdout else SUFFIX_FORMAT.get(out.suffix.lower())) or "").lower()
        if not chosen:
            raise ConfigError(f"cannot tell the format of {out}; pass --format ({', '.join(FORMATS)})")
        if to_stdout and chosen not in ("csv", "jsonl"):
            raise ConfigError(f"--out - writes csv or jsonl to standard output, not {chosen}; give a file path")
        from glasnost.outfile import check_out_path, store_files

        if not to_stdout:
            check_out_path(out, protect=store_files(db))  # before the store is even opened
        store = open_store(db)
        try:
            if to_stdout:
                import sys

                from glasnost.report.export import iter_rows, write_text

                write_text(iter_rows(store, runs, judge), sys.stdout, chosen)
                sys.stdout.flush()
                return
            n = do_export(store, runs, out, chosen, judge, bom=bom, protect=store_files(db))
        finally:
            store.close()
        console.print(f"exported {n} responses to {out}", markup=False, highlight=False)
