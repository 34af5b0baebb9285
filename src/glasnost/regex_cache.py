"""Regular expressions compiled once per machine, not once per process (speed, issues 12 and 17).

Why: the judge's rule data compiles to a few hundred large patterns (per language, per combination of
languages, per first character of the marker phrases). Python's ``re`` parses and compiles them in Python:
about half a second per process, paid again by every run and by the judge's first pass. ``re`` turns a pattern
into a list of integer codes and hands it to the C engine (``_sre.compile``), which checks the codes before
using them. This module keeps those codes in the cache folder (``bank/cache.py``'s ``cache_dir``), one file
per pattern named by the sha256 of the pattern, its flags and the engine's version, and hands them to the
engine directly the next time. ``cached_json`` keeps other derived data there the same way (the prefixes of the
marker phrases: ``judge/prefilter.py``).

Nothing here is trusted further than a fresh compile: a file whose checksum, header or codes do not verify is
ignored and rewritten; the engine validates the codes itself; any other Python (no ``_sre.compile`` of this
form) simply compiles with ``re``. Files are written atomically (temporary file, then ``os.replace``) and a
folder that cannot be written is not used. ``GLASNOST_REGEX_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import sys
import tempfile
from array import array
from pathlib import Path
from typing import Any, Callable

try:
    import _sre
    from re import _compiler, _parser  # type: ignore[attr-defined]

    _TAG = f"{sys.implementation.cache_tag}-{_sre.MAGIC}-{_sre.CODESIZE}"
    _CODE_TYPE = {4: "I", 2: "H"}.get(_sre.CODESIZE)
except (ImportError, AttributeError):  # pragma: no cover - another Python
    _TAG, _CODE_TYPE = "", None

FORMAT = 1
_MAX_FILE = 64 << 20  # a cached pattern is never this big: a bigger file is not read


def enabled() -> bool:
    return bool(_TAG and _CODE_TYPE and array(_CODE_TYPE).itemsize == _sre.CODESIZE) and \
        os.environ.get("GLASNOST_REGEX_CACHE", "1") != "0"


def _folder() -> Path:
    from glasnost.bank.cache import cache_dir

    return cache_dir() / f"re-{FORMAT}-{_TAG}"


def _key(pattern: str, flags: int) -> str:
    return hashlib.sha256(f"{_TAG}\0{flags}\0{pattern}".encode("utf-8", "surrogatepass")).hexdigest()


def compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, from the cache folder when this pattern was compiled before."""
    if not enabled():
        return re.compile(pattern, flags)
    path = _folder() / f"{_key(pattern, flags)}.re"
    cached = _load(path, pattern)
    if cached is not None:
        return cached
    try:
        parsed = _parser.parse(pattern, flags)
        code = _compiler._code(parsed, flags)
        groupindex = dict(parsed.state.groupdict)
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, i in groupindex.items():
            indexgroup[i] = name
        head = {"flags": flags | parsed.state.flags, "groups": parsed.state.groups - 1, "groupindex": groupindex,
                "indexgroup": indexgroup}
        compiled = _sre.compile(pattern, head["flags"], code, head["groups"], groupindex, tuple(indexgroup))
    except re.error:
        raise
    except Exception:  # the private compiler changed shape: the public one still works
        return re.compile(pattern, flags)
    _store(path, head, code)
    return compiled


def _load(path: Path, pattern: str) -> re.Pattern[str] | None:
    try:
        data = _read_regular(path)
        if data is None:
            return None
        line, _, body = data.partition(b"\n")
        head = json.loads(line)
        if not (isinstance(head, dict) and head.get("sha256") == hashlib.sha256(body).hexdigest()):
            return None
        code = array(_CODE_TYPE)
        code.frombytes(body)
        groupindex = {str(k): int(v) for k, v in head["groupindex"].items()}
        indexgroup = tuple(None if g is None else str(g) for g in head["indexgroup"])
        return _sre.compile(pattern, int(head["flags"]), code.tolist(), int(head["groups"]), groupindex,
                            indexgroup)
    except Exception:  # absent, truncated, tampered with, or codes the engine refuses: compile afresh
        return None


def cached_json(name: str, compute: Callable[[], Any], valid: Callable[[Any], bool]) -> Any:
    """``compute()``, kept as JSON in the same folder under ``name`` (which must say everything the value
    depends on, e.g. a fingerprint of the data it is derived from); a file that does not read, decode or pass
    ``valid`` is computed again and rewritten. For derived data that costs more to compute than to read."""
    if not enabled():
        return compute()
    path = _folder() / f"{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()}.json"
    try:
        data = _read_regular(path)
        value = json.loads(data) if data is not None else None
        if isinstance(value, dict) and value.get("name") == name and valid(value.get("value")):
            return value["value"]
    except Exception:  # absent or damaged: compute afresh
        pass
    value = compute()
    _write(path, json.dumps({"name": name, "value": value}, ensure_ascii=False, separators=(",", ":")).encode())
    return value


def cached_bytes(name: str, compute: Callable[[], bytes], size: int) -> bytes:
    """``compute()`` (exactly ``size`` bytes), kept in the same folder under ``name`` like ``cached_json``."""
    if not enabled():
        return compute()
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    path = _folder() / f"{digest}.bin"
    try:
        data = _read_regular(path)
        if data is not None and len(data) == size + 64 and data[:64] == hashlib.sha256(data[64:]).hexdigest().encode():
            return data[64:]
    except Exception:  # absent or damaged: compute afresh
        pass
    value = compute()
    _write(path, hashlib.sha256(value).hexdigest().encode() + value)
    return value


def _read_regular(path: Path) -> bytes | None:
    """The file's bytes when it is a regular file (not a link to a device or a FIFO) under the size limit."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_FILE:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(_MAX_FILE + 1)
    finally:
        os.close(fd)


def _store(path: Path, head: dict, code: list[int]) -> None:
    body = array(_CODE_TYPE, code).tobytes()
    line = json.dumps({**head, "sha256": hashlib.sha256(body).hexdigest()}, separators=(",", ":")).encode()
    _write(path, line + b"\n" + body)


def _write(path: Path, data: bytes) -> None:
    """Best effort, atomically: a cache that cannot be written costs only the next process's work."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".re-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except Exception:
        pass
