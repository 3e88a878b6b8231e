"""Local point-in-time recovery: a base backup (`pg_basebackup -Fp` directory) plus a WAL archive
directory (what `archive_command` copied) restored into a scratch PostgreSQL on 127.0.0.1.

For self-managed servers (and the drill's own tests): the scratch copy replays the archive
through `restore_command` to `recovery_target_time`, or to the end of the archive, then promotes.
It runs with `archive_mode=off`: a promoted copy starts a new timeline, and archiving it into the
production archive would mix the copy's history into the source's.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree_bytes(path: Path) -> int:
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


@dataclass
class LocalRestore:
    """One scratch server restored from `base_backup` and `wal_archive`."""

    base_backup: Path
    wal_archive: Path
    bin_dir: Path
    target_time: str | None = None
    run_as: str | None = None
    """When running as root: the user PostgreSQL runs as (it refuses root)."""
    directory: Path | None = field(default=None, init=False)
    port: int = field(default=0, init=False)
    _process: subprocess.Popen | None = field(default=None, init=False)

    def total_bytes(self) -> int:
        return _tree_bytes(self.base_backup)

    def _as_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *argv] if self.run_as and os.geteuid() == 0 else argv

    def copy(self, advance: Callable[[int], None]) -> None:
        """Copy the base backup into a fresh data directory; `advance(bytes)` per file."""
        self.directory = Path(tempfile.mkdtemp(prefix="ops-restore-"))
        os.chmod(self.directory, 0o755)  # the server's user must reach its data directory

        def copy_file(source: str, target: str) -> None:
            shutil.copy2(source, target)
            advance(os.path.getsize(target))

        data = self.directory / "data"
        shutil.copytree(self.base_backup, data, copy_function=copy_file)
        (data / "recovery.signal").touch()
        os.chmod(data, 0o700)
        if self.run_as and os.geteuid() == 0:
            subprocess.run(["chown", "-R", f"{self.run_as}:", str(self.directory)], check=True)

    def start(self) -> None:
        """Start recovery; `wait_promoted` tells when it has finished."""
        assert self.directory is not None, "copy() first"
        self.port = _free_port()
        restore = f"cp {shlex.quote(str(self.wal_archive))}/%f %p"
        settings = {"listen_addresses": "127.0.0.1", "unix_socket_directories": str(self.directory),
                    "archive_mode": "off", "restore_command": restore, "recovery_target_action": "promote"}
        if self.target_time:
            settings["recovery_target_time"] = self.target_time
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.directory / "data"), "-p", str(self.port),
                *(arg for key, value in settings.items() for arg in ("-c", f"{key}={value}"))]
        with open(self.directory / "postgres.log", "ab") as log:
            self._process = subprocess.Popen(self._as_user(argv), stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True)

    def wait_promoted(self, dsn: str, timeout: float, tick: Callable[[], None] = lambda: None) -> None:
        """Until the copy answers `dsn` as a primary (recovery done and promoted)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the restored server exited: {self.log_tail()}")
            try:
                with psycopg.connect(dsn, connect_timeout=2, autocommit=True) as conn:
                    if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
            except psycopg.OperationalError:
                pass  # still starting up or replaying
            tick()
            time.sleep(0.1)
        raise TimeoutError(f"recovery not finished within {timeout:g} s: {self.log_tail()}")

    def log_tail(self, lines: int = 8) -> str:
        log = self.directory / "postgres.log" if self.directory else None
        return " | ".join(log.read_text(errors="replace").splitlines()[-lines:]) if log and log.exists() else ""

    def teardown(self) -> None:
        """Fast shutdown (SIGINT to the postmaster, by the PID it wrote), then remove every file."""
        if self.directory is None:
            return
        pid_file = self.directory / "data" / "postmaster.pid"
        if self._process is not None:
            try:
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
            except (OSError, ValueError, IndexError):
                self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None
