"""glasnost leaderboard: merge bundles by several auditors into one table, with their agreement."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from glasnost.cli.common import is_stdout, opt


def register(app: typer.Typer) -> None:
    @app.command("leaderboard")
    def leaderboard(
        files: list[Path] = typer.Argument(..., help="Bundle files (each is verified first)."),
        out: Path = opt(Path("leaderboard.html"), "--out", "-o", help="File to write; '-' for standard output."),
        fmt: str = opt(None, "--format", help="html, md or json (default: from the --out suffix, else html)."),
        trust: Path = opt(None, "--trust", help="Require every bundle to be signed by a key in this file."),
    ) -> None:
        """One row per target: pooled censorship rate with its interval, auditors, agreement, conflicts."""
        from glasnost.bundle.errors import BundleError
        from glasnost.bundle.export import write_bytes_atomic
        from glasnost.bundle.keys import load_trust
        from glasnost.bundle.merge import merge
        from glasnost.bundle.render import FORMATS, headline, render
        from glasnost.bundle.verify import verify_file

        to_stdout = is_stdout(out)
        if fmt is None:
            suffix = "" if to_stdout else out.suffix.lower().lstrip(".")
            fmt = {"md": "md", "markdown": "md", "json": "json"}.get(suffix, "html")
        if fmt not in FORMATS:
            raise BundleError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
        from glasnost.outfile import check_out_path

        if not to_stdout:
            check_out_path(out, BundleError, protect=[*files, *([trust] if trust else [])])
        trusted = load_trust(trust) if trust is not None else None
        bundles = [verify_file(f, trusted) for f in files]
        board = merge(bundles)
        if to_stdout:  # the data alone on stdout; what it is goes to stderr
            sys.stdout.write(render(board, fmt))
            sys.stdout.flush()
            print(headline(board), file=sys.stderr)
            return
        write_bytes_atomic(out, render(board, fmt).encode("utf-8"), protect=[*files, *([trust] if trust else [])])
        print(f"wrote {out}: {headline(board)}")
