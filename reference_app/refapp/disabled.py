"""The operator's "disabled graphs" flag: graph names in a file, normally a mounted ConfigMap key.

Auto-recovery (issue 10) disables a graph whose error rate is critical by writing its name into
that ConfigMap; the kubelet updates the mounted file within a minute, and the app re-reads it at
most every DISABLED_GRAPHS_REFRESH_SECONDS. File format: graph names separated by newlines,
spaces or commas; `#` starts a comment. A missing file disables nothing.
"""

from __future__ import annotations

import time
from typing import Callable

from .logs import get_logger


def parse_disabled(text: str) -> frozenset[str]:
    """The graph names listed in `text`."""
    names: set[str] = set()
    for line in text.splitlines():
        names.update(name for name in line.split("#", 1)[0].replace(",", " ").split() if name)
    return frozenset(names)


class DisabledGraphs:
    """The current set of disabled graphs, re-read from `path` when `refresh_seconds` have passed."""

    def __init__(self, path: str | None, refresh_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._path = path
        self._refresh = refresh_seconds
        self._clock = clock
        self._names: frozenset[str] = frozenset()
        self._read_at: float | None = None

    def current(self) -> frozenset[str]:
        if self._path is None:
            return self._names
        now = self._clock()
        if self._read_at is None or now - self._read_at >= self._refresh:
            self._read_at = now
            self._update(self._read())
        return self._names

    def _read(self) -> frozenset[str] | None:
        try:
            with open(self._path, encoding="utf-8") as handle:
                return parse_disabled(handle.read())
        except FileNotFoundError:
            return frozenset()
        except OSError as exc:
            # Keep the last known set: a transient read error must not re-enable a broken graph.
            get_logger().warning("disabled_graphs_unreadable", exception_type=type(exc).__name__, error=str(exc))
            return None

    def _update(self, names: frozenset[str] | None) -> None:
        if names is None or names == self._names:
            return
        log = get_logger()
        for name in sorted(names - self._names):
            log.warning("graph_disabled", graph_name=name)
        for name in sorted(self._names - names):
            log.info("graph_enabled", graph_name=name)
        self._names = names
