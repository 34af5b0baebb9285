"""The bundle format: member names, the table of contents, the root hash and the signed statement.

See docs/bundle-format.md. Everything hashed is canonical JSON (``glasnost.records.canonical_json``):
keys sorted, no spaces, UTF-8, no NaN. JSON members end with one newline; JSONL members hold one
canonical record per line, each ending with a newline.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from glasnost.records import canonical_json, sha256_text

FORMAT = "glasnost-bundle"
FORMAT_VERSION = 1
SIGNING_CONTEXT = b"glasnost-bundle-v1\n"  # domain separation: this key's signatures mean nothing else

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


class Toc(_Strict):
    format: Literal["glasnost-bundle"] = FORMAT
    format_version: int = FORMAT_VERSION
    members: list[TocEntry]
    root: str = Field(pattern=r"^[0-9a-f]{64}$")


class Signature(_Strict):
    algorithm: Literal["ed25519"] = "ed25519"
    auditor: str = Field(min_length=1, max_length=100)
    public_key: str  # base64 of the 32 raw Ed25519 public key bytes
    fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")  # sha256 hex of those 32 bytes
    root: str = Field(pattern=r"^[0-9a-f]{64}$")
    signature: str  # base64 of the 64-byte Ed25519 signature over signed_message(...)


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


def root_hash(entries: list[TocEntry]) -> str:
    """The root: sha256 of the canonical JSON of {format, format_version, members (name, sha256, bytes)}."""
    return sha256_text(
        canonical_json(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "members": [e.model_dump() for e in entries],
            }
        )
    )


def signed_message(root: str, auditor: str, public_key: str) -> bytes:
    """What the auditor signs: the root together with the name and key it is published under."""
    statement = canonical_json({"auditor": auditor, "public_key": public_key, "root": root})
    return SIGNING_CONTEXT + statement.encode("utf-8")


def json_member(obj: Any) -> bytes:
    return (canonical_json(obj) + "\n").encode("utf-8")


def jsonl_member(rows: list[Any]) -> bytes:
    return "".join(canonical_json(r) + "\n" for r in rows).encode("utf-8")
