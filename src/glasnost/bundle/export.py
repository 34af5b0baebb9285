"""Export one run of a store as a signed bundle (see docs/bundle-format.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from glasnost.bundle.archive import write_archive
from glasnost.bundle.errors import BundleError
from glasnost.outfile import write_atomically
from glasnost.bundle.format import (
    BANK,
    MANIFEST,
    RESPONSES,
    SIGNATURE,
    SUMMARY,
    TOC,
    VERDICTS,
    Signature,
    Toc,
    json_member,
    jsonl_member,
    root_hash,
    signed_message,
    toc_entries,
)
from glasnost.bundle.keys import AuditorKey
from glasnost.bundle.sanitize import Sanitizer
from glasnost.bundle.summary import compute_summary
from glasnost.records import Response, Verdict, response_digest
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
    store: Store, run_id: str, judge: str | None = None, extra_paths: Iterable[str | Path] = ()
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

    seen: set[str] = set()
    responses: list[Response] = []
    for r in store.iter_responses(run_id):
        if r.key not in seen:
            seen.add(r.key)
            data = clean.data(r.model_dump(mode="json"))
            data["key"] = r.key  # a hash, never a secret: kept exact whatever the patterns say
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
    members = {
        MANIFEST: json_member(clean.manifest(manifest)),
        BANK: json_member(snapshot),
        SUMMARY: json_member(summary.model_dump(mode="json")),
        RESPONSES: jsonl_member([r.model_dump(mode="json") for r in responses]),
        VERDICTS: jsonl_member([v.model_dump(mode="json") for v in verdicts]),
    }
    return members, judge


def seal(members: dict[str, bytes], key: AuditorKey) -> tuple[bytes, str]:
    """Add the table of contents and the signature to content members; returns (archive bytes, root)."""
    entries = toc_entries(members)
    root = root_hash(entries)
    toc = Toc(members=entries, root=root)
    public = key.public_b64
    sig = Signature(
        auditor=key.name,
        public_key=public,
        fingerprint=key.fingerprint,
        root=root,
        signature=key.sign(signed_message(root, key.name, public)),
    )
    full = dict(members)
    full[TOC] = json_member(toc.model_dump())
    full[SIGNATURE] = json_member(sig.model_dump())
    return write_archive(full), root


def export_run(
    store: Store, run_id: str, key: AuditorKey, judge: str | None = None, extra_paths: Iterable[str | Path] = ()
) -> Exported:
    members, judge = build_members(store, run_id, judge, extra_paths)
    data, root = seal(members, key)
    n_resp = members[RESPONSES].count(b"\n")
    n_verd = members[VERDICTS].count(b"\n")
    return Exported(data=data, root=root, responses=n_resp, verdicts=n_verd, judge=judge)


def write_bytes_atomic(path: Path, data: bytes, protect: Iterable[Path] = ()) -> None:
    """Write via a temporary file in the same folder, so a crash never leaves half a bundle; never over an
    input (``protect``: the store and its side files, the bundles read)."""
    write_atomically(path, lambda tmp: tmp.write_bytes(data), error=BundleError, protect=protect)
