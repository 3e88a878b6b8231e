"""A container's security context as the `restricted` Pod Security Standard wants it, in one place."""

from __future__ import annotations


def restricted_container(uid: int) -> dict:
    """Run as `uid` (and group `uid`), never root, never privileged, no capabilities, the runtime's
    default seccomp profile, and a read-only root filesystem (writable paths are volumes)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
