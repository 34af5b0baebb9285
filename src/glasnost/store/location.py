"""Where a store lives: an SQLite file path, or a PostgreSQL URL (``postgresql://host/db``).

A URL may name a user and even a password, but a password never leaves this module: every message, log
line, manifest field or listing shows ``display(db)``, which drops the user-info and any ``password``
parameter. Credentials belong in the environment (``PGPASSWORD``, ``~/.pgpass``, or the whole URL in
``GLASNOST_DB``); libpq reads them itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")


def is_url(db: str | Path) -> bool:
    return isinstance(db, str) and db.lower().startswith(SCHEMES)


def display(db: str | Path) -> str:
    """The store's location, safe to print: no user name, no password."""
    if not is_url(db):
        return str(db)
    parts = urlsplit(str(db))
    host = parts.netloc.rsplit("@", 1)[-1]
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() not in ("password", "user", "passfile", "sslpassword")])
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def secrets_of(db: str | Path) -> list[str]:
    """The password (and user-info) a URL carries, to scrub from error messages that might echo them."""
    if not is_url(db):
        return []
    parts = urlsplit(str(db))
    found = [parts.password] if parts.password else []
    found += [v for k, v in parse_qsl(parts.query) if k.lower() in ("password", "sslpassword") and v]
    return [s for s in found if s]


def scrub(message: str, db: str | Path) -> str:
    """``message`` with any secret of ``db`` (and any user:password@ of a URL) replaced by ``***``."""
    for secret in secrets_of(db):
        message = message.replace(secret, "***")
    return re.sub(r"(postgres(?:ql)?://)[^@/\s]*@", r"\1", message)
