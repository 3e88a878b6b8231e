"""`support_ticket`: triage a customer ticket (a subgraph), look the customer up (retried), draft a
reply, optionally wait for a human to approve it (an interrupt), then send it."""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from ..instrument import Instrumentation
from .controls import CONTROL_FIELDS, fail_if_asked, flake_if_asked, work
from .spec import GraphSpec, NodeOptions, add_node, chain

NAME = "support_ticket"
INPUT_FIELDS: dict[str, type] = {"ticket": str, "customer_id": str, **CONTROL_FIELDS}

TECHNICAL_WORDS = ("error", "crash", "bug", "down", "timeout")
BILLING_WORDS = ("invoice", "refund", "charge", "payment", "billing")


class TicketState(TypedDict, total=False):
    ticket: str
    customer_id: str
    fail: bool
    flaky: int
    review: bool
    delay: float
    category: str
    priority: str
    customer_tier: str
    reply: str
    approved: bool
    outcome: str


async def receive(state: TicketState, runtime: Runtime) -> dict[str, Any]:
    await work(state)
    return {"ticket": state.get("ticket", "").strip()}


async def classify(state: TicketState, runtime: Runtime) -> dict[str, Any]:
    text = state.get("ticket", "").lower()
    if any(word in text for word in TECHNICAL_WORDS):
        return {"category": "technical"}
    if any(word in text for word in BILLING_WORDS):
        return {"category": "billing"}
    return {"category": "general"}


async def prioritize(state: TicketState, runtime: Runtime) -> dict[str, Any]:
    urgent = "urgent" in state.get("ticket", "").lower() or state.get("category") == "technical"
    return {"priority": "high" if urgent else "normal"}


async def lookup_customer(state: TicketState, runtime: Runtime) -> dict[str, Any]:
    flake_if_asked(state, runtime, "lookup_customer")
    return {"customer_tier": "gold" if state.get("customer_id", "").startswith("vip") else "standard"}


async def draft_reply(state: TicketState, runtime: Runtime) -> dict[str, Any]:
    fail_if_asked(state, "draft_reply")
    return {"reply": f"[{state['priority']}/{state['category']}] We are on it "
                     f"({state['customer_tier']} support): {state.get('ticket', '')[:80]}"}


async def human_review(state: TicketState, runtime: Runtime) -> dict[str, Any]:
    if not state.get("review"):
        return {"approved": True}
    # Resumed with Command(resume={"approved": bool}) (or a bare bool).
    decision = interrupt({"reason": "approval_required", "question": "Send this reply?", "reply": state["reply"]})
    approved = decision.get("approved", False) if isinstance(decision, dict) else bool(decision)
    return {"approved": approved}


async def send_reply(state: TicketState, runtime: Runtime) -> dict[str, Any]:
    return {"outcome": "replied" if state.get("approved") else "escalated"}


def build(instrument: Instrumentation, options: NodeOptions) -> StateGraph:
    triage = StateGraph(TicketState)
    add_node(triage, instrument, options, "classify", classify)
    add_node(triage, instrument, options, "prioritize", prioritize)
    chain(triage, ["classify", "prioritize"])

    graph = StateGraph(TicketState)
    add_node(graph, instrument, options, "receive", receive)
    graph.add_node("triage", triage.compile())
    add_node(graph, instrument, options, "lookup_customer", lookup_customer, retried=True)
    add_node(graph, instrument, options, "draft_reply", draft_reply)
    add_node(graph, instrument, options, "human_review", human_review)
    add_node(graph, instrument, options, "send_reply", send_reply)
    chain(graph, ["receive", "triage", "lookup_customer", "draft_reply", "human_review", "send_reply"])
    return graph


SPEC = GraphSpec(NAME, INPUT_FIELDS, build)
