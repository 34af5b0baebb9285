"""The container: a gzip-compressed POSIX (ustar) tar of flat members, written byte-for-byte reproducibly
and read with bounds.

Writing: members in ``ARCHIVE_ORDER``, each a regular file with mtime 0, uid/gid 0, no user or group
names, mode 0644; gzip with mtime 0 and no file name. The same members always give the same bytes.

Reading treats the file as hostile: the compressed size, the total decompressed size and the
compression ratio are bounded while decompressing (a bomb stops at the limit, it is never inflated in
full); only regular files with one of the expected flat names are accepted (no links, folders, devices,
absolute names, ``..`` or duplicates); nothing is ever extracted to disk and nothing is unpickled.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from glasnost.bundle.errors import BundleError, VerifyError
from glasnost.bundle.format import ARCHIVE_ORDER

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    compressed: int = 512 * MiB  # the archive file
    total: int = 2048 * MiB  # all members decompressed
    member: int = 1536 * MiB  # one member
    ratio: float = 200.0  # decompressed / compressed, checked once past ratio_floor
    ratio_floor: int = 4 * MiB  # small archives of repetitive JSON may compress well; that is no bomb


DEFAULT_LIMITS = Limits()


GZIP_HEADER = bytes.fromhex("1f8b08000000000002ff")  # deflate, no flags, mtime 0, XFL 2 (level 9), OS 255


def tar_bytes(members: dict[str, bytes]) -> bytes:
    """The canonical tar of the members: ustar headers, ``ARCHIVE_ORDER``, NUL padding to 512-byte
    blocks, two zero blocks, then zeros up to a multiple of 10240 bytes (docs/bundle-format.md)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in ARCHIVE_ORDER:
            data = members[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def write_archive(members: dict[str, bytes]) -> bytes:
    return gzip_bytes(tar_bytes(members))


def gzip_bytes(tar: bytes) -> bytes:
    """gzip with the fixed header (no name, mtime 0, XFL 2, OS 255), deflate at zlib level 9."""
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(tar)
    return out.getvalue()


def check_canonical_container(data: bytes, members: dict[str, bytes]) -> None:
    """Version 2: the gzip header is the fixed one, nothing follows the gzip stream, and the tar is
    exactly the canonical tar of its members (member order, header fields, padding)."""
    if data[:10] != GZIP_HEADER:
        raise VerifyError(f"container: gzip header is {data[:10].hex()}, not the fixed {GZIP_HEADER.hex()}", "container")
    inflater = zlib.decompressobj(wbits=31)
    tar = inflater.decompress(data)  # bounded already: read_members inflated it under the limits
    if inflater.unused_data:
        raise VerifyError("container: data after the gzip stream", "container")
    if tar != tar_bytes(members):
        raise VerifyError(
            "container: the tar is not the canonical form of its members "
            "(member order, ustar header fields, padding); re-export it with glasnost", "container",
        )


def read_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> bytes:
    try:
        size = path.stat().st_size
        if size > limits.compressed:
            raise VerifyError(f"{path}: {size} bytes is over the {limits.compressed}-byte limit for a bundle", "container")
        return path.read_bytes()
    except FileNotFoundError:
        raise BundleError(f"no bundle at {path}; check the path") from None
    except IsADirectoryError:
        raise BundleError(f"{path} is a folder; give a bundle file (.tar.gz)") from None
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path} ({exc.strerror}); check its permissions") from None


def decompress(data: bytes, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """gzip -> bytes, stopping as soon as a limit is crossed."""
    if len(data) > limits.compressed:
        raise VerifyError(f"bundle is {len(data)} bytes, over the {limits.compressed}-byte limit", "container")
    if data[:2] != b"\x1f\x8b":
        raise VerifyError("not a bundle: the file is not gzip-compressed (a bundle is a .tar.gz)")
    inflater = zlib.decompressobj(wbits=31)  # gzip wrapper
    out = bytearray()
    chunk = 1 * MiB
    pending = data
    while True:
        try:
            piece = inflater.decompress(pending, chunk)
        except zlib.error as exc:
            raise VerifyError(f"bundle is not valid gzip ({exc}); the file is damaged") from None
        out += piece
        if len(out) > limits.total:
            raise VerifyError(f"bundle decompresses to more than {limits.total} bytes; refused as a possible bomb")
        if len(out) > limits.ratio_floor and len(out) > limits.ratio * len(data):
            raise VerifyError(
                f"bundle decompresses more than {limits.ratio:g} times its size; refused as a possible bomb"
            )
        pending = inflater.unconsumed_tail
        if inflater.eof:
            break
        if not pending and not piece:
            raise VerifyError("bundle gzip stream is truncated; the file is damaged or incomplete")
    if inflater.unused_data.strip(b"\x00"):
        raise VerifyError("bundle has data after its gzip stream; refused (one archive per file)")
    return bytes(out)


def read_members(data: bytes, limits: Limits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """The members of a bundle archive (compressed bytes), checked against the expected flat names."""
    tar_bytes = decompress(data, limits)
    allowed = set(ARCHIVE_ORDER)
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
            for info in tar:
                name = info.name
                if name not in allowed:
                    shown = name.encode("unicode_escape").decode("ascii")[:120]
                    raise VerifyError(
                        f"bundle holds an unexpected member {shown!r}; a bundle has only {', '.join(ARCHIVE_ORDER)}"
                    )
                if not info.isreg() or info.type == tarfile.GNUTYPE_SPARSE:
                    raise VerifyError(f"bundle member {name} is not a regular file (link or special file); refused")
                if name in members:
                    raise VerifyError(f"bundle holds member {name} twice; refused")
                if info.size > limits.member:
                    raise VerifyError(f"bundle member {name} is {info.size} bytes, over the {limits.member}-byte limit")
                fh = tar.extractfile(info)
                content = fh.read(info.size + 1) if fh is not None else b""
                if len(content) != info.size:
                    raise VerifyError(f"bundle member {name} is truncated; the file is damaged")
                members[name] = content
    except tarfile.TarError as exc:
        raise VerifyError(f"bundle is not a valid tar archive ({exc}); the file is damaged") from None
    missing = [n for n in ARCHIVE_ORDER if n not in members]
    if missing:
        raise VerifyError(f"bundle lacks member {missing[0]}; it is incomplete")
    return members
