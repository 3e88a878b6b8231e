"""Offline plan: run the real program under a recording mock engine, no CLI or cloud needed.

    python -m tools.plan STACK [--config-file PATH] [--program-dir DIR] [--json] [--out DIR]
                               [--policy [--policy-config PATH]]
    python -m tools.plan diff BASE.json HEAD.json [--markdown]

Exit codes: 0 done, 1 a mandatory policy is violated, 2 invalid config or input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .process_end import exit_after_plan, plan_once
from .stack_file import StackFileError, load_stack_file, read_document

if TYPE_CHECKING:
    from .mock_engine import Plan

ROOT = Path(__file__).resolve().parent.parent
# The Pulumi SDK and the program are imported only once the stack file has been read, so a bad
# stack file is refused in the time the interpreter takes to start.


def project_name(program_dir: Path) -> str:
    """The project's name, from its Pulumi.yaml as the engine reads it."""
    path = program_dir / "Pulumi.yaml"
    name = read_document(path, "").get("name")
    if not isinstance(name, str) or not name:
        raise StackFileError(f"{path}: `name` must be the project's name")
    return name


def build_plan(stack: str, config_file: Path | None = None, program_dir: Path = ROOT) -> Plan:
    """Plan `stack` from its stack file (or `config_file`); raises the program's ConfigError on
    bad config, StackFileError (a ValueError) on a stack file that cannot be read."""
    project = project_name(program_dir)
    config, secret_keys = load_stack_file(config_file or program_dir / f"Pulumi.{stack}.yaml", project)
    from .mock_engine import run_program

    return run_program(program_dir, project, stack, config, secret_keys)


def check_policies(plan: Plan, policy_config: Path | None) -> tuple[str, bool]:
    """The policy report and whether a mandatory policy is violated."""
    # Imported here: a plain plan need not load pulumi_policy.
    from .policy_check import evaluate, has_mandatory, load_policy_config, render

    violations = evaluate(plan, load_policy_config(plan.stack, policy_config))
    return render(violations), has_mandatory(violations)


def diff_main(argv: list[str]) -> int:
    from .plan_diff import diff_plans, render_markdown, render_text

    parser = argparse.ArgumentParser(prog="python -m tools.plan diff", description="Compare two --json plans.")
    parser.add_argument("base", type=Path)
    parser.add_argument("head", type=Path)
    parser.add_argument("--markdown", action="store_true", help="render a compact PR comment")
    args = parser.parse_args(argv)
    try:
        base, head = (json.loads(path.read_text()) for path in (args.base, args.head))
        diff = diff_plans(base, head)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"cannot compare {args.base} and {args.head}: {error!r}", file=sys.stderr)
        return 2
    print(render_markdown(diff) if args.markdown else render_text(diff))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["diff"]:
        return diff_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--config-file", type=Path, help="stack file to use instead of Pulumi.<stack>.yaml")
    parser.add_argument("--program-dir", type=Path, metavar="DIR",
                        help="the Pulumi program to plan (default: this checkout); CI plans a PR's base with the "
                             "head's tool so both plans come from the same engine")
    parser.add_argument("--json", action="store_true", help="print the plan as one JSON document")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write every Kubernetes object as YAML, one file per component")
    parser.add_argument("--policy", action="store_true", help="evaluate the policy pack (report on stderr with --json)")
    parser.add_argument("--policy-config", type=Path, metavar="PATH", help="policy config instead of policy/config.<stack>.json")
    args = parser.parse_args(argv)
    # Passed only when given: build_plan(stack, config_file) stays the plain form callers substitute.
    elsewhere = {"program_dir": args.program_dir.resolve()} if args.program_dir else {}
    try:
        plan = build_plan(args.stack, args.config_file, **elsewhere)
    except (OSError, ValueError) as error:  # the program's ConfigError is a ValueError
        print(error, file=sys.stderr)
        return 2
    from .plan_render import render_tree, write_manifests

    if args.out:
        for path in write_manifests(plan, args.out):
            print(f"wrote {path}", file=sys.stderr)
    print(json.dumps(plan.as_json(), indent=2) if args.json else render_tree(plan))
    if not args.policy:
        return 0
    report, blocked = check_policies(plan, args.policy_config)
    print(report, file=sys.stderr if args.json else sys.stdout)
    return 1 if blocked else 0


if __name__ == "__main__":
    plan_once()
    exit_after_plan(main())
