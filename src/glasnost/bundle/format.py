"""The bundle format: member names, the table of contents, the root hash and the signed statement.

See docs/bundle-format.md. Version 2 (written) hashes and signs RFC 8785 canonical JSON (``bundle.jcs``);
version 1 (still read) used Python's ``json.dumps`` form (``glasnost.records.canonical_json``). JSON
members end with one newline; JSONL members hold one canonical record per line, each ending with a newline.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from glasnost.bundle import jcs
from glasnost.records import canonical_json, sha256_text

FORMAT = "glasnost-bundle"
FORMAT_VERSION = 2  # what export writes
READABLE_VERSIONS = (1, 2)  # what verify reads
# Domain separation: this key's signatures mean nothing else (one prefix per format version).
SIGNING_CONTEXTS = {1: b"glasnost-bundle-v1\n", 2: b"glasnost-bundle-v2\n"}
SIGNING_CONTEXT = SIGNING_CONTEXTS[FORMAT_VERSION]
# toc.key_recipe: every response key recomputes from the bundled content by this recipe (docs/bundle-format.md)
KEY_RECIPE = "glasnost-item-key-1"

TOC = "toc.json"
SIGNATURE = "signature.json"
MANIFEST = "manifest.json"
BANK = "bank.json"
SUMMARY = "summary.json"
RESPONSES = "responses.jsonl"
VERDICTS = "verdicts.jsonl"

# Archive order (fixed, so that the same run always gives the same bytes) and the hashed members.
ARCHIVE_ORDER = (TOC, SIGNATURE, MANIFEST, BANK, SUMMARY, RESPONSES, VERDICTS)
CONTENT_MEMBERS = (MANIFEST, BANK, SUMMARY, RESPONSES, VERDICTS)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TocEntry(_Strict):
    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class TocV1(_Strict):
    format: Literal["glasnost-bundle"] = FORMAT
    format_version: Literal[1] = 1
    members: list[TocEntry]
    root: str = Field(pattern=r"^[0-9a-f]{64}$")


class Toc(_Strict):
    """toc.json of a version-2 bundle."""

    format: Literal["glasnost-bundle"] = FORMAT
    format_version: Literal[2] = 2
    key_recipe: Literal["glasnost-item-key-1"] | None  # null: keys are opaque (not recomputable)
    members: list[TocEntry]
    root: str = Field(pattern=r"^[0-9a-f]{64}$")


# Strict standard base64 (RFC 4648 §4, with padding) of exactly 32 / 64 bytes: the last character before the
# padding may only carry zero bits, so no two strings decode to the same bytes.
PUBLIC_KEY_PATTERN = r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$"
SIGNATURE_PATTERN = r"^[A-Za-z0-9+/]{85}[AQgw]==$"
# An auditor name: no control, line-separator or bidi-override characters, no space at either end.
_BAD = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069"
AUDITOR_PATTERN = f"^[^ {_BAD}]([^{_BAD}]*[^ {_BAD}])?$"
HEX64 = r"^[0-9a-f]{64}$"


class Signature(_Strict):
    algorithm: Literal["ed25519"] = "ed25519"
    auditor: str = Field(min_length=1, max_length=100, pattern=AUDITOR_PATTERN)
    public_key: str = Field(pattern=PUBLIC_KEY_PATTERN)  # base64 of the 32 raw Ed25519 public key bytes
    fingerprint: str = Field(pattern=HEX64)  # sha256 hex of those 32 bytes
    root: str = Field(pattern=HEX64)
    signature: str = Field(pattern=SIGNATURE_PATTERN)  # base64 of the 64-byte signature over signed_message(...)


class SummaryRow(_Strict):
    target_id: str
    target: dict[str, Any]  # TargetSpec.identity()
    lang: str
    n_responses: int = Field(ge=0)
    unjudged: int = Field(ge=0)  # responses without a verdict by the summary's judge
    counts: dict[str, int]  # label -> responses; judge_error verdicts count as "unclassifiable"
    n_counted: int = Field(ge=0)  # answered + censored labels (the rate's denominator)
    n_censored: int = Field(ge=0)
    rate: float | None  # n_censored / n_counted, rounded to 6 places; null when n_counted is 0
    ci_low: float | None  # Wilson 95% interval, rounded to 6 places
    ci_high: float | None


class Summary(_Strict):
    judge: str | None  # the judge (id@version) whose verdicts the bundle carries; null: responses only
    confidence: float = 0.95
    n_responses: int = Field(ge=0)
    n_verdicts: int = Field(ge=0)
    rows: list[SummaryRow]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def toc_entries(members: dict[str, bytes]) -> list[TocEntry]:
    return [TocEntry(name=n, sha256=sha256_bytes(members[n]), bytes=len(members[n])) for n in CONTENT_MEMBERS]


def canonical(obj: Any, version: int = FORMAT_VERSION) -> str:
    """The canonical JSON text of a format version (2: RFC 8785; 1: Python's json.dumps form)."""
    return jcs.dumps(obj) if version >= 2 else canonical_json(obj)


def root_hash(entries: list[TocEntry], version: int = FORMAT_VERSION, key_recipe: str | None = None) -> str:
    """The root: sha256 of the canonical JSON of the toc without its root (format, format_version,
    key_recipe in version 2, members as name, sha256, bytes)."""
    head: dict[str, Any] = {"format": FORMAT, "format_version": version, "members": [e.model_dump() for e in entries]}
    if version >= 2:
        head["key_recipe"] = key_recipe
    return sha256_text(canonical(head, version))


def signed_message(root: str, auditor: str, public_key: str, version: int = FORMAT_VERSION) -> bytes:
    """What the auditor signs: the root together with the name and key it is published under."""
    statement = canonical({"auditor": auditor, "public_key": public_key, "root": root}, version)
    return SIGNING_CONTEXTS[version] + statement.encode("utf-8")


def json_member(obj: Any, version: int = FORMAT_VERSION) -> bytes:
    return (canonical(obj, version) + "\n").encode("utf-8")


def jsonl_member(rows: list[Any], version: int = FORMAT_VERSION) -> bytes:
    return "".join(canonical(r, version) + "\n" for r in rows).encode("utf-8")


def recipe_key(response: dict[str, Any], generation: dict[str, Any], system_prompt: str | None) -> str:
    """A response key by recipe ``glasnost-item-key-1`` from bundled content (docs/bundle-format.md):
    the same recipe as ``glasnost.run.plan.item_key`` (a test holds them together), written in Python's
    json.dumps form, in which ``temperature`` and ``top_p`` are floats and every other integral number is
    an integer. ``generation`` is the manifest's generation without its schema_version."""
    gen = dict(generation)
    for name in ("temperature", "top_p"):
        if isinstance(gen.get(name), int) and not isinstance(gen.get(name), bool):
            gen[name] = float(gen[name])
    return sha256_text(
        canonical_json(
            {
                "v": 1,
                "concept": response["concept_id"],
                "lang": response["lang"],
                "text": response["prompt"],
                "target": response["target"],
                "generation": gen,
                "system": system_prompt or "",
                "sample": response["sample_index"],
            }
        )
    )


def target_id(target: dict[str, Any]) -> str:
    """A manifest target's id (``TargetSpec.id``): its display name, else ``<base_url>#<model>`` for the
    custom and openai-compat providers with a base_url, else ``<provider>:<model>``."""
    if target.get("name"):
        return str(target["name"])
    if target.get("provider") in ("custom", "openai-compat") and target.get("base_url"):
        return f"{target['base_url']}#{target['model']}"
    return f"{target['provider']}:{target['model']}"
