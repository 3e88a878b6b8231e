"""Benchmark: the prod plan against an empty Pulumi program under the same mock engine.

    python -m tools.bench [--runs 7]

Each sample is a fresh interpreter (imports included, as `make plan` pays them), timed from
the outside, set up and ended as `python -m tools.plan` is (`process_end`). Each figure is the
fastest of its samples: other processes only ever add time to a sample, and on a shared machine
they add more to some programs' samples than to others', which moves a ratio of medians by a
tenth or more from one run to the next (as `timeit` reports its best, for the same reason).
The target is a ratio below 3. A third program, as many bare ConfigMaps as the prod plan
registers resources, shows how much of the prod plan is the SDK's registration alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from .process_end import exit_after_plan, plan_once

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = {"prod": ROOT, "empty": ROOT / "tools" / "empty_program", "floor": ROOT / "tools" / "floor_program"}
PROJECT = "langgraph-platform"


def run_once(which: str, count: int) -> int:
    """Plan `which` once; the number of resources it registered."""
    # Imported here, as `python -m tools.plan` imports the engine: once the process is set up.
    if which == "prod":
        from .plan import build_plan  # the other programs pay for nothing of ours

        return len(build_plan("prod").resources)
    from .mock_engine import run_program

    config = {f"{PROJECT}:count": str(count)} if which == "floor" else {}
    return len(run_program(PROGRAMS[which], PROJECT, "prod", config).resources)


def sample(which: str, count: int = 0, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Seconds one fresh interpreter takes to plan `which`, and how many resources it registered."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tools.bench", "--once", which, "--count", str(count)], cwd=ROOT,
                          check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, int(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--once", choices=sorted(PROGRAMS), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.once:
        plan_once()
        print(run_once(args.once, args.count))
        exit_after_plan(0)
    # Warms the file cache and counts the resources. Its .pyc files are written even where the
    # environment says not to (PYTHONDONTWRITEBYTECODE): the samples measure plans as a checkout
    # runs them after the first, not the compiling of our sources on every run.
    _, count = sample("prod", env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
    times: dict[str, list[float]] = {which: [] for which in ("prod", "empty", "floor")}
    for _ in range(args.runs):  # interleaved, so that a slow spell of the machine hits all three
        for which, seconds in times.items():
            seconds.append(sample(which, count)[0])
    prod, empty, floor = (min(times[which]) for which in ("prod", "empty", "floor"))
    print(f"prod plan:     {prod:.3f} s ({count} resources; fastest of {args.runs})")
    print(f"empty program: {empty:.3f} s")
    print(f"ratio:         {prod / empty:.2f} (target < 3)")
    print(f"{count} bare ConfigMaps: {floor:.3f} s, {floor / empty:.2f}x the empty program: the SDK's registration alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
