"""The spec, glasnost's verifier and the independent JavaScript verifier (verifiers/js) cannot drift apart:
both verifiers give the manifest's verdict and reason code on every conformance vector, verify every
bundle these tests export, and reject every tampered copy with the same reason code."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bundle_cases import GEN, RealItem, all_cases, basic_items, export, fixed_key, invalid_cases, tie_items, write_vectors
from glasnost.bundle import jcs
from glasnost.bundle.errors import VerifyError
from glasnost.bundle.keys import load_trust
from glasnost.bundle.verify import verify_bytes
from test_bundle_fixtures import CONCEPTS, Item, build_run, key, standard_items, target
from glasnost.bundle.export import export_run

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "verifiers" / "js"
VECTORS = ROOT / "docs" / "bundle-vectors"
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def node() -> str:
    if NODE is None:
        pytest.skip("node is not installed (Debian: apt-get install nodejs npm)")
    if not (JS / "node_modules" / "ajv").is_dir():
        npm = shutil.which("npm")
        if npm is None or subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, capture_output=True).returncode:
            pytest.fail("verifiers/js lacks its dependencies: run `npm ci` in verifiers/js (scripts/test.sh does)")
    return NODE


def js_verify(node: str, files: list[Path], trust: Path | None = None) -> list[dict]:
    """The --json result of each bundle (one node process verifies them all: node starts slowly)."""
    cmd = [node, str(JS / "verify.mjs"), *map(str, files), "--json"] + (["--trust", str(trust)] if trust else [])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["file"] for r in results] == list(map(str, files)), out.stderr
    assert out.returncode == (0 if all(r["ok"] for r in results) else 1), out.stderr
    return results


def py_reason(data: bytes, trust: dict | None = None) -> str | None:
    try:
        verify_bytes(data, trust=trust)
        return None
    except VerifyError as exc:
        assert "\n" not in str(exc)
        return exc.reason


def manifest() -> list[dict]:
    return json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))["vectors"]


def test_vectors_are_what_the_generator_writes(tmp_path):
    write_vectors(tmp_path)
    committed = sorted(p.name for p in VECTORS.iterdir())
    assert committed == sorted(p.name for p in tmp_path.iterdir())
    for name in committed:
        assert (VECTORS / name).read_bytes() == (tmp_path / name).read_bytes(), f"{name} is stale: python tests/bundle_cases.py --write docs/bundle-vectors"


def test_vectors_cover_every_reason_and_are_small():
    rows = manifest()
    reasons = {r["reason"] for r in rows if not r["valid"]}
    assert reasons == {"container", "toc", "root", "member_hash", "signature", "untrusted", "canonical", "schema",
                       "bank", "manifest", "responses", "response_key", "verdicts", "summary"}
    assert sum(r["valid"] for r in rows) >= 5 and len(rows) >= 60
    for r in rows:
        assert (VECTORS / r["file"]).stat().st_size < 32 * 1024, r["file"]


def test_python_verifier_agrees_with_every_vector():
    for row in manifest():
        trust = load_trust(VECTORS / row["trust"]) if "trust" in row else None
        assert py_reason((VECTORS / row["file"]).read_bytes(), trust) == row["reason"], row["file"]


def test_js_verifier_agrees_with_every_vector(node):
    rows = manifest()
    plain = [r for r in rows if "trust" not in r]
    for row, result in zip(plain, js_verify(node, [VECTORS / r["file"] for r in plain])):
        assert result["ok"] == row["valid"] and result.get("reason") == row["reason"], (row["file"], result)
    for row in (r for r in rows if "trust" in r):
        (result,) = js_verify(node, [VECTORS / row["file"]], VECTORS / row["trust"])
        assert result["ok"] == row["valid"] and result.get("reason") == row["reason"], (row["file"], result)


def test_js_verifier_prints_the_signer_and_exits_by_verdict(node):
    ok = subprocess.run([node, str(JS / "verify.mjs"), str(VECTORS / "valid-basic.tar.gz")], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith(f"verified: signed by {fixed_key('alice').fingerprint}")
    bad = subprocess.run([node, str(JS / "verify.mjs"), str(VECTORS / "summary-count.tar.gz")], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stdout.startswith("invalid: ") and ": summary: " in bad.stdout
    missing = subprocess.run([node, str(JS / "verify.mjs"), "/nonexistent.tar.gz"], capture_output=True, text=True)
    assert missing.returncode == 2 and "cannot read" in missing.stderr


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> list[Path]:
    """Bundles exported the way the other bundle and leaderboard tests export them (session keys)."""
    folder = tmp_path_factory.mktemp("exported")
    bundles = {
        "standard": standard_items(),
        "two-targets": standard_items() + standard_items(target("model-b", base_url="http://localhost:8000/v1")),
        "real-keys": None,
        "tie": tie_items(),
        "basic": basic_items(),
    }
    paths = []
    for name, items in bundles.items():
        if items is None:
            data = export([RealItem(target("m"), c.id, "en") for c in CONCEPTS], key("alice"), generation=GEN)
            from bundle_cases import members as members_of

            assert json.loads(members_of(data)["toc.json"])["key_recipe"] == "glasnost-item-key-1"
        else:
            store = build_run(folder / f"{name}.db", "run-x", items, judge="default@1.r3.m2")
            data = export_run(store, "run-x", key("bob")).data
            store.close()
        path = folder / f"{name}.tar.gz"
        path.write_bytes(data)
        paths.append(path)
    store = build_run(folder / "none.db", "run-n", [Item(target("z"), CONCEPTS[0].id)], judge=None)
    (folder / "no-judge.tar.gz").write_bytes(export_run(store, "run-n", key("carol")).data)
    store.close()
    return paths + [folder / "no-judge.tar.gz"]


def test_js_verifies_every_exported_bundle_with_the_same_figures(node, exported):
    for path, result in zip(exported, js_verify(node, exported)):
        assert result["ok"], (path.name, result)
        vb = verify_bytes(path.read_bytes())
        assert result["root"] == vb.root and result["fingerprint"] == vb.fingerprint
        assert result["responses"] == len(vb.responses)
        assert jcs.dumps(result["rows"]) == jcs.dumps(vb.summary.model_dump(mode="json")["rows"])


def test_tamper_set_rejected_by_both_with_the_same_reason(node, exported, tmp_path):
    """The tamper cases rebuilt on a bundle signed by this session's key (not the vectors' fixed key)."""
    base = exported[0].read_bytes()
    real = exported[2].read_bytes()
    tie = exported[3].read_bytes()
    cases = invalid_cases(base, key("bob"), key("mallory"), real, tie)
    files = []
    for case in cases:
        files.append(tmp_path / f"{case.name}.tar.gz")
        files[-1].write_bytes(case.data)
    trust_file = tmp_path / "trust.txt"
    plain = [(c, f) for c, f in zip(cases, files) if not c.trust]
    for (case, _), result in zip(plain, js_verify(node, [f for _, f in plain])):
        assert py_reason(case.data) == case.reason, case.name
        assert not result["ok"] and result["reason"] == case.reason, (case.name, result)
    for case, path in zip(cases, files):
        if case.trust:
            trust_file.write_text("\n".join(case.trust) + "\n")
            assert py_reason(case.data, load_trust(trust_file)) == case.reason, case.name
            (result,) = js_verify(node, [path], trust_file)
            assert not result["ok"] and result["reason"] == case.reason, (case.name, result)
    assert len(cases) >= 55


def test_case_list_is_the_vector_list():
    assert [c.name for c in all_cases()] == [Path(r["file"]).name.removesuffix(".tar.gz") for r in manifest()]


def test_flipped_byte_in_any_member_rejected_by_both_alike(node, exported, tmp_path):
    """test_bundle_tamper's flipped bytes (every member, three places): both refuse, with one reason."""
    from bundle_cases import members as members_of
    from glasnost.bundle.archive import write_archive
    from glasnost.bundle.format import ARCHIVE_ORDER

    base = members_of(exported[0].read_bytes())
    files, reasons = [], []
    for member in ARCHIVE_ORDER:
        for where in (0.25, 0.5, 0.9):
            content = bytearray(base[member])
            content[int(len(content) * where)] ^= 0x01
            data = write_archive({**base, member: bytes(content)})
            files.append(tmp_path / f"{member}-{where}.tar.gz")
            files[-1].write_bytes(data)
            reasons.append(py_reason(data))
    results = js_verify(node, files)
    assert all(r is not None for r in reasons)
    assert [r["reason"] for r in results] == reasons
