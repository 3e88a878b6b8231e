"""`python -m ops drill`"""

from __future__ import annotations

import sys

import click

from ..options import OpsContext, stack_command
from ..report import Report


@click.argument("target", type=click.Choice(["redis", "postgres", "all"]), default="all")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts; required without a terminal).")
@click.option("--redis-max-outage", type=click.FloatRange(min=0), default=10, show_default=True,
              help="WARN when writes through redis_url fail longer (seconds).")
@click.option("--postgres-max-outage", type=click.FloatRange(min=0), default=30, show_default=True,
              help="WARN when writes through database_url fail longer (seconds).")
@click.option("--timeout", type=click.FloatRange(min=1), default=300, show_default=True,
              help="FAIL when a failover has not finished after this many seconds.")
@click.option("--poll", type=click.FloatRange(min=0.05), default=2, show_default=True,
              help="Seconds between status polls of the Cluster or RDS instance.")
@click.option("--promote", metavar="INSTANCE",
              help="CloudNativePG instance to promote [default: the first healthy standby].")
def _drill(ctx: OpsContext, target: str, yes: bool, redis_max_outage: float, postgres_max_outage: float,
           timeout: float, poll: float, promote: str | None) -> int:
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("the drill fails over production components: pass --yes to run it unattended")
        click.confirm(f"Fail over {target} of this stack now?", abort=True, err=True)
    from ..failover.postgres import PostgresDrillSettings, postgres_failover
    from ..failover.redis import RedisDrillSettings, redis_failover

    report = Report("failover drill")
    say = ctx.progress.log
    if target in ("redis", "all"):
        for check in redis_failover(ctx.outputs, RedisDrillSettings(max_outage_seconds=redis_max_outage,
                                                                    timeout_seconds=timeout), say):
            report.add(check)
    if target in ("postgres", "all"):
        rds = None
        if ctx.outputs.postgres_cluster.engine == "rds":
            import boto3

            rds = boto3.client("rds", region_name=ctx.outputs.get("checkpoint_region"))
        settings = PostgresDrillSettings(max_outage_seconds=postgres_max_outage, timeout_seconds=timeout,
                                         poll_seconds=poll, target=promote)
        kube = ctx.kube if ctx.outputs.postgres_cluster.engine == "cloudnative-pg" else None
        for check in postgres_failover(ctx.outputs, kube, settings, rds, say):
            report.add(check)
    return ctx.finish(report)


command = stack_command("drill", """Fail over Redis and/or PostgreSQL on purpose and measure what clients see.

Redis: SENTINEL FAILOVER on a group whose Sentinels agree on the master, while a probe writes
through redis_url (the stable HAProxy endpoint) every 50 ms. PostgreSQL: a switchover to a healthy
standby (CloudNativePG: what `kubectl cnpg promote` does, through the Cluster's status subresource;
RDS: a reboot with ForceFailover) while a probe writes through database_url. Reports the longest
client-visible outage (last good write before to first good write after) and the failed writes;
WARN above the --*-max-outage bounds, FAIL when the failover or the writes do not come back.""")(_drill)
