"""Prove a restored copy with LangGraph itself: load sampled threads through the checkpointer
(`langgraph-checkpoint-postgres`) from the copy and from the source, and compare.

The source moves on after the restore point, so the copy's newest checkpoint of each sampled
thread (and of each subgraph namespace) is compared with the source's checkpoint of the same id:
its state (channel values and versions), metadata, parent and pending writes must be equal. A
checkpoint the source no longer has was deleted there since (thread retention) and is not
counted. Threads the source had well before the recovery point must exist on the copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.postgres import PostgresSaver

# Clients stamp `ts` themselves: two writers' commits can land in another order than their stamps.
CLOCK_SLACK = dt.timedelta(seconds=1)


@dataclass
class Comparison:
    """What the comparison found; `mismatches` and `missing` hold thread ids with the reason."""

    compared: list[str] = field(default_factory=list)
    mismatches: dict[str, str] = field(default_factory=dict)
    deleted_on_source: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    checked_present: int = 0


def newest_checkpoint(dsn: str) -> dt.datetime | None:
    """The newest checkpoint's `ts` in the database (LangGraph keeps time in the checkpoint itself)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        (newest,) = conn.execute("SELECT max((checkpoint ->> 'ts')::timestamptz) FROM checkpoints").fetchone()
    return newest


def sample_threads(dsn: str, size: int) -> list[str]:
    """Half the most recently written threads (those a bad restore loses first), half at random."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "WITH threads AS (SELECT thread_id, max((checkpoint ->> 'ts')::timestamptz) AS newest FROM checkpoints "
            "GROUP BY thread_id), recent AS (SELECT thread_id FROM threads ORDER BY newest DESC LIMIT %(recent)s) "
            "SELECT thread_id FROM recent UNION "
            "(SELECT thread_id FROM threads WHERE thread_id NOT IN (SELECT thread_id FROM recent) "
            "ORDER BY random() LIMIT %(random)s)", {"recent": (size + 1) // 2, "random": size // 2}).fetchall()
    return sorted(thread_id for (thread_id,) in rows)


def _namespaces(conn: psycopg.Connection, thread_id: str) -> list[str]:
    rows = conn.execute("SELECT DISTINCT checkpoint_ns FROM checkpoints WHERE thread_id = %s ORDER BY 1", (thread_id,))
    return [namespace for (namespace,) in rows.fetchall()]


def _config(thread_id: str, namespace: str, checkpoint_id: str | None = None) -> dict:
    configurable = {"thread_id": thread_id, "checkpoint_ns": namespace}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def _difference(copy: CheckpointTuple, source: CheckpointTuple) -> str | None:
    """Which part of the loaded checkpoint differs, or None."""
    for part in ("checkpoint", "metadata"):
        if getattr(copy, part) != getattr(source, part):
            keys = sorted(k for k in {*getattr(copy, part), *getattr(source, part)}
                          if getattr(copy, part).get(k) != getattr(source, part).get(k))
            return f"{part} differs in {', '.join(keys)}"
    if (copy.parent_config or {}).get("configurable") != (source.parent_config or {}).get("configurable"):
        return "parent checkpoint differs"
    if sorted(map(repr, copy.pending_writes or [])) != sorted(map(repr, source.pending_writes or [])):
        return "pending writes differ"
    return None


@contextmanager
def _saver(dsn: str) -> Iterator[PostgresSaver]:
    # Reading only: no setup(), which would try to migrate the schema.
    with PostgresSaver.from_conn_string(dsn) as saver:
        yield saver


def compare(source_dsn: str, copy_dsn: str, thread_ids: list[str], recovery_point: dt.datetime | None,
            presence_sample: int, advance: Callable[[], None] = lambda: None) -> Comparison:
    """Compare `thread_ids` as loaded from the copy and the source; `advance` ticks per thread."""
    result = Comparison()
    with _saver(source_dsn) as source, _saver(copy_dsn) as copy, psycopg.connect(copy_dsn, autocommit=True) as conn:
        for thread_id in thread_ids:
            problems, deleted = [], False
            for namespace in _namespaces(conn, thread_id):
                restored = copy.get_tuple(_config(thread_id, namespace))
                original = source.get_tuple(_config(thread_id, namespace, restored.checkpoint["id"]))
                if original is None:
                    deleted = True
                    continue
                problem = _difference(restored, original)
                if problem:
                    problems.append(f"ns {namespace or '(root)'}: {problem}")
            if problems:
                result.mismatches[thread_id] = "; ".join(problems)
            elif deleted:
                result.deleted_on_source.append(thread_id)
            else:
                result.compared.append(thread_id)
            advance()
        if recovery_point is not None:
            result.missing, result.checked_present = _missing(source_dsn, conn, recovery_point - CLOCK_SLACK,
                                                              presence_sample)
    return result


def _missing(source_dsn: str, copy: psycopg.Connection, before: dt.datetime, size: int) -> tuple[list[str], int]:
    """Of a sample of source threads begun before `before`, those the copy lacks."""
    with psycopg.connect(source_dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT thread_id FROM checkpoints GROUP BY thread_id "
            "HAVING min((checkpoint ->> 'ts')::timestamptz) < %s ORDER BY random() LIMIT %s", (before, size)).fetchall()
    sampled = [thread_id for (thread_id,) in rows]
    present = {thread_id for (thread_id,) in copy.execute(
        "SELECT DISTINCT thread_id FROM checkpoints WHERE thread_id = ANY(%s)", (sampled,)).fetchall()}
    return sorted(set(sampled) - present), len(sampled)
