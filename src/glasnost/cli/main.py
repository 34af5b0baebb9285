"""The ``glasnost`` command: parsing and printing only.

Each command lives in its own module of this package and exposes ``register(app)``; this module discovers
them, so adding a command never means editing a central list. Every option can also come from the
environment as ``GLASNOST_<OPTION>`` (see ``common.opt``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sqlite3
import sys

import typer

from glasnost import __version__
from glasnost.cli.common import safe
from glasnost.errors import GlasnostError

app = typer.Typer(
    name="glasnost",
    help="Audit language models for political censorship, with evidence.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_SKIP = {"main", "common", "__init__"}


_registered = False


def _register_commands() -> None:
    """Once per process: main() may be called many times (tests), and each registration adds commands."""
    global _registered
    if _registered:
        return
    _registered = True
    import glasnost.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name in _SKIP or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"glasnost.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


def _version(value: bool) -> None:
    if value:
        print(f"glasnost {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """glasnost: a symmetric multilingual bank, a runner for any model, a measured judge, honest statistics."""


def _command():
    """The click command behind ``app``, with each command's summary in the command list being its docstring's
    whole first sentence (click cuts it at about 45 characters with "...")."""
    root = typer.main.get_command(app)

    def whole_summaries(group) -> None:  # typer may vendor its own click: groups are told by their commands
        for cmd in getattr(group, "commands", {}).values():
            if cmd.help:
                first = cmd.help.strip().split("\n\n", 1)[0]
                cmd.short_help = " ".join(first.split(". ", 1)[0].split()).rstrip(".")
            whole_summaries(cmd)

    whole_summaries(root)
    return root


def _interrupted() -> int:
    lead = "\n" if sys.stderr.isatty() else ""  # past the ^C the terminal echoed
    print(f"{lead}interrupted: finished work is stored; run the same command again to resume", file=sys.stderr)
    return 130


def _plain_help(typer_app: typer.Typer) -> None:
    """Help for a pipe or a file: click's plain text, which wraps, where rich's boxes cut lines at 80 columns."""
    typer_app.rich_markup_mode = None
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _plain_help(group.typer_instance)
# Two-word commands of modules that cannot extend an existing one-word command: `glasnost judge RUN` takes a
# run id, so `glasnost judge import-review FILE` is the command judge-import-review.
ALIASES = {("judge", "import-review"): "judge-import-review"}


def main(argv: list[str] | None = None) -> int:
    _register_commands()
    if not sys.stdout.isatty():
        _plain_help(app)
    if argv is None:
        argv = sys.argv[1:]
    if tuple(argv[:2]) in ALIASES:
        argv = [ALIASES[(argv[0], argv[1])], *argv[2:]]
    try:
        # Without standalone mode click returns typer.Exit's code instead of exiting: pass it on.
        rc = _command().main(args=argv, standalone_mode=False)
    except GlasnostError as exc:
        # One line, whatever a provider's message (quoted in it) holds: no newlines, no escape sequences.
        print(f"error: {safe(' '.join(str(exc).split()))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return _interrupted()
    except typer.Exit as exc:
        return exc.exit_code or 0
    except OSError as exc:  # a file problem no command foresaw: still one line, never a traceback
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"error: {safe(where)}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:  # the store failed under us (disk full, made read-only): committed work stays
        fix = ("make the store and its folder writable" if "readonly" in str(exc)
               else "what was committed is kept; fix the cause and run the same command again")
        print(f"error: the store failed ({safe(exc)}); {fix}", file=sys.stderr)
        return 1
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 1
    except Exception as exc:  # click usage errors and the like
        # typer >= 0.16 raises its own vendored copy of click's exceptions, older versions click's: by name.
        if any(cls.__name__ == "ClickException" for cls in type(exc).__mro__):
            exc.show()
            return exc.exit_code
        raise
    if rc == 130:  # typer turns Ctrl-C into a silent exit code 130: say what happened and how to go on
        return _interrupted()
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
