"""Processes the tests start and stop themselves: free loopback ports, start, wait, stop by PID."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Callable, Sequence


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], bool], timeout: float = 15.0, interval: float = 0.05, what: str = "condition") -> None:
    """Poll `check` until it is true; TimeoutError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout} s")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def http_ok(port: int, path: str) -> bool:
    """A GET of `path` on 127.0.0.1:`port` answers 200; False while the server refuses, resets or
    answers otherwise (a process that listens before it serves)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException):  # URLError and HTTPError are OSErrors
        return False


def start(argv: Sequence[str], log: Path, *, cwd: Path | None = None, env: dict | None = None,
          user: str | None = None) -> subprocess.Popen:
    """Start `argv` in its own process group with output to `log`; as `user` when running as root."""
    if user and os.geteuid() == 0:
        argv = ["runuser", "-u", user, "--", *argv]
    handle = open(log, "ab")
    return subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_started(process: subprocess.Popen, log: Path, ready: Callable[[], bool], *, what: str,
                 timeout: float = 15.0, cleanup: Callable[[], None] | None = None) -> None:
    """Wait until `ready()` holds for the `process` just started.

    Its exit fails the wait at once with the tail of its `log` (the reason is there, and waiting out
    the timeout would only hide it); on any failure `cleanup` runs first, so nothing is left running.
    """
    def check() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}: {log.read_text()[-3000:]}")
        return ready()

    try:
        wait_for(check, timeout=timeout, what=what)
    except BaseException:
        if cleanup is not None:
            cleanup()
        raise


def stop_pid(pid: int, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Signal `pid` and wait until it is gone, escalating to SIGKILL after `timeout`."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child: poll its existence instead
            finished = 0 if _alive(pid) else pid
        if finished == pid:
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
