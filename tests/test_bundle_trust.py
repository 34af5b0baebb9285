"""bundle verify names the signer's key and says plainly whether it is trusted; archive order is enforced
(issue 11)."""

from __future__ import annotations

import pytest

from glasnost.bundle.archive import read_members, write_archive
from glasnost.bundle.errors import VerifyError
from glasnost.bundle.export import export_run
from glasnost.bundle.verify import verify_bytes
from glasnost.cli.main import main
from test_bundle_fixtures import build_run, key, raw_tar, standard_items


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    store = build_run(tmp_path_factory.mktemp("t") / "a.db", "run-a", standard_items())
    data = export_run(store, "run-a", key("alice")).data
    store.close()
    return data


def test_a_reordered_archive_is_rejected(bundle):
    """Before: a reordered archive verified although docs/bundle-format.md fixes the order."""
    import tarfile

    members = read_members(bundle)
    assert list(members) == ["toc.json", "signature.json", "manifest.json", "bank.json", "summary.json",
                             "responses.jsonl", "verdicts.jsonl"]
    entries = []
    for name in reversed(list(members)):
        info = tarfile.TarInfo(name)
        info.size = len(members[name])
        entries.append((info, members[name]))
    with pytest.raises(VerifyError) as info:
        verify_bytes(raw_tar(entries))
    # version 2 fixes the container byte for byte (order included): any other archive is a container error
    assert info.value.reason in ("order", "container"), info.value
    verify_bytes(write_archive(members))  # the same members in order verify


def test_verify_prints_the_fingerprint_and_trust(bundle, tmp_path, capsys, monkeypatch):
    config = tmp_path / "config"
    monkeypatch.setenv("GLASNOST_CONFIG_DIR", str(config))
    path = tmp_path / "a.tar.gz"
    path.write_bytes(bundle)
    fp = key("alice").fingerprint
    assert main(["bundle", "verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"key fingerprint {fp}" in out and "NOT a key you trust" in out and "trusted_keys" in out

    # trusted by fingerprint on the command line
    assert main(["bundle", "verify", str(path), "--trust", fp]) == 0
    assert "trusted (as" in capsys.readouterr().out
    # another fingerprint: refused with the verify exit code
    assert main(["bundle", "verify", str(path), "--trust", "0" * 64]) == 4
    assert "not in the trust file" in capsys.readouterr().err

    # the user's trusted-keys file
    config.mkdir()
    (config / "trusted_keys").write_text(key("alice").pub_line() + "\n")
    assert main(["bundle", "verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "trusted (as alice)" in out and "NOT" not in out
