"""Threads written by a real LangGraph graph (a parent with a subgraph) through PostgresSaver.

The subgraph is a node of the parent, so each run also writes checkpoints under a non-empty
`checkpoint_ns`. `items` is a list (stored in `checkpoint_blobs`, appended every run); `profile` is
a dict written on a thread's first run only, so a thread that lost its older blobs loads without it.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")


class ThreadState(TypedDict, total=False):
    items: Annotated[list[str], operator.add]
    profile: dict[str, str]
    turns: int


def _greet(state: ThreadState) -> dict:
    first = not state.get("profile")
    return {"items": ["parent"], **({"profile": {"tier": "gold"}} if first else {})}


class TurnsOnly(TypedDict):
    turns: int


def _count(state: ThreadState) -> dict:
    return {"turns": state.get("turns", 0) + 1}


def graph(saver: PostgresSaver) -> CompiledStateGraph:
    """The parent graph, compiled with `saver`; its `child` node is a compiled subgraph."""
    # The subgraph sees the whole state (its checkpoints carry `items` blobs too) but hands back
    # only `turns`: returning `items` would append the list to itself in the parent.
    child = StateGraph(ThreadState, output_schema=TurnsOnly)
    child.add_node("count", _count)
    child.add_edge(START, "count")
    child.add_edge("count", END)
    parent = StateGraph(ThreadState)
    parent.add_node("greet", _greet)
    parent.add_node("child", child.compile())
    parent.add_edge(START, "greet")
    parent.add_edge("greet", "child")
    parent.add_edge("child", END)
    return parent.compile(checkpointer=saver)


def config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


def run_turn(app: CompiledStateGraph, thread_id: str, text: str) -> dict:
    """One run of the thread with input `text`; checkpoints are saved before it returns."""
    return app.invoke({"items": [text]}, config(thread_id), durability="sync")


def write_threads(dsn: str, thread_ids: list[str], turns: int = 2) -> None:
    """Run every thread `turns` times (subgraph checkpoints, blobs and pending writes included)."""
    with PostgresSaver.from_conn_string(dsn) as saver:
        app = graph(saver)
        for thread_id in thread_ids:
            for turn in range(turns):
                run_turn(app, thread_id, f"{thread_id}-{turn}")


def age(conn: psycopg.Connection, thread_id: str, days: int, namespaces: str = "all") -> None:
    """Move the thread's checkpoint times `days` into the past, in the format LangGraph writes.

    The checkpointer stamps `ts` with the current time, so this is how a test makes a thread old.
    `namespaces` is "all", "root" (only checkpoint_ns = '') or "subgraphs" (only the others).
    """
    where = {"all": "true", "root": "checkpoint_ns = ''", "subgraphs": "checkpoint_ns <> ''"}[namespaces]
    conn.execute(
        "UPDATE checkpoints SET checkpoint = jsonb_set(checkpoint, '{ts}', to_jsonb(to_char("
        "((checkpoint ->> 'ts')::timestamptz - make_interval(days => %s)) AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'))) "
        f"WHERE thread_id = %s AND {where}",
        (days, thread_id),
    )


def snapshot(conn: psycopg.Connection) -> dict[str, set[tuple[str, str]]]:
    """Every row of the three checkpoint tables as (thread_id, the whole row as text), per table."""
    return {table: {(thread_id, row) for thread_id, row in
                    conn.execute(f"SELECT thread_id, t::text FROM {table} t").fetchall()}
            for table in TABLES}


def without(rows: dict[str, set[tuple[str, str]]], thread_ids: set[str]) -> dict[str, set[tuple[str, str]]]:
    """`rows` minus every row of `thread_ids`."""
    return {table: {row for row in table_rows if row[0] not in thread_ids} for table, table_rows in rows.items()}


def of(rows: dict[str, set[tuple[str, str]]], thread_id: str) -> dict[str, set[tuple[str, str]]]:
    """Only the rows of `thread_id`."""
    return {table: {row for row in table_rows if row[0] == thread_id} for table, table_rows in rows.items()}
