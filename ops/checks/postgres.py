"""PostgreSQL: the cluster as its operator (or RDS) reports it, reachable as a primary through
database_url, connections against max_connections, streaming standbys and their lag, and
long-running queries.

pg_stat_activity and pg_stat_replication show other sessions' details only to roles with
pg_read_all_stats (the stack's monitor role): with the app's role the replication columns read
null, which the replication check reports rather than mistaking for a broken standby.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg

from ..prom import THRESHOLDS
from ..report import Check, Status
from ..runbooks import RUNBOOKS

if TYPE_CHECKING:
    from ..doctor import Doctor

HEALTHY_PHASE = "Cluster in healthy state"


def cluster(doctor: Doctor) -> list[Check]:
    where = doctor.outputs.postgres_cluster
    if where.engine == "rds":
        instance = doctor.rds_instance
        state = instance["DBInstanceStatus"]
        value = f"{state}, Multi-AZ {'on' if instance.get('MultiAZ') else 'off'}"
        status = Status.OK if state == "available" else Status.WARN
        return [Check("postgres-cluster", status, value, f"RDS instance {where.name}",
                      RUNBOOKS["postgres-cluster"] if status else None, {"status": state})]
    body = doctor.cnpg_cluster
    spec, status_ = body.get("spec", {}), body.get("status", {})
    wanted, ready = spec.get("instances", 1), status_.get("readyInstances", 0)
    phase = status_.get("phase", "unknown")
    value = f"{ready}/{wanted} instances ready"
    detail = f"{where.namespace}/{where.name}: {phase}; primary {status_.get('currentPrimary', '?')}"
    data = {"ready": ready, "instances": wanted, "phase": phase, "primary": status_.get("currentPrimary")}
    if ready == 0:
        return [Check("postgres-cluster", Status.FAIL, value, detail, RUNBOOKS["postgres-cluster"], data)]
    if ready < wanted or phase != HEALTHY_PHASE:
        return [Check("postgres-cluster", Status.WARN, value, detail, RUNBOOKS["postgres-cluster"], data)]
    return [Check("postgres-cluster", Status.OK, value, detail, None, data)]


def _connect(doctor: Doctor) -> psycopg.Connection:
    return psycopg.connect(doctor.outputs.require("database_url"), connect_timeout=int(doctor.settings.timeout),
                           autocommit=True, application_name="ops-doctor")


def database(doctor: Doctor) -> list[Check]:
    """Reachability first; the other PostgreSQL checks need the connection it opens."""
    try:
        conn = _connect(doctor)
    except psycopg.Error as error:
        return [Check("postgres-reachable", Status.FAIL, "unreachable", str(error).strip().splitlines()[0],
                      RUNBOOKS["postgres-reachable"])]
    with conn:
        version, in_recovery = conn.execute("SELECT current_setting('server_version'), pg_is_in_recovery()").fetchone()
        if in_recovery:
            return [Check("postgres-reachable", Status.FAIL, "standby",
                          "database_url reaches a server in recovery: writes fail", RUNBOOKS["postgres-reachable"])]
        checks = [Check("postgres-reachable", Status.OK, f"PostgreSQL {version}", "primary, accepting writes")]
        checks.append(_connections(conn))
        try:
            expected = doctor.expected_standbys()
        except Exception:  # noqa: BLE001 - the postgres-cluster row reports why the cluster cannot be read
            expected = None
        checks.append(_replication(conn, expected))
        checks.append(_long_queries(conn, doctor.settings.long_query_seconds))
    return checks


def _connections(conn: psycopg.Connection) -> Check:
    used, limit = conn.execute(
        "SELECT count(*) FILTER (WHERE backend_type = 'client backend'), current_setting('max_connections')::int "
        "FROM pg_stat_activity").fetchone()
    ratio = used / limit
    value = f"{used}/{limit} ({ratio:.0%})"
    data = {"connections": used, "max_connections": limit, "ratio": round(ratio, 4)}
    if used >= limit:
        return Check("postgres-connections", Status.FAIL, value, "max_connections reached: new sessions are refused",
                     RUNBOOKS["postgres-connections"], data)
    if ratio > THRESHOLDS.connections_ratio:
        return Check("postgres-connections", Status.WARN, value,
                     f"above {THRESHOLDS.connections_ratio:.0%} of max_connections",
                     RUNBOOKS["postgres-connections"], data)
    return Check("postgres-connections", Status.OK, value, "client backends / max_connections", None, data)


def _replication(conn: psycopg.Connection, expected: int | None) -> Check:
    rows = conn.execute(
        "SELECT application_name, state, extract(epoch FROM replay_lag)::float8, "
        "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint FROM pg_stat_replication "
        "ORDER BY application_name").fetchall()
    standbys = [{"name": name, "state": state, "lag_seconds": lag or 0.0, "lag_bytes": lag_bytes}
                for name, state, lag, lag_bytes in rows]
    streaming = [s for s in standbys if s["state"] == "streaming"]
    worst = max((s["lag_seconds"] for s in streaming), default=0.0)
    value = f"{len(streaming)} streaming, max lag {worst:.1f} s"
    data = {"standbys": standbys, "expected": expected}
    if standbys and all(s["state"] is None for s in standbys):
        return Check("postgres-replication", Status.WARN, f"{len(standbys)} standby(s)",
                     "details hidden: connect with a role in pg_read_all_stats (the monitor role)",
                     RUNBOOKS["postgres-replication"], data)
    problems = []
    if expected is not None and len(streaming) < expected:
        problems.append(f"expected {expected} streaming standby(s)")
    if worst > THRESHOLDS.replication_lag_seconds:
        problems.append(f"replay lag above {THRESHOLDS.replication_lag_seconds:g} s")
    if problems:
        return Check("postgres-replication", Status.WARN, value, "; ".join(problems),
                     RUNBOOKS["postgres-replication"], data)
    detail = ", ".join(s["name"] for s in streaming) or "no standbys expected"
    return Check("postgres-replication", Status.OK, value, detail, None, data)


def _long_queries(conn: psycopg.Connection, limit_seconds: float) -> Check:
    # Only who and how long: query text can hold literals nobody should see in a report.
    rows = conn.execute(
        "SELECT pid, usename, application_name, extract(epoch FROM now() - query_start)::float8 FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid() "
        "AND now() - query_start > make_interval(secs => %s) ORDER BY query_start", (limit_seconds,)).fetchall()
    found = [{"pid": pid, "user": user, "application": app, "seconds": round(seconds, 1)}
             for pid, user, app, seconds in rows]
    value = f"{len(found)} over {limit_seconds:g} s"
    if found:
        detail = ", ".join(f"pid {q['pid']} ({q['user']}, {q['application'] or '-'}) {q['seconds']:.0f} s"
                           for q in found[:5])
        return Check("postgres-long-queries", Status.WARN, value, detail, RUNBOOKS["postgres-long-queries"],
                     {"queries": found})
    return Check("postgres-long-queries", Status.OK, value, "", None, {"queries": []})
