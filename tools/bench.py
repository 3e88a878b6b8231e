"""Benchmark: the prod plan against an empty Pulumi program under the same mock engine.

    python -m tools.bench [--runs 5]

Each sample is a fresh interpreter (imports included, as `make plan` pays them), timed from
the outside; the figures are medians. The target is a ratio below 3.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .mock_engine import run_program
from .plan import exit_after_plan

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = {"prod": ROOT, "empty": ROOT / "tools" / "empty_program"}


def run_once(which: str) -> None:
    if which == "prod":
        # Imported here, not above, so that the baseline pays for nothing of ours.
        from .plan import build_plan

        build_plan("prod")
    else:
        run_program(PROGRAMS["empty"], "langgraph-platform", "prod", {})


def sample(which: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tools.bench", "--once", which], cwd=ROOT, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--once", choices=sorted(PROGRAMS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.once:
        run_once(args.once)
        exit_after_plan(0)  # both programs end as `python -m tools.plan` does
    sample("prod")  # warm the file cache and .pyc files before measuring
    medians = {which: statistics.median(sample(which) for _ in range(args.runs)) for which in ("prod", "empty")}
    ratio = medians["prod"] / medians["empty"]
    print(f"prod plan:     {medians['prod']:.3f} s (median of {args.runs})")
    print(f"empty program: {medians['empty']:.3f} s (median of {args.runs})")
    print(f"ratio:         {ratio:.2f} (target < 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
