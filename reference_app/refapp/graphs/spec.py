"""What every graph module provides: its name, its run input fields and a builder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

from ..instrument import Instrumentation, NodeFn


@dataclass(frozen=True)
class NodeOptions:
    """What the app's settings decide for every node: its retry policy and its timeout."""

    retry: RetryPolicy
    timeout_seconds: float


@dataclass(frozen=True)
class GraphSpec:
    """A graph the app serves: `build` returns the uncompiled graph (the app compiles it with its saver)."""

    name: str
    input_fields: dict[str, type]
    build: Callable[[Instrumentation, NodeOptions], StateGraph]


def add_node(graph: StateGraph, instrument: Instrumentation, options: NodeOptions, name: str, fn: NodeFn,
             retried: bool = False) -> None:
    """Add `fn` instrumented, with the node timeout, and the retry policy when `retried`."""
    graph.add_node(name, instrument.node(name, fn), timeout=options.timeout_seconds,
                   retry_policy=options.retry if retried else None)


def chain(graph: StateGraph, names: Sequence[str]) -> None:
    """Edges START -> names[0] -> ... -> names[-1] -> END."""
    for before, after in zip([START, *names], [*names, END]):
        graph.add_edge(before, after)
