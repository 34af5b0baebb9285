"""Errors that end a command with one clear line (what, where, how to fix) and a non-zero exit.

Anything raised as a GlasnostError is printed by the CLI as ``error: <message>`` without a traceback.

Exit codes (README, "Exit codes"): 0 done; 1 an unforeseen file or store failure; 2 bad input (a file, an
option, a damaged or foreign store); 3 a target cannot go on (no key, refused authentication, unreachable);
4 ``run`` finished but some requests still ended in error after their retries (the same command retries
them); 130 interrupted (what finished is stored).
"""


class GlasnostError(Exception):
    """A problem the user can fix; the message is the one line shown to them."""

    exit_code = 2


class ConfigError(GlasnostError):
    """Bad input: an unknown target kind, bank, language, malformed file, missing API key variable."""


class StoreError(GlasnostError):
    """The store cannot be opened or is not a glasnost database."""


class TargetFatal(GlasnostError):
    """A target cannot continue: authentication failed, quota exhausted, endpoint unreachable.

    The runner stops the whole run on it (nothing already stored is lost)."""

    exit_code = 3


class ErrorsLeft(GlasnostError):
    """``run`` finished, but some requests still ended in error after their retries; running it again
    retries them. Everything else (verdicts, report) was done."""

    exit_code = 4
