"""`operations`: the operations image and what runs from it in the cluster: the auto-recovery service
(Alertmanager webhooks -> bounded remediations) and the weekly restore drill."""

from __future__ import annotations

from pydantic import Field

from policy.rules.images import image_is_pinned

from ..types import Int, Section
from .app import Image

KEY = "operations"


class OperationsConfig(Section):
    image: Image
    """The operations image, built from `ops/Dockerfile`: the auto-recovery service and the `ops` CLI (prod: a pinned tag or digest)."""
    recovery: bool = True
    """Deploy the auto-recovery service (with monitoring). It is also the alert log: `log` receivers and a missing dead-man's switch post to it."""
    dry_run: bool
    """Auto-recovery decides, logs and records Events, but changes nothing (prod default: true)."""
    max_actions: Int(1, 100) = 1
    """Actions per remediation and target within window_seconds."""
    window_seconds: Int(60, 604_800) = 3600
    """The rate limit's sliding window."""
    scale_step: Int(1, 100) = 2
    """Replicas added to a pinned autoscaler's maximum per action; never beyond what the connection budget leaves."""
    max_disabled_graphs: Int(1, 100) = 1
    """Graphs the service may disable at once (a person re-enables them)."""
    restore_drill: bool
    """Run the weekly restore drill (restore the latest backup into a scratch copy, compare LangGraph threads, report RTO/RPO, tear down)."""
    restore_drill_schedule: str = Field("23 4 * * 0", pattern=r"^[0-9*/,-]{1,32}( [0-9*/,-]{1,32}){4}$")
    """Cron schedule (UTC) of the drill: weekly by default."""


MODEL = OperationsConfig
DEFAULTS: dict[str, dict] = {
    "dev": {"image": "langgraph-operations:0.1.0", "dry_run": False, "restore_drill": False},
    "prod": {"dry_run": True, "restore_drill": True},
}


def cross_checks(config):
    operations, monitoring = config.operations, config.monitoring
    if config.environment == "prod" and not image_is_pinned(operations.image):
        yield ("operations.image", operations.image, "prod needs a pinned image: a tag other than latest or a digest")
    uses_log = monitoring.enabled and ("log" in (monitoring.pager, monitoring.chat) or not monitoring.deadman_url)
    if uses_log and not operations.recovery:
        yield ("operations.recovery", False, "the alert log (monitoring pager/chat `log`, or no deadman_url) is the "
               "auto-recovery service: turn it on, or route alerts to real receivers")
