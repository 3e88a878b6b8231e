"""A real PostgreSQL server on 127.0.0.1 for the tests (Debian's packages; `make deps` installs them).

initdb and postgres refuse to run as root, so under root (CI) they run as the `postgres` user,
in a directory that user owns. Password authentication (scram) as in a real deployment.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .procs import free_port, port_open, start, stop_pid, wait_started

SUPERUSER, SUPERUSER_PASSWORD = "postgres", "test-superuser-password"


def bin_dir() -> Path:
    """Directory of the newest installed server's binaries (initdb, postgres, pg_ctl, pg_basebackup)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found: run `make deps` (Debian package postgresql)")
    return Path(found[-1]).parent


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PostgresServer:
    """One running server; `dsn(...)` gives libpq URLs, `stop()` ends it by PID."""

    directory: Path
    port: int
    process: subprocess.Popen

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def dsn(self, database: str = "postgres", user: str = SUPERUSER, password: str = SUPERUSER_PASSWORD) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def libpq_env(self, database: str = "postgres", user: str = SUPERUSER, password: str = SUPERUSER_PASSWORD) -> dict:
        """The PG* variables a client container would get (no sslmode on loopback)."""
        return {"PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGDATABASE": database, "PGUSER": user,
                "PGPASSWORD": password, "PGSSLMODE": "disable"}

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                                env={**os.environ, **self.libpq_env(database)}, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout.strip()

    @property
    def pid(self) -> int | None:
        """The postmaster's PID (under root, `process` is the runuser wrapper around it)."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, sig: int = signal.SIGINT) -> None:
        """SIGINT is PostgreSQL's fast shutdown; SIGKILL simulates a crash."""
        pid = self.pid
        if pid:
            stop_pid(pid, sig)
        stop_pid(self.process.pid)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def init_cluster(directory: Path, settings: dict[str, str] | None = None) -> None:
    """initdb into `directory/data` with a scram superuser, and `settings` appended to postgresql.conf."""
    directory.mkdir(parents=True, exist_ok=True)
    pwfile = directory / "pw"
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    subprocess.run(_as_postgres([str(bin_dir() / "initdb"), "-D", str(directory / "data"), "-U", SUPERUSER,
                                 "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"]),
                   check=True, capture_output=True)
    if settings:
        with open(directory / "data" / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())


def start_server(directory: Path, port: int | None = None, extra_args: tuple[str, ...] = ()) -> PostgresServer:
    """Start the cluster in `directory` on 127.0.0.1 and wait until it accepts connections."""
    port = port or free_port()
    argv = [str(bin_dir() / "postgres"), "-D", str(directory / "data"), "-p", str(port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={directory}", *extra_args]
    process = start(argv, directory / "server.log", user="postgres")
    server = PostgresServer(directory, port, process)

    def ready() -> bool:
        return port_open(port) and subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", str(port)], capture_output=True).returncode == 0

    wait_started(process, directory / "server.log", ready, what=f"PostgreSQL on port {port}", timeout=30,
                 cleanup=server.stop)
    return server


def new_server(settings: dict[str, str] | None = None) -> PostgresServer:
    """A fresh cluster in its own directory under /tmp (the postgres user cannot enter pytest's tmp dirs)."""
    directory = Path(tempfile.mkdtemp(prefix="lg-pg-"))
    os.chmod(directory, 0o755)
    init_cluster(directory, settings)
    return start_server(directory)
