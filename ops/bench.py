"""`bench`: the seed's `LangGraphBenchmark`, done properly.

The seed ran one fixed concurrency, shared counters between coroutines and took the P95 of a list
nobody filled. Here closed-loop clients drive the app's HTTP API (`POST /runs/wait`, a new thread
per run) at stepped concurrency (1, 2, 4, ... up to a maximum), each step for a fixed time, and
record per step: throughput, P50/P95/P99, error rate, and the server's own gauges scraped from
`/metrics` while the step runs (the reference app's `langgraph_active_graphs`, the official
server's `lg_api_*` pending/running runs and workers).

The knee is the highest concurrency before P95 degrades past a bound (by default twice the first
step's P95) or the error rate passes its bound. Divided by the instances behind the URL it is
`per_instance_concurrency`; the mean latency at the knee is `avg_execution_seconds`. With those,
`stackconfig.capacity` (the program's own model) gives the HPA range for a target rps.

Why the mean latency *at the knee* and not at one client: the model computes
required = rps x avg_seconds (Little's law) and instances = required / per_instance, so
instances = rps / (per_instance / avg_seconds); per_instance / avg_seconds is the throughput one
instance really sustains only when both figures come from the same step.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import httpx
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from .options import OpsContext
from .outputs import MissingOutput
from .report import EXIT_USAGE, Status

# The reference app's support_ticket graph: a subgraph, a retried node, seven checkpoints per run.
DEFAULT_GRAPH = "support_ticket"
DEFAULT_INPUT: dict[str, Any] = {"ticket": "Urgent: the nightly export crashes with a timeout",
                                 "customer_id": "bench-client"}
# Seconds the graph's first node waits, like an LLM call. 2 s is what both stack files assume
# (capacity.avg_execution_seconds: 2.0) and a typical short chat completion; the waiting is
# async, so what saturates an instance is LangGraph's and the checkpointer's work around it.
DEFAULT_DELAY_SECONDS = 2.0
# Gauges of the server's own queue and workers (summed over label sets, one scrape = one instance).
GAUGE_PREFIXES = ("langgraph_", "lg_api_")
# The gauges the summary table shows (when the server exposes them).
SHOWN_GAUGES = ("langgraph_active_graphs", "lg_api_num_running_runs", "lg_api_num_pending_runs",
                "lg_api_workers_active")
PERCENTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


@dataclass(frozen=True)
class BenchSettings:
    """One benchmark profile (the command's options)."""

    graph: str = DEFAULT_GRAPH
    input: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_INPUT))
    delay_seconds: float = DEFAULT_DELAY_SECONDS
    """Added to the input as `delay` (the reference app's simulated LLM latency); 0 leaves it out."""
    steps: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    step_seconds: float = 20.0
    warmup_seconds: float = 2.0
    """Clients start spread over these first seconds of a step, whose completions are not counted."""
    degradation: float = 2.0
    """A step is past the knee when its P95 exceeds this times the first step's P95."""
    max_error_rate: float = 0.01
    """... or when more than this fraction of its runs fail."""
    instances: int = 1
    """App instances behind the URL while the benchmark runs (the knee is divided by it)."""
    target_rps: float | None = None
    peak_factor: float = 2.0
    safety_margin: float = 0.3
    min_instances: int = 1
    run_path: str = "/runs/wait"
    health_path: str = "/ok"
    metrics_path: str = "/metrics"
    scrape_seconds: float = 1.0
    timeout_seconds: float = 120.0
    ca_file: str | None = None

    def body(self) -> dict[str, Any]:
        """The run request every client sends (no thread_id: each run gets a new thread)."""
        payload = dict(self.input)
        if self.delay_seconds > 0:
            payload["delay"] = self.delay_seconds
        return {"assistant_id": self.graph, "input": payload}


@dataclass(frozen=True)
class Sample:
    """One run request as the client saw it."""

    seconds: float
    ended: float
    """Seconds since the step started, when the answer arrived."""
    outcome: str
    """"ok", an HTTP status code, "run_error" (2xx whose body reports an error) or an exception name."""


def concurrency_steps(maximum: int) -> tuple[int, ...]:
    """1, 2, 4, ... doubling up to `maximum`, which is always the last step."""
    if maximum < 1:
        raise ValueError("the maximum concurrency must be at least 1")
    steps = [1]
    while steps[-1] * 2 < maximum:
        steps.append(steps[-1] * 2)
    if steps[-1] != maximum:
        steps.append(maximum)
    return tuple(steps)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) with linear interpolation between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def gauge_values(exposition: str, prefixes: Sequence[str] = GAUGE_PREFIXES) -> dict[str, float]:
    """Gauges of a /metrics scrape whose names start with `prefixes`, summed over their label sets."""
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        if family.type == "gauge" and family.name.startswith(tuple(prefixes)):
            values[family.name] = sum(sample.value for sample in family.samples)
    return values


def gauge_stats(scrapes: Sequence[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Min, mean and max of each gauge over the scrapes of one step."""
    names = sorted({name for scrape in scrapes for name in scrape})
    stats = {}
    for name in names:
        seen = [scrape[name] for scrape in scrapes if name in scrape]
        stats[name] = {"min": min(seen), "mean": sum(seen) / len(seen), "max": max(seen), "scrapes": len(seen)}
    return stats


def summarize_step(concurrency: int, samples: Sequence[Sample], warmup_seconds: float, step_seconds: float,
                   scrapes: Sequence[dict[str, float]]) -> dict[str, Any]:
    """One step's figures from the runs that completed inside its measurement window."""
    window = [s for s in samples if warmup_seconds <= s.ended <= step_seconds]
    window_seconds = step_seconds - warmup_seconds
    ok = [s.seconds for s in window if s.outcome == "ok"]
    outcomes: dict[str, int] = {}
    for sample in window:
        outcomes[sample.outcome] = outcomes.get(sample.outcome, 0) + 1
    latency = None
    if ok:
        latency = {"mean": sum(ok) / len(ok), "min": min(ok), "max": max(ok),
                   **{name: percentile(ok, q) for name, q in PERCENTILES.items()}}
    return {
        "concurrency": concurrency,
        "runs": len(window),
        "successes": len(ok),
        "errors": len(window) - len(ok),
        "error_rate": (len(window) - len(ok)) / len(window) if window else None,
        "throughput_rps": len(ok) / window_seconds,
        "latency_seconds": latency,
        "outcomes": dict(sorted(outcomes.items())),
        "window_seconds": window_seconds,
        "server_gauges": gauge_stats(scrapes),
    }


def find_knee(steps: Sequence[dict[str, Any]], degradation: float, max_error_rate: float) -> dict[str, Any]:
    """The highest concurrency before P95 or the error rate degrades past its bound.

    Steps are judged in order against the first; the knee is the last healthy step before the
    first unhealthy one. `reached` is false when every step was healthy: the knee then lies at or
    beyond the last step and the figures are lower bounds.
    """
    first = steps[0]
    if problems := _step_problems(first, math.inf, max_error_rate):
        return {"concurrency": None, "reached": False, "baseline_p95_seconds": None, "bound_p95_seconds": None,
                "reason": f"the first step (concurrency {first['concurrency']}) already fails: " + "; ".join(problems)}
    baseline = first["latency_seconds"]["p95"]
    bound = degradation * baseline
    knee = first
    for step in steps[1:]:
        if problems := _step_problems(step, bound, max_error_rate):
            return {"concurrency": knee["concurrency"], "reached": True, "baseline_p95_seconds": baseline,
                    "bound_p95_seconds": bound, "degraded_at": step["concurrency"],
                    "reason": f"at concurrency {step['concurrency']}: " + "; ".join(problems)}
        knee = step
    return {"concurrency": knee["concurrency"], "reached": False, "baseline_p95_seconds": baseline,
            "bound_p95_seconds": bound,
            "reason": f"no step degraded: the knee is at or above {knee['concurrency']}; raise --max-concurrency"}


def _step_problems(step: dict[str, Any], p95_bound: float, max_error_rate: float) -> list[str]:
    """Why a step is past the knee (empty: it is not)."""
    if not step["runs"]:
        return ["no run completed within the step (make --step-seconds longer than the latency)"]
    if not step["successes"]:
        return [f"no run succeeded ({step['runs']} failed)"]
    problems = []
    if step["error_rate"] > max_error_rate:
        problems.append(f"error rate {step['error_rate']:.1%} > {max_error_rate:.1%}")
    if step["latency_seconds"]["p95"] > p95_bound:
        problems.append(f"P95 {step['latency_seconds']['p95']:.3f} s > {p95_bound:.3f} s")
    return problems


def capacity_inputs(steps: Sequence[dict[str, Any]], knee: dict[str, Any],
                    settings: BenchSettings) -> dict[str, Any] | None:
    """The stack file's capacity inputs the knee implies, and the HPA range for `target_rps`."""
    # Imported here: the config package is not needed for --help or a failed run.
    from stackconfig.capacity import instances_needed, required_concurrency

    if knee["concurrency"] is None:
        return None
    at_knee = next(step for step in steps if step["concurrency"] == knee["concurrency"])
    avg_seconds = round(at_knee["latency_seconds"]["mean"], 3)
    per_instance = max(1, knee["concurrency"] // settings.instances)
    result: dict[str, Any] = {"avg_execution_seconds": avg_seconds, "per_instance_concurrency": per_instance,
                              "per_instance_rps": round(at_knee["throughput_rps"] / settings.instances, 3),
                              "hpa": None}
    if settings.target_rps is not None:
        required = required_concurrency(settings.target_rps, avg_seconds, settings.peak_factor, settings.safety_margin)
        instances = instances_needed(required, per_instance, settings.min_instances)
        result["hpa"] = {"target_rps": settings.target_rps, "peak_factor": settings.peak_factor,
                         "safety_margin": settings.safety_margin, "min_instances": settings.min_instances,
                         "required_concurrency": float(required), "instances": instances,
                         "hpa_min": instances, "hpa_max": 2 * instances}
    return result


def verdict(knee: dict[str, Any]) -> Status:
    """FAIL: no healthy step at all; WARN: the knee lies beyond the steps; OK otherwise."""
    if knee["concurrency"] is None:
        return Status.FAIL
    return Status.OK if knee["reached"] else Status.WARN


def build_report(settings: BenchSettings, app_url: str, steps: list[dict[str, Any]], started: datetime,
                 finished: datetime) -> dict[str, Any]:
    """The whole result: target, profile, machine, steps, knee, capacity inputs, verdict."""
    knee = find_knee(steps, settings.degradation, settings.max_error_rate)
    status = verdict(knee)
    return {
        "report": "bench",
        "status": status.name,
        "exit_code": int(status),
        "target": {"app_url": app_url, "path": settings.run_path, "graph": settings.graph,
                   "body": settings.body(), "instances": settings.instances},
        "profile": {"steps": list(settings.steps), "step_seconds": settings.step_seconds,
                    "warmup_seconds": settings.warmup_seconds, "timeout_seconds": settings.timeout_seconds,
                    "delay_seconds": settings.delay_seconds, "degradation": settings.degradation,
                    "max_error_rate": settings.max_error_rate},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "steps": steps,
        "knee": knee,
        "capacity": capacity_inputs(steps, knee, settings),
    }


# --- driving the app ---------------------------------------------------------------------------

class BenchError(RuntimeError):
    """The benchmark could not run at all (the app unreachable or unhealthy)."""


def _outcome(response: httpx.Response) -> str:
    if not response.is_success:
        return str(response.status_code)
    try:
        body = response.json()
    except ValueError:
        return "ok"
    # The reference app answers 500 on a failed run; the official server can answer 200 with `__error__`.
    if isinstance(body, dict) and (body.get("status") == "error" or "__error__" in body):
        return "run_error"
    return "ok"


class _Step:
    """One step in flight: `concurrency` closed-loop clients until `seconds` have passed."""

    def __init__(self, client: httpx.AsyncClient, settings: BenchSettings, concurrency: int) -> None:
        self.client, self.settings, self.concurrency = client, settings, concurrency
        self.samples: list[Sample] = []
        self.scrapes: list[dict[str, float]] = []
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    async def client_loop(self, index: int) -> None:
        body = self.settings.body()
        # Spread the first requests over the warm-up: clients in lockstep complete in waves, and a
        # window catching one wave more or less would swing the throughput.
        await asyncio.sleep(index * self.settings.warmup_seconds / self.concurrency)
        while self.elapsed() < self.settings.step_seconds:
            began = time.monotonic()
            try:
                outcome = _outcome(await self.client.post(self.settings.run_path, json=body))
            except httpx.HTTPError as error:
                outcome = type(error).__name__
            self.samples.append(Sample(time.monotonic() - began, self.elapsed(), outcome))

    async def scrape_loop(self, scraper: httpx.AsyncClient) -> None:
        while self.elapsed() < self.settings.step_seconds:
            try:
                response = await scraper.get(self.settings.metrics_path)
                if response.is_success:
                    self.scrapes.append(gauge_values(response.text))
            except (httpx.HTTPError, ValueError):
                pass  # a missed scrape only thins the gauge statistics
            await asyncio.sleep(self.settings.scrape_seconds)

    def progress_fields(self) -> dict[str, Any]:
        done = [s.seconds for s in self.samples if s.outcome == "ok"]
        return {"runs": len(self.samples), "errors": len(self.samples) - len(done),
                "p95": f"{percentile(done, 0.95):.2f} s" if done else "-"}


async def _measure(settings: BenchSettings, app_url: str, progress: Progress) -> list[dict[str, Any]]:
    verify: str | bool = settings.ca_file or True
    timeout = httpx.Timeout(settings.timeout_seconds)
    async with httpx.AsyncClient(base_url=app_url, timeout=10.0, verify=verify) as scraper:
        health = await scraper.get(settings.health_path)
        if not health.is_success:
            raise BenchError(f"{app_url}{settings.health_path} answered {health.status_code}")
        tasks = {c: progress.add_task(f"concurrency {c}", total=settings.step_seconds, start=False,
                                      runs=0, errors=0, p95="-") for c in settings.steps}
        results = []
        for concurrency in settings.steps:
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            async with httpx.AsyncClient(base_url=app_url, timeout=timeout, limits=limits, verify=verify) as client:
                step = _Step(client, settings, concurrency)
                progress.start_task(tasks[concurrency])
                clients = [asyncio.create_task(step.client_loop(index)) for index in range(concurrency)]
                scraping = asyncio.create_task(step.scrape_loop(scraper))
                pending = set(clients)
                while pending:
                    _, pending = await asyncio.wait(pending, timeout=0.25)
                    progress.update(tasks[concurrency], completed=min(step.elapsed(), settings.step_seconds),
                                    **step.progress_fields())
                scraping.cancel()
                await asyncio.gather(scraping, return_exceptions=True)
                for client_task in clients:
                    client_task.result()  # re-raise a client's unexpected failure
            results.append(summarize_step(concurrency, step.samples, settings.warmup_seconds, settings.step_seconds,
                                          step.scrapes))
    return results


# --- output --------------------------------------------------------------------------------------

def stack_file_lines(capacity: dict[str, Any]) -> list[str]:
    """The capacity inputs as the stack file's YAML."""
    from stackconfig import PROJECT

    return [f"  {PROJECT}:capacity:",
            f"    avg_execution_seconds: {capacity['avg_execution_seconds']:g}",
            f"    per_instance_concurrency: {capacity['per_instance_concurrency']}"]


def render(console: Console, report: dict[str, Any]) -> None:
    """The steps as a table, then the knee, the capacity inputs and the HPA range."""
    from rich.table import Table

    target = report["target"]
    table = Table(title=f"bench: {target['graph']} at {target['app_url']}{target['path']} "
                        f"(delay {report['profile']['delay_seconds']:g} s, {target['instances']} instance(s))",
                  title_justify="left")
    for column in ("concurrency", "runs/s", "p50 s", "p95 s", "p99 s", "errors", "server gauges (max)"):
        table.add_column(column, justify="right" if column != "server gauges (max)" else "left")
    knee = report["knee"]
    for step in report["steps"]:
        latency = step["latency_seconds"] or {}
        gauges = ", ".join(f"{name} {step['server_gauges'][name]['max']:g}" for name in SHOWN_GAUGES
                           if name in step["server_gauges"])
        mark = " [bold]<- knee[/]" if step["concurrency"] == knee["concurrency"] else ""
        table.add_row(f"{step['concurrency']}{mark}", f"{step['throughput_rps']:.2f}",
                      *(f"{latency[p]:.3f}" if latency else "-" for p in PERCENTILES),
                      f"{step['errors']} ({step['error_rate']:.1%})" if step["runs"] else "no run completed", gauges)
    console.print(table)
    console.print(f"knee: {knee['concurrency'] if knee['concurrency'] is not None else 'none'} ({knee['reason']})")
    capacity = report["capacity"]
    if capacity:
        console.print("capacity inputs for the stack file:")
        for line in stack_file_lines(capacity):
            console.print(line, markup=False, highlight=False)
        hpa = capacity["hpa"]
        if hpa:
            console.print(f"at {hpa['target_rps']:g} rps (peak x{hpa['peak_factor']:g}, "
                          f"margin {hpa['safety_margin']:g}, "
                          f"floor {hpa['min_instances']}): required concurrency {hpa['required_concurrency']:g}, "
                          f"{hpa['instances']} instances, HPA {hpa['hpa_min']}..{hpa['hpa_max']}")
        else:
            console.print("pass --target-rps to see the HPA range these inputs imply")
    console.print(f"result: {report['status']} (exit {report['exit_code']})")


def _note(ctx: OpsContext, text: str) -> None:
    """A message on stderr, unwrapped (a script greps it) and printed as is."""
    ctx.progress.print(f"bench: {text}", markup=False, highlight=False, soft_wrap=True)


def run(ctx: OpsContext, settings: BenchSettings, out: str | None, plot: str | None) -> int:
    """Run the profile against the stack's app_url; write the JSON and the plot when asked."""
    try:
        app_url = ctx.outputs.require("app_url")
    except MissingOutput as error:
        _note(ctx, str(error))
        return EXIT_USAGE
    progress = Progress(TextColumn("{task.description}"), BarColumn(),
                        TextColumn("{task.completed:>5.1f}/{task.total:g} s"),
                        TextColumn("{task.fields[runs]} runs, {task.fields[errors]} errors, p95 {task.fields[p95]}"),
                        console=ctx.progress)
    started = datetime.now(timezone.utc)
    try:
        with progress:
            steps = asyncio.run(_measure(settings, app_url, progress))
    except (BenchError, httpx.HTTPError) as error:
        _note(ctx, f"the app is not reachable: {type(error).__name__}: {error}")
        return int(Status.FAIL)
    report = build_report(settings, app_url, steps, started, datetime.now(timezone.utc))
    if out:
        Path(out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if plot:
        from .plot import plot_bench

        plot_bench(report, Path(plot))
    if ctx.as_json:
        ctx.console.file.write(json.dumps(report, indent=2) + "\n")
    else:
        render(ctx.console, report)
    return report["exit_code"]
