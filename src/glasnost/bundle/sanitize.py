"""Keep secrets and the auditor's local paths out of a bundle.

What goes: ``TargetSpec.path`` and ``api_key_env`` (the variable *name* is dropped too: it is not needed
to reproduce a run and can reveal internal naming); values of secret-looking environment variables and of
every target's key variable, wherever they appear; authorization headers, bearer tokens, ``sk-...`` keys,
credentials in URLs; dict entries named like secrets; the auditor's home, working directory, Python
prefix, config directory, store path and any absolute path in the manifest.

Replacement is by substring over every string of the manifest, responses and verdicts, with the same
mapping everywhere, so a local model folder used as a model name becomes ``<local>/<folder name>`` in the
manifest and in each response's target identity alike. The bank snapshot is published content and is
left untouched (its fingerprint must stay valid). Sanitising is idempotent, so an imported bundle
exports again to the same bytes.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path, PureWindowsPath
from typing import Any, Iterable

from glasnost.records import RunManifest

REDACTED = "<redacted>"
LOCAL = "<local-path>"
SECRET_ENV = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.I)
SECRET_FIELD = re.compile(
    r"^(authorization|proxy-authorization|x-api-key|api[-_]?key|(access|auth|bearer|api|refresh|session|id)[-_]?token"
    r"|(client[-_]?)?secret|passw(or)?d|(set-)?cookie)$",
    re.I,
)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"(?i)\b((?:proxy-)?authorization|x-api-key|api[-_]?key)(\"?\s*[:=]\s*\"?)(?!<redacted>)"
            r"(?:bearer\s+|basic\s+)?[^\s\"',;}&]+"
        ),
        r"\1\2" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+(?!<redacted>)[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (re.compile(r"\bsk-(?:[A-Za-z0-9_-]{2,}-)?[A-Za-z0-9_-]{16,}"), REDACTED),
    (re.compile(r"\b(hf|ghp|gho|xox[bp]|AIza)[_-]?[A-Za-z0-9_-]{20,}"), REDACTED),
    (re.compile(r"(?i)([?&](?:key|api[-_]?key|token|access_token|sig|signature)=)(?!<redacted>)[^&\s\"']+"), r"\1" + REDACTED),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)(?!<redacted>@)[^/\s@\"']+@"), r"\1" + REDACTED + "@"),
    # A user's home anywhere, on any platform (the user name is personal data).
    (re.compile(r"(?<![\w.-])(/home|/Users)/(?!<)[^/\s\"'<>]+"), LOCAL),
    (re.compile(r"(?i)\b[a-z]:\\+(?:Users|Documents and Settings)\\+[^\\\s\"'<>]+"), LOCAL),
]
_MIN_PATH = 5  # shorter "paths" (/, /tmp, C:\) would shred ordinary text


_PATHLIKE = re.compile(r"^(?:~/|(?:\.{1,2})?/[^/\s]+/|[A-Za-z]:[\\/]|\\\\)")


def _looks_like_path(text: str) -> bool:
    """A whole string that is a local path: two components at least (so "/no_think" is not), or a drive."""
    return len(text) < 4096 and "\n" not in text and bool(_PATHLIKE.match(text))


def _base(text: str) -> str:
    return PureWindowsPath(text).name if "\\" in text else Path(text).name


class Sanitizer:
    def __init__(self, manifest: RunManifest, extra_paths: Iterable[str | Path] = (), env: dict[str, str] | None = None):
        env = dict(os.environ) if env is None else env
        secrets: set[str] = set()
        for name, value in env.items():
            if SECRET_ENV.search(name) and len(value) >= 8:
                secrets.add(value)
        for t in manifest.targets:
            if t.api_key_env and len(env.get(t.api_key_env, "")) >= 4:
                secrets.add(env[t.api_key_env])
        self.secrets = sorted(secrets, key=len, reverse=True)

        paths: dict[str, str] = {}
        for t in manifest.targets:
            if t.path:
                paths[t.path] = LOCAL
                paths[str(Path(t.path).expanduser().resolve())] = LOCAL
                parent = str(Path(t.path).parent)
                if parent not in (".", "/"):
                    paths[parent] = LOCAL
            if t.kind == "local" and _looks_like_path(t.model):
                paths[t.model] = "<local>/" + _base(t.model)
        for text in _strings(manifest.model_dump(mode="json", exclude={"targets": {"__all__": {"path"}}})):
            if _looks_like_path(text) and text not in paths:
                paths[text] = LOCAL
        here = [Path.home(), Path.cwd(), Path(sys.prefix), Path(sys.base_prefix), *map(Path, extra_paths)]
        for p in here:
            for form in {str(p), str(p.expanduser().resolve())}:
                paths.setdefault(form, LOCAL)
        usable = {p: r for p, r in paths.items() if len(p) >= _MIN_PATH and p.strip("/\\") and p not in (REDACTED,)}
        self.paths = sorted(usable.items(), key=lambda kv: len(kv[0]), reverse=True)
        self._path_re = (
            re.compile("|".join(f"(?<![\\w.-]){re.escape(p)}(?![\\w.-])" for p, _ in self.paths))
            if self.paths else None
        )
        self._path_map = dict(self.paths)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        for pattern, repl in _PATTERNS:
            value = pattern.sub(repl, value)
        if self._path_re is not None:
            value = self._path_re.sub(lambda m: self._path_map[m.group(0)], value)
        return value

    def data(self, value: Any) -> Any:
        """Every string of a JSON-like value sanitised; values under secret-looking keys redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                key = self.text(k) if isinstance(k, str) else k
                secret = isinstance(k, str) and SECRET_FIELD.match(k) and v not in (None, "", REDACTED)
                out[key] = REDACTED if secret and not isinstance(v, (dict, list)) else self.data(v)
            return out
        return value

    def manifest(self, manifest: RunManifest) -> dict[str, Any]:
        data = manifest.model_dump(mode="json")
        for t in data["targets"]:
            t["path"] = None
            t["api_key_env"] = None
        data["imported_from"] = None  # local provenance of an imported run, not part of the audit
        return self.data(data)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
