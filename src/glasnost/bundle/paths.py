"""Where the auditor's keys and trusted keys live (no cryptography imported: every output path is checked
against these files, and a run should not load a crypto library for that)."""

from __future__ import annotations

import os
from pathlib import Path


def config_dir() -> Path:
    explicit = os.environ.get("GLASNOST_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / "glasnost"


def keys_dir() -> Path:
    return config_dir() / "keys"
