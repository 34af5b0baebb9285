"""Export one run of a store as a signed bundle (see docs/bundle-format.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from glasnost.bundle.archive import write_archive
from glasnost.bundle.errors import BundleError
from glasnost.outfile import write_atomically
from glasnost.bundle.format import (
    BANK,
    FORMAT_VERSION,
    KEY_RECIPE,
    MANIFEST,
    RESPONSES,
    SIGNATURE,
    SUMMARY,
    TOC,
    VERDICTS,
    Signature,
    Toc,
    TocV1,
    json_member,
    jsonl_member,
    recipe_key,
    root_hash,
    signed_message,
    target_id,
    toc_entries,
)
from glasnost.bundle.jcs import CanonicalError
from glasnost.bundle.keys import AuditorKey
from glasnost.bundle.sanitize import Sanitizer
from glasnost.bundle.summary import compute_summary
from glasnost.records import Response, Verdict, canonical_json, response_digest
from glasnost.store.base import Store


@dataclass
class Exported:
    data: bytes
    root: str
    responses: int
    verdicts: int
    judge: str | None


def choose_judge(store: Store, run_id: str, judge: str | None) -> str | None:
    """The judge whose verdicts go into the bundle: the same rule as report, compare and export
    (``stats.data.choose_judge``: the one asked for, else the latest default@*, else the only one)."""
    from glasnost.errors import ConfigError
    from glasnost.stats.data import choose_judge as choose

    try:
        return choose(store.judges(run_id), judge)
    except ConfigError as exc:
        raise BundleError(f"run {run_id}: {exc}") from None


def build_members(
    store: Store, run_id: str, judge: str | None = None, extra_paths: Iterable[str | Path] = (),
    version: int = FORMAT_VERSION,
) -> tuple[dict[str, bytes], str | None]:
    """The content members (everything but toc and signature) of one run, sanitised and canonical."""
    manifest = store.get_run(run_id)
    run_id = manifest.run_id
    snapshot = store.get_bank_snapshot(manifest.bank.fingerprint)
    if snapshot is None:
        raise BundleError(
            f"run {run_id}: the store lacks the snapshot of bank {manifest.bank.name} "
            f"({manifest.bank.fingerprint[:12]}); a run saved by `glasnost run` has it"
        )
    judge = choose_judge(store, run_id, judge)
    clean = Sanitizer(manifest, extra_paths)
    clean_manifest = clean.manifest(manifest)
    ids = _target_ids(clean_manifest, run_id) if version >= 2 else {}

    seen: set[str] = set()
    responses: list[Response] = []
    for r in store.iter_responses(run_id):
        if r.key not in seen:
            seen.add(r.key)
            data = clean.data(r.model_dump(mode="json"))
            data["key"] = r.key  # a hash, never a secret: kept exact whatever the patterns say
            if version >= 2:  # version 2 defines target_id: the id of the manifest target of that identity
                data["target_id"] = ids.get(canonical_json(data["target"]), data["target_id"])
            responses.append(Response.model_validate(data))
    responses.sort(key=lambda r: r.key)
    verdicts: list[Verdict] = []
    if judge is not None:
        by_key = {v.response_key: v for v in store.iter_verdicts(run_id, judge=judge)}
        for r in responses:
            if r.key in by_key:
                data = clean.data(by_key[r.key].model_dump(mode="json"))
                data["response_key"], data["judge"] = r.key, judge
                data["response_digest"] = response_digest(r)  # the response as published, sanitised
                verdicts.append(Verdict.model_validate(data))
    summary = compute_summary(responses, verdicts, judge, snapshot)
    try:
        members = {
            MANIFEST: json_member(clean_manifest, version),
            BANK: json_member(snapshot, version),
            SUMMARY: json_member(summary.model_dump(mode="json"), version),
            RESPONSES: jsonl_member([r.model_dump(mode="json") for r in responses], version),
            VERDICTS: jsonl_member([v.model_dump(mode="json") for v in verdicts], version),
        }
    except CanonicalError as exc:
        raise BundleError(f"run {run_id}: a value has no canonical JSON form ({exc}); it cannot be published") from None
    return members, judge


def _target_ids(manifest: dict, run_id: str) -> dict[str, str]:
    """identity (canonical JSON) -> target id; two targets of one identity would make rows ambiguous."""
    ids: dict[str, str] = {}
    for t in manifest["targets"]:
        identity = canonical_json({k: t[k] for k in ("kind", "provider", "base_url", "model", "revision")})
        if identity in ids:
            raise BundleError(f"run {run_id}: two targets share the identity of {ids[identity]!r}; a bundle needs one per identity")
        if target_id(t) in ids.values():
            raise BundleError(f"run {run_id}: two targets are both named {target_id(t)!r}; give them distinct names")
        ids[identity] = target_id(t)
    return ids


def key_recipe(members: dict[str, bytes]) -> str | None:
    """KEY_RECIPE when every response key recomputes from the bundled content, else None (opaque keys:
    e.g. a sanitised local path in a prompt or model name, or an integral float in generation.extra)."""
    try:
        manifest = json.loads(members[MANIFEST])
        generation = {k: v for k, v in manifest["generation"].items() if k != "schema_version"}
        for line in members[RESPONSES].splitlines():
            r = json.loads(line)
            if recipe_key(r, generation, manifest.get("system_prompt")) != r["key"]:
                return None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # not readable as a bundle's content: nothing to declare
    return KEY_RECIPE


def seal(
    members: dict[str, bytes], key: AuditorKey, version: int = FORMAT_VERSION, recipe: str | None = "auto"
) -> tuple[bytes, str]:
    """Add the table of contents and the signature to content members; returns (archive bytes, root).
    ``recipe`` "auto" declares the key recipe when every key recomputes (tests may force a declaration)."""
    entries = toc_entries(members)
    public = key.public_b64
    if version >= 2:
        recipe = key_recipe(members) if recipe == "auto" else recipe
        root = root_hash(entries, version, recipe)
        toc: Toc | TocV1 = Toc(key_recipe=recipe, members=entries, root=root)
    else:
        root = root_hash(entries, version)
        toc = TocV1(members=entries, root=root)
    sig = Signature(
        auditor=key.name,
        public_key=public,
        fingerprint=key.fingerprint,
        root=root,
        signature=key.sign(signed_message(root, key.name, public, version)),
    )
    full = dict(members)
    full[TOC] = json_member(toc.model_dump(), version)
    full[SIGNATURE] = json_member(sig.model_dump(), version)
    return write_archive(full), root


def export_run(
    store: Store, run_id: str, key: AuditorKey, judge: str | None = None, extra_paths: Iterable[str | Path] = (),
    version: int = FORMAT_VERSION,
) -> Exported:
    members, judge = build_members(store, run_id, judge, extra_paths, version)
    data, root = seal(members, key, version)
    n_resp = members[RESPONSES].count(b"\n")
    n_verd = members[VERDICTS].count(b"\n")
    return Exported(data=data, root=root, responses=n_resp, verdicts=n_verd, judge=judge)


def write_bytes_atomic(path: Path, data: bytes, protect: Iterable[Path] = ()) -> None:
    """Write via a temporary file in the same folder, so a crash never leaves half a bundle; never over an
    input (``protect``: the store and its side files, the bundles read)."""
    write_atomically(path, lambda tmp: tmp.write_bytes(data), error=BundleError, protect=protect)
