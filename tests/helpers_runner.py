"""Helpers for runner tests: a small bank on disk and a mock OpenAI-compatible server in a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml


def write_small_bank(path: Path, n: int = 6, langs: tuple[str, ...] = ("en", "zh-Hans")) -> Path:
    concepts = []
    for i in range(n):
        jur = "CN" if i % 2 == 0 else "US"
        concepts.append(
            {
                "id": f"{jur.lower()}.topic-{i}.knowledge",
                "jurisdiction": jur,
                "topic": f"topic-{i}",
                "kind": "knowledge",
                "variants": {lang: f"Question {i} in {lang}?" for lang in langs},
                "facts": [{"id": "f", "text": "a fact", "aliases": {lang: [f"fact{i}"] for lang in langs}}],
                "sources": [{"title": "test"}],
            }
        )
    path.write_text(yaml.safe_dump({"name": "small", "version": "1", "concepts": concepts}, allow_unicode=True))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MockServer:
    """The glasnost mock server in its own process (so it does not share the client's event loop or core)."""

    def __init__(self, latency_ms: float = 0.0, hang_after: int | None = None, rules: list | None = None,
                 tmp: Path | None = None):
        self.port = free_port()
        args = [sys.executable, "-m", "glasnost.testing.mock_openai", "--port", str(self.port),
                "--latency-ms", str(latency_ms)]
        if hang_after is not None:
            args += ["--hang-after", str(hang_after)]
        if rules is not None:
            assert tmp is not None
            rules_path = tmp / f"rules-{self.port}.json"
            rules_path.write_text(json.dumps(rules))
            args += ["--rules", str(rules_path)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        if "listening" not in line:
            raise RuntimeError(f"mock server did not start: {line}")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=10) as r:
            return json.loads(r.read())

    def control(self, **update) -> None:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/control", data=json.dumps(update).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10):
            pass

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


def glasnost_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "glasnost.cli.main", *args]


def run_cli(*args: str, env: dict | None = None, timeout: float = 120, cwd=None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(glasnost_cmd(*args), capture_output=True, text=True, timeout=timeout, env=full_env,
                          cwd=cwd)


def sql(db, query: str, args: tuple = ()) -> list[tuple]:
    """Raw SQL on either engine (``?`` marks are rewritten for PostgreSQL), committed; for tests that look
    under the store's methods or damage rows on purpose."""
    if str(db).startswith("postgresql://"):
        import psycopg

        with psycopg.connect(str(db), autocommit=True) as conn:
            cur = conn.execute(query.replace("?", "%s"), args)
            return cur.fetchall() if cur.description else []
    import sqlite3

    conn = sqlite3.connect(str(db), isolation_level=None, timeout=30)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def stored_count(db) -> int:
    """Responses in a store, read-only (a run may be writing it in another process)."""
    import sqlite3

    if str(db).startswith("postgresql://"):
        try:
            return sql(db, "SELECT COUNT(*) FROM responses")[0][0]
        except Exception:  # not created yet
            return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
