"""The built-in bank compiled once into JSON, keyed by the fingerprint of its YAML files.

Why: parsing the bank's YAML costs most of a short run's start-up. The parsed bank (concepts, the file each
came from, the meta file's name, version and subsets) is written as JSON into the cache folder the first time
and read from there while the YAML files are unchanged: the key is the sha256 of every file's name and bytes,
so any edit (or a new file) parses the YAML again.

The cache is never trusted further than the YAML would be: every concept is validated by the same record
(``Concept.model_validate``) on load, the file must name the fingerprint it was written for, and a cache that
does not read, decode or validate is ignored (and rewritten). It is written atomically (temporary file, then
``os.replace``), so a killed process never leaves half a cache; a folder that cannot be written is simply not
used. Where: ``GLASNOST_CACHE_DIR``, else ``$XDG_CACHE_HOME/glasnost``, else ``~/.cache/glasnost``.

A built-in subset (``quick``) has a cache file of its own beside the full one (``subset-NAME-FINGERPRINT.json``,
the same checks plus the subset's name): a run on the quick bank then reads and validates its 44 concepts,
not all 760 (≈ 70 ms and ≈ 30 MB less at start-up).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

FORMAT = 1  # bump when the cached shape changes: old caches are then ignored
_SUBSET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # a subset's name becomes part of a file name


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("GLASNOST_CACHE_DIR"):
        return Path(env["GLASNOST_CACHE_DIR"]).expanduser()
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "glasnost"
    return Path.home() / ".cache" / "glasnost"


def files_fingerprint(paths: list[Path]) -> str:
    """sha256 over each file's name and bytes, in the given order (callers sort)."""
    h = hashlib.sha256(f"glasnost-bank-cache-{FORMAT}\n".encode())
    for path in paths:
        data = path.read_bytes()
        h.update(f"{path.name}\0{len(data)}\0".encode("utf-8", "surrogateescape"))
        h.update(data)
    return h.hexdigest()


def _cache_path(fingerprint: str, subset: str | None = None) -> Path:
    if subset is not None:
        return cache_dir() / f"subset-{subset}-{fingerprint}.json"
    return cache_dir() / f"bank-{fingerprint}.json"


def read(fingerprint: str, subset: str | None = None) -> dict[str, Any] | None:
    """The cached parse for this fingerprint (of one subset's concepts only, with ``subset``), or None when
    absent, unreadable or not what it claims."""
    from glasnost.records import Concept

    try:
        data = json.loads(_cache_path(fingerprint, subset).read_text(encoding="utf-8"))
        if not (isinstance(data, dict) and data.get("format") == FORMAT and data.get("fingerprint") == fingerprint
                and data.get("subset") == subset):
            return None
        concepts = [Concept.model_validate(raw) for raw in data["concepts"]]
        files = data["files"]
        if not (isinstance(files, dict) and all(c.id in files for c in concepts)):
            return None
        meta = data["meta"] if isinstance(data.get("meta"), dict) else {}
        return {"meta": meta, "concepts": concepts, "files": {str(k): str(v) for k, v in files.items()}}
    except Exception:  # missing, truncated, not JSON, a concept that no longer validates: parse the YAML
        return None


def write(fingerprint: str, meta: dict, concepts: list, files: dict[str, str], subset: str | None = None) -> None:
    """Best effort: a cache that cannot be written costs only the next start's parse."""
    data = {"format": FORMAT, "fingerprint": fingerprint, "meta": meta,
            "concepts": [c.model_dump(mode="json") for c in concepts], "files": files}
    if subset is not None:
        data["subset"] = subset
    path = _cache_path(fingerprint, subset)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".bank-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError):
        pass


def cached_parse(paths: list[Path], parse: Callable[[], tuple[dict, list, dict[str, str]]],
                 subset: str | None = None):
    """(meta, concepts, files) of the bank in ``paths``: from the cache when its files are unchanged, else
    from ``parse()`` (the YAML), whose result is then cached. ``subset``: only the concepts of the meta file's
    subset of that name (all of them when there is no such subset)."""
    try:
        fingerprint = files_fingerprint(paths)
    except OSError:
        return parse()
    if subset is not None and not _SUBSET_NAME.fullmatch(subset):
        subset = None
    if subset is not None:
        hit = read(fingerprint, subset)
        if hit is not None:
            return hit["meta"], hit["concepts"], hit["files"]
    hit = read(fingerprint)
    if hit is not None:
        meta, concepts, files = hit["meta"], hit["concepts"], hit["files"]
    else:
        meta, concepts, files = parse()
        if not isinstance(meta, dict):
            return meta, concepts, files
        try:
            json.dumps(meta)
        except (TypeError, ValueError):  # YAML dates and the like: not cacheable as they are
            return meta, concepts, files
        write(fingerprint, meta, concepts, files)
    wanted = (meta.get("subsets") or {}).get(subset) if subset is not None and isinstance(meta, dict) else None
    if isinstance(wanted, list):
        ids = set(map(str, wanted))
        concepts = [c for c in concepts if c.id in ids]
        write(fingerprint, meta, concepts, files, subset)
    return meta, concepts, files
