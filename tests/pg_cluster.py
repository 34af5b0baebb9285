"""A throwaway PostgreSQL cluster for the tests: Debian's ``initdb`` + ``pg_ctl`` in a temp folder.

As root the server runs as an unprivileged user (``postgres`` where the package created it, else
``nobody``): PostgreSQL refuses to run as root. Connections need a password (scram), which the tests give
only through ``PGPASSWORD``, as a user would: no URL in the tests carries a password.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

USER = "glasnost_test"
PASSWORD = "s3cret-" + uuid.uuid4().hex[:12]


def pg_bin() -> Path | None:
    """The folder of initdb and pg_ctl: $GLASNOST_PG_BIN, the PATH, or Debian's newest /usr/lib/postgresql."""
    if os.environ.get("GLASNOST_PG_BIN"):
        return Path(os.environ["GLASNOST_PG_BIN"])
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int
    bin: Path
    run_as: list[str]

    def url(self, database: str = "postgres") -> str:
        """A URL without a password: PGPASSWORD supplies it."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = "g_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.url(), autocommit=True, password=PASSWORD) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster(binaries: Path) -> Cluster:
    folder = Path(tempfile.mkdtemp(prefix="glasnost-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = "postgres" if _user_exists("postgres") else "nobody"
        run_as = ["runuser", "-u", user, "--"]
        uid = pwd.getpwnam(user).pw_uid
        os.chown(folder, uid, -1)
    pwfile = folder / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if run_as:
        os.chown(pwfile, pwd.getpwnam(run_as[2]).pw_uid, -1)
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    init = subprocess.run([*run_as, str(binaries / "initdb"), "-D", str(folder / "data"), "-U", USER,
                           "--pwfile", str(pwfile), "-A", "scram-sha-256", "-E", "UTF8", "--no-sync"],
                          capture_output=True, text=True, timeout=120, cwd=folder, env=env)
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed: {init.stderr[-1000:]}")
    port = _free_port()
    options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=300")
    start = subprocess.run([*run_as, str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-l",
                            str(folder / "log"), "-w", "-t", "60", "-o", options, "start"],
                           capture_output=True, text=True, timeout=90, cwd=folder, env=env)
    if start.returncode != 0:
        log = (folder / "log").read_text(errors="replace")[-1000:] if (folder / "log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {start.stderr[-500:]} {log}")
    return Cluster(folder=folder, port=port, bin=binaries, run_as=run_as)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
