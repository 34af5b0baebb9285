"""Secrets never leave the environment: one place that knows them and scrubs them from what we keep or show.

Two jobs:

- ``redact_url``: an endpoint as it may be stored or printed. User-info (``user:key@``), query values, path
  parameters (``/v1;key=...``) and ``&name=value`` pairs are replaced with ``***``. ``url_credentials``
  says whether a URL carries any of them (the targets layer refuses such a URL, wherever it comes from).
- ``scrub``: a text with every substring of ``MIN_FRAGMENT`` or more characters of a secret known to the
  process replaced by ``[redacted]`` -- so a server that echoes back most of a key (a prefix, the key with
  its last characters cut) gets nothing of it into a record.

Known secrets are the values of the API-key variables the presets read, of any ``*_API_KEY`` / ``*_TOKEN``
variable, the credentials in a base-URL or proxy variable, and any key a target read at start
(``remember``; a custom ``?key_env=`` variable). They are kept only in this process's memory.
"""

from __future__ import annotations

import os
import re
import threading
from functools import lru_cache
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

MIN_FRAGMENT = 8
MASK = "[redacted]"

_SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD)$", re.I)
_URL_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
_remembered: set[str] = set()  # keys targets read at start (process memory only, never written)
_lock = threading.Lock()


def remember(secret: str | None) -> None:
    """A secret a target read (e.g. from a ``?key_env=`` variable): scrubbed from everything kept."""
    if secret and secret.strip():
        with _lock:
            _remembered.add(secret.strip())


def _url_secrets(url: str) -> list[str]:
    out = []
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.password:
            out.append(parts.password)
        if parts.username and parts.password is None:
            out.append(parts.username)  # http://TOKEN@host
    except ValueError:
        pass
    out += [m.group(2) for m in _PAIR.finditer(url) if m.group(1) not in _SAFE_OPTIONS and m.group(2)]
    return out


_memo: dict[str, Any] = {}  # the last (environment, remembered) -> secrets: recomputed when either changes


def known_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Every secret value this process could hold: preset key variables, *_API_KEY/*_TOKEN variables,
    credentials inside base-URL and proxy variables, and remembered keys."""
    env = os.environ if environ is None else environ
    raw = getattr(env, "_data", None)  # os.environ's own dict: a C-level snapshot, no decoding per call
    with _lock:
        stamp = (tuple(raw.items()) if isinstance(raw, dict) else tuple(env.items()), frozenset(_remembered))
    if _memo.get("stamp") == stamp:
        return _memo["secrets"]
    from glasnost.targets.spec import presets

    names = {p.api_key_env for p in presets().values() if p.api_key_env}
    url_names = {p.base_url_env for p in presets().values() if p.base_url_env} | set(_URL_VARS)
    found: set[str] = set(stamp[1])
    for name, value in env.items():
        if not value:
            continue
        if name in names or _SECRET_NAME.search(name):
            found.add(value.strip())
        if name in url_names or name.endswith(("_HOST", "_BASE_URL", "_PROXY", "_URL")):
            found.update(_url_secrets(value))
    secrets = sorted((s for s in found if len(s) >= 4), key=len, reverse=True)
    _memo.update(stamp=stamp, secrets=secrets)
    return secrets


@lru_cache(maxsize=256)
def _grams(secret: str) -> frozenset[str]:
    if len(secret) < MIN_FRAGMENT:
        return frozenset({secret})
    return frozenset(secret[i : i + MIN_FRAGMENT] for i in range(len(secret) - MIN_FRAGMENT + 1))


def mentions(text: str, secrets: Iterable[str]) -> bool:
    """Does ``text`` hold any fragment of ``MIN_FRAGMENT``+ characters of a secret? (C-level searches only)"""
    return any(g in text for secret in secrets for g in _grams(secret))


def _spans(text: str, secret: str) -> list[tuple[int, int]]:
    """Where in ``text`` a run of ``MIN_FRAGMENT``+ characters of ``secret`` occurs."""
    if len(secret) < MIN_FRAGMENT:
        return [(m.start(), m.end()) for m in re.finditer(re.escape(secret), text)]
    grams = _grams(secret)
    if not any(g in text for g in grams):  # the common case: one C-level search per 8-gram
        return []
    spans: list[tuple[int, int]] = []
    for i in range(len(text) - MIN_FRAGMENT + 1):
        if text[i : i + MIN_FRAGMENT] in grams:
            if spans and spans[-1][1] >= i:
                spans[-1] = (spans[-1][0], i + MIN_FRAGMENT)
            else:
                spans.append((i, i + MIN_FRAGMENT))
    return spans


def scrub(text: str | None, secrets: Iterable[str] | None = None) -> str | None:
    """``text`` without any 8+-character fragment of a known secret."""
    if not text:
        return text
    for secret in known_secrets() if secrets is None else secrets:
        spans = _spans(text, secret)
        if spans:
            parts, last = [], 0
            for start, end in spans:
                parts.append(text[last:start])
                parts.append(MASK)
                last = end
            parts.append(text[last:])
            text = "".join(parts)
    return text


def scrub_value(value: Any, secrets: list[str]) -> tuple[Any, bool]:
    """A JSON-like value with every string scrubbed; True when anything changed."""
    if isinstance(value, str):
        clean = scrub(value, secrets)
        return clean, clean != value
    if isinstance(value, list):
        pairs = [scrub_value(v, secrets) for v in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    if isinstance(value, dict):
        out, changed = {}, False
        for k, v in value.items():
            ck, chk = scrub_value(k, secrets) if isinstance(k, str) else (k, False)
            cv, chv = scrub_value(v, secrets)
            out[ck] = cv
            changed |= chk or chv
        return out, changed
    return value, False


# ---------------------------------------------------------------------------------------------------------
# endpoints

_USERINFO = re.compile(r"(://)[^/?#]*@")  # up to the last @ of the authority: a password may hold @
_SAFE_OPTIONS = frozenset({"key_env", "name", "revision", "base_url"})  # spec options: names, not values
_PAIR = re.compile(r"(?<=[?&;])([^=&#?;/]+)=([^&#;?]*)")


def redact_url(text: str) -> str:
    """An endpoint (or a spec string holding one) as it may be stored or printed: no user-info, and no value
    of a query, path or ``&`` parameter other than glasnost's own spec options."""
    text = _USERINFO.sub(r"\1***@", text)
    return _PAIR.sub(lambda m: m.group(0) if m.group(1) in _SAFE_OPTIONS else f"{m.group(1)}=***", text)


def url_credentials(url: str) -> bool:
    """Does this URL carry user-info, a query, a path parameter or a fragment (where credentials ride)?"""
    try:
        parts = urlsplit(url)
        return bool(parts.username or parts.password or "@" in parts.netloc or parts.query
                    or ";" in parts.path or parts.fragment or "?" in url or "#" in url)
    except ValueError:
        return True
