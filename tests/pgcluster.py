"""A throwaway PostgreSQL cluster for tests: initdb + pg_ctl on a free loopback port.

PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres``
system user (``runuser``). Missing binaries make the fixture skip with the reason.
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

CANDIDATES = ("/usr/lib/postgresql/15/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True))


def find_bin() -> Path | None:
    for directory in (os.environ.get("AUDITOR_PG_BIN"), *CANDIDATES):
        if directory and (Path(directory) / "initdb").is_file() and (Path(directory) / "pg_ctl").is_file():
            return Path(directory)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Unavailable(Exception):
    """Why this machine cannot run a cluster at all (the tests skip with this reason)."""


class StartFailed(Exception):
    """The binaries are here but the cluster did not start (the tests fail: CI must not skip them)."""


@contextmanager
def cluster() -> Iterator[str]:
    """Start a cluster, yield its SQLAlchemy URL, and stop and delete it afterwards."""
    bin_dir = find_bin()
    if bin_dir is None:
        raise Unavailable("PostgreSQL binaries (initdb, pg_ctl) not found; install postgresql or set AUDITOR_PG_BIN")
    prefix: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root and there is no 'postgres' user to run PostgreSQL as") from None
        runuser = shutil.which("runuser")
        if runuser is None:
            raise Unavailable("running as root and runuser is missing")
        prefix = [runuser, "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="auditor-pg-"))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, log = root / "data", root / "server.log"
    port = free_port()

    def pg(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, text=True, timeout=120)

    started = False
    try:
        try:
            pg(str(bin_dir / "initdb"), "-D", str(data), "-U", "auditor", "-A", "trust", "-E", "UTF8", "--no-sync")
            options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
            pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
            started = True
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:] or [""]
            server = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            raise StartFailed(f"could not start PostgreSQL from {bin_dir}: {detail[0]} {' '.join(server)}") from None
        yield f"postgresql://auditor@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(root, ignore_errors=True)
