"""The graphs the app serves, by name (the `assistant_id` of a run request)."""

from __future__ import annotations

from . import order_refund, support_ticket
from .spec import GraphSpec, NodeOptions

GRAPHS: dict[str, GraphSpec] = {spec.name: spec for spec in (support_ticket.SPEC, order_refund.SPEC)}

__all__ = ["GRAPHS", "GraphSpec", "NodeOptions"]
