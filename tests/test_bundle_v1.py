"""Version-1 bundles (written by glasnost before format 2) still verify, and are still refused when altered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bundle_cases import fixed_key
from glasnost.bundle.archive import read_members, write_archive
from glasnost.bundle.errors import VerifyError
from glasnost.bundle.export import export_run
from glasnost.bundle.verify import verify_bytes
from test_bundle_fixtures import build_run, key, standard_items

FIXTURE = Path(__file__).parent / "data" / "bundle-v1.tar.gz"  # exported by glasnost's format-1 code


def test_committed_v1_bundle_verifies():
    vb = verify_bytes(FIXTURE.read_bytes())
    assert json.loads(vb.members["toc.json"])["format_version"] == 1
    assert vb.fingerprint == fixed_key("alice").fingerprint and len(vb.responses) == 13
    # Version 1 wrote Python floats (0.0) that version 2's canonical form writes as 0.
    assert b'"temperature":0.0' in vb.members["manifest.json"]


def test_altered_v1_bundle_is_refused():
    members = read_members(FIXTURE.read_bytes())
    members["responses.jsonl"] = members["responses.jsonl"].replace(b"answer about", b"answer abouT", 1)
    with pytest.raises(VerifyError, match="responses.jsonl: sha256"):
        verify_bytes(write_archive(members))


def test_v1_export_still_possible_and_v2_is_the_default(tmp_path):
    store = build_run(tmp_path / "a.db", "run-a", standard_items())
    v1 = export_run(store, "run-a", key("alice"), version=1).data
    v2 = export_run(store, "run-a", key("alice")).data
    assert json.loads(read_members(v1)["toc.json"])["format_version"] == 1
    assert json.loads(read_members(v2)["toc.json"])["format_version"] == 2
    assert verify_bytes(v1).root != verify_bytes(v2).root
