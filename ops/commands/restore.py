"""`python -m ops restore-drill`"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import click

from ..options import OpsContext, stack_command
from ..outputs import OutputsError, parse_host_port


def _pg_bin(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        raise click.UsageError("--pg-bin is needed: no pg_config on PATH to find the server's binaries")
    return Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True).stdout.strip())


def _scratch(ctx: OpsContext, base_backup: str | None, wal_archive: str | None, pg_bin: str | None,
             run_as: str | None, target_time: str | None, scratch_name: str | None, scratch_via: str | None):
    from ..restore.cnpg import CnpgRestore
    from ..restore.drill import CnpgScratch, LocalScratch, RdsScratch
    from ..restore.local import LocalRestore
    from ..restore.rds import RdsRestore

    if scratch_via:
        try:
            parse_host_port(scratch_via)
        except OutputsError as error:
            raise click.UsageError(f"--scratch-via: {error}") from None
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%m%d%H%M")
    if base_backup or wal_archive:
        if not (base_backup and wal_archive):
            raise click.UsageError("--base-backup and --wal-archive go together (local mode)")
        user = run_as or ("postgres" if os.geteuid() == 0 else None)
        return LocalScratch(LocalRestore(Path(base_backup), Path(wal_archive), _pg_bin(pg_bin), target_time, user))
    where = ctx.outputs.postgres_cluster
    name = scratch_name or f"{where.name[:30]}-drill-{stamp}"
    if where.engine == "rds":
        import boto3

        when = dt.datetime.fromisoformat(target_time) if target_time else None
        rds = boto3.client("rds", region_name=ctx.outputs.get("checkpoint_region"))
        return RdsScratch(RdsRestore(rds, where.name, name, when), scratch_via)
    return CnpgScratch(CnpgRestore(ctx.kube, where.namespace, where.name, name, ctx.outputs.require("namespace"),
                                   target_time), scratch_via)


@click.option("--sample", type=click.IntRange(min=1), default=50, show_default=True,
              help="Threads compared through the checkpointer (half the newest, half at random).")
@click.option("--target-time", metavar="ISO-8601", help="Recover to this time [default: the latest possible].")
@click.option("--max-rto", type=click.FloatRange(min=0), default=3600, show_default=True,
              help="WARN when the restore takes longer (seconds).")
@click.option("--max-rpo", type=click.FloatRange(min=0), default=900, show_default=True,
              help="WARN when the newest restored checkpoint is older (seconds).")
@click.option("--timeout", type=click.FloatRange(min=1), default=7200, show_default=True,
              help="Give up on the restore after this many seconds.")
@click.option("--poll", type=click.FloatRange(min=0.1), default=10, show_default=True,
              help="Seconds between status polls of the scratch Cluster or instance.")
@click.option("--scratch-name", help="Name of the scratch Cluster or RDS instance [default: <source>-drill-<time>].")
@click.option("--scratch-via", metavar="HOST:PORT", help="Reach the copy through a port-forward.")
@click.option("--keep", is_flag=True, help="Do not tear the copy down (WARN in the report).")
@click.option("--base-backup", type=click.Path(exists=True, file_okay=False),
              help="Local mode: a pg_basebackup -Fp directory.")
@click.option("--wal-archive", type=click.Path(exists=True, file_okay=False),
              help="Local mode: the directory archive_command copies WAL to.")
@click.option("--pg-bin", type=click.Path(exists=True, file_okay=False),
              help="Local mode: the server's binaries [default: pg_config --bindir].")
@click.option("--run-as", metavar="USER", help="Local mode, as root: run PostgreSQL as USER [default: postgres].")
def _restore(ctx: OpsContext, sample: int, target_time: str | None, max_rto: float, max_rpo: float, timeout: float,
             poll: float, scratch_name: str | None, scratch_via: str | None, keep: bool, base_backup: str | None,
             wal_archive: str | None, pg_bin: str | None, run_as: str | None) -> int:
    from ..restore.drill import DrillSettings, RestoreDrill

    scratch = _scratch(ctx, base_backup, wal_archive, pg_bin, run_as, target_time, scratch_name, scratch_via)
    settings = DrillSettings(sample=sample, max_rto_seconds=max_rto, max_rpo_seconds=max_rpo,
                             timeout_seconds=timeout, poll_seconds=poll, keep=keep)
    return ctx.finish(RestoreDrill(ctx.outputs, scratch, settings, ctx.progress).run())


command = stack_command("restore-drill", """Restore the latest backup into a scratch copy and prove it with LangGraph.

CloudNativePG: a new single-instance Cluster bootstrapped from the source's Barman Cloud object store
(run it in the cluster, e.g. as the weekly CronJob, or reach the copy with --scratch-via). RDS: a
point-in-time restore to a scratch instance. Local mode (--base-backup, --wal-archive): a scratch
PostgreSQL on 127.0.0.1 recovering from a base backup and a WAL archive directory.

Then loads the newest checkpoints of sampled threads through langgraph-checkpoint-postgres from the
copy and from the source (database_readonly_url when set) and compares them; checks that source
threads begun before the recovery point exist on the copy; reports RTO (restore time) and RPO (age
of the newest restored checkpoint when the restore was asked for); deletes the copy.""")(_restore)
