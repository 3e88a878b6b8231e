"""A client that writes in a loop during a drill and records what it saw.

The client-visible outage of a failure run is the time from the last write that succeeded before
it to the first that succeeded after it: no client could have written in between.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ProbeResult:
    attempts: int = 0
    failures: int = 0
    outage_seconds: float = 0.0
    """The longest client-visible outage."""
    recovered: bool = True
    """False when the last attempt failed: writes had not come back when the probe stopped."""
    errors: list[str] = field(default_factory=list)
    """The first distinct error messages (at most five)."""

    def as_data(self) -> dict:
        return {"attempts": self.attempts, "failed": self.failures, "outage_seconds": round(self.outage_seconds, 3),
                "recovered": self.recovered, "errors": self.errors}


class Probe:
    """Runs `attempt` every `interval` seconds in a thread; an exception counts as a failed write."""

    def __init__(self, attempt: Callable[[], None], interval: float = 0.05):
        self._attempt, self._interval = attempt, interval
        self._stop = threading.Event()
        self._result = ProbeResult()
        self._last_ok: float | None = None
        self._failing_since: float | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="drill-probe", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                self._attempt()
                ok, error = True, None
            except Exception as failure:  # noqa: BLE001 - every failure is a failed write to record
                ok, error = False, f"{type(failure).__name__}: {str(failure).strip().splitlines()[0][:160]}" \
                    if str(failure).strip() else type(failure).__name__
            self._record(ok, error)
            self._stop.wait(max(0.0, self._interval - (time.monotonic() - began)))

    def _record(self, ok: bool, error: str | None) -> None:
        now = time.monotonic()
        with self._lock:
            result = self._result
            result.attempts += 1
            if ok:
                if self._failing_since is not None:
                    start = self._last_ok if self._last_ok is not None else self._failing_since
                    result.outage_seconds = max(result.outage_seconds, now - start)
                    self._failing_since = None
                self._last_ok = now
                return
            result.failures += 1
            if self._failing_since is None:
                self._failing_since = now
            if error and error not in result.errors and len(result.errors) < 5:
                result.errors.append(error)

    def succeeded_since(self, moment: float) -> bool:
        """A write succeeded after `moment` (time.monotonic) and none has failed since."""
        with self._lock:
            return self._last_ok is not None and self._last_ok > moment and self._failing_since is None

    def start(self) -> Probe:
        self._thread.start()
        return self

    def stop(self) -> ProbeResult:
        self._stop.set()
        self._thread.join()
        with self._lock:
            if self._failing_since is not None:
                start = self._last_ok if self._last_ok is not None else self._failing_since
                self._result.outage_seconds = max(self._result.outage_seconds, time.monotonic() - start)
                self._result.recovered = False
            return self._result
