"""`python -m ops bench`"""

from __future__ import annotations

import json

import click

from ..options import OpsContext, stack_command


def _steps(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        steps = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter("a comma-separated list of concurrencies, e.g. 1,2,4,8") from None
    if not steps or any(c < 1 for c in steps) or list(steps) != sorted(set(steps)):
        raise click.BadParameter("concurrencies must be increasing and at least 1")
    return steps


def _json_object(ctx: click.Context, param: click.Parameter, value: str | None) -> dict | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise click.BadParameter("must be a JSON object")
    return parsed


@click.option("--graph", default="support_ticket", show_default=True, help="assistant_id of the runs.")
@click.option("--input", "run_input", callback=_json_object, metavar="JSON",
              help="The runs' input [default: a support ticket for the reference app].")
@click.option("--delay", type=click.FloatRange(min=0, max=600), default=2.0, show_default=True,
              help="Seconds the reference app's first node waits, like an LLM call (added to the input as "
                   "`delay`; 0 leaves it out, e.g. for another app).")
@click.option("--max-concurrency", type=click.IntRange(min=1), default=64, show_default=True,
              help="Last step; steps double from 1 up to it.")
@click.option("--steps", callback=_steps, metavar="C1,C2,...", help="Explicit concurrency steps (overrides "
              "--max-concurrency).")
@click.option("--step-seconds", type=click.FloatRange(min=0.5), default=20.0, show_default=True,
              help="Duration of each step.")
@click.option("--warmup-seconds", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Completions in a step's first seconds are not counted.")
@click.option("--degradation", type=click.FloatRange(min=1), default=2.0, show_default=True,
              help="The knee: last step before P95 exceeds this times the first step's P95 ...")
@click.option("--max-error-rate", type=click.FloatRange(min=0, max=1), default=0.01, show_default=True,
              help="... or its error rate exceeds this.")
@click.option("--instances", type=click.IntRange(min=1), default=1, show_default=True,
              help="App instances behind app_url during the run (the knee is divided by it).")
@click.option("--target-rps", type=click.FloatRange(min=0, min_open=True),
              help="Print the HPA range the measured inputs imply at this rate (stack capacity.target_rps).")
@click.option("--peak-factor", type=click.FloatRange(min=1), default=2.0, show_default=True,
              help="capacity.peak_factor for the HPA range.")
@click.option("--safety-margin", type=click.FloatRange(min=0), default=0.3, show_default=True,
              help="capacity.safety_margin for the HPA range.")
@click.option("--min-instances", type=click.IntRange(min=1), default=1, show_default=True,
              help="capacity.min_instances for the HPA range (prod: 3).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=120.0, show_default=True,
              help="Seconds one run request may take.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False),
              help="CA bundle that signed the app's certificate (dev's self-signed issuer).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the JSON report here too.")
@click.option("--plot", type=click.Path(dir_okay=False, writable=True),
              help="Write a PNG of latency and throughput against concurrency.")
def _bench(ctx: OpsContext, graph: str, run_input: dict | None, delay: float, max_concurrency: int,
           steps: tuple[int, ...] | None, step_seconds: float, warmup_seconds: float, degradation: float,
           max_error_rate: float, instances: int, target_rps: float | None, peak_factor: float,
           safety_margin: float, min_instances: int, timeout: float, ca_file: str | None, out: str | None,
           plot: str | None) -> int:
    # Imported here: --help stays fast without the benchmark's libraries.
    from ..bench import DEFAULT_INPUT, BenchSettings, concurrency_steps, run

    if warmup_seconds >= step_seconds:
        raise click.BadParameter("must be shorter than --step-seconds", param_hint="--warmup-seconds")
    settings = BenchSettings(
        graph=graph, input=dict(DEFAULT_INPUT) if run_input is None else run_input, delay_seconds=delay,
        steps=steps or concurrency_steps(max_concurrency), step_seconds=step_seconds,
        warmup_seconds=warmup_seconds, degradation=degradation, max_error_rate=max_error_rate,
        instances=instances, target_rps=target_rps, peak_factor=peak_factor, safety_margin=safety_margin,
        min_instances=min_instances, timeout_seconds=timeout, ca_file=ca_file)
    return run(ctx, settings, out, plot)


command = stack_command("bench", """Load-benchmark the app: stepped concurrency, the knee, the capacity inputs.

Closed-loop clients POST /runs/wait on app_url (a new thread per run) at concurrency 1, 2, 4, ...
for --step-seconds each, recording throughput, P50/P95/P99 and the error rate, and scraping the
server's own gauges from /metrics meanwhile (langgraph_active_graphs, lg_api_* runs and workers).
The knee is the last step before P95 passes --degradation x the first step's P95 (or the error
rate passes --max-error-rate). Prints the stack file's capacity.avg_execution_seconds (mean
latency at the knee) and capacity.per_instance_concurrency (knee / --instances), and with
--target-rps the HPA range they imply (the program's own capacity model). Exit 0: knee found;
1: no step degraded (raise --max-concurrency); 2: the app failed from the first step.""")(_bench)
