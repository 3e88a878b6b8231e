"""The small graph the official LangGraph server serves in the tests: two plain-code nodes, no LLM.

It is loaded by the server (in `.venv-langgraph-api`) from this file's path, so it imports nothing
but `langgraph`.
"""

from __future__ import annotations

from typing import TypedDict

from langgraph.graph import END, START, StateGraph


class Counter(TypedDict, total=False):
    count: int
    parity: str


def increment(state: Counter) -> Counter:
    return {"count": state.get("count", 0) + 1}


def classify(state: Counter) -> Counter:
    return {"parity": "even" if state["count"] % 2 == 0 else "odd"}


_builder = StateGraph(Counter)
_builder.add_node("increment", increment)
_builder.add_node("classify", classify)
_builder.add_edge(START, "increment")
_builder.add_edge("increment", "classify")
_builder.add_edge("classify", END)
graph = _builder.compile()
