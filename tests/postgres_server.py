"""A throwaway PostgreSQL server for tests and benchmarks: initdb in a temp folder, a free loopback port.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (runuser).
`postgres_binaries()` is None when no PostgreSQL is installed; callers skip with that reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NO_POSTGRES = "no PostgreSQL binaries (initdb, pg_ctl) on this machine: apt-get install -y postgresql"


def postgres_binaries() -> Path | None:
    """The folder with initdb and pg_ctl, or None."""
    candidates = [shutil.which("initdb"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)]
    for initdb in filter(None, candidates):
        folder = Path(initdb).resolve().parent
        if (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server, yield the SQLAlchemy URL of its empty database, stop it and remove its folder."""
    binaries = postgres_binaries()
    if binaries is None:
        raise RuntimeError(NO_POSTGRES)
    folder = Path(tempfile.mkdtemp(prefix="journey-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, cwd=folder)

    run(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "journey", "--no-sync", "-E", "UTF8")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
    try:
        yield f"postgresql://journey@127.0.0.1:{port}/postgres"  # the server's own empty database
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
