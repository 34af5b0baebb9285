"""Load a bank from YAML, select subsets, fingerprint it.

A bank spec is one of:

- ``core``: every built-in concept; ``quick``: the balanced built-in subset for fast runs;
- a built-in bank narrowed by selectors after colons, each a jurisdiction code or a kind, intersected:
  ``core:cn`` (China), ``core:mcq`` (all multiple-choice checks), ``core:ru:knowledge``; several values
  for one selector are joined with ``+``: ``core:cn+ru``;
- a path to a YAML file or a folder of YAML files in the same format (``--bank ./my-bank.yaml``).

The fingerprint is the sha256 of the canonical JSON of the selected concepts, sorted by id: it is the
same on every platform and changes when any text changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Iterable

from pydantic import ValidationError

from glasnost import textsafe
from glasnost.errors import ConfigError
from glasnost.records import BankRef, Concept, Probe, canonical_json, sha256_text


def _loader():
    """The C loader where PyYAML has it (~10x faster on the full bank); imported only when YAML is read."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KINDS = ("knowledge", "criticism", "mcq", "indirect", "control")
META_FILE = "_bank.yaml"  # name, version, licence, named subsets


def builtin_bank_dir() -> Path:
    return Path(str(resources.files("glasnost") / "banks"))


def resolve_languages(requested: Iterable[str], known: Iterable[str], bank_name: str = "bank") -> list[str]:
    """The bank's spelling of each requested language tag: case does not matter (``EN``, ``zh-hans``); a tag
    the bank lacks is an error that suggests the bank's tags with the same language (``zh`` -> zh-Hans,
    zh-Hant), else lists them all."""
    by_fold = {k.casefold(): k for k in known}
    out: list[str] = []
    for tag in requested:
        found = by_fold.get(tag.strip().casefold())
        if found is None:
            primary = tag.strip().casefold().split("-", 1)[0]
            close = sorted(k for k in by_fold.values() if k.casefold().split("-", 1)[0] == primary)
            hint = (f"did you mean {' or '.join(close)}?" if close
                    else f"it has: {', '.join(sorted(by_fold.values()))}")
            raise ConfigError(f"language {tag!r} is not in bank {bank_name!r}; {hint}")
        if found not in out:
            out.append(found)
    return out


@dataclass
class Bank:
    name: str
    version: str
    concepts: list[Concept]
    files: dict[str, str] = field(default_factory=dict)  # concept id -> file it came from

    @cached_property
    def by_id(self) -> dict[str, Concept]:
        return {c.id: c for c in self.concepts}

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint_concepts(self.concepts)

    @property
    def languages(self) -> list[str]:
        seen: dict[str, None] = {}
        for c in self.concepts:
            for lang in c.variants:
                seen.setdefault(lang, None)
        return list(seen)

    def ref(self) -> BankRef:
        return BankRef(
            name=self.name,
            version=self.version,
            fingerprint=self.fingerprint,
            concepts=len(self.concepts),
            probes=sum(len(c.variants) for c in self.concepts),
        )

    def probes(self, languages: Iterable[str] | None = None, kinds: Iterable[str] | None = None) -> list[Probe]:
        """Probes in bank order; concepts without a variant in a requested language are skipped for it."""
        langs = resolve_languages(languages, self.languages, self.name) if languages else None
        kind_set = set(kinds) if kinds else None
        out: list[Probe] = []
        for c in self.concepts:
            if kind_set and c.kind not in kind_set:
                continue
            for lang in langs or c.languages:
                if lang in c.variants:
                    out.append(c.probe(lang))
        return out

    def snapshot(self) -> dict:
        """The bank as canonical data (for manifests and bundles)."""
        return {
            "name": self.name,
            "version": self.version,
            "fingerprint": self.fingerprint,
            "concepts": [c.model_dump(mode="json") for c in sorted(self.concepts, key=lambda c: c.id)],
        }


def fingerprint_concepts(concepts: Iterable[Concept]) -> str:
    data = [c.model_dump(mode="json") for c in sorted(concepts, key=lambda c: c.id)]
    return sha256_text(canonical_json(data))


def read_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read bank file ({exc.strerror}); check the path") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: bank file is not UTF-8 text") from None
    import yaml

    try:
        return textsafe.yaml_load(text, str(path), _loader())  # safe loader, alias-expansion limit
    except RecursionError:
        raise ConfigError(f"{path}: YAML nested too deeply; refused") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: YAML syntax error: {problem}") from None


def concept_lines(path: Path) -> list[int]:
    """1-based line of each entry of the file's ``concepts`` list (for file:line messages)."""
    import yaml

    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_loader())
    except Exception:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "concepts" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def parse_concepts(path: Path) -> list[Concept]:
    """Parse one bank file; the first schema error is raised as ``file:line: message``."""
    data = read_yaml(path)
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("concepts"), list):
        raise ConfigError(f"{path}:1: a bank file is a mapping with a 'concepts' list")
    out: list[Concept] = []
    lines: list[int] | None = None
    for i, raw in enumerate(data["concepts"]):
        try:
            if not isinstance(raw, dict):
                raise ValueError("a concept is a mapping")
            out.append(Concept.model_validate(raw))
        except (ValidationError, ValueError) as exc:
            lines = lines if lines is not None else concept_lines(path)
            line = lines[i] if i < len(lines) else 1
            cid = raw.get("id") if isinstance(raw, dict) else None
            raise ConfigError(f"{path}:{line}: concept {cid or '#' + str(i + 1)}: {_first_error(exc)}") from None
    return out


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        return f"{loc}: {err['msg']}" if loc else err["msg"]
    return str(exc)


def _parse_dir(folder: Path) -> tuple[dict, list[Concept], dict[str, str]]:
    """(meta, concepts, concept id -> file) of a folder of bank files, from their YAML."""
    meta: dict = {}
    meta_path = folder / META_FILE
    if meta_path.exists():
        meta = read_yaml(meta_path) or {}
    concepts: list[Concept] = []
    files: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == META_FILE:
            continue
        for c in parse_concepts(path):
            if c.id in files:
                raise ConfigError(f"{path}: concept id {c.id!r} is also defined in {files[c.id]}; ids are unique")
            files[c.id] = path.name
            concepts.append(c)
    return meta, concepts, files


def load_dir(folder: Path, name: str | None = None, cache: bool = False, subset: str | None = None) -> Bank:
    """A folder of bank files. ``cache``: read the parse from the bank cache while the files are unchanged
    (bank/cache.py; used for the built-in bank, whose YAML is most of a short run's start-up); with ``subset``
    the bank holds only that subset's concepts (all of them when the meta file names no such subset)."""
    if cache:
        from glasnost.bank.cache import cached_parse

        meta, concepts, files = cached_parse(sorted(folder.glob("*.yaml")), lambda: _parse_dir(folder), subset)
    else:
        meta, concepts, files = _parse_dir(folder)
    if not isinstance(meta, dict):
        meta = {}
    bank = Bank(
        name=name or str(meta.get("name") or folder.name),
        version=str(meta.get("version") or "0"),
        concepts=concepts,
        files=files,
    )
    bank.subsets = meta.get("subsets") or {}  # type: ignore[attr-defined]
    return bank


def load_path(path: Path) -> Bank:
    if path.is_dir():
        return load_dir(path)
    if not path.exists():
        raise ConfigError(f"bank file {path} does not exist; give a built-in bank (core, quick) or a YAML path")
    data = read_yaml(path)
    concepts = parse_concepts(path)
    meta = data if isinstance(data, dict) else {}
    return Bank(
        name=str(meta.get("name") or path.stem),
        version=str(meta.get("version") or "0"),
        concepts=concepts,
        files={c.id: path.name for c in concepts},
    )


def select(bank: Bank, selectors: list[str], name: str) -> Bank:
    concepts = bank.concepts
    for sel in selectors:
        values = {v.strip() for v in sel.split("+") if v.strip()}
        kinds = {v for v in values if v in KINDS}
        codes = {v.upper() for v in values - kinds}
        known_codes = {c.jurisdiction for c in bank.concepts}
        unknown = codes - known_codes
        if unknown:
            raise ConfigError(
                f"bank selector {sel!r}: {', '.join(sorted(unknown))} is neither a kind ({', '.join(KINDS)}) "
                f"nor a jurisdiction of the bank ({', '.join(sorted(known_codes))})"
            )
        concepts = [c for c in concepts if (not kinds or c.kind in kinds) and (not codes or c.jurisdiction in codes)]
    return Bank(name=name, version=bank.version, concepts=concepts, files=bank.files)


def load_bank(spec: str = "quick") -> Bank:
    spec = (spec or "quick").strip()
    if _looks_like_path(spec):
        bank = load_path(Path(spec).expanduser())
        if not bank.concepts:
            raise ConfigError(f"bank {spec} has no concepts; see docs/bank-format.md for the format")
        return bank
    head, *selectors = spec.split(":")
    # A subset reads only its own concepts from the cache (the whole bank's 760 cost ~70 ms and ~30 MB).
    full = load_dir(builtin_bank_dir(), name="core", cache=True, subset=None if head == "core" else head)
    subsets: dict = getattr(full, "subsets", {})
    if head == "core":
        base = full
    elif head in subsets:
        ids = list(subsets[head])
        missing = [i for i in ids if i not in full.by_id]
        if missing:
            raise ConfigError(f"built-in subset {head!r} names unknown concepts: {', '.join(missing[:5])}")
        base = Bank(name=head, version=full.version, concepts=[full.by_id[i] for i in ids], files=full.files)
    else:
        names = ", ".join(["core", *sorted(subsets)])
        raise ConfigError(f"unknown bank {head!r}; built-in banks: {names} (or give a path to a YAML bank)")
    if not selectors:
        return base
    return select(base, selectors, name=spec)


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or spec.endswith((".yaml", ".yml")) or Path(spec).exists()


def bank_source_files(spec: str = "quick") -> list[Path]:
    """The files a bank spec reads (an output must never replace one): the YAML file, or the folder's files."""
    spec = (spec or "quick").strip()
    root = Path(spec).expanduser() if _looks_like_path(spec) else builtin_bank_dir()
    if root.is_dir():
        return sorted(root.glob("*.yaml"))
    return [root]
