"""The Kubernetes Event (events.k8s.io/v1) recorded for each remediation executed, dry-run or failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

REPORTING_CONTROLLER = "langgraph-platform/auto-recovery"
_NOTE_LIMIT = 1024  # the API refuses longer notes


@dataclass(frozen=True)
class ObjectRef:
    """The object an Event is about (it must live in the Event's namespace)."""

    api_version: str
    kind: str
    name: str
    namespace: str

    def as_reference(self) -> dict[str, str]:
        return {"apiVersion": self.api_version, "kind": self.kind, "name": self.name, "namespace": self.namespace}


def event_body(regarding: ObjectRef, action: str, outcome: str, note: str, instance: str, now: datetime) -> dict:
    """An Event about `regarding`: `action` in CamelCase, `outcome` one of done / dry_run / failed."""
    reason = {"done": "RemediationApplied", "dry_run": "RemediationDryRun", "failed": "RemediationFailed"}[outcome]
    if len(note.encode()) > _NOTE_LIMIT:
        note = note.encode()[:_NOTE_LIMIT - 3].decode(errors="ignore") + "..."
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"generateName": "auto-recovery-", "namespace": regarding.namespace},
        # MicroTime: RFC 3339 with exactly six fractional digits.
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "reportingController": REPORTING_CONTROLLER,
        "reportingInstance": instance[:128],
        "action": action,
        "reason": reason,
        # A dry run reports what would have happened; the rest changed (or failed to change) the cluster.
        "type": "Normal" if outcome == "dry_run" else "Warning",
        "regarding": regarding.as_reference(),
        "note": note,
    }
