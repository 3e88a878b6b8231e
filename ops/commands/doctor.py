"""`python -m ops doctor`"""

from __future__ import annotations

import click

from ..options import OpsContext, stack_command


@click.option("--long-query-seconds", type=click.FloatRange(min=0), default=300, show_default=True,
              help="A query running longer than this is reported.")
@click.option("--expect-standbys", type=click.IntRange(min=0),
              help="Streaming standbys to expect [default: from the CloudNativePG Cluster or RDS read replicas].")
@click.option("--health-path", default="/ok", show_default=True, help="Health path probed through app_url.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False),
              help="CA bundle that signed the app's certificate (dev's self-signed issuer).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="Seconds each network call may take.")
def _doctor(ctx: OpsContext, long_query_seconds: float, expect_standbys: int | None, health_path: str,
            ca_file: str | None, timeout: float) -> int:
    # Imported here: --help and usage errors stay fast without the engines' client libraries.
    from ..doctor import DoctorSettings, run

    return run(ctx, DoctorSettings(long_query_seconds, expect_standbys, health_path, ca_file, timeout))


command = stack_command("doctor", """Check the whole stack: the seed's quick diagnosis and daily checklist.

Pods running and ready; autoscalers not pinned at their maximum; the app's health through the load
balancer; days left on its certificate; the PostgreSQL cluster, a primary behind database_url,
connections against max_connections (WARN above 80%), streaming standbys and their lag, queries
running longer than --long-query-seconds; the Redis master through redis_url and every Sentinel
agreeing on it; the checkpoint bucket with the app's credentials; the age of the newest base backup;
the graphs' error ratio and P95 execution time from Prometheus (the alerts' own queries). Each row
says OK / WARN / FAIL, the number behind it, and the runbook to open.""")(_doctor)
