"""A throwaway PostgreSQL server, started from the PostgreSQL binaries in a temporary folder, for
the tests and benchmarks of a gradebook in PostgreSQL, and the tests' session fixture of it.

It listens on a unix socket only (no TCP port), trusts local connections, and is stopped and
removed afterwards. Run as root, it runs as the ``postgres`` user, as PostgreSQL requires.

Where no server can be started the tests that need one are skipped with the reason, except in
CI (``CI=true``), where they fail: CI installs PostgreSQL (``.ci/run``).
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest


class ServerUnavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def binaries():
    """The folder holding ``initdb`` and ``pg_ctl``: on PATH, or Debian's ``/usr/lib/postgresql/N/bin``."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


class Server:
    """One PostgreSQL cluster in `folder`, its socket in `folder`/socket."""

    def __init__(self, folder, bin_folder):
        self.folder, self.bin = Path(folder), Path(bin_folder)
        self.data, self.socket = self.folder / "data", self.folder / "socket"
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                raise ServerUnavailable("running as root and there is no 'postgres' user for PostgreSQL to run as")

    def _run(self, *command):
        prefix = ["runuser", "-u", "postgres", "--"] if self.user else []
        return subprocess.run([*prefix, *map(str, command)], capture_output=True, text=True, timeout=120)

    def start(self):
        self.socket.mkdir(parents=True)
        if self.user:
            for path in (self.folder, self.socket):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        done = self._run(self.bin / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync",
                         "-E", "UTF8", "--locale=C")
        if done.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {done.stderr.strip()[-300:]}")
        options = f"-k {self.socket} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        done = self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.folder / "server.log", "-o", options,
                         "-w", "-t", "60", "start")
        if done.returncode != 0:
            log = (self.folder / "server.log").read_text() if (self.folder / "server.log").exists() else ""
            raise ServerUnavailable(f"pg_ctl start failed: {(done.stderr + log).strip()[-300:]}")
        return self

    def create_database(self, name):
        """A new database; its SQLAlchemy URL (psycopg, over the unix socket)."""
        import psycopg

        with psycopg.connect(host=str(self.socket), user="postgres", dbname="postgres", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@/{name}?host={self.socket}"

    def stop(self):
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")


@contextmanager
def running_server():
    """A started `Server` in a temporary folder, stopped and removed on leaving."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ServerUnavailable("the psycopg package is not installed") from None
    found = binaries()
    if found is None:
        raise ServerUnavailable("no PostgreSQL binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql")
    folder = tempfile.mkdtemp(prefix="kit-postgres-")
    server = Server(folder, found)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL server for the whole session."""
    try:
        with running_server() as server:
            yield server
    except ServerUnavailable as reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}")
        pytest.skip(str(reason))
