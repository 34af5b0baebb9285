"""Every tampering is caught and named: bytes, labels, responses, signatures, summaries, cross-checks."""

from __future__ import annotations

import json

import pytest

from glasnost.bundle.archive import read_members
from glasnost.bundle.errors import VerifyError
from glasnost.bundle.export import export_run
from glasnost.bundle.format import ARCHIVE_ORDER, signed_message
from glasnost.bundle.keys import load_trust
from glasnost.bundle.verify import verify_bytes
from glasnost.cli.main import main
from glasnost.records import canonical_json
from test_bundle_fixtures import build_run, key, reseal, rewrap, standard_items


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    store = build_run(tmp_path_factory.mktemp("t") / "a.db", "run-a", standard_items())
    data = export_run(store, "run-a", key("alice")).data
    store.close()
    return data


def lines(data: bytes) -> list[dict]:
    return [json.loads(x) for x in data.decode().splitlines()]


def jsonl(rows: list[dict]) -> bytes:
    return "".join(canonical_json(r) + "\n" for r in rows).encode()


def one(obj: dict) -> bytes:
    return (canonical_json(obj) + "\n").encode()


def fails(data: bytes, *needles: str, trust=None) -> str:
    with pytest.raises(VerifyError) as info:
        verify_bytes(data, trust=trust)
    message = str(info.value)
    for needle in needles:
        assert needle in message, message
    assert "\n" not in message
    return message


def test_untouched_bundle_verifies(bundle):
    vb = verify_bytes(bundle)
    assert vb.auditor == "alice" and len(vb.responses) == 13 and len(vb.verdicts) == 13


@pytest.mark.parametrize("member", ARCHIVE_ORDER)
@pytest.mark.parametrize("where", [0.25, 0.5, 0.9])
def test_flipped_byte_in_any_member(bundle, member, where):
    members = read_members(bundle)
    content = bytearray(members[member])
    i = int(len(content) * where)
    content[i] ^= 0x01
    members[member] = bytes(content)
    fails(rewrap(members), member)


def test_changed_label(bundle):
    members = read_members(bundle)
    rows = lines(members["verdicts.jsonl"])
    target = next(r for r in rows if r["label"] == "refused")
    target["label"] = "answered"
    fails(rewrap({**members, "verdicts.jsonl": jsonl(rows)}), "verdicts.jsonl", "sha256")
    # Re-hashed and re-signed by the auditor: the published summary no longer matches the data.
    fails(reseal(bundle, key("alice"), verdicts__jsonl=jsonl(rows)), "summary.json", "does not match", "counts.answered is 2 but the data give 3")


def test_dropped_response(bundle):
    members = read_members(bundle)
    responses = lines(members["responses.jsonl"])
    dropped = responses.pop(3)
    fails(rewrap({**members, "responses.jsonl": jsonl(responses)}), "responses.jsonl", "sha256")
    fails(reseal(bundle, key("alice"), responses__jsonl=jsonl(responses)), "verdicts.jsonl", "which the bundle lacks")
    verdicts = [v for v in lines(members["verdicts.jsonl"]) if v["response_key"] != dropped["key"]]
    fails(
        reseal(bundle, key("alice"), responses__jsonl=jsonl(responses), verdicts__jsonl=jsonl(verdicts)),
        "summary.json", "n_responses",
    )


def test_added_response(bundle):
    members = read_members(bundle)
    responses = lines(members["responses.jsonl"])
    extra = dict(responses[0], key="f" * 64, text="an extra answer")
    fails(rewrap({**members, "responses.jsonl": jsonl(responses + [extra])}), "responses.jsonl", "sha256")
    fails(reseal(bundle, key("alice"), responses__jsonl=jsonl(responses + [extra])), "summary.json", "n_responses")
    fails(reseal(bundle, key("alice"), responses__jsonl=jsonl(responses + [responses[-1]])), "appears twice")


def test_replaced_signature(bundle):
    members = read_members(bundle)
    sig = json.loads(members["signature.json"])
    sig["signature"] = key("alice").sign(b"something else entirely")
    fails(rewrap({**members, "signature.json": one(sig)}), "signature.json", "does not verify")


def test_signature_by_another_key(bundle):
    members = read_members(bundle)
    sig = json.loads(members["signature.json"])
    sig["signature"] = key("mallory").sign(signed_message(sig["root"], sig["auditor"], sig["public_key"]))
    fails(rewrap({**members, "signature.json": one(sig)}), "signature.json", "does not verify", "alice")


def test_renamed_auditor_breaks_the_signature(bundle):
    members = read_members(bundle)
    sig = json.loads(members["signature.json"])
    sig["auditor"] = "bob"
    fails(rewrap({**members, "signature.json": one(sig)}), "signature.json", "does not verify")


def test_fingerprint_must_be_the_keys(bundle):
    members = read_members(bundle)
    sig = json.loads(members["signature.json"])
    sig["fingerprint"] = key("mallory").fingerprint
    fails(rewrap({**members, "signature.json": one(sig)}), "signature.json", "fingerprint")


def test_resigned_by_stranger_needs_trust(bundle, tmp_path):
    forged = reseal(bundle, key("mallory"))
    assert verify_bytes(forged).auditor == "mallory"  # valid on its own: anyone may publish
    trust_file = tmp_path / "trusted"
    trust_file.write_text(key("alice").pub_line() + "\n")
    trust = load_trust(trust_file)
    fails(forged, "mallory", "not in the trust file", trust=trust)
    assert verify_bytes(bundle, trust=trust).trusted_as == "alice"


def test_signature_from_another_bundle(bundle):
    other = reseal(bundle, key("alice"), manifest__json=read_members(bundle)["manifest.json"].replace(b"run-a", b"run-b"))
    members = read_members(bundle)
    members["signature.json"] = read_members(other)["signature.json"]
    fails(rewrap(members), "signature.json", "not this bundle's root")


def test_summary_that_does_not_match(bundle):
    members = read_members(bundle)
    summary = json.loads(members["summary.json"])
    summary["rows"][0]["rate"] = 0.01
    fails(rewrap({**members, "summary.json": one(summary)}), "summary.json", "sha256")
    fails(reseal(bundle, key("alice"), summary__json=one(summary)), "summary.json", "rate is 0.01")
    summary = json.loads(members["summary.json"])
    summary["rows"].pop()
    fails(reseal(bundle, key("alice"), summary__json=one(summary)), "summary.json", "not in the summary")


def test_bank_fingerprint_cross_checks(bundle):
    members = read_members(bundle)
    manifest = json.loads(members["manifest.json"])
    manifest["bank"]["fingerprint"] = "0" * 64
    fails(reseal(bundle, key("alice"), manifest__json=one(manifest)), "manifest.json", "bank fingerprint")
    bank = json.loads(members["bank.json"])
    bank["concepts"][0]["variants"]["en"] = "A softer question?"
    fails(reseal(bundle, key("alice"), bank__json=one(bank)), "bank.json", "not the hash of its concepts")


def test_cross_references(bundle):
    members = read_members(bundle)
    responses = lines(members["responses.jsonl"])
    responses[0]["concept_id"] = "xx.unknown.q"
    fails(reseal(bundle, key("alice"), responses__jsonl=jsonl(responses)), "responses.jsonl line 1", "not in the bank")
    responses = lines(members["responses.jsonl"])
    responses[0]["target"] = dict(responses[0]["target"], model="other-model")
    fails(reseal(bundle, key("alice"), responses__jsonl=jsonl(responses)), "responses.jsonl line 1", "not one of the manifest")
    verdicts = lines(members["verdicts.jsonl"])
    verdicts[0]["judge"] = "other@9"
    fails(reseal(bundle, key("alice"), verdicts__jsonl=jsonl(verdicts)), "verdicts.jsonl line 1", "judge 'other@9'")


def test_manifest_with_a_local_path_is_refused(bundle):
    manifest = json.loads(read_members(bundle)["manifest.json"])
    manifest["targets"][0]["path"] = "/home/someone/replay.jsonl"
    fails(reseal(bundle, key("alice"), manifest__json=one(manifest)), "manifest.json", "targets[0].path")


def test_non_canonical_json_is_refused(bundle):
    members = read_members(bundle)
    first = members["manifest.json"].decode()
    duplicated = '{"run_id":"evil",' + first[1:]  # a duplicate key: parsers disagree on which wins
    fails(reseal(bundle, key("alice"), manifest__json=duplicated.encode()), "manifest.json", "canonical")
    spaced = json.dumps(json.loads(first), indent=1) + "\n"
    fails(reseal(bundle, key("alice"), manifest__json=spaced.encode()), "manifest.json")


def test_bad_records_are_named(bundle):
    members = read_members(bundle)
    verdicts = lines(members["verdicts.jsonl"])
    verdicts[2]["label"] = "kinda-censored"
    fails(reseal(bundle, key("alice"), verdicts__jsonl=jsonl(verdicts)), "verdicts.jsonl line 3", "label")


def test_cli_verify_failure_is_one_line_with_exit_4(bundle, tmp_path, capsys):
    members = read_members(bundle)
    rows = lines(members["verdicts.jsonl"])
    rows[0]["label"] = "blocked" if rows[0]["label"] != "blocked" else "answered"
    path = tmp_path / "bad.tar.gz"
    path.write_bytes(reseal(bundle, key("alice"), verdicts__jsonl=jsonl(rows)))
    assert main(["bundle", "verify", str(path)]) == 4
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {path}: summary.json: does not match") and captured.err.count("\n") == 1
    good = tmp_path / "good.tar.gz"
    good.write_bytes(bundle)
    trust = tmp_path / "trusted"
    trust.write_text(key("bob").pub_line() + "\n")
    assert main(["bundle", "verify", str(good), "--trust", str(trust)]) == 4
    assert "not in the trust file" in capsys.readouterr().err
