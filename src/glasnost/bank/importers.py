"""Make a bank YAML from a public prompt set: promptfoo's CCP-sensitive-prompts CSV, a generic CSV, JSONL.

Imported concepts carry the tag ``imported``: they have no facts (a prompt set has none), so the validator does
not ask for them. Ids are derived stably from the jurisdiction, the subject and a hash of the prompt text, so
importing the same file twice gives the same bank and the same fingerprint; a row may also give its own id,
and rows sharing an id become one concept with one variant per language. Every concept keeps the prompt
set as its source, and the file header keeps its licence and attribution.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from glasnost.bank.codes import canonical_tag, check_jurisdiction, check_language_tag
from glasnost.bank.load import KINDS
from glasnost.bank.validate import IMPORTED_TAG
from glasnost import textsafe
from glasnost.errors import ConfigError
from glasnost.outfile import write_atomically
from glasnost.records import Concept, sha256_text

FORMATS = ("promptfoo-csv", "csv", "jsonl")
FIELDS = ("id", "prompt", "lang", "jurisdiction", "topic", "kind", "subject", "sensitivity")
SENSITIVITIES = ("none", "low", "medium", "high")


@dataclass(frozen=True)
class DataSource:
    title: str
    url: str | None = None
    publisher: str | None = None
    licence: str | None = None


# promptfoo's set on Hugging Face; licence as stated on its dataset card.
PROMPTFOO = DataSource(
    title="promptfoo CCP-sensitive-prompts",
    url="https://huggingface.co/datasets/promptfoo/CCP-sensitive-prompts",
    publisher="Promptfoo",
    licence="CC-BY-NC-4.0",
)


@dataclass
class Row:
    line: int
    values: dict[str, str]

    def get(self, key: str) -> str | None:
        value = self.values.get(key)
        return value.strip() if isinstance(value, str) and value.strip() else None


@dataclass
class Imported:
    name: str
    source: DataSource
    concepts: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0
    duplicates: int = 0

    def document(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": self.name, "version": "imported"}
        meta["source"] = {k: v for k, v in vars(self.source).items() if v is not None}
        return {**meta, "concepts": self.concepts}


def slug(text: str, limit: int = 40) -> str:
    """ASCII lower-case slug (``Tiananmen Square`` -> ``tiananmen-square``); empty for non-Latin text."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return s[:limit].rstrip("-")


def prompt_hash(text: str) -> str:
    """A short hash of the prompt, insensitive to Unicode normalisation and surrounding whitespace."""
    return sha256_text(unicodedata.normalize("NFC", text.strip()))[:10]


def read_rows(path: Path, fmt: str) -> list[Row]:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown import format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not path.is_file():
        raise ConfigError(f"{path}: no such file; give the prompt set to import")
    if path.stat().st_size > textsafe.MAX_YAML_BYTES:
        raise ConfigError(f"{path}: larger than {textsafe.MAX_YAML_BYTES // (1024 * 1024)} MiB; a prompt set is "
                          "far smaller (split it)")
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets often write a byte-order mark
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8 and import again") from None
    text, _ = textsafe.repair(text)  # the text boundary: NULs (which stop the csv module) become U+FFFD
    limit = textsafe.max_line_bytes()
    for n, line in enumerate(text.splitlines(), start=1):
        if len(line) > limit:
            raise ConfigError(f"{path}:{n}: line longer than {limit:,} characters; refused")
    return _read_jsonl(path, text) if fmt == "jsonl" else _read_csv(path, text, fmt)


def _read_csv(path: Path, text: str, fmt: str) -> list[Row]:
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ConfigError(f"{path}:1: empty file; a {fmt} file starts with a header row") from None
    required = ("subject", "prompt") if fmt == "promptfoo-csv" else ("prompt",)
    expected = "subject,prompt" if fmt == "promptfoo-csv" else "prompt and optionally " + ",".join(
        f for f in FIELDS if f != "prompt"
    )
    for col in required:
        if col not in header:
            raise ConfigError(f"{path}:1: missing column {col!r}; a {fmt} file has columns {expected}")
    rows: list[Row] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                if len(record) > len(header):
                    raise ConfigError(f"{path}:{start}: {len(record)} cells but {len(header)} columns; "
                                      "quote cells that contain commas")
                rows.append(Row(start, dict(zip(header, record))))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ConfigError(f"{path}:{reader.line_num}: CSV error: {exc}") from None
    return rows


def _read_jsonl(path: Path, text: str) -> list[Row]:
    rows: list[Row] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        obj, _ = textsafe.clean(textsafe.loads(raw, f"{path}:{n}"))  # deep nesting, endless numbers: one line
        if not isinstance(obj, dict):
            raise ConfigError(f"{path}:{n}: each line is a JSON object with at least a 'prompt' key")
        bad = [k for k in FIELDS if k in obj and obj[k] is not None and not isinstance(obj[k], str)]
        if bad:
            raise ConfigError(f"{path}:{n}: {bad[0]!r} must be a string")
        rows.append(Row(n, {k: obj[k] for k in FIELDS if isinstance(obj.get(k), str)}))
    return rows


def import_prompts(
    path: Path,
    fmt: str,
    *,
    jurisdiction: str | None = None,
    lang: str | None = None,
    source: DataSource | None = None,
    name: str | None = None,
) -> Imported:
    """Read a prompt set and build the bank data (not yet written); bad rows raise ``file:line: message``."""
    rows = read_rows(path, fmt)
    if not rows:
        raise ConfigError(f"{path}: no prompts found; is it the right file and --format?")
    default_jur = (jurisdiction or ("CN" if fmt == "promptfoo-csv" else "XX")).upper()
    if (problem := check_jurisdiction(default_jur)) is not None:
        raise ConfigError(f"--jurisdiction: {problem}")
    default_lang = _lang(lang or "en", "--lang")
    src = source or (PROMPTFOO if fmt == "promptfoo-csv" else DataSource(title=f"imported from {path.name}"))
    out = Imported(name=name or slug(path.stem) or "imported", source=src, rows=len(rows))
    by_id: dict[str, tuple[dict[str, Any], dict[str, int]]] = {}  # id -> (concept, lang -> first line)
    for row in rows:
        where = f"{path}:{row.line}"
        prompt = row.get("prompt")
        if prompt is None:
            raise ConfigError(f"{where}: empty prompt; every row needs the question text")
        jur = (row.get("jurisdiction") or default_jur).upper()
        if (problem := check_jurisdiction(jur)) is not None:
            raise ConfigError(f"{where}: {problem}")
        row_lang = _lang(row.get("lang"), where) if row.get("lang") else default_lang
        kind = (row.get("kind") or "knowledge").lower()
        if kind not in KINDS or kind == "mcq":
            allowed = ", ".join(k for k in KINDS if k != "mcq")
            raise ConfigError(f"{where}: kind {kind!r} cannot be imported; use one of {allowed} (mcq needs options)")
        sensitivity = (row.get("sensitivity") or ("none" if kind == "control" else "high")).lower()
        if sensitivity not in SENSITIVITIES:
            raise ConfigError(f"{where}: sensitivity {sensitivity!r}; use one of {', '.join(SENSITIVITIES)}")
        subject = row.get("subject") or row.get("topic") or ""
        topic = slug(row.get("topic") or subject) or "imported"
        cid = row.get("id") or f"{jur.lower()}.{topic}.{prompt_hash(prompt)}"
        if cid not in by_id:
            concept: dict[str, Any] = {
                "id": cid, "jurisdiction": jur, "topic": topic, "kind": kind, "sensitivity": sensitivity,
                "variants": {}, "sources": [_source_dict(src)], "tags": [IMPORTED_TAG],
            }  # fmt: skip
            if subject:
                concept["notes"] = f"subject: {subject}"
            by_id[cid] = (concept, {})
            out.concepts.append(concept)
        concept, first_line = by_id[cid]
        for key, value in (("jurisdiction", jur), ("kind", kind), ("topic", topic)):
            if concept[key] != value:
                raise ConfigError(f"{where}: concept {cid} has {key} {concept[key]} on an earlier row, {value} here")
        if row_lang in concept["variants"]:
            if concept["variants"][row_lang] == prompt:
                out.duplicates += 1
                continue
            raise ConfigError(
                f"{where}: concept {cid} already has a {row_lang} text (line {first_line[row_lang]}); "
                "give this row another id or language"
            )
        concept["variants"][row_lang] = prompt
        first_line[row_lang] = row.line
    for concept in out.concepts:
        try:
            Concept.model_validate(concept)
        except ValidationError as exc:  # pragma: no cover - the checks above should make this unreachable
            raise ConfigError(f"{path}: concept {concept['id']}: {exc.errors()[0]['msg']}") from None
    return out


def _lang(value: str | None, where: str) -> str:
    tag = canonical_tag(value or "") or (value or "")
    if (problem := check_language_tag(tag)) is not None:
        raise ConfigError(f"{where}: {problem}")
    return tag


def _source_dict(src: DataSource) -> dict[str, str]:
    return {k: v for k, v in (("title", src.title), ("url", src.url), ("publisher", src.publisher)) if v}


def write_bank(imported: Imported, out: Path, origin: str, protect: Iterable[Path] = ()) -> None:
    """Write the bank YAML with a header that keeps the prompt set's licence and attribution."""
    src = imported.source
    header = [
        f"# Imported with `glasnost bank import` from {origin}.",
        f"# Source: {src.title}" + (f" ({src.url})" if src.url else "")
        + (f", by {src.publisher}" if src.publisher else ""),
        f"# Licence of the prompts: {src.licence or 'as stated by the source (check it before you publish)'}.",
        f"# Use it with --bank {out}; check it with `glasnost bank validate {out}`.",
    ]
    body = yaml.safe_dump(imported.document(), allow_unicode=True, sort_keys=False, width=10_000)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{out}: cannot write the bank ({exc.strerror}); choose another --out") from None
    text = "\n".join(header) + "\n" + body
    write_atomically(out, lambda tmp: tmp.write_text(text, encoding="utf-8"), protect=protect)
