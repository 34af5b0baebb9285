"""Where responses, verdicts and run manifests live."""

from __future__ import annotations

from pathlib import Path

from glasnost.store.base import Store
from glasnost.store.location import display, is_url


def open_store(path: str | Path) -> Store:
    """Open (creating if needed) the store at ``path``: an SQLite file, or a PostgreSQL database given as a
    ``postgresql://`` URL (the ``postgres`` extra; see docs/scale.md)."""
    if is_url(path):
        from glasnost.store.postgres import PostgresStore

        return PostgresStore(str(path))
    from glasnost.store.sqlite import SQLiteStore

    return SQLiteStore(path)


__all__ = ["Store", "open_store", "display", "is_url"]
