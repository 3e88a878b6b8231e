"""Helm releases of the pinned third-party charts (`components/pins.py`), installed the same way everywhere."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .pins import Chart


def release(name: str, chart: Chart, namespace: str, values: dict, opts: pulumi.ResourceOptions) -> k8s.helm.v3.Release:
    """An atomic release (a failed install or upgrade rolls back) of `chart` into an existing `namespace`."""
    return k8s.helm.v3.Release(
        name,
        name=chart.name,
        chart=chart.name,
        version=chart.version,
        repository_opts={"repo": chart.repository},
        namespace=namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        timeout=600,
        opts=opts,
    )
