"""Verify a bundle: every hash, the signature, the bank fingerprint, cross-references, the summary.

The first failure raises VerifyError naming the member (and line) and what is wrong; nothing in a bundle
is trusted before its hash and signature are checked, and nothing in it is ever evaluated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from glasnost.bank.load import fingerprint_concepts
from glasnost.bundle.archive import DEFAULT_LIMITS, Limits, read_file, read_members
from glasnost.bundle.errors import BundleError, VerifyError
from glasnost.bundle.format import (
    ARCHIVE_ORDER,
    BANK,
    CONTENT_MEMBERS,
    READABLE_VERSIONS,
    MANIFEST,
    RESPONSES,
    SIGNATURE,
    SUMMARY,
    TOC,
    VERDICTS,
    Signature,
    Summary,
    TocV1,
    root_hash,
    sha256_bytes,
    signed_message,
)
from glasnost.bundle.keys import check_name, config_dir, fingerprint, load_trust, printable, verify_signature
from glasnost.bundle.summary import compute_summary, first_difference
from glasnost.errors import GlasnostError
from glasnost.records import Concept, Response, RunManifest, Verdict, canonical_json


@dataclass
class VerifiedBundle:
    source: str
    root: str
    auditor: str
    public_key: str
    fingerprint: str
    manifest: RunManifest
    bank: dict[str, Any]
    responses: list[Response]
    verdicts: list[Verdict]
    summary: Summary
    trusted_as: str | None = None
    members: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def judge(self) -> str | None:
        return self.summary.judge

    def line(self) -> str:
        return f"verified: {printable(self.auditor)}, {self.root}, {len(self.responses)} responses"

    def signer_line(self) -> str:
        """Who signed, by key fingerprint, and whether the user trusts that key (said plainly)."""
        who = f"signer: {printable(self.auditor)}, key fingerprint {self.fingerprint}"
        if self.trusted_as is not None:
            return f"{who}; trusted (as {printable(self.trusted_as)})"
        return (f"{who}; NOT a key you trust: the signature proves the bundle is intact and made with this key, "
                "not who holds it (anyone can call a key by any name); to trust it, add its line to "
                f"{trusted_keys_path()} or pass --trust {self.fingerprint}")


def trusted_keys_path() -> Path:
    """The user's list of trusted keys (``ed25519 <key> <name>`` lines), read by ``bundle verify``."""
    return config_dir() / "trusted_keys"


def load_trust_arg(value: str | None) -> dict[str, str] | None:
    """``--trust``: a trust file, or one full key fingerprint (64 hex digits, as ``bundle verify`` prints it);
    without it, the user's trusted-keys file when there is one (then an untrusted key is reported, not refused)."""
    if value is None:
        return None
    text = value.strip().lower()
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text) and not Path(value).exists():
        return {text: f"fingerprint {text[:16]}… given with --trust"}
    return load_trust(Path(value).expanduser())


def default_trust() -> dict[str, str]:
    path = trusted_keys_path()
    if not path.is_file():
        return {}
    try:
        return load_trust(path)
    except BundleError:
        return {}


def verify_file(path: Path, trust: dict[str, str] | None = None, limits: Limits = DEFAULT_LIMITS) -> VerifiedBundle:
    data = read_file(path, limits)  # a missing or unreadable file is a misuse (exit 2), not a failed audit
    try:
        return verify_bytes(data, str(path), trust, limits)
    except VerifyError as exc:
        raise VerifyError(f"{path}: {exc}", exc.reason) from None


def verify_bytes(
    data: bytes, source: str = "<bytes>", trust: dict[str, str] | None = None, limits: Limits = DEFAULT_LIMITS
) -> VerifiedBundle:
    try:
        members = read_members(data, limits)
    except VerifyError as exc:
        raise VerifyError(str(exc), "container") from None
    if _format_version(members[TOC]) != 1:  # version 2, and anything unknown: refused by its strict rules
        from glasnost.bundle.verify2 import verify_v2

        return verify_v2(data, members, source, trust)
    order = list(members)  # version 1: the order the archive holds them in (read_members keeps it)
    if order != list(ARCHIVE_ORDER):
        raise VerifyError(f"bundle members are in the order {', '.join(order)}; docs/bundle-format.md fixes "
                          f"{', '.join(ARCHIVE_ORDER)} (a reordered archive is not one glasnost wrote)", "order")
    return verify_members(members, source, trust)


def _format_version(toc: bytes) -> Any:
    """The toc's format_version, read before anything else so that each version's rules apply."""
    try:
        obj = json.loads(toc.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None  # the version-1 path names the damage
    return obj.get("format_version") if isinstance(obj, dict) else None


def verify_members(members: dict[str, bytes], source: str, trust: dict[str, str] | None = None) -> VerifiedBundle:
    """Version 1 (format_version 1, Python's json.dumps canonical form): kept so old bundles still verify."""
    # 1. The table of contents, every member's hash and the root.
    version = _format_version(members[TOC])
    if isinstance(version, int) and version not in READABLE_VERSIONS:
        raise VerifyError(
            f"{TOC}: format version {version}; this glasnost reads versions {READABLE_VERSIONS} (upgrade it)", "toc"
        )
    toc = _model(TocV1, _json(members[TOC], TOC), TOC)
    names = [e.name for e in toc.members]
    if names != list(CONTENT_MEMBERS):
        raise VerifyError(f"{TOC}: lists members {names}; a bundle lists exactly {list(CONTENT_MEMBERS)} in that order")
    # The root first: an altered table of contents is then named as such, not as the member it lists.
    root = root_hash(toc.members, 1)
    if root != toc.root:
        raise VerifyError(f"{TOC}: root {toc.root[:16]}… is not the hash of its member list ({root[:16]}…)")
    for entry in toc.members:
        content = members[entry.name]
        if len(content) != entry.bytes or sha256_bytes(content) != entry.sha256:
            raise VerifyError(f"member {entry.name}: sha256 does not match the table of contents (altered or damaged)")

    # 2. The signature over (root, auditor, public key).
    sig = _model(Signature, _json(members[SIGNATURE], SIGNATURE), SIGNATURE)
    if sig.root != root:
        raise VerifyError(f"{SIGNATURE}: signs root {sig.root[:16]}…, not this bundle's root {root[:16]}…")
    try:
        check_name(sig.auditor)
        real_fp = fingerprint(sig.public_key)
    except (GlasnostError, ValueError) as exc:
        raise VerifyError(f"{SIGNATURE}: {exc}") from None
    if sig.fingerprint != real_fp:
        raise VerifyError(f"{SIGNATURE}: fingerprint is not the sha256 of its public key")
    if not verify_signature(sig.public_key, sig.signature, signed_message(root, sig.auditor, sig.public_key, 1)):
        raise VerifyError(
            f"{SIGNATURE}: the signature does not verify with the public key of {printable(sig.auditor)!r} "
            "(replaced, or made with another key)"
        )
    trusted_as = None
    if trust is not None:
        if sig.fingerprint not in trust:
            raise VerifyError(
                f"signer {printable(sig.auditor)!r} (key {sig.fingerprint[:16]}) is not in the trust file; "
                "add their `ed25519 <key> <name>` line if you trust them"
            )
        trusted_as = trust[sig.fingerprint]

    # 3. Contents: canonical form, records, cross-references.
    manifest = _model(RunManifest, _json(members[MANIFEST], MANIFEST), MANIFEST)
    for i, t in enumerate(manifest.targets):
        if t.path is not None or t.api_key_env is not None:
            field_name = "path" if t.path is not None else "api_key_env"
            raise VerifyError(f"{MANIFEST}: targets[{i}].{field_name} is set; a bundle never carries local paths or key names")
    bank = _json(members[BANK], BANK)
    _check_bank(manifest, bank)
    known_concepts = {c["id"] for c in bank["concepts"]}
    identities = [canonical_json(t.identity()) for t in manifest.targets]

    responses: list[Response] = []
    previous = ""
    for n, obj in _jsonl(members[RESPONSES], RESPONSES):
        r = _model(Response, obj, f"{RESPONSES} line {n}")
        if r.key <= previous:
            problem = "appears twice" if r.key == previous else "is out of order (responses are sorted by key)"
            raise VerifyError(f"{RESPONSES} line {n}: response {r.key[:16]} {problem}")
        previous = r.key
        if r.concept_id not in known_concepts:
            raise VerifyError(f"{RESPONSES} line {n}: concept {r.concept_id!r} is not in the bank snapshot")
        if canonical_json(r.target) not in identities:
            raise VerifyError(f"{RESPONSES} line {n}: target {r.target_id!r} is not one of the manifest's targets")
        responses.append(r)
    response_keys = {r.key for r in responses}

    summary = _model(Summary, _json(members[SUMMARY], SUMMARY), SUMMARY)
    verdicts: list[Verdict] = []
    previous = ""
    for n, obj in _jsonl(members[VERDICTS], VERDICTS):
        v = _model(Verdict, obj, f"{VERDICTS} line {n}")
        if v.response_key not in response_keys:
            raise VerifyError(f"{VERDICTS} line {n}: verdict for response {v.response_key[:16]}, which the bundle lacks")
        if v.judge != summary.judge:
            raise VerifyError(f"{VERDICTS} line {n}: judge {v.judge!r}, but the summary is by {summary.judge!r}")
        if v.response_key <= previous:
            problem = "has two verdicts" if v.response_key == previous else "is out of order (sorted by response key)"
            raise VerifyError(f"{VERDICTS} line {n}: response {v.response_key[:16]} {problem}")
        previous = v.response_key
        verdicts.append(v)

    # 4. The published summary must be what the raw data give.
    recomputed = compute_summary(responses, verdicts, summary.judge, bank)
    diff = first_difference(summary, recomputed)
    if diff:
        raise VerifyError(f"{SUMMARY}: does not match the responses and verdicts: {diff}")

    return VerifiedBundle(
        source=source,
        root=root,
        auditor=sig.auditor,
        public_key=sig.public_key,
        fingerprint=sig.fingerprint,
        manifest=manifest,
        bank=bank,
        responses=responses,
        verdicts=verdicts,
        summary=summary,
        trusted_as=trusted_as,
        members=members,
    )


def _check_bank(manifest: RunManifest, bank: Any) -> None:
    if not isinstance(bank, dict) or not isinstance(bank.get("concepts"), list):
        raise VerifyError(f"{BANK}: not a bank snapshot (an object with a 'concepts' list)")
    extra = set(bank) - {"name", "version", "fingerprint", "concepts"}
    if extra:
        raise VerifyError(f"{BANK}: unexpected field {sorted(extra)[0]!r}")
    concepts = []
    for i, c in enumerate(bank["concepts"]):
        concepts.append(_model(Concept, c, f"{BANK} concepts[{i}]"))
    ids = [c.id for c in concepts]
    if len(set(ids)) != len(ids):
        raise VerifyError(f"{BANK}: a concept id appears twice")
    recomputed = fingerprint_concepts(concepts)
    if bank.get("fingerprint") != recomputed:
        published = str(bank.get("fingerprint"))[:16]
        raise VerifyError(f"{BANK}: fingerprint {published}… is not the hash of its concepts ({recomputed[:16]}…)")
    if manifest.bank.fingerprint != recomputed:
        raise VerifyError(
            f"{MANIFEST}: bank fingerprint {manifest.bank.fingerprint[:16]}… does not match "
            f"the bank snapshot ({recomputed[:16]}…)"
        )


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _parse(text: bytes, where: str) -> Any:
    try:
        s = text.decode("utf-8")
        obj = json.loads(s, parse_constant=_reject_constant)
        canonical = canonical_json(obj)
    except UnicodeDecodeError:
        raise VerifyError(f"{where}: not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise VerifyError(f"{where}: not valid JSON ({str(exc)[:80]})") from None
    # Canonical form is required: it rules out duplicate keys, which parsers resolve differently.
    if canonical != s:
        raise VerifyError(f"{where}: not canonical JSON (sorted keys, no spaces, no duplicate keys)")
    return obj


def _json(data: bytes, where: str) -> Any:
    if not data.endswith(b"\n") or data.count(b"\n") != 1:
        raise VerifyError(f"{where}: a JSON member is one line of canonical JSON ending in a newline")
    return _parse(data[:-1], where)


def _jsonl(data: bytes, where: str):
    if data and not data.endswith(b"\n"):
        raise VerifyError(f"{where}: the last line lacks its newline (truncated?)")
    for n, line in enumerate(data.split(b"\n")[:-1], 1):
        yield n, _parse(line, f"{where} line {n}")


def _model(model: type[BaseModel], obj: Any, where: str) -> Any:
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise VerifyError(f"{where}: {loc + ': ' if loc else ''}{err['msg']}") from None
