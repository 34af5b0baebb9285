"""Shared fixtures. Keep each small; append new ones below."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helpers (tiny_model, helpers_runner)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Qwen2-style chat model on disk (see tests/tiny_model.py), built once per session."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@dataclass(frozen=True)
class ServedModel:
    base_url: str  # e.g. http://127.0.0.1:PORT/v1
    model: str  # the model name the server answers to

    @property
    def spec(self) -> str:
        """A target spec string for it: ``openai-compat:BASE#MODEL``."""
        return f"openai-compat:{self.base_url}#{self.model}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def openai_server(tiny_model_dir, tmp_path_factory) -> ServedModel:
    """A real third-party OpenAI-compatible server (``transformers serve``) serving the tiny model, offline.

    Needs the serving extras (fastapi, uvicorn, openai, accelerate; in the ``dev`` extra). Started once per
    session on a free port; killed at the end.
    """
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "transformers-serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "transformers.cli.transformers", "serve", str(tiny_model_dir),
           "--device", "cpu", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not _healthy(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                pytest.fail(f"transformers serve did not become ready (exit {proc.poll()}):\n{tail}")
            time.sleep(0.25)
        yield ServedModel(base_url=f"http://127.0.0.1:{port}/v1", model=str(tiny_model_dir))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


# ---- one suite, two stores (issue 16): a throwaway PostgreSQL cluster, and a store fixture for both ---------

@pytest.fixture(scope="session")
def pg_cluster():
    """A PostgreSQL server for this session (tests/pg_cluster.py); skipped only where its binaries are absent
    (scripts/test.sh installs Debian's postgresql). PGPASSWORD is set for this process and its children."""
    from pg_cluster import PASSWORD, pg_bin, start_cluster

    binaries = pg_bin()
    if binaries is None or not (binaries / "initdb").exists():
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are absent; scripts/test.sh installs Debian's postgresql")
    pytest.importorskip("psycopg")
    pytest.importorskip("psycopg_pool")
    cluster = start_cluster(binaries)
    previous = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = PASSWORD
    try:
        yield cluster
    finally:
        if previous is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = previous
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_db(request, tmp_path) -> str:
    """A fresh, empty store location for each engine: an SQLite file path, or a new PostgreSQL database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "g.db")
    return request.getfixturevalue("pg_cluster").create_database()


CHROMIUM = "/usr/bin/chromium"  # Debian's chromium (scripts/test.sh installs it); Playwright drives it, no download
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the browser tests (reports, leaderboard, in-page bundle verification), one per module.
    A missing browser fails loudly: the escaping and verification guarantees are only proven there."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("GLASNOST_SKIP_BROWSER_TESTS") == "1":
            pytest.skip("GLASNOST_SKIP_BROWSER_TESTS=1")
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (or GLASNOST_SKIP_BROWSER_TESTS=1)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
