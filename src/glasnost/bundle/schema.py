"""JSON Schemas of the bundle members, generated from the records they hold.

The files in ``bundle/schemas/`` are the published contract for tools that read or write bundles without
glasnost. They are generated, not hand-kept, so they cannot drift from the records silently: a test
compares them with this generator. After changing a record, regenerate them with

    python -m glasnost.bundle.schema --write
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from glasnost.bundle.format import Signature, Summary, Toc
from glasnost.records import Concept, Response, RunManifest, Verdict

DRAFT = "https://json-schema.org/draft/2020-12/schema"

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


def generate() -> dict[str, dict[str, Any]]:
    manifest = _schema(
        RunManifest, "glasnost bundle manifest.json",
        "The run's manifest, sanitised: no local paths, no key variables, not marked as imported.",
    )
    never = {"type": "null", "description": "always null in a bundle"}
    manifest["$defs"]["TargetSpec"]["properties"]["path"] = never
    manifest["$defs"]["TargetSpec"]["properties"]["api_key_env"] = never
    manifest["properties"]["imported_from"] = never
    return {
        "toc.schema.json": _schema(Toc, "glasnost bundle toc.json", "sha256 and size of each content member, and the root."),
        "signature.schema.json": _schema(
            Signature, "glasnost bundle signature.json",
            "Ed25519 signature over 'glasnost-bundle-v1\\n' + canonical JSON of {auditor, public_key, root}.",
        ),
        "manifest.schema.json": manifest,
        "bank.schema.json": _schema(BankSnapshot, "glasnost bundle bank.json", "The bank snapshot the run used."),
        "summary.schema.json": _schema(Summary, "glasnost bundle summary.json", "Per target x language counts and rates."),
        "response.schema.json": _schema(Response, "glasnost bundle response", "One line of responses.jsonl."),
        "verdict.schema.json": _schema(Verdict, "glasnost bundle verdict", "One line of verdicts.jsonl."),
    }


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_dir() -> Path:
    return Path(str(resources.files("glasnost.bundle") / "schemas"))


def load(name: str) -> dict[str, Any]:
    return json.loads((schema_dir() / name).read_text(encoding="utf-8"))


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
