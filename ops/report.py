"""Reports: checks with a status, the number behind it and the runbook to open; rendered as a
table for people or as JSON for scripts, and the exit code scripts branch on.

Exit codes (every subcommand):
  0  every check OK (or skipped: not applicable to this stack)
  1  at least one WARN, no FAIL
  2  at least one FAIL
  3  usage or configuration error (bad option, unreadable or invalid stack outputs); no check ran
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

EXIT_USAGE = 3

RUNBOOKS_DIR = "docs/runbooks"


class Status(enum.IntEnum):
    """A check's outcome, ordered by severity; SKIP (not applicable here) counts as OK."""

    SKIP = -1
    OK = 0
    WARN = 1
    FAIL = 2


_STYLE = {Status.SKIP: "dim", Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}


@dataclass(frozen=True)
class Check:
    """One line of a report."""

    name: str
    status: Status
    value: str
    """The number behind the verdict (ratio, seconds, count), as shown."""
    detail: str = ""
    runbook: str | None = None
    """Alert name whose runbook (`docs/runbooks/<name>.md`) helps when this check is not OK."""
    data: dict[str, Any] = field(default_factory=dict)
    """Machine-readable figures for --json (the same numbers as `value`, unformatted)."""

    @property
    def runbook_path(self) -> str | None:
        return f"{RUNBOOKS_DIR}/{self.runbook}.md" if self.runbook else None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.name, "value": self.value, "detail": self.detail,
                "runbook": self.runbook_path, "data": self.data}


@dataclass
class Report:
    """A titled list of checks plus run-level facts (e.g. RTO and RPO of a restore drill)."""

    title: str
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    @property
    def status(self) -> Status:
        return max((check.status for check in self.checks), default=Status.OK)

    @property
    def exit_code(self) -> int:
        return max(int(self.status), 0)

    def as_json(self) -> dict[str, Any]:
        return {"report": self.title, "status": max(self.status, Status.OK).name, "exit_code": self.exit_code,
                "checks": [check.as_json() for check in self.checks], "facts": self.facts}

    def render(self, console: Console, as_json: bool) -> None:
        """Print the report: JSON alone on stdout for scripts, or a table with the facts below it."""
        if as_json:
            # Written as is: a console would wrap long lines and break the JSON.
            console.file.write(json.dumps(self.as_json(), indent=2, default=str) + "\n")
            return
        table = Table(title=self.title, title_justify="left")
        # The name, verdict and number stay on one line each; the detail wraps. Runbook paths go
        # below the table: as a column they would squeeze the detail to nothing on a narrow terminal.
        for column in ("check", "status", "value"):
            table.add_column(column, no_wrap=True)
        table.add_column("detail", overflow="fold", ratio=1)
        for check in self.checks:
            table.add_row(check.name, f"[{_STYLE[check.status]}]{check.status.name}[/]", check.value, check.detail)
        console.print(table)
        for check in self.checks:
            if check.status > Status.OK and check.runbook_path:
                console.print(f"runbook for {check.name}: {check.runbook_path}", soft_wrap=True)
        for key, value in self.facts.items():
            console.print(f"{key}: {value}")
        console.print(f"result: [{_STYLE[max(self.status, Status.OK)]}]{max(self.status, Status.OK).name}[/] "
                      f"(exit {self.exit_code})")
