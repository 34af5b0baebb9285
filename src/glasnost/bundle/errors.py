"""Errors of the bundle layer: each is one line naming what failed, where, and what to do."""

from __future__ import annotations

from glasnost.errors import GlasnostError


class BundleError(GlasnostError):
    """A bundle cannot be written or read (missing key, unreadable file, bad option)."""


class VerifyError(BundleError):
    """A bundle failed verification: a hash, the signature, a cross-check or the recomputed summary.

    A distinct exit code lets scripts tell "this audit does not verify" from "the command was misused".
    ``reason`` is the reason code of docs/bundle-format.md ("What verify checks"), shared by every verifier."""

    exit_code = 4

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason
