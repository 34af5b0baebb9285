"""Writing an output file (report, export, bundle) atomically, with one clear line when it cannot be done.

A temporary file in the target folder is written, given the permissions a shared file would get under the
user's umask (mkstemp makes 0600), and renamed over the target: a reader never sees half a file, and a
crash leaves the previous file intact.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

from glasnost.errors import ConfigError, GlasnostError

T = TypeVar("T")


def check_out_path(out: Path, error: type[GlasnostError] = ConfigError) -> Path:
    out = Path(out)
    if out.exists() and out.is_dir():
        raise error(f"{out} is a folder; --out takes a file path")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise error(f"folder {folder} does not exist; create it or choose another --out")
    return out


def write_atomically(out: Path, write: Callable[[Path], T], error: type[GlasnostError] = ConfigError) -> T:
    """Call ``write(tmp_path)`` and move the result to ``out``; OS errors become one ``error`` line."""
    out = check_out_path(out, error)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".glasnost-", suffix=".tmp", dir=str(out.parent))
    except OSError as exc:  # a folder we may not write in (read-only, /proc, another user's)
        raise error(f"cannot write {out} ({exc.strerror}); choose another --out") from None
    os.close(fd)
    try:
        result = write(Path(tmp))
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
    return result
