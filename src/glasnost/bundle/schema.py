"""JSON Schemas of the bundle members, generated from the records they hold.

The files in ``bundle/schemas/`` are the published contract for tools that read or write bundles without
glasnost. They are generated, not hand-kept, so they cannot drift from the records silently: a test
compares them with this generator. After changing a record, regenerate them with

    python -m glasnost.bundle.schema --write

The schemas are those of format version 2: the records' schemas tightened to what the specification says
(every field required, no unknown fields where the prose says "exactly", patterns for keys, signatures
and judge ids, the label set for ``counts``, one date-time form). The version-1 schemas are kept, frozen,
in ``schemas/v1/``.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from glasnost.bundle.format import HEX64, Signature, Summary, Toc
from glasnost.records import Concept, Label, Response, RunManifest, Verdict

DRAFT = "https://json-schema.org/draft/2020-12/schema"

# A judge id: a name (which may itself hold '@', as in panel:llm:a@1.x+llm:b@1.y) then '@' and a version
# made of dot-separated parts starting with a number, e.g. default@1.r3.m2.
JUDGE_PATTERN = "^[^\\u0000-\\u001f\\u007f]{1,500}@[0-9]+(\\.[0-9A-Za-z_-]+)*$"
# The one date-time form (RFC 3339, upper-case T and Z), so that every validator's "date-time" agrees.
# No leap second (validators disagree on them): seconds 00-59.
DATE_TIME_PATTERN = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?"
    "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
IDENTITY = {
    "type": "object",
    "description": "a target identity: exactly kind, provider, base_url, model, revision",
    "additionalProperties": False,
    "required": ["base_url", "kind", "model", "provider", "revision"],
    "properties": {
        "kind": {"enum": ["openai-compat", "local", "replay"]},
        "provider": {"type": "string"},
        "base_url": {"type": ["string", "null"]},
        "model": {"type": "string"},
        "revision": {"type": ["string", "null"]},
    },
}

# member file (or line of a JSONL member) -> schema file
MEMBER_SCHEMAS = {
    "toc.json": "toc.schema.json",
    "signature.json": "signature.schema.json",
    "manifest.json": "manifest.schema.json",
    "bank.json": "bank.schema.json",
    "summary.json": "summary.schema.json",
    "responses.jsonl": "response.schema.json",
    "verdicts.jsonl": "verdict.schema.json",
}


class BankSnapshot(BaseModel):
    """bank.json: the bank the run used, as ``glasnost.bank.load.Bank.snapshot()`` writes it."""

    model_config = ConfigDict(extra="forbid")
    name: str
    version: str
    fingerprint: str
    concepts: list[Concept]


def _schema(model: type[BaseModel], title: str, description: str) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    schema["$schema"] = DRAFT
    schema["title"] = title
    schema["description"] = description
    return schema


# Fields a record leaves out while they hold their default (added after banks were first published, so
# that old fingerprints stay): optional in the schemas, absent means the default.
OMITTED_AT_DEFAULT = {"Fact": ("as_of", "time_sensitive"), "McqOption": ("official",)}


def _tighten(node: Any) -> None:
    """Every object with declared properties: all of them required (but OMITTED_AT_DEFAULT), no others
    (unless the record allows extra fields, as usage does); every date-time: the one pattern."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            optional = OMITTED_AT_DEFAULT.get(node.get("title", ""), ())
            node["required"] = sorted(p for p in node["properties"] if p not in optional)
            node.setdefault("additionalProperties", False)
        if node.get("format") == "date-time":
            node["pattern"] = DATE_TIME_PATTERN
        for value in node.values():
            _tighten(value)
    elif isinstance(node, list):
        for value in node:
            _tighten(value)


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    _tighten(schema)
    return schema


def generate() -> dict[str, dict[str, Any]]:
    manifest = _schema(
        RunManifest, "glasnost bundle manifest.json",
        "The run's manifest, sanitised: no local paths, no key variables, not marked as imported.",
    )
    never = {"type": "null", "description": "always null in a bundle"}
    manifest["$defs"]["TargetSpec"]["properties"]["path"] = never
    manifest["$defs"]["TargetSpec"]["properties"]["api_key_env"] = never
    manifest["properties"]["imported_from"] = never
    response = _schema(Response, "glasnost bundle response", "One line of responses.jsonl.")
    response["properties"]["key"]["pattern"] = HEX64
    response["properties"]["target"] = IDENTITY
    verdict = _schema(Verdict, "glasnost bundle verdict", "One line of verdicts.jsonl.")
    verdict["properties"]["response_key"]["pattern"] = HEX64
    verdict["properties"]["judge"]["pattern"] = JUDGE_PATTERN
    summary = _schema(Summary, "glasnost bundle summary.json", "Per target x language counts and rates.")
    summary["properties"]["judge"] = {"anyOf": [{"type": "string", "pattern": JUDGE_PATTERN}, {"type": "null"}]}
    summary["properties"]["confidence"] = {"const": 0.95}
    row = summary["$defs"]["SummaryRow"]["properties"]
    row["target"] = IDENTITY
    labels = [label.value for label in Label]
    row["counts"] = {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(labels),
        "properties": {label: {"type": "integer", "minimum": 0} for label in labels},
    }
    schemas = {
        "toc.schema.json": _schema(Toc, "glasnost bundle toc.json", "sha256 and size of each content member, and the root."),
        "signature.schema.json": _schema(
            Signature, "glasnost bundle signature.json",
            "Ed25519 signature over 'glasnost-bundle-v2\\n' + canonical JSON of {auditor, public_key, root}.",
        ),
        "manifest.schema.json": manifest,
        "bank.schema.json": _schema(BankSnapshot, "glasnost bundle bank.json", "The bank snapshot the run used."),
        "summary.schema.json": summary,
        "response.schema.json": response,
        "verdict.schema.json": verdict,
    }
    return {name: _strict(schema) for name, schema in schemas.items()}


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_dir() -> Path:
    return Path(str(resources.files("glasnost.bundle") / "schemas"))


def load(name: str, version: int = 2) -> dict[str, Any]:
    folder = schema_dir() if version >= 2 else schema_dir() / "v1"
    return json.loads((folder / name).read_text(encoding="utf-8"))


def write(folder: Path | None = None) -> list[Path]:
    folder = folder or schema_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generate().items():
        path = folder / name
        path.write_text(dumps(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    if "--write" in sys.argv:
        for p in write():
            print(p)
    else:
        print("usage: python -m glasnost.bundle.schema --write")
