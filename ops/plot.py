"""The benchmark's figure: latency percentiles and throughput against concurrency, the knee marked.

matplotlib is imported here only (it costs half a second), with the Agg backend: the CLI runs on
servers and in CI without a display.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_bench(report: dict[str, Any], path: Path) -> None:
    """Write `report` (ops.bench's JSON) as a PNG: latency on top, throughput below, shared x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [step for step in report["steps"] if step["latency_seconds"]]
    concurrency = [step["concurrency"] for step in steps]
    knee = report["knee"]
    figure, (latency_axes, throughput_axes) = plt.subplots(2, 1, sharex=True, figsize=(8, 6.5), dpi=100)
    for name, style in (("p50", "o-"), ("p95", "s-"), ("p99", "^-")):
        latency_axes.plot(concurrency, [step["latency_seconds"][name] for step in steps], style, label=name.upper())
    if knee.get("bound_p95_seconds"):
        latency_axes.axhline(knee["bound_p95_seconds"], color="grey", linestyle=":",
                             label=f"P95 bound ({report['profile']['degradation']:g} x first step)")
    latency_axes.set_ylabel("latency (s)")
    throughput_axes.plot(concurrency, [step["throughput_rps"] for step in steps], "o-", color="tab:green",
                         label="successful runs/s")
    throughput_axes.set_ylabel("throughput (runs/s)")
    throughput_axes.set_xlabel("concurrent clients")
    throughput_axes.set_xscale("log", base=2)
    throughput_axes.set_xticks(concurrency, [str(c) for c in concurrency])
    if knee.get("concurrency") is not None:
        for axes in (latency_axes, throughput_axes):
            axes.axvline(knee["concurrency"], color="tab:red", linestyle="--",
                         label=f"knee: {knee['concurrency']}" + ("" if knee["reached"] else " (not reached)"))
    for axes in (latency_axes, throughput_axes):
        axes.grid(True, alpha=0.3)
        axes.legend(loc="upper left", fontsize="small")
    target, profile = report["target"], report["profile"]
    latency_axes.set_title(f"{target['graph']}: delay {profile['delay_seconds']:g} s, {profile['step_seconds']:g} s "
                           f"per step, {target['instances']} instance(s), {report['machine']['cpus']} CPUs",
                           fontsize="medium")
    figure.tight_layout()
    # No Software/creation metadata: the committed PNG changes only when the figures do.
    figure.savefig(path, format="png", metadata={"Software": None})
    plt.close(figure)
