"""Shared CLI helpers: options that also read ``GLASNOST_<OPTION>``, opening the store, printing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

console = Console(stderr=False, highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def env_name(flag: str) -> str:
    """``--max-tokens`` -> ``GLASNOST_MAX_TOKENS``; a ``--warnings/--no-warnings`` switch -> ``GLASNOST_WARNINGS``."""
    return "GLASNOST_" + flag.split("/", 1)[0].strip().lstrip("-").replace("-", "_").upper()


def opt(default: Any, *flags: str, help: str = "", **kwargs: Any) -> Any:
    """A typer Option whose value may also come from GLASNOST_<FLAG> (the first long flag names it)."""
    long_flag = next((f for f in flags if f.startswith("--")), flags[0])
    return typer.Option(default, *flags, help=help, envvar=env_name(long_flag), show_envvar=False, **kwargs)


def db_option() -> Any:
    # parser=str: the value stays a string, so a postgresql:// URL keeps its '//' (a Path would fold it)
    return opt("glasnost.db", "--db", parser=str,
               help="The store: an SQLite file, or a postgresql://HOST/DB URL (password from PGPASSWORD or "
               "~/.pgpass) (GLASNOST_DB).")


def open_store(db: str | Path, create: bool = False, writable: bool | None = None):
    """Open the store; a missing file is an error unless the command creates one (run, import). A command
    that writes (by default one that may create) refuses a read-only store before doing any work."""
    from glasnost.errors import StoreError
    from glasnost.store import display, is_url
    from glasnost.store import open_store as _open

    if not create and not is_url(db) and not Path(db).exists():
        raise StoreError(f"no store at {db}; run `glasnost run` first or pass --db PATH")
    store = _open(db)
    if (create if writable is None else writable) and getattr(store, "read_only", False):
        store.close()
        raise StoreError(f"the store {display(db)} is read-only (the file or its folder); make both writable, "
                         "or copy it and pass --db to the copy")
    return store


def split_csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


_C1 = re.compile("[\u0080-\u009f\u2028\u2029]")


def safe(value: object) -> str:
    """Untrusted text (target names, run ids, provider messages) for the terminal: escape sequences, other
    control characters and bidi overrides are shown as visible ``⟨U+001B⟩`` markers instead of acting."""
    from glasnost.textsafe import show_controls

    return _C1.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", show_controls(str(value)))


def text(value: object) -> Text:
    """``safe`` text as a rich Text, so that ``[link=...]`` or ``[bold]`` in it is never read as markup."""
    return Text(safe(value))


# ---- one meaning for every command's output -------------------------------------------------------------

STDOUT = "-"  # `--out -` means standard output in every command that writes a file


def is_stdout(path: object) -> bool:
    return path is not None and str(path) == STDOUT


def to_terminal() -> bool:
    """True when a person reads standard output; pipes, files and CI get complete plain rows instead."""
    return console.is_terminal


def _cell(value: object) -> str:
    # one row per line, one column per tab: a value never carries either
    return " ".join(safe(value).replace("\t", " ").split())


def emit_rows(headers: list[str], rows: list[list[object]], title: str | None = None) -> None:
    """A table for a terminal; for a pipe, a header line and one tab-separated line per row, values never cut
    (ids are copied from it). ``title`` is printed above the table on a terminal only."""
    if not to_terminal():
        lines = ["\t".join(_cell(h) for h in headers)]
        lines += ["\t".join(_cell(v) for v in row) for row in rows]
        print("\n".join(lines))
        return
    from rich.table import Table

    table = Table(title=text(title) if title else None, title_justify="left")
    for h in headers:  # fold, never ellipsise: a narrow terminal wraps an id instead of cutting it
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*(text(v) for v in row))
    console.print(table)
