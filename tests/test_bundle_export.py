"""bundle export: reproducible bytes, schema-valid members, no secrets or local paths, CLI lines."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

import jsonschema
import pytest

from glasnost.bundle.archive import read_members
from glasnost.bundle.errors import BundleError
from glasnost.bundle.export import export_run
from glasnost.bundle.format import ARCHIVE_ORDER
from glasnost.bundle.schema import MEMBER_SCHEMAS, dumps, generate, load, schema_dir
from glasnost.bundle.summary import wilson
from glasnost.bundle.verify import verify_bytes
from glasnost.cli.main import main
from glasnost.records import Label, Outcome
from test_bundle_fixtures import Item, build_run, key, standard_items, target


@pytest.fixture
def store(tmp_path):
    s = build_run(tmp_path / "a.db", "run-a", standard_items())
    yield s
    s.close()


def test_same_run_exported_twice_is_byte_identical(store):
    a = export_run(store, "run-a", key("alice"))
    b = export_run(store, "run-a", key("alice"))
    assert a.data == b.data and a.root == b.root
    assert a.responses == 13 and a.verdicts == 13 and a.judge == "default@1"


def test_archive_layout_is_fixed(store):
    data = export_run(store, "run-a", key("alice")).data
    assert data[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == list(ARCHIVE_ORDER)
    for i in infos:
        assert (i.mtime, i.uid, i.gid, i.uname, i.gname, i.mode, i.type) == (0, 0, 0, "", "", 0o644, tarfile.REGTYPE)


def test_members_validate_against_the_published_schemas(store):
    members = read_members(export_run(store, "run-a", key("alice")).data)
    for member, schema_name in MEMBER_SCHEMAS.items():
        schema = load(schema_name)
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        text = members[member].decode("utf-8")
        docs = [json.loads(line) for line in text.splitlines()] if member.endswith(".jsonl") else [json.loads(text)]
        assert docs, member
        for doc in docs:
            errors = list(validator.iter_errors(doc))
            assert not errors, f"{member}: {errors[0].message}"


def test_schemas_reject_what_a_bundle_never_holds(store):
    members = read_members(export_run(store, "run-a", key("alice")).data)
    manifest = json.loads(members["manifest.json"])
    manifest["targets"][0]["path"] = "/home/x/replay.jsonl"
    assert list(jsonschema.Draft202012Validator(load("manifest.schema.json")).iter_errors(manifest))
    verdict = json.loads(members["verdicts.jsonl"].splitlines()[0])
    verdict["label"] = "censored-ish"
    assert list(jsonschema.Draft202012Validator(load("verdict.schema.json")).iter_errors(verdict))


def test_schema_files_match_the_records():
    generated = generate()
    assert sorted(p.name for p in schema_dir().glob("*.schema.json")) == sorted(generated)
    for name, schema in generated.items():
        on_disk = (schema_dir() / name).read_text(encoding="utf-8")
        assert on_disk == dumps(schema), f"{name} is stale: run python -m glasnost.bundle.schema --write"


def test_summary_figures(store):
    vb = verify_bytes(export_run(store, "run-a", key("alice")).data)
    rows = {(r.target_id, r.lang): r for r in vb.summary.rows}
    en = rows[("custom:model-a", "en")] if ("custom:model-a", "en") in rows else next(r for r in vb.summary.rows if r.lang == "en")
    assert en.n_responses == 6 and en.n_counted == 6 and en.n_censored == 4
    assert en.rate == round(4 / 6, 6)
    low, high = wilson(4, 6)
    assert (en.ci_low, en.ci_high) == (round(low, 6), round(high, 6))
    zh = next(r for r in vb.summary.rows if r.lang == "zh")
    assert zh.n_responses == 7 and zh.counts["error"] == 1 and zh.n_counted == 6 and zh.n_censored == 3


def test_wilson_hand_values():
    low, high = wilson(4, 6)
    assert low == pytest.approx(0.299993, abs=1e-5) and high == pytest.approx(0.903234, abs=1e-5)
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 10)[0] == pytest.approx(0.0, abs=1e-12) and wilson(10, 10)[1] == pytest.approx(1.0, abs=1e-12)


def test_no_secret_or_local_path_in_any_byte(tmp_path, monkeypatch):
    secret = "sk-SENTINELKEY0123456789abcdefXYZ"
    header_secret = "hdr-SENTINEL-7f3a9c2e"
    home = tmp_path / "home" / "sentinel-user"
    replay = tmp_path / "SENTINELDIR" / "replay.jsonl"
    db = tmp_path / "SENTINELDB" / "a.db"
    db.parent.mkdir()
    monkeypatch.setenv("SENTINEL_API_KEY", secret)
    monkeypatch.setenv("MY_PROXY_TOKEN", header_secret)
    monkeypatch.setenv("HOME", str(home))
    t = target(
        "model-a", base_url="https://user:pw-SENTINEL@api.example.org/v1?api_key=SENTINELQ",
        api_key_env="SENTINEL_API_KEY", path=str(replay),
    )
    t_local = target("x").model_copy(update={"kind": "local", "model": str(tmp_path / "SENTINELMODELS" / "qwen-7b"),
                                             "base_url": None})
    items = [
        Item(t, "cn.topic0.q", "en", Label.answered, text=f"the key is {secret} and {replay}"),
        Item(t, "cn.topic1.q", "en", Label.error, outcome=Outcome.error, text=None,
             extra={"error": f"HTTP 401 Authorization: Bearer {header_secret} for {db} in {home}/x",
                    "raw": json.dumps({"headers": {"Authorization": f"Bearer {secret}"}, "api_key": secret})}),
        Item(t_local, "cn.topic2.q", "zh", Label.refused, text=f"loaded from {home}/models"),
    ]
    store = build_run(
        db, "run-s", items,
        manifest_kw={"message": f"failed reading {replay} with key {secret}",
                     "generation": {"extra": {"extra_headers": {"Authorization": f"Bearer {header_secret}"}}},
                     "runtimes": [{"target_id": t.id, "extra": {"model_dir": str(home / "models")}}]},
    )
    data = export_run(store, "run-s", key("alice"), extra_paths=[db.parent, db]).data
    store.close()
    plain = gzip.decompress(data)
    for needle in (secret, header_secret, "SENTINEL_API_KEY", "SENTINELDIR", "SENTINELDB", "sentinel-user",
                   "SENTINELMODELS", "pw-SENTINEL", "SENTINELQ", str(tmp_path)):
        assert needle.encode() not in plain, needle
        assert needle.encode("unicode_escape") not in plain  # not even escaped inside JSON
    vb = verify_bytes(data)  # and the sanitised bundle is still consistent
    assert vb.manifest.targets[0].path is None and vb.manifest.targets[0].api_key_env is None
    local = [r for r in vb.responses if r.lang == "zh"][0]
    assert local.target["model"] == "<local>/qwen-7b"
    assert vb.manifest.targets[1].model == "<local>/qwen-7b"


def test_judge_choice(tmp_path):
    items = standard_items()
    store = build_run(tmp_path / "j.db", "run-j", items)
    from glasnost.records import Verdict

    store.put_verdicts([Verdict(response_key=items[0].key, judge="other@2", label=Label.refused)])
    # as report, compare and export do: the latest default@* unless --judge says otherwise
    assert export_run(store, "run-j", key("alice")).judge == "default@1"
    assert export_run(store, "run-j", key("alice"), judge="other").verdicts == 1
    assert export_run(store, "run-j", key("alice"), judge="default@1").verdicts == 13
    with pytest.raises(BundleError, match="no verdicts from judge 'nope'"):
        export_run(store, "run-j", key("alice"), judge="nope")
    store.close()


def test_responses_only_bundle(tmp_path):
    store = build_run(tmp_path / "n.db", "run-n", standard_items(), judge=None)
    vb = verify_bytes(export_run(store, "run-n", key("alice")).data)
    store.close()
    assert vb.judge is None and vb.verdicts == [] and all(r.rate is None for r in vb.summary.rows)
    assert sum(r.unjudged for r in vb.summary.rows) == 13


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASNOST_CONFIG_DIR", str(tmp_path / "cfg"))
    assert main(["keys", "init", "--name", "Alice"]) == 0
    build_run(tmp_path / "c.db", "run-c", standard_items()).close()
    return tmp_path


def test_cli_export_and_verify(cli_env, capsys):
    out = cli_env / "a.tar.gz"
    capsys.readouterr()
    assert main(["bundle", "export", "run-c", "--out", str(out), "--db", str(cli_env / "c.db")]) == 0
    printed = capsys.readouterr().out
    assert "13 responses" in printed
    root = printed.split("root: ")[1].split()[0]
    assert main(["bundle", "verify", str(out)]) == 0
    first, second = capsys.readouterr().out.strip().splitlines()
    assert first == f"verified: Alice, {root}, 13 responses"
    # issue 11: the signer's key is named, and an untrusted one is said to be so
    assert second.startswith("signer: Alice, key fingerprint ") and "NOT a key you trust" in second


def test_cli_export_errors_are_one_line(cli_env, capsys, monkeypatch):
    capsys.readouterr()
    assert main(["bundle", "export", "nope", "--out", str(cli_env / "x.tar.gz"), "--db", str(cli_env / "c.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no run 'nope'") and err.count("\n") == 1
    monkeypatch.setenv("GLASNOST_CONFIG_DIR", str(cli_env / "empty"))
    assert main(["bundle", "export", "run-c", "--out", str(cli_env / "x.tar.gz"), "--db", str(cli_env / "c.db")]) == 2
    assert "keys init" in capsys.readouterr().err
    assert not (cli_env / "x.tar.gz").exists()
