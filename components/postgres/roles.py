"""Roles, the database, grants, default privileges and pg_stat_statements, with the postgresql provider.

The provider connects to `postgres.admin_host:admin_port`: a tunnel the deployer opens before
`pulumi up` (kubectl port-forward to CloudNativePG's `-rw` Service, or SSM / a bastion to RDS; see
the README). On CloudNativePG the app role and the database exist from bootstrap (see `cnpg.py`);
on RDS they are created here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ..random_tls_postgresql import Resource, postgresql_provider

GRANT = "postgresql:index/grant:Grant"


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
    provider = postgresql_provider(f"{name}-admin", {
        "host": spec.admin_host, "port": spec.admin_port, "username": spec.admin_user, "password": admin_password,
        "sslmode": "require", "superuser": spec.admin_is_superuser, "database": "postgres", "connectTimeout": 15,
    }, pulumi.ResourceOptions(parent=parent, depends_on=depends_on))
    opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    names = spec.names
    created: list[pulumi.Resource] = []
    if spec.create_app_role:
        app = _role(f"{name}-role-app", names.app, passwords.app, spec.app_connection_limit, opts)
        database = Resource("postgresql:index/database:Database", f"{name}-database",
                            {"name": spec.database, "owner": app.name},
                            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[app])))
        created += [app, database]
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=created))
    readonly = _role(f"{name}-role-readonly", names.readonly, passwords.readonly, spec.readonly_connection_limit,
                     after)
    monitor = _role(f"{name}-role-monitor", names.monitor, passwords.monitor, spec.monitor_connection_limit, after)
    Resource("postgresql:index/grantRole:GrantRole", f"{name}-monitor-pg-monitor",
             {"role": monitor.name, "grantRole": "pg_monitor"}, after)
    for role, key in ((readonly, "readonly"), (monitor, "monitor")):
        Resource(GRANT, f"{name}-{key}-connect", {"database": spec.database, "role": role.name,
                                                  "objectType": "database", "privileges": ["CONNECT"]}, after)
    Resource(GRANT, f"{name}-readonly-schema", {"database": spec.database, "schema": "public", "role": readonly.name,
                                                "objectType": "schema", "privileges": ["USAGE"]}, after)
    Resource(GRANT, f"{name}-readonly-tables", {"database": spec.database, "schema": "public", "role": readonly.name,
                                                "objectType": "table", "privileges": ["SELECT"]}, after)
    # Tables the server's migrations create later, as the app role, are readable too.
    Resource("postgresql:index/defaultPrivileges:DefaultPrivileges", f"{name}-readonly-future-tables",
             {"database": spec.database, "schema": "public", "owner": names.app, "role": readonly.name,
              "objectType": "table", "privileges": ["SELECT"]}, after)
    Resource("postgresql:index/extension:Extension", f"{name}-pg-stat-statements",
             {"name": "pg_stat_statements", "database": spec.database}, after)
    return provider


def _role(name: str, role: str, password: pulumi.Input[str], connection_limit: int,
          opts: pulumi.ResourceOptions) -> Resource:
    return Resource("postgresql:index/role:Role", name,
                    {"name": role, "login": True, "password": password, "connectionLimit": connection_limit}, opts)
