"""A streaming standby of a test PostgreSQL server (pg_basebackup -R), for replication metrics and failover tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .postgres import SUPERUSER, SUPERUSER_PASSWORD, PostgresServer, bin_dir, start_server
from .procs import wait_for


def new_standby(primary: PostgresServer) -> PostgresServer:
    """Clone `primary` into a fresh directory, start it as a standby and wait until the primary sees it streaming."""
    directory = Path(tempfile.mkdtemp(prefix="lg-pg-standby-"))
    os.chmod(directory, 0o755)
    argv = [str(bin_dir() / "pg_basebackup"), "-D", str(directory / "data"), "-R", "-X", "stream", "--checkpoint=fast",
            "-h", "127.0.0.1", "-p", str(primary.port), "-U", SUPERUSER]
    if os.geteuid() == 0:  # the data directory must belong to the user the server runs as
        shutil.chown(directory, "postgres", "postgres")
        argv = ["runuser", "-u", "postgres", "--", *argv]
    subprocess.run(argv, env={**os.environ, "PGPASSWORD": SUPERUSER_PASSWORD}, check=True, capture_output=True)
    standby = start_server(directory)
    wait_for(lambda: primary.psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1",
             what="the standby streaming from the primary")
    return standby
