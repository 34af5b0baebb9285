"""glasnost keys: the auditor key pair, its file modes, names, trust files."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization

from glasnost.bundle.errors import BundleError
from glasnost.bundle.keys import (
    config_dir,
    init_key,
    load_key,
    load_trust,
    verify_signature,
)
from glasnost.cli.main import main


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASNOST_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def test_config_dir_order(tmp_path, monkeypatch):
    monkeypatch.delenv("GLASNOST_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "glasnost"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_dir() == tmp_path / "home" / ".config" / "glasnost"
    monkeypatch.setenv("GLASNOST_CONFIG_DIR", str(tmp_path / "explicit"))
    assert config_dir() == tmp_path / "explicit"


def test_init_writes_private_key_0600_and_never_prints_it(cfg, capsys):
    assert main(["keys", "init", "--name", "Alice Audits"]) == 0
    out = capsys.readouterr().out
    key_file = cfg / "keys" / "auditor.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = key_file.read_bytes()
    private = serialization.load_pem_private_key(pem, password=None)
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    assert "PRIVATE" not in out
    assert base64.b64encode(raw).decode() not in out and raw.hex() not in out
    key = load_key()
    assert key.name == "Alice Audits"
    assert key.fingerprint in out and key.public_b64 in out


def test_init_refuses_to_overwrite_and_force_keeps_the_old_key(cfg, capsys):
    assert main(["keys", "init", "--name", "a"]) == 0
    first = load_key()
    assert main(["keys", "init", "--name", "b"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and "Traceback" not in err
    assert load_key().fingerprint == first.fingerprint
    assert main(["keys", "init", "--name", "b", "--force"]) == 0
    second = load_key()
    assert second.fingerprint != first.fingerprint and second.name == "b"
    kept = list((cfg / "keys").glob("auditor.*.key.old"))
    assert len(kept) == 1 and first.fingerprint[:16] in kept[0].name
    assert stat.S_IMODE(kept[0].stat().st_mode) == 0o600


def test_show_prints_public_key_fingerprint_and_name(cfg, capsys):
    key, _ = init_key("Bob")
    capsys.readouterr()
    assert main(["keys", "show"]) == 0
    out = capsys.readouterr().out
    assert "name: Bob" in out
    assert f"fingerprint: {key.fingerprint}" in out
    assert f"public key: ed25519 {key.public_b64} Bob" in out


def test_show_without_key_is_one_clear_line(cfg, capsys):
    assert main(["keys", "show"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no auditor key in") and "keys init" in err and "\n" not in err


def test_default_name_is_not_the_login(cfg, capsys):
    key, _ = init_key(None)
    assert key.name == "anonymous"
    login = os.environ.get("USER") or os.environ.get("LOGNAME")
    if login and login != "anonymous":
        assert login not in (cfg / "keys" / "auditor.pub").read_text()


@pytest.mark.parametrize("name", ["", "a\nb", "x\x1b[31m", "\u202eevil", "n" * 101])
def test_bad_names_refused(cfg, name):
    with pytest.raises(BundleError):
        init_key(name)


def test_world_readable_key_refused(cfg):
    init_key("c")
    path = cfg / "keys" / "auditor.key"
    os.chmod(path, 0o644)
    with pytest.raises(BundleError, match="chmod 600"):
        load_key()


def test_mismatched_pub_file_refused(cfg):
    init_key("c")
    other = init_key("d", folder=cfg / "other")[0]
    (cfg / "keys" / "auditor.pub").write_text(other.pub_line() + "\n")
    with pytest.raises(BundleError, match="does not match"):
        load_key()


def test_signatures_are_deterministic_and_bound_to_the_key(cfg):
    key, _ = init_key("e")
    assert key.sign(b"m") == key.sign(b"m")
    assert verify_signature(key.public_b64, key.sign(b"m"), b"m")
    assert not verify_signature(key.public_b64, key.sign(b"m"), b"n")
    other = init_key("f", folder=cfg / "o")[0]
    assert not verify_signature(other.public_b64, key.sign(b"m"), b"m")
    assert not verify_signature(key.public_b64, "not base64!", b"m")


def test_trust_file(tmp_path, cfg):
    key, _ = init_key("g")
    trust = tmp_path / "trusted"
    trust.write_text(f"# friends\n\n{key.pub_line()}\n{key.public_b64}\n")
    assert load_trust(trust) == {key.fingerprint: "g"}
    trust.write_text("ed25519 AAAA bob\n")
    with pytest.raises(BundleError, match=r"trusted:1: public key has 3 bytes"):
        load_trust(trust)
    trust.write_text("# nothing\n")
    with pytest.raises(BundleError, match="holds no keys"):
        load_trust(trust)
    with pytest.raises(BundleError, match="cannot read trust file"):
        load_trust(tmp_path / "missing")
