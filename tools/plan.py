"""Offline plan: run the real program under a recording mock engine, no CLI or cloud needed.

    python -m tools.plan STACK [--config-file PATH] [--json] [--out DIR]

Exit codes: 0 plan printed, 2 invalid config (message on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from stackconfig import PROJECT, ConfigError

from .mock_engine import Plan, run_program
from .plan_render import render_tree, write_manifests
from .stack_file import load_stack_file

ROOT = Path(__file__).resolve().parent.parent


def build_plan(stack: str, config_file: Path | None = None, program_dir: Path = ROOT) -> Plan:
    """Plan `stack` from its stack file (or `config_file`); raises ConfigError on bad config."""
    path = config_file or program_dir / f"Pulumi.{stack}.yaml"
    config, secret_keys = load_stack_file(path, PROJECT)
    return run_program(program_dir, PROJECT, stack, config, secret_keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--config-file", type=Path, help="stack file to use instead of Pulumi.<stack>.yaml")
    parser.add_argument("--json", action="store_true", help="print the plan as one JSON document")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write every Kubernetes object as YAML, one file per component")
    args = parser.parse_args(argv)
    try:
        plan = build_plan(args.stack, args.config_file)
    except (ConfigError, OSError, ValueError, yaml.YAMLError) as error:
        print(error, file=sys.stderr)
        return 2
    if args.out:
        for path in write_manifests(plan, args.out):
            print(f"wrote {path}", file=sys.stderr)
    print(json.dumps(plan.as_json(), indent=2) if args.json else render_tree(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
