"""Verify a format-version-2 bundle, check by check in the order docs/bundle-format.md gives, each
failure with its reason code (the JavaScript verifier in verifiers/js reports the same codes).

Every member is validated against the published JSON Schemas (``bundle/schemas/``), so the Python and
any other verifier accept exactly the same documents; only then are the records built.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Iterator

import jsonschema
from pydantic import BaseModel, ValidationError

from glasnost.bundle import jcs
from glasnost.bundle.archive import check_canonical_container
from glasnost.bundle.errors import VerifyError
from glasnost.bundle.format import (
    BANK,
    CONTENT_MEMBERS,
    KEY_RECIPE,
    MANIFEST,
    RESPONSES,
    SIGNATURE,
    SUMMARY,
    TOC,
    VERDICTS,
    Signature,
    Summary,
    Toc,
    recipe_key,
    root_hash,
    sha256_bytes,
    signed_message,
    target_id,
)
from glasnost.bundle.keys import fingerprint, printable, verify_signature
from glasnost.bundle.schema import MEMBER_SCHEMAS, load
from glasnost.bundle.summary import compute_summary, first_difference
from glasnost.records import Response, RunManifest, Verdict, canonical_json, sha256_text

IDENTITY_FIELDS = ("kind", "provider", "base_url", "model", "revision")
# What a judge reads of a response (glasnost.records.JUDGED_FIELDS once issue 11's store work is merged):
# a verdict's response_digest is the sha256 of the Python form of {"v": 1, these fields}.
JUDGED_FIELDS = ("key", "concept_id", "lang", "prompt", "outcome", "text", "reasoning", "thought_suppressed",
                 "finish_reason", "http_status", "provider_refusal", "error")


def _ecma_pattern(validator, pattern: str, instance: Any, schema: dict) -> Iterator[jsonschema.ValidationError]:
    """``pattern`` as ECMA-262 reads it: Python's ``$`` also matches before a final newline, so a key of
    64 hex digits and a newline would pass here and fail in every other language; ``\\Z`` is the true end."""
    if not validator.is_type(instance, "string"):
        return
    python = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    if not re.search(python, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})


@lru_cache(maxsize=None)
def _validator(member: str) -> jsonschema.protocols.Validator:
    schema = load(MEMBER_SCHEMAS[member])
    return _Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def verify_v2(data: bytes, members: dict[str, bytes], source: str, trust: dict[str, str] | None):
    from glasnost.bundle.verify import VerifiedBundle  # the result type is shared with version 1

    check_canonical_container(data, members)  # reason "container"

    # toc.json: canonical, of the schema, listing the five content members in order; the root; the hashes.
    toc_obj = _document(members[TOC], TOC, reason="toc")
    _validate(toc_obj, TOC, TOC, reason="toc")
    toc = Toc.model_validate(toc_obj)
    names = [e.name for e in toc.members]
    if names != list(CONTENT_MEMBERS):
        raise VerifyError(f"{TOC}: lists members {names}; a bundle lists exactly {list(CONTENT_MEMBERS)} in that order", "toc")
    root = root_hash(toc.members, 2, toc.key_recipe)
    if root != toc.root:
        raise VerifyError(f"{TOC}: root {toc.root[:16]}… is not the hash of the table of contents ({root[:16]}…)", "root")
    for entry in toc.members:
        content = members[entry.name]
        if len(content) != entry.bytes or sha256_bytes(content) != entry.sha256:
            raise VerifyError(f"member {entry.name}: sha256 does not match the table of contents (altered or damaged)", "member_hash")

    # signature.json
    sig_obj = _document(members[SIGNATURE], SIGNATURE, reason="signature")
    _validate(sig_obj, SIGNATURE, SIGNATURE, reason="signature")
    sig = Signature.model_validate(sig_obj)
    if sig.root != root:
        raise VerifyError(f"{SIGNATURE}: signs root {sig.root[:16]}…, not this bundle's root {root[:16]}…", "signature")
    if sig.fingerprint != fingerprint(sig.public_key):
        raise VerifyError(f"{SIGNATURE}: fingerprint is not the sha256 of its public key", "signature")
    if not verify_signature(sig.public_key, sig.signature, signed_message(root, sig.auditor, sig.public_key, 2)):
        raise VerifyError(
            f"{SIGNATURE}: the signature does not verify with the public key of {printable(sig.auditor)!r} "
            "(replaced, or made with another key)", "signature",
        )
    trusted_as = None
    if trust is not None:
        if sig.fingerprint not in trust:
            raise VerifyError(
                f"signer {printable(sig.auditor)!r} (key {sig.fingerprint[:16]}) is not in the trust file; "
                "add their `ed25519 <key> <name>` line if you trust them", "untrusted",
            )
        trusted_as = trust[sig.fingerprint]

    # Every content member: canonical, then of its schema (members in toc order, lines in order).
    manifest_obj = _document(members[MANIFEST], MANIFEST)
    _validate(manifest_obj, MANIFEST, MANIFEST)
    bank = _document(members[BANK], BANK)
    _validate(bank, BANK, BANK)
    summary_obj = _document(members[SUMMARY], SUMMARY)
    _validate(summary_obj, SUMMARY, SUMMARY)
    response_objs = list(_lines(members[RESPONSES], RESPONSES))
    verdict_objs = list(_lines(members[VERDICTS], VERDICTS))

    manifest = _model(RunManifest, manifest_obj, MANIFEST)
    summary = _model(Summary, summary_obj, SUMMARY)

    # bank.json: unique concept ids in order, the fingerprint recomputes and matches the manifest.
    ids = [c["id"] for c in bank["concepts"]]
    if ids != sorted(set(ids)):
        raise VerifyError(f"{BANK}: concept ids are not unique and sorted", "bank")
    recomputed = sha256_text(canonical_json(bank["concepts"]))
    if bank["fingerprint"] != recomputed:
        raise VerifyError(f"{BANK}: fingerprint {bank['fingerprint'][:16]}… is not the hash of its concepts ({recomputed[:16]}…)", "bank")
    if manifest_obj["bank"]["fingerprint"] != recomputed:
        raise VerifyError(f"{MANIFEST}: bank fingerprint does not match the bank snapshot ({recomputed[:16]}…)", "bank")

    # responses.jsonl: sorted unique keys, known concepts, a manifest target, its id, the key recipe.
    known = set(ids)
    targets: dict[str, str] = {}
    for t in manifest_obj["targets"]:
        identity = jcs.dumps({k: t[k] for k in IDENTITY_FIELDS})
        if identity in targets or target_id(t) in targets.values():
            raise VerifyError(f"{MANIFEST}: two targets share one identity or one id ({target_id(t)!r})", "manifest")
        targets[identity] = target_id(t)
    generation = {k: v for k, v in manifest_obj["generation"].items() if k != "schema_version"}
    previous = ""
    for n, r in enumerate(response_objs, 1):
        where = f"{RESPONSES} line {n}"
        if r["key"] <= previous:
            problem = "appears twice" if r["key"] == previous else "is out of order (responses are sorted by key)"
            raise VerifyError(f"{where}: response {r['key'][:16]} {problem}", "responses")
        previous = r["key"]
        if r["concept_id"] not in known:
            raise VerifyError(f"{where}: concept {r['concept_id']!r} is not in the bank snapshot", "responses")
        tid = targets.get(jcs.dumps(r["target"]))
        if tid is None:
            raise VerifyError(f"{where}: target {r['target_id']!r} is not one of the manifest's targets", "responses")
        if r["target_id"] != tid:
            raise VerifyError(f"{where}: target_id {r['target_id']!r} is not its manifest target's id {tid!r}", "responses")
        if toc.key_recipe == KEY_RECIPE and recipe_key(r, generation, manifest_obj["system_prompt"]) != r["key"]:
            raise VerifyError(f"{where}: key {r['key'][:16]} is not derived from the response's content", "response_key")
    keys = {r["key"] for r in response_objs}
    by_key = {r["key"]: r for r in response_objs}

    previous = ""
    for n, v in enumerate(verdict_objs, 1):
        where = f"{VERDICTS} line {n}"
        if v["response_key"] not in keys:
            raise VerifyError(f"{where}: verdict for response {v['response_key'][:16]}, which the bundle lacks", "verdicts")
        if v["judge"] != summary_obj["judge"]:
            raise VerifyError(f"{where}: judge {v['judge']!r}, but the summary is by {summary_obj['judge']!r}", "verdicts")
        if v["response_key"] <= previous:
            problem = "has two verdicts" if v["response_key"] == previous else "is out of order (sorted by response key)"
            raise VerifyError(f"{where}: response {v['response_key'][:16]} {problem}", "verdicts")
        previous = v["response_key"]
        if v.get("response_digest") is not None:  # a verdict belongs to the exact response it judged
            judged = {"v": 1, **{f: by_key[v["response_key"]][f] for f in JUDGED_FIELDS}}
            if sha256_text(canonical_json(judged)) != v["response_digest"]:
                raise VerifyError(f"{where}: response_digest is not the digest of the response it names", "verdicts")

    responses = [_model(Response, r, f"{RESPONSES} line {n}") for n, r in enumerate(response_objs, 1)]
    verdicts = [_model(Verdict, v, f"{VERDICTS} line {n}") for n, v in enumerate(verdict_objs, 1)]
    again = compute_summary(responses, verdicts, summary.judge, bank)
    diff = first_difference(summary, again)
    if diff is None and jcs.dumps(summary_obj) != jcs.dumps(again.model_dump(mode="json")):
        diff = "a figure differs from the recomputed one (version 2 figures must match exactly)"
    if diff:
        raise VerifyError(f"{SUMMARY}: does not match the responses and verdicts: {diff}", "summary")

    return VerifiedBundle(
        source=source, root=root, auditor=sig.auditor, public_key=sig.public_key, fingerprint=sig.fingerprint,
        manifest=manifest, bank=bank, responses=responses, verdicts=verdicts, summary=summary,
        trusted_as=trusted_as, members=members,
    )


def _parse(text: bytes, where: str, reason: str) -> Any:
    try:
        s = text.decode("utf-8")
        obj = json.loads(s, parse_constant=_reject_constant)
        canonical = jcs.dumps(obj)
    except UnicodeDecodeError:
        raise VerifyError(f"{where}: not UTF-8", reason) from None
    except (ValueError, RecursionError) as exc:  # CanonicalError is a ValueError
        raise VerifyError(f"{where}: not canonical JSON ({str(exc)[:80]})", reason) from None
    if canonical != s:
        raise VerifyError(f"{where}: not canonical JSON (RFC 8785: sorted keys, no spaces, no duplicate keys)", reason)
    return obj


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _document(data: bytes, where: str, reason: str = "canonical") -> Any:
    if not data.endswith(b"\n") or data.count(b"\n") != 1:
        raise VerifyError(f"{where}: a JSON member is one line of canonical JSON ending in a newline", reason)
    return _parse(data[:-1], where, reason)


def _lines(data: bytes, member: str) -> Iterator[Any]:
    if data and not data.endswith(b"\n"):
        raise VerifyError(f"{member}: the last line lacks its newline (truncated?)", "canonical")
    for n, line in enumerate(data.split(b"\n")[:-1], 1):
        obj = _parse(line, f"{member} line {n}", "canonical")
        _validate(obj, member, f"{member} line {n}")
        yield obj


def _validate(obj: Any, member: str, where: str, reason: str = "schema") -> None:
    error = jsonschema.exceptions.best_match(_validator(member).iter_errors(obj))
    if error is not None:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise VerifyError(f"{where}: {path + ': ' if path else ''}{error.message[:160]}", reason)


def _model(model: type[BaseModel], obj: Any, where: str) -> Any:
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise VerifyError(f"{where}: {loc + ': ' if loc else ''}{err['msg']}", "schema") from None
