"""Validate a bank: every problem as ``file:line: message``, all of them, not just the first.

The loader (``load.py``) stops at the first schema error because a run cannot use a broken bank; authors
fixing a bank want the whole list at once. So this module parses each file itself (keeping YAML positions),
validates every concept separately, then checks what only the whole bank can tell: unique ids across files,
mirror and control references, languages of facts, narratives, multiple-choice options and prefill pairs,
language tags, jurisdiction codes, sources. Errors make the bank unusable or wrong; warnings are the size
and balance rules of docs/bank-plan.md (built-in bank only) and things that are merely suspicious.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import ValidationError

from glasnost.bank.codes import check_jurisdiction, check_language_tag
from glasnost.bank.fairness import fairness_problems
from glasnost.bank.load import META_FILE, builtin_bank_dir
from glasnost.bank.yamldoc import YamlDoc, YamlProblem, duplicate_keys, line, locate
from glasnost.errors import ConfigError
from glasnost.records import Concept

Severity = Literal["error", "warning"]
IMPORTED_TAG = "imported"  # concepts made by `glasnost bank import`: facts are not expected
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$")


@dataclass(frozen=True, order=True)
class Issue:
    file: str
    line: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.file}:{self.line}: {tag}{self.message}"


@dataclass
class Entry:
    """A concept that passed the schema, with the file and YAML node it came from."""

    concept: Concept
    file: str
    node: yaml.Node

    def at(self, *path: Any) -> int:
        return locate(self.node, path)


@dataclass
class Report:
    name: str
    builtin: bool
    files: int = 0
    concepts: int = 0
    probes: int = 0
    jurisdictions: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return sorted(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> list[Issue]:
        return sorted(i for i in self.issues if i.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        counts = (
            f"{self.concepts} concepts, {self.probes} probes, {len(self.jurisdictions)} jurisdictions, "
            f"{len(self.languages)} languages in {self.files} files"
        )
        if self.ok:
            return f"OK: bank {self.name}: {counts} ({len(self.warnings)} warnings)"
        return f"bank {self.name}: {len(self.errors)} errors, {len(self.warnings)} warnings ({counts})"


class Add(Protocol):
    def __call__(self, file: str, at: int, message: str, severity: Severity = "error") -> None: ...


def display_path(path: Path) -> str:
    """The path relative to the working folder when it is under it (short, and clickable in editors)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def validate_bank(path: Path | None = None, *, builtin: bool | None = None) -> Report:
    """Validate a bank folder or file (default: the built-in bank) and return every issue found."""
    root = builtin_bank_dir() if path is None else Path(path).expanduser()
    if not root.exists():
        raise ConfigError(f"bank {root} does not exist; give a bank folder or YAML file (or nothing for the built-in)")
    if builtin is None:
        builtin = root.resolve() == builtin_bank_dir().resolve()
    files = sorted(p for p in root.glob("*.yaml") if p.name != META_FILE) if root.is_dir() else [root]
    report = Report(name="core" if builtin else root.stem, builtin=builtin, files=len(files))

    def add(file: str, at: int, message: str, severity: Severity = "error") -> None:
        report.issues.append(Issue(file, at, message, severity))

    entries: list[Entry] = []
    known: dict[str, tuple[str, int]] = {}  # every id seen, valid or not: no cascade of "unknown mirror"
    for path_ in files:
        entries += _read_file(path_, known, add)
    groups: dict[str, list[str]] | None = None
    if root.is_dir():
        for stray in sorted(root.glob("*.yml")):
            add(display_path(stray), 1, "ignored: bank files end in .yaml; rename it", "warning")
        meta = root / META_FILE
        if meta.exists():
            groups = _check_meta(meta, known, add)

    index = {e.concept.id: e for e in entries}
    imported_without_facts: list[Entry] = []
    for e in entries:
        _check_concept(e, add)
        _check_references(e, index, known, add)
        if e.concept.kind == "knowledge" and not e.concept.facts:
            if IMPORTED_TAG in e.concept.tags:
                imported_without_facts.append(e)
            elif builtin:
                add(e.file, e.at("kind"), f"{e.concept.id}: a knowledge concept needs facts (what a candid answer has)")
            else:
                add(e.file, e.at("kind"), f"{e.concept.id}: knowledge concept without facts: fact coverage cannot be "
                    "measured", "warning")
    if imported_without_facts:
        first = imported_without_facts[0]
        add(first.file, first.node.start_mark.line + 1,
            f"{len(imported_without_facts)} imported knowledge concepts have no facts (e.g. {first.concept.id}); "
            "fact coverage will not be measured for them", "warning")
    fairness_problems(entries, groups, add)
    if builtin:
        from glasnost.bank.balance import balance_warnings

        balance_warnings(entries, add)

    report.concepts = len(entries)
    report.probes = sum(len(e.concept.variants) for e in entries)
    report.jurisdictions = {e.concept.jurisdiction for e in entries}
    report.languages = {lang for e in entries for lang in e.concept.variants}
    return report


def _read_file(path: Path, known: dict[str, tuple[str, int]], add: Add) -> list[Entry]:
    file = display_path(path)
    try:
        doc = YamlDoc.read(path)
    except YamlProblem as exc:
        add(file, exc.line, exc.message)
        return []
    for at, key, first in sorted(duplicate_keys(doc.root)):
        add(file, at, f"duplicate key {key!r} (first at line {first}); YAML keeps only the last one")
    if doc.data is None:
        add(file, 1, "empty bank file", "warning")
        return []
    seq = doc.child("concepts")
    if not isinstance(doc.data, dict) or not isinstance(seq, yaml.SequenceNode):
        add(file, line(seq) if seq is not None else 1, "a bank file is a mapping with a 'concepts' list")
        return []
    out: list[Entry] = []
    for raw, node in zip(doc.data["concepts"], seq.value):
        at = line(node)
        cid = raw.get("id") if isinstance(raw, dict) else None
        name = cid if isinstance(cid, str) and cid else f"concept at line {at}"
        if isinstance(cid, str) and cid:
            if cid in known:
                where = known[cid]
                add(file, locate(node, ["id"]),
                    f"duplicate concept id {cid!r} (first in {where[0]}:{where[1]}); ids are unique across the bank")
                continue
            known[cid] = (file, locate(node, ["id"]))
        if not isinstance(raw, dict):
            add(file, at, f"{name}: a concept is a mapping of fields (id, jurisdiction, topic, kind, variants, ...)")
            continue
        try:
            concept = Concept.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = list(err["loc"])
                where = ".".join(str(p) for p in loc)
                msg = err["msg"] + _hint(err)
                add(file, locate(node, loc), f"{name}: {where}: {msg}" if where else f"{name}: {msg}")
            continue
        out.append(Entry(concept, file, node))
    return out


def _hint(err: Any) -> str:
    if err.get("type") == "extra_forbidden":
        return f"; allowed fields: {', '.join(sorted(Concept.model_fields))}"
    if err.get("type") == "string_type" and isinstance(err.get("input"), bool):
        return " (YAML reads yes/no/on/off as booleans: quote the key or value, e.g. 'no')"
    return ""


def _check_concept(e: Entry, add: Add) -> None:
    c, file = e.concept, e.file
    langs = set(c.variants)

    def err(at: int, message: str, severity: Severity = "error") -> None:
        add(file, at, f"{c.id}: {message}", severity)

    if not _ID.match(c.id):
        err(e.at("id"), "id is not of the form <jurisdiction>.<topic>.<slug> in lower case (a-z, 0-9, '-')", "warning")
    elif c.id.split(".")[0] != c.jurisdiction.lower():
        err(e.at("id"), f"id starts with {c.id.split('.')[0]!r} but jurisdiction is {c.jurisdiction}", "warning")
    if (problem := check_jurisdiction(c.jurisdiction)) is not None:
        err(e.at("jurisdiction"), problem)
    if not c.topic.strip():
        err(e.at("topic"), "empty topic")
    if not c.variants:
        err(e.at("variants"), "a concept needs at least one variant (language: question text)")
    for lang, text in c.variants.items():
        if (problem := check_language_tag(lang)) is not None:
            err(e.at("variants", lang), problem)
        if not text.strip():
            err(e.at("variants", lang), f"empty question text for {lang}")

    fact_ids: set[str] = set()
    for i, fact in enumerate(c.facts):
        if fact.id in fact_ids:
            err(e.at("facts", i, "id"), f"fact id {fact.id!r} appears twice")
        fact_ids.add(fact.id)
        for lang in sorted(langs - {k for k, v in fact.aliases.items() if any(a.strip() for a in v)}):
            err(e.at("facts", i, "aliases"), f"fact {fact.id!r} has no aliases in {lang}; add aliases.{lang}")
        for lang, aliases in fact.aliases.items():
            _check_extra_lang(e, ("facts", i, "aliases", lang), lang, langs, f"fact {fact.id!r} aliases", add)
            if any(not a.strip() for a in aliases):
                err(e.at("facts", i, "aliases", lang), f"fact {fact.id!r}: an empty alias in {lang} matches any answer")

    for lang, markers in c.narrative.items():
        if (problem := check_language_tag(lang)) is not None:
            err(e.at("narrative", lang), problem)
        elif lang not in langs:
            err(e.at("narrative", lang), f"narrative language {lang} has no variant; add variants.{lang} or drop it")
        if any(not m.strip() for m in markers):
            err(e.at("narrative", lang), f"an empty narrative marker in {lang} would match any answer")

    if c.kind == "mcq" and c.mcq is None:
        err(e.at("kind"), "kind mcq needs an 'mcq' block with options, exactly one of them correct")
    if c.mcq is not None:
        if c.kind != "mcq":
            err(e.at("mcq"), f"has an mcq block but kind is {c.kind}: it is not asked as a multiple choice", "warning")
        correct = sum(1 for o in c.mcq.options if o.correct)
        if len(c.mcq.options) < 2:
            err(e.at("mcq", "options"), "a multiple choice needs at least two options")
        letters = _mcq_letters()
        if len(c.mcq.options) > len(letters):
            err(e.at("mcq", "options"), f"a multiple choice has at most {len(letters)} options (letters {letters}), "
                f"this one has {len(c.mcq.options)}")
        if correct != 1:
            err(e.at("mcq", "options"), f"a multiple choice has exactly one correct option, this one has {correct}")
        for i, option in enumerate(c.mcq.options):
            path = ("mcq", "options", i, "text")
            missing = sorted(lang for lang in langs if not option.text.get(lang, "").strip())
            if missing:
                err(e.at(*path), f"mcq option {i + 1} has no text in {', '.join(missing)}")
            for lang in option.text:
                _check_extra_lang(e, (*path, lang), lang, langs, f"mcq option {i + 1}", add)

    for i, pair in enumerate(c.prefill):
        for part in ("prefix", "documented", "official"):
            texts: dict[str, str] = getattr(pair, part)
            missing = sorted(lang for lang in langs if not texts.get(lang, "").strip())
            if missing:
                err(e.at("prefill", i, part), f"prefill {i + 1} {part} has no text in {', '.join(missing)}")
            for lang in texts:
                _check_extra_lang(e, ("prefill", i, part, lang), lang, langs, f"prefill {i + 1} {part}", add)

    if c.sensitivity != "none" and not c.sources:
        err(e.at("sensitivity"), f"a sensitive concept (sensitivity {c.sensitivity}) needs sources (where its facts "
            "are documented)")
    for i, src in enumerate(c.sources):
        if src.url is not None and not src.url.startswith(("https://", "http://")):
            err(e.at("sources", i, "url"), f"source url {src.url!r} is not an http(s) address", "warning")
    if c.kind == "control" and c.sensitivity != "none":
        err(e.at("sensitivity"), "a control concept is not sensitive; set sensitivity: none", "warning")


def _check_extra_lang(e: Entry, path: tuple[Any, ...], lang: str, langs: set[str], what: str, add: Add) -> None:
    if (problem := check_language_tag(lang)) is not None:
        add(e.file, e.at(*path), f"{e.concept.id}: {problem}")
    elif lang not in langs:
        add(e.file, e.at(*path), f"{e.concept.id}: {what} in {lang}, which has no variant", "warning")


def _check_references(e: Entry, index: dict[str, Entry], known: dict[str, tuple[str, int]], add: Add) -> None:
    c = e.concept
    for field_name in ("mirrors", "control"):
        refs: list[str] = getattr(c, field_name)
        seen: set[str] = set()
        for i, ref in enumerate(refs):
            at = e.at(field_name, i)
            if ref in seen:
                add(e.file, at, f"{c.id}: {field_name} lists {ref} twice", "warning")
            seen.add(ref)
            if ref == c.id:
                add(e.file, at, f"{c.id}: lists itself in {field_name}")
                continue
            target = index.get(ref)
            if target is None:
                if ref not in known:  # a concept with its own schema error is reported there, once
                    add(e.file, at, f"{c.id}: {field_name} names unknown concept {ref!r}; check the id "
                        "(docs/bank-plan.md)")
                continue
            t = target.concept
            if field_name == "mirrors":
                if t.jurisdiction == c.jurisdiction:
                    add(e.file, at, f"{c.id}: mirror {ref} is about {t.jurisdiction} too; a mirror asks about "
                        "another state")
                if c.id not in t.mirrors:
                    add(e.file, at, f"{c.id}: mirror {ref} does not list {c.id} back", "warning")
                if t.kind != c.kind:  # a mirror group asks one kind of question about every state
                    add(e.file, at, f"{c.id}: mirror {ref} is a {t.kind}, not a {c.kind}")
            else:
                if t.jurisdiction != c.jurisdiction:
                    add(e.file, at, f"{c.id}: control {ref} is about {t.jurisdiction}; a control asks about the "
                        f"same state ({c.jurisdiction})")
                if t.kind != "control":
                    add(e.file, at, f"{c.id}: control {ref} is a {t.kind} concept, not kind control", "warning")


def _check_meta(path: Path, known: dict[str, tuple[str, int]], add: Add) -> dict[str, list[str]] | None:
    """Check _bank.yaml; return its mirror groups (group name -> ``<jur>.<topic>`` keys), None if it has none."""
    file = display_path(path)
    try:
        doc = YamlDoc.read(path)
    except YamlProblem as exc:
        add(file, exc.line, exc.message)
        return None
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        add(file, 1, "the bank's _bank.yaml is a mapping (name, version, licence, subsets)")
        return None
    for key in ("name", "version"):
        if not isinstance(data.get(key), (str, int, float)):
            add(file, locate(doc.root, [key]), f"_bank.yaml needs a {key}", "warning")
    groups = _mirror_groups(doc, known, add)
    _check_subsets(doc, known, add)
    return groups


def _mirror_groups(doc: YamlDoc, known: dict[str, tuple[str, int]], add: Add) -> dict[str, list[str]] | None:
    raw = doc.data.get("mirror_groups")
    if raw is None:
        return None
    file = display_path(doc.path)
    if not isinstance(raw, dict) or not all(isinstance(v, list) and all(isinstance(t, str) for t in v)
                                            for v in raw.values()):
        add(file, locate(doc.root, ["mirror_groups"]), "mirror_groups is a mapping: group name -> list of "
            "<jur>.<topic> keys (e.g. cn.tiananmen-1989)")
        return None
    topics = {".".join(cid.split(".")[:2]) for cid in known}
    for name, members in raw.items():
        for i, key in enumerate(members):
            if key not in topics:
                add(file, locate(doc.root, ["mirror_groups", name, i]), f"mirror group {name!r} names {key!r}, "
                    "a topic no concept of the bank has", "warning")
    return {str(k): list(v) for k, v in raw.items()}


def _check_subsets(doc: YamlDoc, known: dict[str, tuple[str, int]], add: Add) -> None:
    file, data = display_path(doc.path), doc.data
    subsets = data.get("subsets") or {}
    if not isinstance(subsets, dict):
        add(file, locate(doc.root, ["subsets"]), "subsets is a mapping: name -> list of concept ids")
        return
    for name, ids in subsets.items():
        at = locate(doc.root, ["subsets", name])
        if not isinstance(name, str) or name == "core" or not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
            add(file, at, f"subset name {name!r} must be lower case letters, digits, '-' and not 'core'")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            add(file, at, f"subset {name!r} is a list of concept ids")
            continue
        seen: set[str] = set()
        for i, cid in enumerate(ids):
            where = locate(doc.root, ["subsets", name, i])
            if cid not in known:
                add(file, where, f"subset {name!r} names unknown concept {cid!r}")
            if cid in seen:
                add(file, where, f"subset {name!r} lists {cid} twice", "warning")
            seen.add(cid)


def _mcq_letters() -> str:
    from glasnost.knows.mcq import mcq_format

    return mcq_format().letters


def require_valid(spec: str) -> None:
    """What ``run`` asks before it sends anything: a bank given as a path must pass the same validator as
    ``glasnost bank validate`` (duplicate ids, bad mcq blocks, ...); errors stop it with one line. Built-in
    banks are validated by the test suite."""
    from glasnost.bank.load import _looks_like_path

    spec = (spec or "").strip()
    if not spec or not _looks_like_path(spec):
        return
    report = validate_bank(Path(spec))
    if report.errors:
        first = report.errors[0]
        more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
        raise ConfigError(f"bank {spec} does not validate: {first}{more}; "
                          f"see `glasnost bank validate {spec}` and fix it before running")
