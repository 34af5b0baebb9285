"""glasnost version (and what this installation can do)."""

from __future__ import annotations

import typer

from glasnost import __version__


def register(app: typer.Typer) -> None:
    @app.command("version")
    def version() -> None:
        """Print the version and which optional backends are installed."""
        import importlib.util

        extras = {name: importlib.util.find_spec(name) is not None for name in ("torch", "transformers", "pyarrow", "psycopg", "ray")}
        print(f"glasnost {__version__}")
        for name, present in extras.items():
            print(f"  {name}: {'installed' if present else 'not installed'}")
