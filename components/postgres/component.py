"""`PostgresCluster`: LangGraph's checkpoint database, on CloudNativePG or RDS, with its roles,
backups, monitoring, checkpoint retention, and the URLs the app is given.

Both engines expose the same attributes: `app_env` (the app Secret's DATABASE_URI, POSTGRES_URI and
DATABASE_READONLY_URI), `rw_url`/`ro_url` (secrets, stack outputs), `endpoints` (where the app
connects), and `admin` (the tunnel the deployer opens for the roles).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi

from components import netpol
from components.aws import invoke
from components.connections import Endpoint
from components.kube import KubeObject
from components.namespace import ComputeResources
from components.random_tls_postgresql import Resource, random_password
from stackconfig.quantity import parse_quantity

from . import cnpg, retention
from .rds import RdsPostgres, RdsSpec
from .roles import RoleNames, RolePasswords, RolesSpec, manage_roles
from .tuning import Tuning, cnpg_parameters

LABELS = {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "postgres"}
READONLY_CONNECTION_LIMIT, MONITOR_CONNECTION_LIMIT = 20, 5


# The retention job's pod (for the data namespace's quota).
RETENTION_POD = ComputeResources("20m", "32Mi", "500m", "128Mi")


@dataclass(frozen=True)
class PostgresArgs:
    engine: str
    name: str
    """Name of the CloudNativePG Cluster (and prefix of its objects)."""
    namespace: str
    """Data namespace (CloudNativePG objects and the retention job, whichever the engine)."""
    app_namespace: str
    app_labels: dict[str, str]
    """Labels of the app's pods (the peers allowed through the poolers)."""
    version: str
    database: str
    tuning: Tuning
    app_connection_limit: int
    admin_host: str
    admin_port: int
    retention_days: int
    retention_enabled: bool
    retention_schedule: str
    retention_batch_size: int
    retention_max_batches: int
    monitoring_namespace: str
    api_server_cidrs: tuple[str, ...]
    image_pull_policy: str = "IfNotPresent"
    other_clients: tuple[dict, ...] = ()
    """Further NetworkPolicy peers allowed through the poolers (the restore drill reads the source)."""
    # CloudNativePG
    cnpg_image: str | None = None
    instances: int = 1
    storage_size: str = "5Gi"
    cpu: str = "500m"
    memory: str = "1Gi"
    pooler_instances: int = 1
    pooler_parameters: dict | None = None
    backup: cnpg.BackupStore | None = None
    backup_schedule: str = "0 0 3 * * *"
    backup_retention_days: int = 30
    sidecar_resources: dict | None = None
    pooler_resources: dict | None = None
    # RDS
    rds: RdsSpec | None = None
    vpc_cidr: str | None = None


def _url(user: str, password: pulumi.Input[str], host: pulumi.Input[str], database: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(pulumi.Output.format(
        "postgresql://{0}:{1}@{2}:5432/{3}?sslmode=require", user, password, host, database))


def _password(name: str, parent: pulumi.Resource) -> Resource:
    # Alphanumeric: safe in URLs and libpq keywords without escaping.
    return random_password(name, 40, pulumi.ResourceOptions(parent=parent))


class PostgresCluster(pulumi.ComponentResource):
    app_env: dict[str, pulumi.Output[str]]
    rw_url: pulumi.Output[str]
    ro_url: pulumi.Output[str]
    endpoints: tuple[Endpoint, ...]
    cluster_id: pulumi.Input[str]
    """CloudNativePG: `<namespace>/<cluster>`; RDS: the primary's identifier."""

    def __init__(self, name: str, args: PostgresArgs, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:PostgresCluster", name, None, opts)
        self._after = list(depends_on)
        self.names = names = RoleNames()
        passwords = RolePasswords(*(_password(f"{name}-{role}-password", self).result
                                    for role in ("app", "readonly", "monitor")))
        if args.engine == "cloudnative-pg":
            admin_password, ready, rw_host, ro_host, direct = self._cnpg(name, args, passwords.app)
            admin_user, superuser = "postgres", True
        else:
            admin_password, ready, rw_host, ro_host, direct = self._rds(name, args, passwords.app)
            admin_user, superuser = args.rds.admin_user, False
        manage_roles(name, RolesSpec(
            database=args.database, names=names, create_app_role=args.engine == "rds",
            app_connection_limit=args.app_connection_limit, readonly_connection_limit=READONLY_CONNECTION_LIMIT,
            monitor_connection_limit=MONITOR_CONNECTION_LIMIT, admin_host=args.admin_host, admin_port=args.admin_port,
            admin_user=admin_user, admin_is_superuser=superuser,
        ), admin_password, passwords, self, ready)
        if args.retention_enabled:
            self._retention(name, args, passwords.app, direct, ready)

        self.rw_url = _url(names.app, passwords.app, rw_host, args.database)
        self.ro_url = _url(names.readonly, passwords.readonly, ro_host, args.database)
        self.app_env = {"DATABASE_URI": self.rw_url, "POSTGRES_URI": self.rw_url, "DATABASE_READONLY_URI": self.ro_url}
        self.register_outputs({"rw_url": self.rw_url, "ro_url": self.ro_url})

    def _cnpg(self, name: str, args: PostgresArgs, app_password: pulumi.Output[str]):
        superuser = _password(f"{name}-superuser-password", self)
        cluster_name = args.name
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=self._after)
        secrets = [
            KubeObject(f"{name}-superuser", _basic_auth(f"{cluster_name}-superuser", args.namespace, "postgres",
                                                        superuser.result), in_ns),
            KubeObject(f"{name}-app", _basic_auth(f"{cluster_name}-app-credentials", args.namespace, RoleNames.app,
                                                  app_password), in_ns),
        ]
        app_peer = {**netpol.namespace_peer(args.app_namespace), "podSelector": {"matchLabels": args.app_labels}}
        retention_peer = {"podSelector": {"matchLabels": _retention_labels()}}
        spec = cnpg.CnpgSpec(
            name=cluster_name, namespace=args.namespace, labels=LABELS, instances=args.instances, image=args.cnpg_image,
            storage_size=args.storage_size, cpu=args.cpu, memory=args.memory,
            parameters=cnpg_parameters(args.tuning, int(parse_quantity(args.memory))),
            database=args.database, app_role=RoleNames.app, app_secret=f"{cluster_name}-app-credentials",
            app_connection_limit=args.app_connection_limit, superuser_secret=f"{cluster_name}-superuser",
            pooler_instances=args.pooler_instances, pooler_parameters=args.pooler_parameters or {},
            backup=args.backup, backup_schedule=args.backup_schedule, backup_retention_days=args.backup_retention_days,
            clients=(app_peer, *args.other_clients), direct_clients=(retention_peer,), monitoring_namespace=args.monitoring_namespace,
            api_server_cidrs=args.api_server_cidrs, sidecar_resources=args.sidecar_resources or {},
            **({"pooler_resources": args.pooler_resources} if args.pooler_resources else {}),
        )
        after_secrets = pulumi.ResourceOptions(parent=self, depends_on=[*self._after, *secrets])
        store = KubeObject(f"{name}-backup-store", cnpg.object_store(spec), after_secrets)
        cluster = KubeObject(f"{name}-cluster", cnpg.cluster(spec),
                             pulumi.ResourceOptions(parent=self, depends_on=[*secrets, store]))
        after_cluster = pulumi.ResourceOptions(parent=self, depends_on=[cluster])
        KubeObject(f"{name}-scheduled-backup", cnpg.scheduled_backup(spec), after_cluster)
        kinds = ("rw", "ro") if args.instances > 1 else ("rw",)
        for kind in kinds:
            KubeObject(f"{name}-pooler-{kind}", cnpg.pooler(spec, kind), after_cluster)
        KubeObject(f"{name}-podmonitor", cnpg.pod_monitor(spec), after_cluster)
        KubeObject(f"{name}-pooler-podmonitor", cnpg.pooler_pod_monitor(spec), after_cluster)
        KubeObject(f"{name}-instances-netpol", cnpg.instance_network_policy(spec), in_ns)
        KubeObject(f"{name}-poolers-netpol", cnpg.pooler_network_policy(spec), in_ns)
        self.endpoints = cnpg.endpoints(spec)
        self.cluster_id = f"{args.namespace}/{cluster_name}"
        host = cnpg.service_host(spec, spec.pooler_name("rw"))
        # With one instance there is no standby behind an `ro` pooler: read-only clients share the rw pooler.
        ro_host = cnpg.service_host(spec, spec.pooler_name("ro" if args.instances > 1 else "rw"))
        direct = cnpg.service_host(spec, f"{cluster_name}-rw")
        return superuser.result, [cluster], host, ro_host, direct

    def _rds(self, name: str, args: PostgresArgs, app_password: pulumi.Output[str]):
        database = RdsPostgres(f"{name}-rds", args.rds, RoleNames.app, app_password, pulumi.ResourceOptions(parent=self))
        self.cluster_id = database.primary_identifier
        master = invoke("aws:secretsmanager/getSecretVersion:getSecretVersion",
                        {"secretId": database.master_secret_arn}, pulumi.InvokeOutputOptions(parent=self))
        admin_password = pulumi.Output.secret(master.apply(lambda version: _password_of(version.get("secretString"))))
        self.endpoints = (Endpoint("postgres", (5432,), cidr=args.vpc_cidr),)
        return admin_password, [database], database.proxy_endpoint, database.readonly_endpoint, database.primary_endpoint

    def _retention(self, name: str, args: PostgresArgs, app_password: pulumi.Output[str], host: pulumi.Input[str],
                   ready: list[pulumi.Resource]) -> None:
        # The job sets session parameters and commits per batch: it talks to the primary directly, never
        # through a transaction pooler or RDS Proxy.
        namespace = args.namespace
        spec = retention.RetentionSpec(
            name=f"{args.name}-retention", namespace=namespace, labels=_retention_labels(),
            secret_name=f"{args.name}-retention-db", schedule=args.retention_schedule, ttl_days=args.retention_days,
            batch_size=args.retention_batch_size, max_batches=args.retention_max_batches,
            image_pull_policy=args.image_pull_policy)
        secret = KubeObject(f"{name}-retention-db", {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": spec.secret_name, "namespace": namespace, "labels": dict(LABELS)},
            "stringData": {"host": host, "port": "5432", "dbname": args.database, "username": RoleNames.app,
                           "password": app_password},
        }, pulumi.ResourceOptions(parent=self, depends_on=self._after))
        peers = ([{"podSelector": {"matchLabels": {"cnpg.io/cluster": args.name, "cnpg.io/podRole": "instance"}}}]
                 if args.engine == "cloudnative-pg" else [{"ipBlock": {"cidr": args.vpc_cidr}}])
        options = pulumi.ResourceOptions(parent=self, depends_on=[*self._after, secret, *ready])
        config = KubeObject(f"{name}-retention-sql", retention.config_map(spec), options)
        KubeObject(f"{name}-retention-netpol", retention.network_policy(spec, peers), options)
        KubeObject(f"{name}-retention", retention.cron_job(spec),
                   pulumi.ResourceOptions(parent=self, depends_on=[secret, config, *ready]))


def _retention_labels() -> dict[str, str]:
    return {**LABELS, "app.kubernetes.io/name": "checkpoint-retention"}


def _basic_auth(name: str, namespace: str, username: str, password: pulumi.Input[str]) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(LABELS)},
            "stringData": {"username": username, "password": password}}


def _password_of(secret_string: str | None) -> str:
    return json.loads(secret_string or "{}").get("password", "")
