"""A throwaway PostgreSQL cluster on 127.0.0.1 and a free port, for the shared-store tests.

Debian's `postgresql` package (scripts/test installs it): `initdb` + `pg_ctl` under a temp dir,
stopped at the end of the session. `initdb` refuses to run as root, so as root the server runs as
the package's `postgres` user (../shared/TESTING.md). `fsync=off`: for tests only.

- ``postgres_server`` (session): the cluster;
- ``pg_url``: a fresh, empty database of the test's own on it (``postgresql://fd@127.0.0.1:P/x``);
- ``private_postgres``: a cluster of the test's own, which it may restart (``restart()``).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.mail import free_port

USER = "fd"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        # Not under pytest's tmp dir: its parents are 0700 root, and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="frontdesk-pg-"))
        self._as: list[str] = []
        if os.geteuid() == 0:
            os.chown(self.root, pwd.getpwnam("postgres").pw_uid, -1)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._databases = itertools.count(1)
        data = self.root / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", USER, "--no-sync")
        try:
            self._run(
                "pg_ctl", "-D", str(data), "-l", str(self.root / "log"), "-w", "-t", "60",
                "start", "-o",
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self.bin_dir / tool), *args],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120,
        )  # fmt: skip

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"t{next(self._databases)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def restart(self) -> None:
        """A fast restart on the same port: every connection is cut."""
        self._run(
            "pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "log"), "-w",
            "-t", "60", "-m", "fast", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (scripts/test installs Debian's postgresql)")
    server = PostgresServer(bin_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    return postgres_server.new_database()


@pytest.fixture
def private_postgres() -> Iterator[PostgresServer]:
    """A cluster of the test's own, which it may restart."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (scripts/test installs Debian's postgresql)")
    server = PostgresServer(bin_dir)
    try:
        yield server
    finally:
        server.stop()
