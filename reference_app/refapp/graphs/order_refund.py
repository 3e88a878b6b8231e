"""`order_refund`: validate an order, check refund eligibility (retried), get a manager's approval
for large or flagged refunds (an interrupt), then issue the refund."""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from ..instrument import Instrumentation
from .controls import CONTROL_FIELDS, fail_if_asked, flake_if_asked, work
from .spec import GraphSpec, NodeOptions, add_node, chain

NAME = "order_refund"
INPUT_FIELDS: dict[str, type] = {"order_id": str, "amount": float, **CONTROL_FIELDS}

APPROVAL_LIMIT = 500.0  # refunds above this wait for a manager
ELIGIBLE_LIMIT = 5000.0  # refunds above this are refused outright


class RefundState(TypedDict, total=False):
    order_id: str
    amount: float
    fail: bool
    flaky: int
    review: bool
    delay: float
    eligible: bool
    approved: bool
    refund_id: str
    outcome: str


async def validate_order(state: RefundState, runtime: Runtime) -> dict[str, Any]:
    await work(state)
    return {"order_id": state.get("order_id", "").strip() or "unknown", "amount": float(state.get("amount", 0.0))}


async def check_eligibility(state: RefundState, runtime: Runtime) -> dict[str, Any]:
    flake_if_asked(state, runtime, "check_eligibility")
    return {"eligible": 0 < state["amount"] <= ELIGIBLE_LIMIT}


async def manager_approval(state: RefundState, runtime: Runtime) -> dict[str, Any]:
    if not state["eligible"]:
        return {"approved": False}
    if state["amount"] > APPROVAL_LIMIT:
        reason = "amount_over_limit"
    elif state.get("review"):
        reason = "approval_required"
    else:
        return {"approved": True}
    decision = interrupt({"reason": reason, "order_id": state["order_id"], "amount": state["amount"]})
    approved = decision.get("approved", False) if isinstance(decision, dict) else bool(decision)
    return {"approved": approved}


async def issue_refund(state: RefundState, runtime: Runtime) -> dict[str, Any]:
    fail_if_asked(state, "issue_refund")
    if not state.get("approved"):
        return {"outcome": "refused"}
    return {"outcome": "refunded", "refund_id": f"rf-{state['order_id']}"}


def build(instrument: Instrumentation, options: NodeOptions) -> StateGraph:
    graph = StateGraph(RefundState)
    add_node(graph, instrument, options, "validate_order", validate_order)
    add_node(graph, instrument, options, "check_eligibility", check_eligibility, retried=True)
    add_node(graph, instrument, options, "manager_approval", manager_approval)
    add_node(graph, instrument, options, "issue_refund", issue_refund)
    chain(graph, ["validate_order", "check_eligibility", "manager_approval", "issue_refund"])
    return graph


SPEC = GraphSpec(NAME, INPUT_FIELDS, build)
