"""glasnost judge import-review: store the corrections a reader downloaded from a report as verdicts of the
judge ``human@1`` (parsing and printing only; the work is in glasnost.judge.review)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from glasnost.cli.common import console, db_option, open_store, opt, text

COMMAND = "judge-import-review"  # reached as `glasnost judge import-review` (see cli.main.ALIASES)


def register(app: typer.Typer) -> None:
    @app.command(COMMAND)
    def import_review(
        file: Path = typer.Argument(..., help="The corrections file the report downloaded (JSON Lines or JSON)."),
        as_json: bool = opt(False, "--json", help="Print the summary as JSON."),
        db: Path = db_option(),
    ) -> None:
        """Store a reader's corrections as verdicts of the judge human@1: they override the judge in reports."""
        from glasnost.judge.review import read_reviews, store_reviews

        reviews = read_reviews(file)  # a bad file fails before the store is opened
        store = open_store(db, writable=True)
        try:
            summary = store_reviews(store, reviews, str(file))
        finally:
            store.close()
        if as_json:
            print(json.dumps(summary, ensure_ascii=False))
            return
        console.print(text(f"stored {summary['stored']} reviews as judge {summary['judge']}: "
                           f"{summary['corrections']} correct the judge, {summary['same_as_judge']} confirm it"))
