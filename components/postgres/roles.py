"""Roles, the database, grants, default privileges and pg_stat_statements, with pulumi-postgresql.

The provider connects to `postgres.admin_host:admin_port`: a tunnel the deployer opens before
`pulumi up` (kubectl port-forward to CloudNativePG's `-rw` Service, or SSM / a bastion to RDS; see
the README). On CloudNativePG the app role and the database exist from bootstrap (see `cnpg.py`);
on RDS they are created here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_postgresql as postgresql


@dataclass(frozen=True)
class RoleNames:
    app: str = "langgraph_app"
    readonly: str = "langgraph_readonly"
    monitor: str = "langgraph_monitor"


@dataclass(frozen=True)
class RolesSpec:
    database: str
    names: RoleNames
    create_app_role: bool
    """False on CloudNativePG, whose bootstrap creates the app role and the database."""
    app_connection_limit: int
    readonly_connection_limit: int
    monitor_connection_limit: int
    admin_host: str
    admin_port: int
    admin_user: str
    admin_is_superuser: bool
    """RDS's master user is not a superuser (rds_superuser); the provider must know."""


@dataclass
class RolePasswords:
    app: pulumi.Input[str]
    readonly: pulumi.Input[str]
    monitor: pulumi.Input[str]


def manage_roles(name: str, spec: RolesSpec, admin_password: pulumi.Input[str], passwords: RolePasswords,
                 parent: pulumi.Resource, depends_on: list[pulumi.Resource]) -> pulumi.ProviderResource:
    """Registers the provider and every role, grant and extension as children of `parent`."""
    provider = postgresql.Provider(
        f"{name}-admin", host=spec.admin_host, port=spec.admin_port, username=spec.admin_user,
        password=admin_password, sslmode="require", superuser=spec.admin_is_superuser, database="postgres",
        connect_timeout=15, opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on))
    opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    names = spec.names
    created: list[pulumi.Resource] = []
    if spec.create_app_role:
        app = postgresql.Role(f"{name}-role-app", name=names.app, login=True, password=passwords.app,
                              connection_limit=spec.app_connection_limit, opts=opts)
        database = postgresql.Database(f"{name}-database", name=spec.database, owner=app.name,
                                       opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[app])))
        created += [app, database]
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=created))
    readonly = postgresql.Role(f"{name}-role-readonly", name=names.readonly, login=True, password=passwords.readonly,
                               connection_limit=spec.readonly_connection_limit, opts=after)
    monitor = postgresql.Role(f"{name}-role-monitor", name=names.monitor, login=True, password=passwords.monitor,
                              connection_limit=spec.monitor_connection_limit, opts=after)
    postgresql.GrantRole(f"{name}-monitor-pg-monitor", role=monitor.name, grant_role="pg_monitor", opts=after)
    for role, key in ((readonly, "readonly"), (monitor, "monitor")):
        postgresql.Grant(f"{name}-{key}-connect", database=spec.database, role=role.name, object_type="database",
                         privileges=["CONNECT"], opts=after)
    postgresql.Grant(f"{name}-readonly-schema", database=spec.database, schema="public", role=readonly.name,
                     object_type="schema", privileges=["USAGE"], opts=after)
    postgresql.Grant(f"{name}-readonly-tables", database=spec.database, schema="public", role=readonly.name,
                     object_type="table", privileges=["SELECT"], opts=after)
    # Tables the server's migrations create later, as the app role, are readable too.
    postgresql.DefaultPrivileges(f"{name}-readonly-future-tables", database=spec.database, schema="public",
                                 owner=names.app, role=readonly.name, object_type="table", privileges=["SELECT"],
                                 opts=after)
    postgresql.Extension(f"{name}-pg-stat-statements", name="pg_stat_statements", database=spec.database, opts=after)
    return provider
