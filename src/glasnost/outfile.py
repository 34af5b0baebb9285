"""Writing an output file (report, export, bundle, classify's labels) atomically, never over an input.

Every writer of glasnost goes through ``write_atomically`` (or ``atomic_path``, its context-manager form for
streaming writers such as ``classify``):

- an output that resolves to an input -- the store or its ``-wal``/``-shm``/``-journal`` files, an input file,
  a bank file, and always the auditor's key files -- is refused with one line, compared by real path
  (symlinks followed) and by inode (hard links), before anything is written;
- a temporary ``.glasnost-*.tmp`` file in the target folder is written, flushed to disk (fsync), given the
  permissions a shared file would get under the user's umask (mkstemp makes 0600) and renamed over the
  target: a reader never sees half a file, a crash leaves the previous file intact, and a failure leaves no
  temporary file behind;
- temporary files a killed writer left in that folder (older than ``STALE_AFTER_S``) are removed when the
  next writer starts there.
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

from glasnost.errors import ConfigError, GlasnostError

T = TypeVar("T")

TMP_PREFIX = ".glasnost-"
TMP_SUFFIX = ".tmp"
STALE_AFTER_S = 300.0
STORE_SIDE_FILES = ("-wal", "-shm", "-journal")


def store_files(db: Path) -> list[Path]:
    """The store and the files SQLite keeps beside it: none of them may be an output."""
    db = Path(db)
    return [db, *(db.with_name(db.name + side) for side in STORE_SIDE_FILES)]


def _same(a: Path, b: Path) -> bool:
    try:
        if os.path.realpath(a) == os.path.realpath(b):
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)  # hard links: same inode
    except (OSError, ValueError):
        return False


def _always_protected() -> list[Path]:
    """Files no output may ever replace, whatever the command: the auditor's key pair and trusted keys."""
    try:
        from glasnost.bundle.paths import config_dir, keys_dir

        return [*keys_dir().glob("auditor*"), config_dir() / "trusted_keys"]
    except (ImportError, OSError):
        return []


def check_out_path(out: Path, error: type[GlasnostError] = ConfigError,
                   protect: Iterable[Path] = ()) -> Path:
    out = Path(out)
    if out.exists() and out.is_dir():
        raise error(f"{out} is a folder; --out takes a file path")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise error(f"folder {folder} does not exist; create it or choose another --out")
    for path in [*protect, *_always_protected()]:
        if path is not None and _same(out, Path(path)):
            raise error(f"refusing to write {out}: it is an input of this command ({path}); choose another --out")
    return out


def clean_stale(folder: Path, now: float | None = None) -> int:
    """Remove ``.glasnost-*.tmp`` files older than ``STALE_AFTER_S`` (a killed writer's); how many."""
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(TMP_PREFIX) and entry.name.endswith(TMP_SUFFIX)):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(out: Path, error: type[GlasnostError] = ConfigError, protect: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; when the block ends without an exception it is synced and
    renamed to ``out``, otherwise removed. OS errors become one ``error`` line."""
    out = check_out_path(out, error, protect)
    folder = out.parent if str(out.parent) else Path(".")
    clean_stale(folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=str(folder))
    except OSError as exc:  # a folder we may not write in (read-only, /proc, another user's)
        raise error(f"cannot write {out} ({exc.strerror}); choose another --out") from None
    os.close(fd)
    try:
        yield Path(tmp)
        _fsync(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except OSError as exc:  # disk full, a file system that refuses the rename
        Path(tmp).unlink(missing_ok=True)
        raise error(f"cannot write {out} ({exc.strerror}); choose another --out") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(out: Path, write: Callable[[Path], T], error: type[GlasnostError] = ConfigError,
                     protect: Iterable[Path] = ()) -> T:
    """Call ``write(tmp_path)`` and move the result to ``out``; OS errors become one ``error`` line."""
    with atomic_path(out, error, protect) as tmp:
        result = write(tmp)
    return result
