"""Run-input switches shared by the graphs: fail, retry, interrupt or take time on demand.

They let tests, alerts drills and the load benchmark produce every outcome the metrics and
alerts describe without an LLM: `{"fail": true}` raises, `{"flaky": 2}` fails twice and then
succeeds under the node's RetryPolicy, `{"review": true}` interrupts for a human decision,
`{"delay": 1.5}` spends that many seconds of (async) work in the first node.
"""

from __future__ import annotations

import asyncio
from typing import Any, Mapping

from langgraph.runtime import Runtime

MAX_DELAY_SECONDS = 600.0
MAX_FLAKY = 10

CONTROL_FIELDS: dict[str, type] = {"fail": bool, "flaky": int, "review": bool, "delay": float}
JSON_TYPE_NAMES: dict[type, str] = {bool: "boolean", int: "integer", float: "number", str: "string"}


class DemandedFailure(RuntimeError):
    """The run's input asked this node to fail (`fail: true`); never retried."""


class TransientBackendError(ConnectionError):
    """A simulated transient dependency failure (`flaky: N`); the node's RetryPolicy retries it."""


def _has_type(value: Any, kind: type) -> bool:
    """JSON type check; JSON true/false are Python bools, which are also ints: keep them apart."""
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def input_errors(fields: Mapping[str, type], payload: Mapping[str, Any]) -> list[str]:
    """What is wrong with a run input: unknown keys, wrong JSON types, switches out of range."""
    errors = [f"unknown input field {key!r}; allowed: {', '.join(sorted(fields))}"
              for key in payload if key not in fields]
    for key, kind in fields.items():
        if key in payload and not _has_type(payload[key], kind):
            errors.append(f"input field {key!r} must be a JSON {JSON_TYPE_NAMES[kind]}")
    if not errors:
        if not 0 <= payload.get("flaky", 0) <= MAX_FLAKY:
            errors.append(f"input field 'flaky' must be from 0 to {MAX_FLAKY}")
        if not 0 <= payload.get("delay", 0) <= MAX_DELAY_SECONDS:
            errors.append(f"input field 'delay' must be from 0 to {MAX_DELAY_SECONDS:g} seconds")
    return errors


async def work(state: Mapping[str, Any]) -> None:
    """Spend the requested `delay` the way an LLM call would: waiting, not burning CPU."""
    if state.get("delay"):
        await asyncio.sleep(state["delay"])


def fail_if_asked(state: Mapping[str, Any], node: str) -> None:
    if state.get("fail"):
        raise DemandedFailure(f"{node} failed because the run input set fail=true")


def flake_if_asked(state: Mapping[str, Any], runtime: Runtime, node: str) -> None:
    """Fail the first `flaky` attempts of this node, then let it succeed."""
    attempt = runtime.execution_info.node_attempt
    if attempt <= state.get("flaky", 0):
        raise TransientBackendError(f"{node}: simulated backend timeout on attempt {attempt}")
