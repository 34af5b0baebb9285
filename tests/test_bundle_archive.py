"""Reading archives as hostile input: traversal, links, unexpected members, bombs, damage."""

from __future__ import annotations

import gzip
import tarfile

import pytest

from glasnost.bundle.archive import Limits, decompress, read_file, read_members, write_archive
from glasnost.bundle.errors import BundleError, VerifyError
from glasnost.cli.main import main
from glasnost.bundle.format import ARCHIVE_ORDER
from test_bundle_fixtures import raw_tar


def good_members() -> dict[str, bytes]:
    return {name: f"{name}\n".encode() for name in ARCHIVE_ORDER}


def entry(name: str, data: bytes | None = b"x", kind: bytes = tarfile.REGTYPE, link: str = "") -> tuple:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if data is not None and kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


def good_entries() -> list[tuple]:
    return [entry(n, f"{n}\n".encode()) for n in ARCHIVE_ORDER]


def test_round_trip_of_the_container():
    assert read_members(write_archive(good_members())) == good_members()
    assert write_archive(good_members()) == write_archive(good_members())


@pytest.mark.parametrize(
    "bad, needle",
    [
        (entry("../manifest.json"), "unexpected member"),
        (entry("/etc/passwd"), "unexpected member"),
        (entry("sub/manifest.json"), "unexpected member"),
        (entry("evil.pkl", b"\x80\x04K\x01."), "unexpected member"),
        (entry("sub", None, tarfile.DIRTYPE), "unexpected member"),
    ],
)
def test_unexpected_members_refused(bad, needle):
    with pytest.raises(VerifyError, match=needle):
        read_members(raw_tar([bad, *good_entries()]))


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE])
def test_links_and_special_files_refused(kind):
    entries = [e for e in good_entries() if e[0].name != "manifest.json"]
    entries.append(entry("manifest.json", None, kind, link="/etc/passwd"))
    with pytest.raises(VerifyError, match="manifest.json is not a regular file"):
        read_members(raw_tar(entries))


def test_duplicate_and_missing_members_refused():
    with pytest.raises(VerifyError, match="manifest.json twice"):
        read_members(raw_tar([*good_entries(), entry("manifest.json")]))
    with pytest.raises(VerifyError, match="lacks member summary.json"):
        read_members(raw_tar([e for e in good_entries() if e[0].name != "summary.json"]))


def test_decompression_bomb_stops_at_the_limit():
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), mtime=0)  # 64 MiB of zeros, ~64 KiB compressed
    with pytest.raises(VerifyError, match="possible bomb"):
        decompress(bomb, Limits(total=8 * 1024 * 1024, ratio=1e9))
    with pytest.raises(VerifyError, match="times its size"):
        decompress(bomb, Limits(ratio=100.0, ratio_floor=1024 * 1024))


def test_member_size_limit():
    members = good_members()
    members["responses.jsonl"] = b"a" * 5000
    with pytest.raises(VerifyError, match="responses.jsonl is 5000 bytes"):
        read_members(write_archive(members), Limits(member=4096))


def test_compressed_size_limit(tmp_path):
    path = tmp_path / "big.tar.gz"
    path.write_bytes(b"\x1f\x8b" + b"0" * 2000)
    with pytest.raises(VerifyError, match="over the 1000-byte limit"):
        read_file(path, Limits(compressed=1000))


@pytest.mark.parametrize(
    "data, needle",
    [
        (b"PK\x03\x04 a zip", "not gzip"),
        (b"", "not gzip"),
        (gzip.compress(b"not a tar at all" * 10), "not a valid tar"),
        (write_archive(good_members())[:-20], "truncated|damaged|valid gzip"),
        (write_archive(good_members()) + gzip.compress(b"more"), "after its gzip stream"),
    ],
)
def test_damaged_archives(data, needle):
    with pytest.raises(VerifyError, match=needle):
        read_members(data)


def test_missing_file_and_folder(tmp_path, capsys):
    with pytest.raises(BundleError, match="no bundle at"):
        read_file(tmp_path / "nope.tar.gz")
    with pytest.raises(BundleError, match="is a folder"):
        read_file(tmp_path)
    assert main(["bundle", "verify", str(tmp_path / "nope.tar.gz")]) == 2
    assert capsys.readouterr().err == f"error: no bundle at {tmp_path / 'nope.tar.gz'}; check the path\n"


def test_nothing_is_written_to_disk_while_reading(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entries = [entry("../escape.txt"), *good_entries()]
    with pytest.raises(VerifyError):
        read_members(raw_tar(entries))
    read_members(write_archive(good_members()))
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent / "escape.txt").exists()


def test_gnu_longname_member_is_refused():
    long_name = "a" * 150 + ".json"
    with pytest.raises(VerifyError, match="unexpected member"):
        read_members(raw_tar([entry(long_name), *good_entries()]))
