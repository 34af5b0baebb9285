"""Where responses, verdicts and run manifests live."""

from __future__ import annotations

from pathlib import Path

from glasnost.store.base import Store


def open_store(path: str | Path) -> Store:
    """Open (creating if needed) the store at ``path``. Only SQLite files today."""
    from glasnost.store.sqlite import SQLiteStore

    return SQLiteStore(path)


__all__ = ["Store", "open_store"]
