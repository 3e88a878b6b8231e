"""Per action and target: at most N actions in a sliding window.

In memory, on purpose: the service runs as a single replica (its Deployment uses the Recreate
strategy, so two never overlap) and a restart starts with empty windows. A restart therefore allows
up to N more actions per target; Alertmanager's repeat interval and the crash-loop back-off of a
restarting service bound how often that can happen.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable, Hashable


class RateLimiter:
    """Sliding-window counter per key. Not thread-safe: the service serialises remediations."""

    def __init__(self, max_actions: int, window_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._max = max_actions
        self._window = window_seconds
        self._clock = clock
        self._history: dict[Hashable, deque[float]] = {}

    def _recent(self, key: Hashable) -> deque[float]:
        history = self._history.setdefault(key, deque())
        horizon = self._clock() - self._window
        while history and history[0] <= horizon:
            history.popleft()
        return history

    def allows(self, key: Hashable) -> bool:
        """Whether one more action on `key` fits in the window now (records nothing)."""
        return len(self._recent(key)) < self._max

    def record(self, key: Hashable) -> None:
        """Count an action on `key` now."""
        self._recent(key).append(self._clock())
