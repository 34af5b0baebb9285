"""glasnost db check: name the damaged rows of a store, and move them aside on request (parsing and printing)."""

from __future__ import annotations

from pathlib import Path

import typer

from glasnost.cli.common import console, db_option, open_store, opt, text


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="The store itself: integrity check, quarantine, copy.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.callback()
    def _db() -> None:
        """The store itself: integrity check, quarantine, copy."""

    @db_app.command("copy")
    def copy(
        source: str = typer.Argument(..., help="The store to copy: an SQLite file or a postgresql:// URL."),
        destination: str = typer.Argument(..., help="Where to: an SQLite file or a postgresql:// URL (created)."),
        overwrite: bool = opt(False, "--overwrite", help="Replace destination tables that hold other rows."),
    ) -> None:
        """Copy everything (runs, plans, banks, responses, verdicts, scores, imports, quarantine) from one store to
        another, SQLite or PostgreSQL, each table in one transaction, verified by row count and sha256. Running
        it again after an interruption resumes: tables already equal are skipped."""
        from glasnost.errors import ConfigError
        from glasnost.store import display
        from glasnost.store.copy import copy_store

        if display(source) == display(destination):
            raise ConfigError(f"db copy: the source and the destination are both {display(source)}; give another")
        src = open_store(source)
        try:
            dst = open_store(destination, create=True)
            try:
                tables = copy_store(src, dst, overwrite=overwrite, on_table=lambda t: console.print(text(t.line())))
            finally:
                dst.close()
        finally:
            src.close()
        rows = sum(t.rows for t in tables)
        console.print(text(f"{display(source)} -> {display(destination)}: {rows:,} rows in {len(tables)} tables, "
                           "every table's count and sha256 verified equal"))

    @db_app.command("check")
    def check(
        quarantine: bool = opt(False, "--quarantine",
                               help="Move the damaged rows into the store's quarantine table (nothing is deleted; "
                               "every other row stays as it is)."),
        db: Path = db_option(),
    ) -> None:
        """List rows that do not decode (bad JSON, a bad manifest, a bad schema version), by table, run and key;
        and stale verdicts (they judged a response replaced since: never used, `glasnost judge` redoes them)."""
        from glasnost.errors import StoreError
        from glasnost.store import display

        store = open_store(db, writable=quarantine)
        db = display(db)  # printed below: never a user or a password
        try:
            damaged = store.damaged(full=True)
            stale = {m.run_id: store.stale_verdicts(m.run_id) for m in store.list_runs()}
            moved = store.quarantine(damaged) if quarantine and damaged else 0
        finally:
            store.close()
        for d in damaged:
            console.print(text(d.line()))
        for run_id, n in stale.items():
            if n:
                console.print(text(f"run {run_id}: {n} stale verdicts (never used; `glasnost judge {run_id}` "
                                   "judges those responses again)"))
        if not damaged:
            console.print(text(f"{db}: no damaged rows"))
            return
        if quarantine:
            unmovable = len(damaged) - moved
            console.print(text(f"{db}: moved {moved} damaged rows into the quarantine table (nothing deleted)"))
            if unmovable:
                raise StoreError(f"{db}: {unmovable} problems are in the file's pages, not in rows; restore the "
                                 f"store from a copy (or try `sqlite3 {db} .recover`)")
            return
        raise StoreError(f"{db}: {len(damaged)} damaged rows; commands that read the store skip them; "
                         f"`glasnost db check --quarantine --db {db}` moves them aside")
