"""The built-in bank's JSON cache: YAML parsed only when the files changed; a bad cache is ignored and rebuilt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from glasnost.bank import cache, load
from glasnost.bank.load import builtin_bank_dir, load_bank, load_dir


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("GLASNOST_CACHE_DIR", str(folder))
    return folder


def _no_yaml(monkeypatch):
    def refuse(folder):
        raise AssertionError("the YAML was parsed although the cache holds it")

    monkeypatch.setattr(load, "_parse_dir", refuse)


def test_second_load_reads_the_cache_not_the_yaml(cache_home, monkeypatch):
    first = load_bank("quick")
    uncached = load_dir(builtin_bank_dir(), name="core").fingerprint
    written = list(cache_home.glob("bank-*.json"))
    assert len(written) == 1
    _no_yaml(monkeypatch)
    again = load_bank("quick")
    assert again.fingerprint == first.fingerprint
    assert [c.id for c in again.concepts] == [c.id for c in first.concepts]
    assert again.files == first.files
    assert load_bank("core").fingerprint == uncached


@pytest.mark.parametrize("damage", ["not json {", '{"format": 1}', "truncated-concepts"])
def test_a_corrupt_cache_is_ignored_and_rebuilt(cache_home, damage):
    first = load_bank("core")
    [path] = cache_home.glob("bank-*.json")
    if damage == "truncated-concepts":
        data = json.loads(path.read_text())
        data["concepts"][0]["variants"] = "not a mapping"  # no longer a valid concept
        path.write_text(json.dumps(data))
    else:
        path.write_text(damage)
    again = load_bank("core")
    assert again.fingerprint == first.fingerprint
    assert cache.read(path.name[len("bank-"):-len(".json")]) is not None  # rewritten, valid again


def test_a_changed_file_is_parsed_again(cache_home, tmp_path):
    folder = tmp_path / "bank"
    shutil.copytree(builtin_bank_dir(), folder)
    before = load_dir(folder, cache=True)
    victim = folder / before.files[before.concepts[0].id]
    victim.write_text(victim.read_text(encoding="utf-8").replace(before.concepts[0].id, "zz-renamed-concept", 1),
                      encoding="utf-8")
    after = load_dir(folder, cache=True)
    assert "zz-renamed-concept" in after.by_id and before.concepts[0].id not in after.by_id
    assert len(list(cache_home.glob("bank-*.json"))) == 2


def test_an_unwritable_cache_folder_costs_only_the_parse(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("GLASNOST_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot be created
    assert load_bank("quick").concepts


def test_cache_folder_precedence(tmp_path):
    assert cache.cache_dir({"GLASNOST_CACHE_DIR": "/a", "XDG_CACHE_HOME": "/b"}) == Path("/a")
    assert cache.cache_dir({"XDG_CACHE_HOME": "/b"}) == Path("/b/glasnost")
    assert cache.cache_dir({}) == Path.home() / ".cache" / "glasnost"


def test_a_subset_reads_only_its_own_concepts_from_its_own_cache_file(cache_home, monkeypatch):
    first = load_bank("quick")
    [subset_file] = cache_home.glob("subset-quick-*.json")
    held = json.loads(subset_file.read_text(encoding="utf-8"))
    assert held["subset"] == "quick" and len(held["concepts"]) == len(first.concepts) < len(load_bank("core").concepts)
    uncached = load_dir(builtin_bank_dir(), name="core")
    for full in cache_home.glob("bank-*.json"):  # the whole bank's cache is not needed for the subset
        full.unlink()
    _no_yaml(monkeypatch)
    again = load_bank("quick")
    assert again.fingerprint == first.fingerprint and [c.id for c in again.concepts] == [c.id for c in first.concepts]
    assert again.fingerprint == load.Bank(name="quick", version=uncached.version, concepts=[
        uncached.by_id[i] for i in uncached.subsets["quick"]], files=uncached.files).fingerprint


def test_a_damaged_subset_cache_is_ignored_and_rebuilt(cache_home):
    first = load_bank("quick")
    [subset_file] = cache_home.glob("subset-quick-*.json")
    data = json.loads(subset_file.read_text(encoding="utf-8"))
    data["subset"] = "core"  # claims to be something else
    subset_file.write_text(json.dumps(data), encoding="utf-8")
    assert load_bank("quick").fingerprint == first.fingerprint
    assert json.loads(subset_file.read_text(encoding="utf-8"))["subset"] == "quick"  # rewritten
