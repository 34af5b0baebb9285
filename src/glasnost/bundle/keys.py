"""Auditor keys: an Ed25519 key pair in the user's config directory, and files of trusted public keys.

Layout of ``<config>/keys/`` (``<config>`` is GLASNOST_CONFIG_DIR, else XDG_CONFIG_HOME/glasnost, else
~/.config/glasnost):

- ``auditor.key``: the private key, PEM (PKCS#8, unencrypted), mode 0600, never printed;
- ``auditor.pub``: one line ``ed25519 <base64 of the 32 raw key bytes> <name>``.

A trust file holds such lines (``#`` comments and blank lines allowed), so ``cat alice.pub >> trusted``
is all it takes to trust someone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from glasnost.bundle.errors import BundleError
from glasnost.bundle.paths import config_dir, keys_dir  # noqa: F401  (re-exported)

KEY_FILE = "auditor.key"
PUB_FILE = "auditor.pub"
ALGORITHM = "ed25519"
NAME_MAX = 100
DEFAULT_NAME = "anonymous"  # never the OS user name: a bundle is public and the login is not
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def check_name(name: str) -> str:
    """An auditor name is shown to others: short, printable, no control or bidi-override characters."""
    name = name.strip()
    if not name:
        raise BundleError("the auditor name is empty; pass --name with the name others will see")
    if len(name) > NAME_MAX:
        raise BundleError(f"the auditor name is {len(name)} characters long; keep it under {NAME_MAX}")
    if _CONTROL.search(name):
        raise BundleError("the auditor name contains control characters; use printable text")
    return name


def encode_public(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def decode_public(text: str) -> Ed25519PublicKey:
    """A public key from base64 of its 32 raw bytes; ValueError with a reason otherwise."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("public key is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"public key has {len(raw)} bytes; an Ed25519 key has 32")
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(public_b64: str) -> str:
    """sha256 (hex) of the 32 raw public key bytes: the auditor's stable identity."""
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()


def verify_signature(public_b64: str, signature_b64: str, message: bytes) -> bool:
    try:
        key = decode_public(public_b64)
        sig = base64.b64decode(signature_b64.encode("ascii"), validate=True)
        key.verify(sig, message)
        return True
    except (ValueError, binascii.Error, UnicodeEncodeError, InvalidSignature):
        return False


@dataclass
class AuditorKey:
    name: str
    private: Ed25519PrivateKey

    @property
    def public_b64(self) -> str:
        return encode_public(self.private.public_key())

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_b64)

    def pub_line(self) -> str:
        return f"{ALGORITHM} {self.public_b64} {self.name}"

    def sign(self, message: bytes) -> str:
        """Ed25519 signatures are deterministic: the same message always gives the same bytes."""
        return base64.b64encode(self.private.sign(message)).decode("ascii")


def generate(name: str) -> AuditorKey:
    return AuditorKey(check_name(name), Ed25519PrivateKey.generate())


def init_key(name: str | None = None, force: bool = False, folder: Path | None = None) -> tuple[AuditorKey, Path]:
    """Create the key pair. An existing key is kept unless ``force``; then it is moved aside, not deleted."""
    folder = folder or keys_dir()
    key_path, pub_path = folder / KEY_FILE, folder / PUB_FILE
    if key_path.exists() and not force:
        raise BundleError(
            f"an auditor key already exists at {key_path}; `glasnost keys show` prints it, "
            "`glasnost keys init --force` replaces it (the old one is kept beside it)"
        )
    key = generate(DEFAULT_NAME if name is None else name)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if key_path.exists():
            old = load_key(folder, check_mode=False)
            stem = f"auditor.{old.fingerprint[:16]}"
            os.replace(key_path, folder / f"{stem}.key.old")
            if pub_path.exists():
                os.replace(pub_path, folder / f"{stem}.pub.old")
        pem = key.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # O_EXCL with mode 0600: the private key is never readable by others, not even for an instant.
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        pub_path.write_text(key.pub_line() + "\n", encoding="utf-8")
    except OSError as exc:
        raise BundleError(f"cannot write the auditor key in {folder} ({exc.strerror}); set GLASNOST_CONFIG_DIR") from None
    return key, key_path


def load_key(folder: Path | None = None, check_mode: bool = True) -> AuditorKey:
    folder = folder or keys_dir()
    key_path, pub_path = folder / KEY_FILE, folder / PUB_FILE
    if not key_path.exists():
        raise BundleError(f"no auditor key in {folder}; create one with `glasnost keys init --name NAME`")
    if check_mode and os.name == "posix":
        mode = key_path.stat().st_mode & 0o777
        if mode & 0o077:
            raise BundleError(f"auditor key {key_path} is readable by others (mode {mode:o}); run chmod 600 {key_path}")
    try:
        private = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise BundleError(
            f"{key_path} is not a readable Ed25519 private key ({exc}); recreate it with keys init --force"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise BundleError(f"{key_path} is not an Ed25519 key; recreate it with `glasnost keys init --force`")
    name = DEFAULT_NAME
    if pub_path.exists():
        entries = parse_trust_lines(pub_path.read_text(encoding="utf-8"), str(pub_path))
        if entries:
            pub, name = entries[0]
            if pub != encode_public(private.public_key()):
                raise BundleError(f"{pub_path} does not match {key_path}; recreate the pair with keys init --force")
    return AuditorKey(name or DEFAULT_NAME, private)


def parse_trust_lines(text: str, where: str) -> list[tuple[str, str]]:
    """(public key base64, name) per line of ``ed25519 <base64> [name]`` (or a bare base64 key)."""
    out: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if parts[0] == ALGORITHM:
            parts = parts[1:]
        if not parts:
            raise BundleError(f"{where}:{number}: expected `ed25519 <base64 key> [name]`")
        try:
            decode_public(parts[0])
        except ValueError as exc:
            raise BundleError(f"{where}:{number}: {exc}; expected `ed25519 <base64 key> [name]`") from None
        out.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return out


def load_trust(path: Path) -> dict[str, str]:
    """fingerprint -> name of every key in a trust file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise BundleError(f"cannot read trust file {path} ({reason}); give a file of `ed25519 <key> <name>` lines") from None
    entries = parse_trust_lines(text, str(path))
    if not entries:
        raise BundleError(f"trust file {path} holds no keys; add `ed25519 <key> <name>` lines (see keys show)")
    trusted: dict[str, str] = {}
    for pub, name in entries:
        trusted.setdefault(fingerprint(pub), name)  # the first line naming a key wins
    return trusted


def printable(text: str) -> str:
    """Names and other foreign strings shown in a terminal: control characters replaced."""
    return _CONTROL.sub("?", text)
