"""`debug`: the seed's `LangGraphDebugger` report for one thread, read from its checkpoints.

The seed hooked a debug middleware into a live graph. In production the record already exists:
every step of every run is a checkpoint in PostgreSQL, with the writes of the tasks that ran from
it (`checkpoint_writes`: a failed task's `__error__`, an interrupt's `__interrupt__`, a resume's
`__resume__`). The report reads them through langgraph-checkpoint-postgres, so it needs neither the
app nor its graph code, in one read-only, repeatable-read transaction (a consistent view, and safe
against a standby):

- graph structure: nodes from each checkpoint's `versions_seen`, edges from the trigger channels
  the tasks wrote (`branch:to:X`, `join:...:X`, `Send`s); or the graph itself with `--graph`;
- execution trace: each step's nodes (a node ran in a step when its `versions_seen` moved), timed
  by checkpoint timestamps, with the failed and interrupted tasks from the pending writes;
- state evolution: the user channels added, changed or removed by each checkpoint;
- interrupts (and their resume values), errors (type and message), retries (a failed node that ran
  again on the thread later: a re-invocation after the error). Retries of a node's RetryPolicy
  inside one run are not persisted by LangGraph; they are counted by `langgraph_retries_total`.

Everything the report prints passes the redactor: values under keys that name credentials, URL
user-info, and the patterns given on the command line.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from rich.console import Console
from rich.table import Table

from .options import OpsContext
from .outputs import MissingOutput
from .report import EXIT_USAGE, Status

MASK = "[REDACTED]"
# Key names that hold credentials: matched against the key in snake_case, as a whole word part
# (so `api_key` and `client_secret` are secrets, `max_tokens` and `author` are not).
CREDENTIAL_KEYS = (r"(?:^|_)(?:password|passwd|passphrase|secret|token|api_?key|access_?key|secret_?key|"
                   r"private_?key|credentials?|authorization|auth|cookie|session_?id|dsn|connection_?string)(?:_|$)")
# Values that are credentials wherever they appear: URL user-info, bearer tokens, AWS access key ids.
CREDENTIAL_VALUES = (r"(?<=://)[^/\s@]+(?=@\S)", r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]+", r"\bAKIA[0-9A-Z]{16}\b")
# LangGraph's special channels and writes (langgraph._internal._constants).
ERROR, INTERRUPT, RESUME, TASKS = "__error__", "__interrupt__", "__resume__", "__pregel_tasks"
NOT_NODES = {"__input__", "__interrupt__", "__start__"}
# Checkpoint metadata keys that identify the run which wrote a checkpoint (official server, reference app).
RUN_KEYS = ("run_id", "execution_id")
GRAPH_KEYS = ("graph_id", "graph_name", "assistant_id")
_ERROR_REPR = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)\((?P<quote>['\"])(?P<message>.*)(?P=quote)\)$", re.DOTALL)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class Redactor:
    """Replaces credentials in any JSON-like value; counts what it replaced."""

    def __init__(self, extra_keys: Sequence[str] = (), extra_values: Sequence[str] = ()) -> None:
        self._keys = re.compile("|".join([CREDENTIAL_KEYS, *extra_keys]), re.IGNORECASE)
        self._values = [re.compile(pattern) for pattern in (*CREDENTIAL_VALUES, *extra_values)]
        self.count = 0

    def secret_key(self, key: str) -> bool:
        return bool(self._keys.search(_CAMEL.sub("_", key).lower().replace("-", "_")))

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self._masked(item) if self.secret_key(str(key)) else self(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, str):
            for pattern in self._values:
                value, replaced = pattern.subn(MASK, value)
                self.count += replaced
        return value

    def _masked(self, value: Any) -> Any:
        if value in (None, "", [], {}):
            return value  # nothing to hide, and "unset" is worth seeing
        self.count += 1
        return MASK


def jsonable(value: Any) -> Any:
    """A checkpoint value as plain JSON data (messages, dataclasses and models included)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if hasattr(value, "model_dump"):  # pydantic models, LangChain messages
        return jsonable(value.model_dump())
    if hasattr(value, "node") and hasattr(value, "arg"):  # langgraph.types.Send
        return {"send": value.node, "arg": jsonable(value.arg)}
    return repr(value)


# --- the checkpoints as read ------------------------------------------------------------------

@dataclass(frozen=True)
class Write:
    """A pending write of a task that ran from a checkpoint."""

    task_id: str
    task: str
    """The node the task ran, "__update__" for a state update, "" for a bare resume value."""
    channel: str
    value: Any


@dataclass(frozen=True)
class Record:
    """One checkpoint with the writes made against it."""

    namespace_id: str
    """`checkpoint_ns` as stored: "" for the root graph, "node:<task id>|..." for a subgraph run."""
    checkpoint_id: str
    parent_id: str | None
    ts: datetime
    step: int
    source: str
    metadata: dict[str, Any]
    values: dict[str, Any]
    channel_versions: dict[str, Any]
    versions_seen: dict[str, dict[str, Any]]
    writes: tuple[Write, ...]

    @property
    def namespace(self) -> str:
        """The subgraph path without task ids ("" root, "triage", "a:b")."""
        return ":".join(part.split(":")[0] for part in self.namespace_id.split("|")) if self.namespace_id else ""

    @property
    def run(self) -> str | None:
        return next((str(self.metadata[key]) for key in RUN_KEYS if self.metadata.get(key)), None)

    def tasks(self) -> dict[str, list[Write]]:
        grouped: dict[str, list[Write]] = defaultdict(list)
        for write in self.writes:
            grouped[write.task_id].append(write)
        return grouped


def task_name(task_path: str) -> str:
    """The node of a task from its stored path ("~__pregel_pull, draft_reply")."""
    parts = [part.strip() for part in task_path.split(",")]
    if parts[0] == "~__pregel_pull" and len(parts) > 1:
        return parts[1]
    if parts[0] == "~__interrupt__":  # update_state() writes as this pseudo task
        return "__update__"
    if parts[0] == "~__pregel_push":
        return "__send__"
    return ""


def load_history(dsn: str, thread_id: str, limit: int) -> list[Record]:
    """The thread's checkpoints (every namespace, newest `limit`), oldest first."""
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    with psycopg.connect(dsn, autocommit=False, prepare_threshold=0, row_factory=dict_row,
                         connect_timeout=10) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        saver = PostgresSaver(conn)
        tuples = list(saver.list({"configurable": {"thread_id": thread_id}}, limit=limit))
        # The saver hands back (task_id, channel, value); the node of each task is in its path.
        rows = conn.execute("SELECT DISTINCT checkpoint_ns, checkpoint_id, task_id, task_path FROM checkpoint_writes "
                            "WHERE thread_id = %s", (thread_id,)).fetchall()
        conn.rollback()
    paths = {(row["checkpoint_ns"], row["checkpoint_id"], row["task_id"]): row["task_path"] for row in rows}
    records = []
    for item in tuples:
        configurable = item.config["configurable"]
        namespace, checkpoint_id = configurable["checkpoint_ns"], configurable["checkpoint_id"]
        checkpoint, metadata = item.checkpoint, dict(item.metadata or {})
        writes = tuple(Write(task_id, task_name(paths.get((namespace, checkpoint_id, task_id), "")), channel, value)
                       for task_id, channel, value in item.pending_writes or ())
        records.append(Record(
            namespace, checkpoint_id,
            item.parent_config["configurable"]["checkpoint_id"] if item.parent_config else None,
            datetime.fromisoformat(checkpoint["ts"]), int(metadata.get("step", 0)), str(metadata.get("source", "")),
            metadata, dict(checkpoint.get("channel_values") or {}), dict(checkpoint.get("channel_versions") or {}),
            {node: dict(seen) for node, seen in (checkpoint.get("versions_seen") or {}).items()}, writes))
    records.sort(key=lambda record: (record.ts, record.checkpoint_id))
    return records


def graph_structure(spec: str) -> dict[str, Any]:
    """Nodes and edges of `module:attr`: a compiled graph, a StateGraph, or a no-argument factory of either."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--graph {spec!r}: expected module:attribute")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    if callable(target) and not hasattr(target, "get_graph") and not hasattr(target, "compile"):
        required = [parameter.name for parameter in inspect.signature(target).parameters.values()
                    if parameter.default is parameter.empty and parameter.kind not in (parameter.VAR_POSITIONAL,
                                                                                      parameter.VAR_KEYWORD)]
        if required:
            raise ValueError(f"--graph {spec!r}: a factory must take no arguments, "
                             f"this one needs {', '.join(required)}")
        target = target()
    if hasattr(target, "compile") and not hasattr(target, "get_graph"):
        target = target.compile()
    if not hasattr(target, "get_graph"):
        raise ValueError(f"--graph {spec!r} is neither a LangGraph graph nor a factory of one")
    # xray: subgraph nodes appear as "subgraph:node", as the checkpoints' namespaces name them.
    drawable = target.get_graph(xray=True)
    return {"source": f"graph {spec}", "nodes": sorted(drawable.nodes),
            "edges": sorted(({"source": edge.source, "target": edge.target, "conditional": bool(edge.conditional)}
                             for edge in drawable.edges), key=lambda e: (e["source"], e["target"]))}


# --- the report (pure) --------------------------------------------------------------------------

def _depth(namespace: str) -> int:
    """How deep a subgraph namespace is nested: 0 for the root graph."""
    return namespace.count(":") + 1 if namespace else 0


def _qualified(namespace: str, node: str) -> str:
    return f"{namespace}:{node}" if namespace else node


def _user_channels(values: dict[str, Any]) -> dict[str, Any]:
    """State keys, without LangGraph's own channels (`__start__`, `branch:to:x`, `join:...`)."""
    return {key: value for key, value in values.items() if not key.startswith("__") and ":" not in key}


def _ran(parent: Record, child: Record) -> list[str]:
    """Nodes that ran in the step from `parent` to `child`: their versions_seen moved."""
    return sorted(node for node, seen in child.versions_seen.items()
                  if node not in NOT_NODES and parent.versions_seen.get(node) != seen)


def _error(value: Any) -> tuple[str | None, str]:
    """(exception type, message) of an `__error__` write, stored as the exception's repr."""
    text = str(value)
    match = _ERROR_REPR.match(text)
    return (match["type"], match["message"]) if match else (None, text)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 6) if start and end else None


def _by_id(records: Iterable[Record]) -> dict[tuple[str, str], Record]:
    return {(record.namespace_id, record.checkpoint_id): record for record in records}


def execution_trace(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Inputs, state updates and node executions in time order, failed and interrupted tasks included."""
    index = _by_id(records)
    entries: list[dict[str, Any]] = []
    for record in records:
        parent = index.get((record.namespace_id, record.parent_id)) if record.parent_id else None
        base = {"namespace": record.namespace, "step": record.step, "checkpoint_id": record.checkpoint_id,
                "run": record.run}
        if record.source == "input" and not record.namespace_id:
            # (A subgraph's input is its parent's state: the state evolution shows it.)
            entries.append({**base, "kind": "input", "node": None, "status": "success", "started": None,
                            "finished": record.ts, "seconds": None,
                            "input": record.values.get("__start__")})
        elif record.source in ("update", "fork"):
            entries.append({**base, "kind": record.source, "node": None, "status": "success", "started": None,
                            "finished": record.ts, "seconds": None})
        elif parent is not None:
            # A step spanning two runs (resumed after an interrupt, re-run after an error) includes the
            # time between them: not the node's time.
            same_run = parent.run == record.run
            for node in _ran(parent, record):
                entries.append({**base, "kind": "node", "node": node, "status": "success",
                                "started": parent.ts if same_run else None, "finished": record.ts,
                                "seconds": _seconds(parent.ts, record.ts) if same_run else None,
                                **({} if same_run else {"note": "step spans two runs: not timed"})})
        for task_id, writes in record.tasks().items():
            # A task that failed or stopped at an interrupt made no checkpoint: it started at this one.
            unfinished = {"namespace": record.namespace, "step": record.step + 1, "checkpoint_id": record.checkpoint_id,
                          "run": None, "kind": "node", "node": writes[0].task, "started": record.ts,
                          "finished": None, "seconds": None, "task_id": task_id}
            failed = [write for write in writes if write.channel == ERROR]
            if failed:
                kind, message = _error(failed[0].value)
                entries.append({**unfinished, "status": "error", "error": {"type": kind, "message": message}})
            if any(write.channel == INTERRUPT for write in writes):
                entries.append({**unfinished, "status": "interrupted"})
    entries.sort(key=lambda entry: (entry["started"] or entry["finished"], _depth(entry["namespace"]),
                                    entry["node"] or ""))
    return entries


def state_evolution(records: Sequence[Record]) -> list[dict[str, Any]]:
    """What each checkpoint changed in its namespace's state."""
    index = _by_id(records)
    changes = []
    for record in records:
        parent = index.get((record.namespace_id, record.parent_id)) if record.parent_id else None
        before = _user_channels(parent.values) if parent else {}
        after = _user_channels(record.values)
        added = {key: after[key] for key in after if key not in before}
        changed = {key: {"from": before[key], "to": after[key]} for key in after
                   if key in before and before[key] != after[key]}
        removed = sorted(key for key in before if key not in after)
        if added or changed or removed:
            changes.append({"namespace": record.namespace, "checkpoint_id": record.checkpoint_id, "step": record.step,
                            "source": record.source, "ts": record.ts, "added": added, "changed": changed,
                            "removed": removed})
    return changes


def interrupts(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Every interrupt raised, whether it was resumed, and with what."""
    children = {(record.namespace_id, record.parent_id) for record in records}
    found: dict[str, dict[str, Any]] = {}
    for record in records:
        bare_resume = [write.value for write in record.writes if write.channel == RESUME and not write.task]
        for task_id, writes in record.tasks().items():
            resumes = [write.value for write in writes if write.channel == RESUME]
            for write in writes:
                if write.channel != INTERRUPT:
                    continue
                for item in write.value if isinstance(write.value, (list, tuple)) else [write.value]:
                    interrupt_id = getattr(item, "id", None) or f"{task_id}:{len(found)}"
                    resume = resumes[0] if resumes else (bare_resume[0] if bare_resume else None)
                    entry = {"node": write.task, "namespace": record.namespace, "step": record.step + 1,
                             "checkpoint_id": record.checkpoint_id, "at": record.ts, "interrupt_id": interrupt_id,
                             "value": getattr(item, "value", item),
                             "resumed": bool(resumes or bare_resume)
                             or (record.namespace_id, record.checkpoint_id) in children,
                             "resume_value": resume[0] if isinstance(resume, list) and len(resume) == 1 else resume}
                    # A subgraph's interrupt also surfaces in its parent's task: keep the innermost.
                    known = found.get(interrupt_id)
                    if known is None or _depth(entry["namespace"]) > _depth(known["namespace"]):
                        found[interrupt_id] = entry
    return sorted(found.values(), key=lambda entry: entry["at"])


def errors_and_retries(trace: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Failed tasks, and those of them whose node ran again on the thread later (re-invoked after the error)."""
    errors, retries = [], []
    for position, entry in enumerate(trace):
        if entry["status"] != "error":
            continue
        later = next((other for other in trace[position + 1:]
                      if other["kind"] == "node" and other["node"] == entry["node"]
                      and other["namespace"] == entry["namespace"]), None)
        errors.append({"node": entry["node"], "namespace": entry["namespace"], "step": entry["step"],
                       "checkpoint_id": entry["checkpoint_id"], "at": entry["started"], **entry["error"],
                       "retried": later is not None})
        if later is not None:
            retries.append({"node": entry["node"], "namespace": entry["namespace"], "failed_at": entry["started"],
                            "error_type": entry["error"]["type"], "retried_at": later["started"] or later["finished"],
                            "retry_checkpoint_id": later["checkpoint_id"], "outcome": later["status"]})
    return errors, retries


def structure_from_checkpoints(records: Sequence[Record]) -> dict[str, Any]:
    """Nodes seen and edges observed: a task's trigger writes name the nodes it leads to."""
    nodes: set[str] = set()
    edges: set[tuple[str, str, bool]] = set()
    for record in records:
        nodes.update(_qualified(record.namespace, node) for node in record.versions_seen if node not in NOT_NODES)
        for writes in record.tasks().values():
            source = writes[0].task
            if not source or source == "__update__":
                continue
            nodes.add(_qualified(record.namespace, source))
            targets = []
            for write in writes:
                if write.channel.startswith(("branch:to:", "join:")):
                    targets.append((write.channel.rsplit(":", 1)[1], False))
                elif write.channel == TASKS and hasattr(write.value, "node"):
                    targets.append((write.value.node, True))
            channels = {write.channel for write in writes}
            finished = ERROR not in channels and (INTERRUPT not in channels or RESUME in channels)
            if not targets and finished and source != "__start__":
                targets.append(("__end__", False))
            for target, conditional in targets:
                edges.add((_qualified(record.namespace, source), _qualified(record.namespace, target), conditional))
    nodes.update(node for source, target, _ in edges for node in (source, target))
    return {"source": "checkpoints (nodes that ran, edges they took)", "nodes": sorted(nodes),
            "edges": [{"source": s, "target": t, "conditional": c} for s, t, c in sorted(edges)]}


def performance(trace: Sequence[dict[str, Any]], records: Sequence[Record]) -> dict[str, Any]:
    """Per-node timing from the checkpoint timestamps, the slowest steps, the thread's span."""
    by_node: dict[str, list[float]] = defaultdict(list)
    for entry in trace:
        if entry["kind"] == "node" and entry["seconds"] is not None:
            by_node[_qualified(entry["namespace"], entry["node"])].append(entry["seconds"])
    timed = [entry for entry in trace if entry["kind"] == "node" and entry["seconds"] is not None]
    return {
        "nodes": {node: {"count": len(seconds), "total_seconds": round(sum(seconds), 6),
                         "mean_seconds": round(sum(seconds) / len(seconds), 6), "max_seconds": max(seconds)}
                  for node, seconds in sorted(by_node.items())},
        "slowest": [{"node": _qualified(entry["namespace"], entry["node"]), "step": entry["step"],
                     "seconds": entry["seconds"], "checkpoint_id": entry["checkpoint_id"]}
                    for entry in sorted(timed, key=lambda entry: -entry["seconds"])[:5]],
        "first_checkpoint": records[0].ts if records else None,
        "last_checkpoint": records[-1].ts if records else None,
        "span_seconds": _seconds(records[0].ts, records[-1].ts) if records else None,
    }


def thread_status(records: Sequence[Record]) -> dict[str, Any]:
    """Where the thread stands: its latest root checkpoint's failed, interrupted or pending tasks."""
    roots = [record for record in records if not record.namespace_id]
    if not roots:
        return {"status": "unknown", "next": []}
    latest = roots[-1]
    channels = {write.channel for write in latest.writes}
    # A node is due when its trigger channel holds a value it has not seen (LangGraph's own test).
    triggered = sorted(channel.split(":", 2)[2] for channel, version in latest.channel_versions.items()
                       if channel.startswith("branch:to:") and channel in latest.values
                       and latest.versions_seen.get(channel.split(":", 2)[2], {}).get(channel) != version)
    if ERROR in channels:
        status = "error"
    elif INTERRUPT in channels and RESUME not in channels:
        status = "interrupted"
    elif triggered:
        status = "pending"
    else:
        status = "done"
    return {"status": status, "next": triggered, "checkpoint_id": latest.checkpoint_id, "step": latest.step}


def _in_graph(node: str, graph_nodes: set[str]) -> bool:
    """Whether the graph drawn with xray has `node` (a subgraph node is drawn as its inner nodes)."""
    return (node in graph_nodes or node.rsplit(":", 1)[-1] in ("__start__", "__end__")
            or any(name.startswith(node + ":") for name in graph_nodes))


def runs(records: Sequence[Record]) -> list[dict[str, Any]]:
    """The runs that wrote the thread, in order, with their metadata (the run config's, copied by LangGraph)."""
    found: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.run and not record.namespace_id and record.run not in found:
            extra = {key: value for key, value in record.metadata.items() if key not in ("step", "source", "parents")}
            found[record.run] = {"run": record.run, "first_checkpoint": record.ts, "metadata": extra}
    return list(found.values())


STATUS_EXIT = {"done": Status.OK, "interrupted": Status.WARN, "pending": Status.WARN, "error": Status.FAIL,
               "unknown": Status.FAIL}


def build_report(thread_id: str, records: Sequence[Record], redactor: Redactor,
                 graph: dict[str, Any] | None = None) -> dict[str, Any]:
    """The seed's report sections for one thread, JSON-ready and redacted."""
    trace = execution_trace(records)
    errors, retries = errors_and_retries(trace)
    state = thread_status(records)
    observed = structure_from_checkpoints(records)
    structure = observed
    if graph is not None:
        # The graph's shape, and what the thread ran that the graph no longer has (a changed deploy).
        structure = {**graph, "nodes_not_in_graph": sorted(node for node in observed["nodes"]
                                                           if not _in_graph(node, set(graph["nodes"])))}
    metadata = next((record.metadata for record in records if not record.namespace_id), {})
    status = STATUS_EXIT[state["status"]]
    report = {
        "report": "debug",
        "status": status.name,
        "exit_code": int(status),
        "thread": {"thread_id": thread_id,
                   "graph": next((metadata[key] for key in GRAPH_KEYS if metadata.get(key)), None),
                   "checkpoints": len(records), "namespaces": sorted({record.namespace for record in records}),
                   "runs": runs(records), **state},
        "graph_structure": structure,
        "execution_trace": trace,
        "performance_analysis": performance(trace, records),
        "state_evolution": state_evolution(records),
        "interrupts": interrupts(records),
        "error_analysis": {"errors": errors, "retries": retries,
                           "in_run_retries": "RetryPolicy attempts inside a run are not persisted by LangGraph: "
                                             "see langgraph_retries_total and the node_retried log lines"},
    }
    redacted = redactor(jsonable(report))
    redacted["redacted_values"] = redactor.count
    return redacted


# --- output ----------------------------------------------------------------------------------------

def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def render(console: Console, report: dict[str, Any]) -> None:
    """A readable summary: the thread, its trace, interrupts, errors, retries and state changes."""
    thread = report["thread"]
    console.print(f"[bold]thread {thread['thread_id']}[/] graph {thread['graph']}: {thread['status']}"
                  + (f", next {', '.join(thread['next'])}" if thread["next"] else "")
                  + f" ({thread['checkpoints']} checkpoints, runs: {len(thread['runs'])}, "
                    f"span {report['performance_analysis']['span_seconds']} s)")
    trace = Table(title="execution trace", title_justify="left")
    for column in ("time", "step", "node", "status", "seconds", "detail"):
        trace.add_column(column, overflow="fold")
    for entry in report["execution_trace"]:
        node = _qualified(entry["namespace"], entry["node"]) if entry["node"] else f"({entry['kind']})"
        detail = ""
        if entry.get("error"):
            detail = f"{entry['error']['type']}: {entry['error']['message']}"
        elif entry["kind"] == "input":
            detail = _short(entry.get("input"))
        elif entry.get("note"):
            detail = entry["note"]
        style = {"error": "bold red", "interrupted": "yellow"}.get(entry["status"], "green")
        trace.add_row((entry["started"] or entry["finished"])[11:23], str(entry["step"]), node,
                      f"[{style}]{entry['status']}[/]", "" if entry["seconds"] is None else f"{entry['seconds']:.3f}",
                      detail)
    console.print(trace)
    for item in report["interrupts"]:
        console.print(f"interrupt at {item['node']} (step {item['step']}): {_short(item['value'])}; "
                      + (f"resumed with {_short(item['resume_value'])}" if item["resumed"] else "[yellow]waiting[/]"))
    for item in report["error_analysis"]["errors"]:
        console.print(f"[red]error[/] at {item['node']} (step {item['step']}): {item['type']}: {item['message']}"
                      + (" (retried)" if item["retried"] else ""))
    for item in report["error_analysis"]["retries"]:
        console.print(f"retry of {item['node']} after {item['error_type']}: {item['outcome']}")
    for change in report["state_evolution"]:
        keys = [*change["added"], *change["changed"], *(f"-{key}" for key in change["removed"])]
        where = f"{change['namespace']} " if change["namespace"] else ""
        console.print(f"state {where}step {change['step']} ({change['source']}): {', '.join(keys)}")
    edges = report["graph_structure"]["edges"]
    console.print(f"graph ({report['graph_structure']['source']}): "
                  + ", ".join(f"{edge['source']} -> {edge['target']}" for edge in edges))
    console.print(f"redacted values: {report['redacted_values']}")
    console.print(f"result: {report['status']} (exit {report['exit_code']})")


def _note(ctx: OpsContext, text: str) -> None:
    """A message on stderr, unwrapped (a script greps it) and printed as is."""
    ctx.progress.print(f"debug: {text}", markup=False, highlight=False, soft_wrap=True)


def run(ctx: OpsContext, thread_id: str, graph_spec: str | None, redactor: Redactor, limit: int,
        out: str | None) -> int:
    """Read the thread from database_url, print the report; exit by the thread's status."""
    import psycopg

    try:
        dsn = ctx.outputs.require("database_url")
        graph = graph_structure(graph_spec) if graph_spec else None
    except (MissingOutput, ValueError, ImportError, AttributeError) as error:
        _note(ctx, str(error))
        return EXIT_USAGE
    try:
        records = load_history(dsn, thread_id, limit)
    except psycopg.Error as error:
        _note(ctx, f"cannot read the checkpoints: {type(error).__name__}: "
                   f"{Redactor()(str(error).strip())}")
        return int(Status.FAIL)
    if not records:
        _note(ctx, f"no checkpoints for thread {thread_id!r}")
        return int(Status.FAIL)
    report = build_report(thread_id, records, redactor, graph)
    text = json.dumps(report, indent=2) + "\n"
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
    if ctx.as_json:
        ctx.console.file.write(text)
    else:
        render(ctx.console, report)
    return report["exit_code"]
