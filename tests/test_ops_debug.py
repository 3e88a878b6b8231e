"""`python -m ops debug` on threads written by the reference app's real graphs into a real PostgreSQL.

The graphs run in-process with the official async PostgreSQL saver (as the app runs them), with
the app's own instrumentation and run config: one thread interrupted for review and resumed,
one interrupted and left waiting, one whose node failed and was re-run after a state update,
one that failed for good. Secrets are planted where real ones end up: in the state (a URL with
user-info, an API token in free text) and in the run config (copied into checkpoint metadata).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.types import Command

from ops.cli import main
from ops.debug import MASK, Redactor, task_name
from reference_app.refapp.graphs import GRAPHS
from reference_app.refapp.instrument import Instrumentation
from reference_app.refapp.metrics import Metrics
from reference_app.refapp.runs import run_config
from reference_app.refapp.service import node_options
from reference_app.refapp.settings import load_settings
from tests.engines.postgres import new_server

PLANTED_PASSWORD = "planted-db-password"
PLANTED_API_KEY = "sk-planted-config-key"
PLANTED_TOKEN = "tok_live_planted42"
TICKET = f"Cannot log in: postgresql://admin:{PLANTED_PASSWORD}@db.internal/app said {PLANTED_TOKEN}"
DELAY = 0.05
GRAPH_MODULE = '''
from reference_app.refapp.graphs import GRAPHS
from reference_app.refapp.instrument import Instrumentation
from reference_app.refapp.metrics import Metrics
from reference_app.refapp.service import node_options
from reference_app.refapp.settings import load_settings

# The reference app's support_ticket graph, uncompiled (a StateGraph), as --graph accepts it.
support_ticket = GRAPHS["support_ticket"].build(Instrumentation(Metrics()),
                                                node_options(load_settings({"DATABASE_URI": "unused"})))
'''


async def _write_threads(dsn: str) -> None:
    settings = load_settings({"DATABASE_URI": dsn, "RETRY_INITIAL_INTERVAL_SECONDS": "0.01", "RETRY_JITTER": "false"})
    async with AsyncPostgresSaver.from_conn_string(dsn) as saver:
        await saver.setup()
        instrumentation = Instrumentation(Metrics())
        graphs = {name: spec.build(instrumentation, node_options(settings)).compile(checkpointer=saver, name=name)
                  for name, spec in GRAPHS.items()}
        tickets, refunds = graphs["support_ticket"], graphs["order_refund"]

        def config(graph: str, thread: str) -> dict:
            return run_config(graph, str(uuid.uuid4()), thread)

        planted = config("support_ticket", "resumed")
        planted["configurable"]["api_key"] = PLANTED_API_KEY  # LangGraph copies it into the checkpoint metadata
        first = await tickets.ainvoke({"ticket": TICKET, "customer_id": "vip-1", "review": True, "flaky": 1,
                                       "delay": DELAY}, planted)
        assert first["__interrupt__"]
        await tickets.ainvoke(Command(resume={"approved": True}), config("support_ticket", "resumed"))

        await tickets.ainvoke({"ticket": "please check my invoice", "review": True},
                              config("support_ticket", "waiting"))

        with pytest.raises(Exception, match="fail=true"):
            await refunds.ainvoke({"order_id": "o-1", "amount": 10.0, "fail": True}, config("order_refund", "retried"))
        # The operator's fix: clear the switch in the thread's state, then re-run the failed step.
        await refunds.aupdate_state({"configurable": {"thread_id": "retried"}}, {"fail": False})
        done = await refunds.ainvoke(None, config("order_refund", "retried"))
        assert done["outcome"] == "refunded"

        with pytest.raises(Exception, match="fail=true"):
            await tickets.ainvoke({"ticket": "broken", "fail": True}, config("support_ticket", "failed"))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    server = new_server({"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"})
    try:
        asyncio.run(_write_threads(server.dsn()))
        path = tmp_path_factory.mktemp("debug") / "outputs.json"
        path.write_text(json.dumps({"database_url": server.dsn()}))
        yield path
    finally:
        server.cleanup()


def debug(outputs: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["debug", "--outputs", str(outputs), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def report(outputs: Path, capsys, *args: str) -> tuple[int, dict, str]:
    code, out, _ = debug(outputs, capsys, "--json", *args)
    return code, json.loads(out), out


def nodes(trace: list[dict], namespace: str | None = None) -> list[tuple[str, str]]:
    return [(f"{e['namespace']}:{e['node']}" if e["namespace"] else e["node"], e["status"]) for e in trace
            if e["kind"] == "node" and (namespace is None or e["namespace"] == namespace)]


def test_resumed_thread_trace_interrupt_timing_and_redaction(outputs, capsys, tmp_path):
    out_file = tmp_path / "report.json"
    code, body, text = report(outputs, capsys, "resumed", "--redact-pattern", r"tok_live_\w+", "--out", str(out_file))
    assert code == 0 and body["status"] == "OK" and body["thread"]["status"] == "done"
    assert json.loads(out_file.read_text()) == body
    assert body["thread"]["graph"] == "support_ticket" and len(body["thread"]["runs"]) == 2  # the run and its resume

    # Node order, the subgraph's nodes inside `triage`, the interrupted attempt before the resumed one.
    assert nodes(body["execution_trace"]) == [
        ("receive", "success"), ("triage", "success"), ("triage:classify", "success"),
        ("triage:prioritize", "success"), ("lookup_customer", "success"), ("draft_reply", "success"),
        ("human_review", "interrupted"), ("human_review", "success"), ("send_reply", "success")]
    # Timing from the checkpoint timestamps: `receive` waited the run's delay.
    receive = next(e for e in body["execution_trace"] if e["node"] == "receive")
    assert receive["seconds"] >= DELAY
    resumed = [e for e in body["execution_trace"] if e["node"] == "human_review" and e["status"] == "success"]
    interrupted = next(e for e in body["execution_trace"] if e["status"] == "interrupted")
    # The resumed step spans the wait for the human: no start time claimed, not the node's time.
    assert resumed[0]["started"] is None and resumed[0]["seconds"] is None
    assert resumed[0]["finished"] > interrupted["started"]

    [interrupt] = body["interrupts"]
    assert interrupt["node"] == "human_review" and interrupt["value"]["reason"] == "approval_required"
    assert interrupt["resumed"] is True and interrupt["resume_value"] == {"approved": True}

    evolution = {(c["namespace"], c["step"]): c for c in body["state_evolution"]}
    assert evolution[("", 5)]["added"] == {"approved": True}
    assert evolution[("", 6)]["added"] == {"outcome": "replied"}

    for planted in (PLANTED_PASSWORD, PLANTED_API_KEY, PLANTED_TOKEN):
        assert planted not in text
    assert body["thread"]["runs"][0]["metadata"]["api_key"] == MASK
    assert evolution[("", 0)]["added"]["ticket"] == f"Cannot log in: postgresql://{MASK}@db.internal/app said {MASK}"
    assert MASK in interrupt["value"]["reply"]
    assert body["redacted_values"] > 3


def test_the_configurable_pattern_is_what_masks_the_token(outputs, capsys):
    _, _, text = report(outputs, capsys, "resumed")
    assert PLANTED_TOKEN in text  # no built-in rule knows this token format
    assert PLANTED_PASSWORD not in text and PLANTED_API_KEY not in text
    _, _, masked = report(outputs, capsys, "resumed", "--redact-key", "^customer_id$")
    assert '"customer_id": "vip-1"' in text and '"customer_id": "vip-1"' not in masked


def test_failed_node_then_retried_after_a_state_update(outputs, capsys):
    code, body, _ = report(outputs, capsys, "retried")
    assert code == 0 and body["thread"]["status"] == "done"
    [error] = body["error_analysis"]["errors"]
    assert error["node"] == "issue_refund" and error["type"] == "DemandedFailure"
    assert error["message"] == "issue_refund failed because the run input set fail=true"
    assert error["retried"] is True
    [retry] = body["error_analysis"]["retries"]
    assert (retry["node"], retry["outcome"], retry["error_type"]) == ("issue_refund", "success", "DemandedFailure")
    kinds = [(e["kind"], e["node"], e["status"]) for e in body["execution_trace"]]
    assert kinds[-3:] == [("node", "issue_refund", "error"), ("update", None, "success"),
                          ("node", "issue_refund", "success")]
    update = next(c for c in body["state_evolution"] if c["source"] == "update")
    assert update["changed"] == {"fail": {"from": True, "to": False}}


def test_a_thread_that_failed_for_good_exits_2_with_a_readable_summary(outputs, capsys):
    code, out, _ = debug(outputs, capsys, "failed")
    assert code == 2
    assert "draft_reply" in out and "DemandedFailure: draft_reply failed because the run input set fail=true" in out
    assert "thread failed graph support_ticket: error, next draft_reply" in out
    assert "result: FAIL (exit 2)" in out


def test_a_thread_waiting_on_its_interrupt_exits_1(outputs, capsys):
    code, body, _ = report(outputs, capsys, "waiting")
    assert code == 1 and body["thread"]["status"] == "interrupted" and body["thread"]["next"] == ["human_review"]
    [interrupt] = body["interrupts"]
    assert interrupt["resumed"] is False and interrupt["resume_value"] is None


def test_structure_from_the_checkpoints_or_from_the_graph(outputs, capsys, tmp_path, monkeypatch):
    _, observed, _ = report(outputs, capsys, "failed")
    edges = {(e["source"], e["target"]) for e in observed["graph_structure"]["edges"]}
    assert {("__start__", "receive"), ("receive", "triage"), ("triage", "lookup_customer"),
            ("triage:classify", "triage:prioritize"), ("lookup_customer", "draft_reply")} <= edges
    assert "send_reply" not in observed["graph_structure"]["nodes"]  # the failed thread never got there

    (tmp_path / "debug_target_graph.py").write_text(GRAPH_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    _, drawn, _ = report(outputs, capsys, "failed", "--graph", "debug_target_graph:support_ticket")
    structure = drawn["graph_structure"]
    assert {"human_review", "send_reply", "triage:classify"} <= set(structure["nodes"])
    assert {"source": "human_review", "target": "send_reply", "conditional": False} in structure["edges"]
    assert structure["nodes_not_in_graph"] == []


def test_unknown_thread_bad_graph_and_unreachable_database(outputs, capsys, tmp_path):
    code, _, err = debug(outputs, capsys, "no-such-thread")
    assert code == 2 and "no checkpoints for thread 'no-such-thread'" in err
    code, _, err = debug(outputs, capsys, "failed", "--graph", "json:dumps")
    assert code == 3 and "a factory must take no arguments, this one needs obj" in err
    code, _, err = debug(outputs, capsys, "failed", "--graph", "string:ascii_letters")
    assert code == 3 and "neither a LangGraph graph" in err
    closed = tmp_path / "closed.json"
    closed.write_text(json.dumps({"database_url": f"postgresql://app:{PLANTED_PASSWORD}@127.0.0.1:1/app"}))
    code, _, err = debug(closed, capsys, "any")
    assert code == 2 and "cannot read the checkpoints" in err and PLANTED_PASSWORD not in err


def test_redactor_rules():
    redact = Redactor(extra_values=[r"\bcustom-\d+\b"])
    value = {"password": "p", "clientSecret": "s", "API-Key": "k", "max_tokens": 512, "author": "ann",
             "session_id": None, "nested": [{"Authorization": "Bearer abc.def"}],
             "note": "redis://:pw@cache:6379/0 and Bearer xyz123 and AKIAABCDEFGHIJKLMNOP and custom-42"}
    assert redact(value) == {
        "password": MASK, "clientSecret": MASK, "API-Key": MASK, "max_tokens": 512, "author": "ann",
        "session_id": None, "nested": [{"Authorization": MASK}],
        "note": f"redis://{MASK}@cache:6379/0 and Bearer {MASK} and {MASK} and {MASK}"}
    assert redact.count == 8


def test_task_names_from_the_stored_task_path():
    assert task_name("~__pregel_pull, draft_reply") == "draft_reply"
    assert task_name("~__interrupt__, 0000000000") == "__update__"
    assert task_name("") == ""
