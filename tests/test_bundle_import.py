"""bundle import: de-duplication, provenance, conflicts kept apart, idempotence, the round trip."""

from __future__ import annotations

import json

import pytest

from glasnost.bundle.export import export_run
from glasnost.bundle.importer import import_bundle
from glasnost.bundle.verify import verify_bytes
from glasnost.cli.main import main
from glasnost.records import Label, Outcome, Verdict
from glasnost.store.sqlite import SQLiteStore
from test_bundle_fixtures import Item, build_run, key, standard_items, target


@pytest.fixture
def alice_bundle(tmp_path):
    store = build_run(tmp_path / "alice.db", "run-a", standard_items())
    exported = export_run(store, "run-a", key("alice"))
    store.close()
    return exported


def test_round_trip_gives_the_same_root(alice_bundle, tmp_path):
    vb = verify_bytes(alice_bundle.data)
    store = SQLiteStore(tmp_path / "bob.db")
    result = import_bundle(store, vb)
    assert result.run_id == "run-a" and result.added == 13 and not result.conflicts
    again = export_run(store, "run-a", key("bob"))
    assert again.root == alice_bundle.root
    assert verify_bytes(again.data).auditor == "bob"
    store.close()


def test_imported_run_is_listed_with_provenance(alice_bundle, tmp_path):
    vb = verify_bytes(alice_bundle.data)
    store = SQLiteStore(tmp_path / "bob.db")
    import_bundle(store, vb)
    (run,) = store.list_runs()
    assert run.imported_from == f"alice [{vb.fingerprint[:16]}] {vb.root}"
    assert len(store.run_keys("run-a")) == 13
    assert store.judges("run-a") == ["default@1"]
    prov = store.provenance(root=vb.root)
    assert len(prov) == 13 and {p["fingerprint"] for p in prov} == {vb.fingerprint}
    assert store.get_import(vb.root)["auditor"] == "alice"
    assert store.get_bank_snapshot(vb.manifest.bank.fingerprint)["fingerprint"] == vb.manifest.bank.fingerprint
    store.close()


def test_importing_twice_changes_nothing(alice_bundle, tmp_path):
    vb = verify_bytes(alice_bundle.data)
    store = SQLiteStore(tmp_path / "bob.db")
    import_bundle(store, vb)
    second = import_bundle(store, vb)
    assert second.already and second.run_id == "run-a"
    assert len(store.list_runs()) == 1 and len(list(store.iter_responses())) == 13
    store.close()


def test_import_into_the_origin_store_deduplicates(alice_bundle, tmp_path):
    store = SQLiteStore(tmp_path / "alice.db")
    result = import_bundle(store, verify_bytes(alice_bundle.data))
    assert result.run_id == f"run-a-{alice_bundle.root[:12]}"  # the original run is left alone
    assert result.added == 0 and result.duplicates == 13 and not result.conflicts
    assert len(list(store.iter_responses())) == 13
    assert store.get_run("run-a").imported_from is None
    store.close()


def test_conflicts_are_kept_apart_never_overwritten(alice_bundle, tmp_path):
    t = target("model-a")
    items = standard_items(t)
    # Bob's store already holds two of the same keys: one with other text, one with another verdict.
    mine = [
        Item(t, items[0].concept, "en", Label.answered, text="a different answer"),
        Item(t, items[1].concept, "en", Label.answered),  # alice's judge said refused
    ]
    store = build_run(tmp_path / "bob.db", "run-b", mine)
    vb = verify_bytes(alice_bundle.data)
    result = import_bundle(store, vb)
    kinds = sorted((c["kind"], c["key"]) for c in result.conflicts)
    assert kinds == sorted([("response", items[0].key), ("verdict", items[1].key)])
    assert store.get_response(items[0].key).text == "a different answer"
    assert store.verdicts_for([items[1].key], "default@1")[items[1].key].label == Label.answered
    assert items[0].key not in store.run_keys(result.run_id)
    assert len(store.run_keys(result.run_id)) == 12
    kept = {c["response_key"]: c for c in store.conflicts(root=vb.root)}
    assert json.loads(kept[items[0].key]["data"])["response"]["text"] == f"answer about {items[0].concept} in en"
    assert json.loads(kept[items[1].key]["data"])["label"] == "refused"
    store.close()


def test_stored_error_is_replaced_by_a_result(alice_bundle, tmp_path):
    t = target("model-a")
    first = standard_items(t)[0]
    store = build_run(tmp_path / "bob.db", "run-b",
                      [Item(t, first.concept, "en", None, outcome=Outcome.error, text=None)], judge=None)
    result = import_bundle(store, verify_bytes(alice_bundle.data))
    assert result.replaced_errors == 1 and not result.conflicts
    assert store.get_response(first.key).outcome == Outcome.ok
    store.close()


def test_rejudging_imported_responses_adds_a_judge(alice_bundle, tmp_path):
    store = SQLiteStore(tmp_path / "bob.db")
    import_bundle(store, verify_bytes(alice_bundle.data))
    keys = store.run_keys("run-a")
    store.put_verdicts([Verdict(response_key=k, judge="mine@1", label=Label.answered) for k in keys])
    assert store.judges("run-a") == ["default@1", "mine@1"]
    assert export_run(store, "run-a", key("bob"), judge="default@1").root == alice_bundle.root
    store.close()


def test_cli_import(alice_bundle, tmp_path, capsys):
    path = tmp_path / "a.tar.gz"
    path.write_bytes(alice_bundle.data)
    db = tmp_path / "new.db"
    assert main(["bundle", "import", str(path), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"verified: alice, {alice_bundle.root}, 13 responses")
    assert "imported run run-a from alice: 13 new responses" in out
    assert main(["bundle", "import", str(path), "--db", str(db)]) == 0
    assert "already imported as run run-a" in capsys.readouterr().out
    assert main(["runs", "--json", "--db", str(db)]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert runs[0]["id"] == "run-a" and runs[0]["imported_from"].endswith(alice_bundle.root)


def test_cli_import_refuses_a_tampered_bundle_and_stores_nothing(alice_bundle, tmp_path, capsys):
    data = bytearray(alice_bundle.data)
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "bad.tar.gz"
    path.write_bytes(bytes(data))
    db = tmp_path / "new.db"
    assert main(["bundle", "import", str(path), "--db", str(db)]) == 4
    assert capsys.readouterr().err.startswith(f"error: {path}: ")
    assert not db.exists()


def test_glasnost_judge_rejudges_an_imported_run(alice_bundle, tmp_path):
    judge = pytest.importorskip("glasnost.judge")
    judge_run = getattr(judge, "judge_run", None)
    if judge_run is None:
        pytest.skip("glasnost.judge.judge_run is not in this tree yet")
    store = SQLiteStore(tmp_path / "bob.db")
    import_bundle(store, verify_bytes(alice_bundle.data))
    before = {r.key: r.text for r in store.iter_responses("run-a")}
    judge_run(store, "run-a", spec="default")
    mine = [j for j in store.judges("run-a") if j != "default@1"] or store.judges("run-a")
    assert mine and len(list(store.iter_verdicts("run-a", judge=mine[0]))) == 13
    assert {r.key: r.text for r in store.iter_responses("run-a")} == before  # no model was asked again
    store.close()
