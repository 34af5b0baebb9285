"""Signed audit bundles: export a run, verify anyone's bundle, import it, merge many into a leaderboard.

Layout: ``format`` (members, root, signed statement), ``archive`` (reproducible tar.gz, bounded reading),
``keys`` (Ed25519 auditor keys, trust files), ``sanitize`` (no secrets or local paths), ``summary``
(recomputable figures), ``export``, ``verify``, ``importer``, ``merge``, ``render``, ``schema``.
The format is documented in docs/bundle-format.md.
"""

from glasnost.bundle.errors import BundleError, VerifyError

__all__ = ["BundleError", "VerifyError"]
