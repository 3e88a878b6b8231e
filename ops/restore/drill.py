"""The seed's weekly restore test: restore the latest backup into a scratch copy, prove it with
LangGraph, report RTO and RPO, tear the copy down.

RTO is the time from asking for the restore to a copy that accepts connections as a primary.
RPO is the age of the newest checkpoint on the copy at the moment the restore was asked for:
what a real disaster at that moment would have lost (with a source written continuously).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from collections.abc import Callable
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

from ..outputs import StackOutputs, replace_host
from ..report import Check, Report, Status
from ..runbooks import RUNBOOKS
from . import compare
from .cnpg import CnpgRestore
from .local import LocalRestore
from .rds import RdsRestore


@dataclass(frozen=True)
class DrillSettings:
    sample: int = 50
    """Threads compared (half the newest, half at random) and source threads checked for presence."""
    max_rto_seconds: float = 3600.0
    max_rpo_seconds: float = 900.0
    timeout_seconds: float = 7200.0
    poll_seconds: float = 10.0
    keep: bool = False
    """Leave the scratch copy running (for a look by hand); the report says what to delete."""


class Scratch(Protocol):
    """Where the copy is made: `restore` returns its host:port once it is a primary; `dsn_for(host)`
    is the source's URL pointed at `host` (a physical copy keeps the roles and their passwords)."""

    def restore(self, progress: Progress, settings: DrillSettings, dsn_for: Callable[[str], str]) -> str: ...

    def teardown(self) -> list[str]: ...


class LocalScratch:
    def __init__(self, restore: LocalRestore):
        self.local = restore

    def restore(self, progress: Progress, settings: DrillSettings, dsn_for: Callable[[str], str]) -> str:
        task = progress.add_task("copy base backup", total=self.local.total_bytes())
        self.local.copy(lambda size: progress.advance(task, size))
        replay = progress.add_task("replay WAL archive, promote", total=None)
        self.local.start()
        host = f"127.0.0.1:{self.local.port}"
        self.local.wait_promoted(dsn_for(host), settings.timeout_seconds, lambda: progress.advance(replay))
        progress.update(replay, total=1, completed=1)
        return host

    def teardown(self) -> list[str]:
        removed = [f"local server on port {self.local.port} and its files"] if self.local.directory else []
        self.local.teardown()
        return removed


class CnpgScratch:
    def __init__(self, restore: CnpgRestore, via: str | None = None):
        self.cnpg, self.via = restore, via

    def restore(self, progress: Progress, settings: DrillSettings, dsn_for: Callable[[str], str]) -> str:
        task = progress.add_task(f"Cluster {self.cnpg.name}: create", total=None)
        self.cnpg.create()
        self.cnpg.wait_ready(settings.timeout_seconds, settings.poll_seconds,
                             lambda phase: progress.update(task, description=f"Cluster {self.cnpg.name}: {phase}"))
        progress.update(task, total=1, completed=1, description=f"Cluster {self.cnpg.name}: ready")
        return self.via or self.cnpg.host

    def teardown(self) -> list[str]:
        return self.cnpg.teardown()


class RdsScratch:
    def __init__(self, restore: RdsRestore, via: str | None = None):
        self.rds, self.via = restore, via

    def restore(self, progress: Progress, settings: DrillSettings, dsn_for: Callable[[str], str]) -> str:
        task = progress.add_task(f"RDS {self.rds.scratch_id}: point-in-time restore", total=None)
        self.rds.create()
        host = self.rds.wait_ready(settings.timeout_seconds, settings.poll_seconds)
        progress.update(task, total=1, completed=1)
        return self.via or host

    def teardown(self) -> list[str]:
        return self.rds.teardown()


def _progress(console: Console) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                    TimeElapsedColumn(), console=console)


class RestoreDrill:
    """The drill in three steps (`restore`, `verify`, `teardown`); `run` does all three."""

    def __init__(self, outputs: StackOutputs, scratch: Scratch, settings: DrillSettings, console: Console):
        self.outputs, self.scratch, self.settings = outputs, scratch, settings
        self.source_dsn = outputs.get("database_readonly_url") or outputs.require("database_url")
        self.report = Report("restore drill")
        self.progress = _progress(console)
        self.copy_dsn: str | None = None
        self.copy_host: str | None = None
        self.requested_at: dt.datetime | None = None

    def run(self) -> Report:
        with self.progress:
            try:
                if self.restore():
                    self.verify()
            finally:
                self.teardown()
        return self.report

    def restore(self) -> bool:
        """Restore and time it; False (and a FAIL row) when no usable copy came out."""
        database_url = self.outputs.require("database_url")
        self.requested_at = dt.datetime.now(dt.timezone.utc)
        self.report.facts["newest_source_checkpoint"] = _iso(compare.newest_checkpoint(self.source_dsn))
        began = time.monotonic()
        try:
            host = self.scratch.restore(self.progress, self.settings, lambda h: replace_host(database_url, h))
        except Exception as error:  # noqa: BLE001 - the drill reports any failure to restore
            self.report.add(Check("restore", Status.FAIL, "failed", f"{type(error).__name__}: {error}"[:400],
                                  RUNBOOKS["restore"]))
            return False
        rto = time.monotonic() - began
        self.copy_dsn, self.copy_host = replace_host(database_url, host), host
        self.report.facts["rto_seconds"] = round(rto, 2)
        slow = rto > self.settings.max_rto_seconds
        self.report.add(Check("restore", Status.WARN if slow else Status.OK, f"RTO {rto:.1f} s",
                              f"copy at {host}" + (f"; above {self.settings.max_rto_seconds:g} s" if slow else ""),
                              RUNBOOKS["restore"] if slow else None, {"rto_seconds": rto}))
        return True

    def verify(self) -> None:
        """Recovery point, then the LangGraph state of sampled threads, copy against source."""
        newest = compare.newest_checkpoint(self.copy_dsn)
        self.report.facts["newest_restored_checkpoint"] = _iso(newest)
        if newest is None:
            self.report.add(Check("recovery-point", Status.FAIL, "no checkpoints", "the copy holds no LangGraph "
                                  "checkpoint", RUNBOOKS["restore"]))
            return
        rpo = (self.requested_at - newest).total_seconds()
        self.report.facts["rpo_seconds"] = round(rpo, 2)
        late = rpo > self.settings.max_rpo_seconds
        self.report.add(Check("recovery-point", Status.WARN if late else Status.OK, f"RPO {rpo:.1f} s",
                              f"newest restored checkpoint {newest:%Y-%m-%d %H:%M:%S} UTC"
                              + (f"; above {self.settings.max_rpo_seconds:g} s" if late else ""),
                              RUNBOOKS["restore"] if late else None, {"rpo_seconds": rpo}))
        threads = compare.sample_threads(self.copy_dsn, self.settings.sample)
        task = self.progress.add_task("compare threads through the checkpointer", total=len(threads))
        result = compare.compare(self.source_dsn, self.copy_dsn, threads, newest, self.settings.sample,
                                 lambda: self.progress.advance(task))
        self.report.facts["threads_compared"] = len(result.compared)
        self._state_check(result)
        missing = len(result.missing)
        self.report.add(Check(
            "threads-present", Status.FAIL if missing else Status.OK,
            f"{result.checked_present - missing}/{result.checked_present} present",
            f"missing on the copy: {', '.join(result.missing[:5])}" if missing else
            "sampled source threads begun before the recovery point", RUNBOOKS["restore"] if missing else None,
            {"missing": result.missing, "checked": result.checked_present}))

    def _state_check(self, result: compare.Comparison) -> None:
        total = len(result.compared) + len(result.mismatches)
        value = f"{len(result.compared)}/{total} threads equal"
        data = {"compared": result.compared, "mismatches": result.mismatches,
                "deleted_on_source": result.deleted_on_source}
        if result.mismatches:
            first = next(iter(result.mismatches.items()))
            self.report.add(Check("langgraph-state", Status.FAIL, value, f"{first[0]}: {first[1]}",
                                  RUNBOOKS["restore"], data))
        elif not result.compared:
            self.report.add(Check("langgraph-state", Status.FAIL, value, "no thread could be compared",
                                  RUNBOOKS["restore"], data))
        else:
            self.report.add(Check("langgraph-state", Status.OK, value, "latest checkpoints loaded through "
                                  "PostgresSaver: state, metadata, parent and pending writes equal", None, data))

    def teardown(self) -> None:
        if self.settings.keep:
            self.report.add(Check("teardown", Status.WARN, "kept", f"--keep: delete the copy at {self.copy_host} "
                                  "by hand", None, {"scratch": self.copy_host}))
            return
        try:
            removed = self.scratch.teardown()
        except Exception as error:  # noqa: BLE001 - a copy left behind costs money: say so loudly
            self.report.add(Check("teardown", Status.FAIL, "left behind", f"{type(error).__name__}: {error}"[:400],
                                  RUNBOOKS["restore"]))
            return
        self.report.add(Check("teardown", Status.OK, f"{len(removed)} removed", "; ".join(removed)))


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
