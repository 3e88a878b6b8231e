"""The README's generated sections, so that they cannot drift from the code they describe:
the config reference (`stackconfig.reference`), the stack outputs (`components.platform.OUTPUTS`)
and the alerts (`components.monitoring.rules`).

    python -m tools.readme            # print the sections
    python -m tools.readme --write README.md
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable

from components.monitoring import rules
from stackconfig import reference


def outputs_table() -> str:
    from components.platform import OUTPUTS

    return "\n".join(["| output | meaning |", "|---|---|", *(f"| `{key}` | {text} |" for key, text in OUTPUTS.items())])


# In the table, `{{ $labels.x }}` reads as `<x>` and `{{ $value | ... }}` as `N`, both as code
# (GitHub would take `<x>` for HTML).
_LABEL = re.compile(r"\{\{\s*\$labels\.(\w+)\s*\}\}")
_VALUE = re.compile(r"\{\{\s*\$value[^}]*\}\}")


def _readable(text: str) -> str:
    return _VALUE.sub("`N`", _LABEL.sub(r"`<\1>`", " ".join(text.split()))).replace("|", "\\|")


def alerts_table() -> str:
    """Every alert of both exporter flavours with its severity, `for` and description (which states
    the threshold)."""
    seen: dict[str, dict] = {}
    for flavour in ("cloudnativepg", "postgres_exporter"):
        params = rules.RuleParams(runbook_base_url="https://example.com/", postgres=flavour)
        for group in rules.rule_groups(params):
            for rule in group["rules"]:
                if "alert" in rule:
                    seen.setdefault(rule["alert"], rule)
    rows = ["| alert | severity | for | fires when |", "|---|---|---|---|"]
    for name, rule in seen.items():
        rows.append(f"| [`{name}`](docs/runbooks/{name}.md) | {rule['labels']['severity']} | "
                    f"{rule.get('for', '-')} | {_readable(rule['annotations']['description'])} |")
    return "\n".join(rows)


SECTIONS: dict[str, Callable[[], str]] = {
    "config-reference": reference.render,
    "outputs": outputs_table,
    "alerts": alerts_table,
}


def splice(readme: str) -> str:
    """`readme` with the text between each section's markers replaced by a fresh render."""
    for name, render in SECTIONS.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        head, rest = readme.split(start, 1)
        _, tail = rest.split(end, 1)
        readme = f"{head}{start}\n{render()}\n{end}{tail}"
    return readme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.readme")
    parser.add_argument("--write", type=Path, metavar="README", help="replace the generated sections of this file")
    args = parser.parse_args(argv)
    if args.write:
        args.write.write_text(splice(args.write.read_text()))
    else:
        print("\n\n".join(render() for render in SECTIONS.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
