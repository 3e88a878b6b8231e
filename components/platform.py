"""`LangGraphPlatform`: the root component that wires one environment together.

Order of construction follows the dependencies: cert-manager (the edge's certificates, the backup
plugin's mTLS), the data tier (object store, PostgreSQL, Redis) in its namespace, logs and traces,
KEDA, monitoring (it scrapes all of them), then the app, which is given every tier's connection
settings, and the edge in front of it. Each tier declares where it accepts connections
(`components/connections.py`); the app's egress is built from those declarations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pulumi
from ops.restore.labels import DRILL_LABELS
from ops.restore.cronjob import RestoreDrillJobSpec
from recovery.settings import Autoscaler, RateLimit

from stackconfig import Settings
from stackconfig.model import FIXED_NAMESPACES
from stackconfig.quantity import parse_quantity

from . import app_env, app_manifests, edge_manifests, netpol
from .app import LangGraphApp, LangGraphAppArgs
from .cert_manager import CertManager
from .checkpoint_store.component import CheckpointStore, CheckpointStoreParams, store_workloads
from .checkpoint_store.external import ExternalParams
from .checkpoint_store.s3 import S3Params, ServiceAccountRef
from .checkpoint_store.seaweedfs import Peer, SeaweedParams
from . import recovery as rec
from .connections import Endpoint
from .delivery import DeliverySpec, ProgressiveDelivery
from .edge import Edge, EdgeArgs
from .keda import Keda, KedaSpec
from .kube import kubernetes_provider
from .logging.component import Logging
from .logging.eck_manifests import LoggingSpec
from .monitoring import alertmanager as am
from .monitoring import rules
from .monitoring.component import (PROMETHEUS_PORT, PROMETHEUS_SERVICE, RECEIVERS_SECRET, Monitoring, MonitoringSpec,
                                   ScrapeTarget)
from .monitoring.datasources import DatasourceSettings
from .namespace import ComputeResources, Tier, Workload, combined, register_namespace
from .pins import IMAGES
from .postgres import cnpg
from .postgres.component import RETENTION_POD, PostgresArgs, PostgresCluster
from .postgres.operator import CnpgOperator, OperatorSpec
from .postgres.rds import RdsSpec
from .postgres.tuning import Tuning, rds_parameters
from .random_tls_postgresql import random_password
from .redis import manifests as redis_manifests
from .redis.component import RedisSentinel
from .redis.component import workloads as redis_workloads
from .redis.elasticache import ElastiCacheRedis, ElastiCacheSpec
from .redis.sentinel_config import Resources, RedisSentinelSpec
from .restore_drill import RestoreDrill
from .restore_drill import workload as drill_workload
from .tracing.component import Tracing
from .tracing.jaeger_manifests import TracingSpec

# The stack's output contract: the same keys in every stack (null where a stack has no such thing).
OUTPUTS: dict[str, str] = {
    "app_url": "`https://<edge.hostname>`",
    "gateway_hostname": "the load balancer's DNS name in front of the gateway (point `edge.hostname` at it); null without one",
    "namespace": "namespace of the app tier",
    "connection_secret_name": "Kubernetes Secret holding the app's connection environment (`DATABASE_URI`, `REDIS_URI`, ...)",
    "database_url": "read/write PostgreSQL URL through the pooler (CloudNativePG PgBouncer or RDS Proxy) (secret)",
    "database_readonly_url": "read-only PostgreSQL URL (standbys' pooler, or the RDS read replica) (secret)",
    "postgres_engine": "`cloudnative-pg` or `rds`",
    "postgres_cluster": "CloudNativePG cluster name and namespace, or the RDS instance's identifier",
    "redis_url": "Redis URL of the current master: the HAProxy endpoint, or ElastiCache's primary endpoint (secret)",
    "redis_sentinels": "Sentinel endpoints (`host:port`) for Sentinel-aware clients; empty on ElastiCache",
    "redis_master_name": "Sentinel master group name; null on ElastiCache",
    "checkpoint_bucket": "bucket holding checkpoint files (the app writes under `checkpoints/`)",
    "checkpoint_endpoint": "S3 API endpoint the app uses (null for AWS S3's regional endpoint)",
    "checkpoint_region": "region of the bucket",
    "app_iam_role_arn": "IAM role of the app's ServiceAccount (IRSA); null outside AWS",
    "prometheus_url": "in-cluster URL of Prometheus",
    "grafana_url": "in-cluster URL of Grafana",
    "alertmanager_url": "in-cluster URL of Alertmanager",
    "kibana_url": "in-cluster URL of Kibana",
    "jaeger_url": "in-cluster URL of the Jaeger UI",
    "capacity": "the derivation of every tier (`api`, `queue`: required, instances, HPA range) and the connection budgets",
    "lowered_floors": "prod safety floors this stack runs below, with the reasons (empty map when none)",
}
# The outputs the in-cluster restore drill reads (from a Secret: they hold credentials).
DRILL_OUTPUTS = ("namespace", "database_url", "postgres_engine", "postgres_cluster", "checkpoint_bucket",
                 "checkpoint_region")
DATA_LABELS = {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "data"}
# Per CloudNativePG instance: the Barman Cloud plugin's sidecar beside PostgreSQL.
BACKUP_SIDECAR = ComputeResources("50m", "64Mi", "500m", "256Mi")
POOLER_POD = ComputeResources("100m", "64Mi", "1", "256Mi")


@dataclass
class LangGraphPlatformArgs:
    settings: Settings
    """Validated stack config and what is derived from it."""
    secrets: dict[str, pulumi.Output[str]]
    """Credential config secrets that are set (see stackconfig.secrets.SECRET_KEYS)."""


def tiers(settings: Settings) -> tuple[app_manifests.Tier, ...]:
    """The server's Deployments: API pods (running the jobs too unless queue workers do)."""
    config, sizing, knobs = settings.config, settings.sizing, settings.server
    queue = config.app.queue
    api = app_manifests.Tier("api", config.app.name, sizing.api, config.app.resources,
                             jobs_per_worker=0 if queue.enabled else knobs.jobs_per_worker)
    if not queue.enabled:
        return (api,)
    return (api, app_manifests.Tier("queue", f"{config.app.name}-queue", sizing.queue, queue.resources,
                                    jobs_per_worker=knobs.jobs_per_worker, autoscaler=queue.autoscaler,
                                    command=queue.command))


class LangGraphPlatform(pulumi.ComponentResource):
    """Every layer of one environment; `outputs` is the stack's output contract."""

    outputs: dict[str, pulumi.Input]

    def __init__(self, name: str, args: LangGraphPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:LangGraphPlatform", name, None, opts)
        self.settings, self.secrets = args.settings, args.secrets
        config = self.settings.config
        self.prod = config.environment == "prod"
        provider = kubernetes_provider(f"{name}-kubernetes", {"context": config.kubernetes.context,
                                                              "enableServerSideApply": True},
                                       pulumi.ResourceOptions(parent=self))
        self.children = pulumi.ResourceOptions(parent=self, providers={"kubernetes": provider})
        self.pod_security_version = f"v{config.kubernetes.version}"
        self.app_labels = {"app.kubernetes.io/name": config.app.name}
        self.edge_spec = self._edge_spec()
        self.recovery_spec = self._recovery_spec() if self._recovery_on() else None
        self.drill_spec = self._drill_spec() if config.operations.restore_drill else None
        # Alertmanager authenticates to auto-recovery with it: made here, handed to both.
        self.recovery_token = (random_password(f"{name}-recovery-token", 48, pulumi.ResourceOptions(parent=self)).result
                               if self.recovery_spec else None)

        cert_manager = None
        if config.edge.install_cert_manager:
            # The release used to be the edge's child, named <edge>-cert-manager: the alias keeps it in place.
            edge_urn = self.urn.apply(lambda urn: child_urn(urn, "langgraph:platform:Edge", f"{name}-edge"))
            cert_manager = CertManager(f"{name}-cert-manager", self.edge_spec, [], opts=self.children,
                                       previous=pulumi.Alias(name=f"{name}-edge-cert-manager", parent=edge_urn))
        store, postgres, redis, data_ready = self._data_tier(name, cert_manager)
        logging, tracing = self._observability_backends(name)
        monitoring = self._monitoring(name, postgres, logging, tracing) if config.monitoring.enabled else None
        keda = self._keda(name)

        app = self._app(name, store, postgres, redis, tracing, [*data_ready, *keda])
        edge = Edge(f"{name}-edge", EdgeArgs(spec=self.edge_spec, app=app,
                                             cert_manager=cert_manager.ready if cert_manager else None),
                    opts=self.children)
        if config.app.rollout == "canary":
            ProgressiveDelivery(f"{name}-delivery", self._delivery_spec(), depends_on=[app], opts=self.children)
        if self.recovery_spec:
            rec.AutoRecovery(f"{name}-recovery", rec.AutoRecoveryArgs(
                self.recovery_spec, webhook_token=self.recovery_token,
                sentinel_password=redis.password if self.recovery_spec.sentinel else None,
                depends_on=[app.namespace_resource]), opts=self.children)

        self.outputs = {
            "app_url": edge.url,
            "gateway_hostname": edge.load_balancer_hostname,
            "namespace": app.namespace,
            "connection_secret_name": app.secret_name,
            "database_url": postgres.rw_url,
            "database_readonly_url": postgres.ro_url,
            "postgres_engine": config.postgres.engine,
            "postgres_cluster": postgres.cluster_id,
            "redis_url": redis.url,
            "redis_sentinels": getattr(redis, "sentinels", []),
            "redis_master_name": getattr(redis, "master_name", None),
            "checkpoint_bucket": store.bucket,
            "checkpoint_endpoint": store.endpoint if config.checkpoints.backend != "s3" else None,
            "checkpoint_region": store.region,
            "app_iam_role_arn": store.iam_role_arn or config.app.iam_role_arn,
            "prometheus_url": monitoring.prometheus_url if monitoring else None,
            "grafana_url": monitoring.grafana_url if monitoring else None,
            "alertmanager_url": monitoring.alertmanager_url if monitoring else None,
            "kibana_url": logging.url if logging else None,
            "jaeger_url": tracing.url if tracing else None,
            "capacity": capacity_output(self.settings),
            "lowered_floors": dict(self.settings.lowered_floors),
        }
        assert set(self.outputs) == set(OUTPUTS), "the output contract lists every output"
        if self.drill_spec:
            aws = config.aws
            account_db = f"arn:aws:rds:{aws.region}:{aws.account_id}:db:"
            rds = ((pulumi.Output.concat(account_db, postgres.cluster_id), account_db)
                   if config.postgres.engine == "rds" else None)
            RestoreDrill(f"{name}-restore-drill", self.drill_spec, {key: self.outputs[key] for key in DRILL_OUTPUTS},
                         depends_on=[app.namespace_resource], rds=rds, oidc_provider_arn=aws.eks_oidc_provider_arn,
                         opts=self.children)
        self.register_outputs(self.outputs)

    # --- operations: auto-recovery, the restore drill, canary delivery -----------------------------

    def _recovery_on(self) -> bool:
        config = self.settings.config
        return config.monitoring.enabled and config.operations.recovery

    def _recovery_spec(self) -> rec.RecoverySpec:
        """What auto-recovery may touch: the server's Deployments, its autoscalers up to what the connection
        budget still admits (split between them), the Sentinels, the disabled-graphs flag."""
        config, sizing, operations = self.settings.config, self.settings.sizing, self.settings.config.operations
        app_tiers = tiers(self.settings)
        spare = max(0, min(sizing.postgres.accepted - sizing.postgres.total, sizing.redis.accepted - sizing.redis.total))
        per_pod = max(self.settings.server.postgres_pool_max_size, self.settings.server.redis_max_connections)
        extra = spare // per_pod // len(app_tiers)
        autoscalers = []
        for tier in app_tiers:
            cap = tier.sizing.hpa_max + extra
            if tier.autoscaler == "keda":
                autoscalers.append(Autoscaler(f"keda-hpa-{tier.name}", cap, scaled_object=tier.name))
            else:
                autoscalers.append(Autoscaler(tier.name, cap))
        sentinel = None
        if config.redis.engine == "sentinel":
            redis = self._redis_spec(recovery_selector={})
            sentinel = rec.SentinelTarget(redis.master_name, tuple(map(str, redis.sentinel_endpoints())),
                                          redis.namespace, redis_manifests.selector(redis, "sentinel"))
        return rec.RecoverySpec(
            namespace=config.kubernetes.namespace, image=operations.image, monitoring_namespace=config.monitoring.namespace,
            api_server_cidrs=config.kubernetes.api_server_cidrs, dry_run=operations.dry_run,
            rate_limit=RateLimit(operations.max_actions, operations.window_seconds),
            restart_deployments=tuple(tier.name for tier in app_tiers), autoscalers=tuple(autoscalers),
            scale_step=operations.scale_step, sentinel=sentinel,
            disabled_graphs_config_map=f"{config.app.name}-disabled-graphs",
            max_disabled_graphs=operations.max_disabled_graphs, name=f"{config.app.name}-recovery",
            image_pull_policy=config.app.image_pull_policy)

    def _drill_spec(self) -> RestoreDrillJobSpec:
        config = self.settings.config
        cnpg_engine = config.postgres.engine == "cloudnative-pg"
        return RestoreDrillJobSpec(
            namespace=config.kubernetes.namespace, image=config.operations.image,
            outputs_secret=f"{config.app.name}-restore-drill-outputs", engine=config.postgres.engine,
            data_namespace=config.kubernetes.data_namespace if cnpg_engine else None,
            database_peers=[netpol.namespace_peer(config.kubernetes.data_namespace)] if cnpg_engine
            else [{"ipBlock": {"cidr": config.aws.vpc_cidr}}],
            api_server_cidrs=config.kubernetes.api_server_cidrs,
            https_cidrs=() if cnpg_engine else (config.aws.vpc_cidr,),
            name=f"{config.app.name}-restore-drill", schedule=config.operations.restore_drill_schedule,
            image_pull_policy=config.app.image_pull_policy)

    def _delivery_spec(self) -> DeliverySpec:
        config = self.settings.config
        return DeliverySpec(
            app_name=config.app.name, namespace=config.kubernetes.namespace, app_port=config.app.port,
            route=edge_manifests.app_route(self.edge_spec), prometheus_url=prometheus_url(config),
            monitoring_namespace=config.monitoring.namespace, api_server_cidrs=config.kubernetes.api_server_cidrs,
            backend_annotations=edge_manifests.app_service_annotations(self.edge_spec), autoscaler=config.app.name,
            pod_security_version=self.pod_security_version)

    # --- the edge --------------------------------------------------------------------------------

    def _edge_spec(self) -> edge_manifests.EdgeSpec:
        config = self.settings.config
        return edge_manifests.EdgeSpec(
            edge=config.edge,
            app_name=config.app.name,
            app_namespace=config.kubernetes.namespace,
            app_service=config.app.name,
            app_service_port=app_manifests.SERVICE_PORT,
            app_port=config.app.port,
            health_path=config.app.probes.readiness.path,
            monitoring_namespace=config.monitoring.namespace,
            load_balancer_cidrs=(config.aws.vpc_cidr,) if config.aws.vpc_cidr else edge_manifests.PRIVATE_NETWORKS,
            pod_security_version=self.pod_security_version,
            api_server_cidrs=config.kubernetes.api_server_cidrs,
            canary=config.app.rollout == "canary",
        )

    # --- the data tier ---------------------------------------------------------------------------

    def _data_tier(self, name: str, cert_manager: CertManager | None):
        config = self.settings.config
        data_ns = config.kubernetes.data_namespace
        cluster_name = f"{config.app.name}-db"
        store_params = self._store_params(data_ns, cluster_name)
        redis_spec = self._redis_spec() if config.redis.engine == "sentinel" else None
        namespace_ready: list[pulumi.Resource] = []
        if config.in_cluster_data_tier():
            workloads = (*self._postgres_workloads(), *store_workloads(store_params),
                         *(redis_workloads(redis_spec) if redis_spec else ()))
            namespace_ready.append(register_namespace(f"{name}-data", Tier(
                data_ns, DATA_LABELS, workloads, pod_security_version=self.pod_security_version), self))

        store = CheckpointStore(f"{name}-checkpoints", store_params, depends_on=namespace_ready, opts=self.children)
        operator_ready: list[pulumi.Resource] = []
        if config.postgres.engine == "cloudnative-pg" and config.postgres.install_operator:
            operator = CnpgOperator(f"{name}-cnpg", OperatorSpec(
                api_server_cidrs=config.kubernetes.api_server_cidrs, data_namespace=data_ns,
                monitoring_namespace=config.monitoring.namespace, pod_security_version=self.pod_security_version),
                depends_on=[cert_manager.ready] if cert_manager else [], opts=self.children)
            operator_ready = operator.ready
        postgres = PostgresCluster(f"{name}-postgres", self._postgres_args(cluster_name, store),
                                   depends_on=[*namespace_ready, *operator_ready, store], opts=self.children)
        if redis_spec:
            redis = RedisSentinel(f"{name}-redis", redis_spec, depends_on=namespace_ready, opts=self.children)
        else:
            redis = ElastiCacheRedis(f"{name}-redis", self._elasticache_spec(), opts=self.children)
        return store, postgres, redis, [*namespace_ready, store, postgres, redis]

    def _store_params(self, data_ns: str, cluster_name: str) -> CheckpointStoreParams:
        config, secrets = self.settings.config, self.secrets
        checkpoints, aws = config.checkpoints, config.aws
        return CheckpointStoreParams(
            backend=checkpoints.backend,
            bucket_name=checkpoints.bucket_name,
            ttl_seconds=config.app.tuning.checkpoint_ttl_seconds,
            namespace=data_ns,
            app_peer=Peer(config.kubernetes.namespace, self.app_labels),
            app_service_account=ServiceAccountRef(config.kubernetes.namespace, config.app.name),
            backup_peer=Peer(data_ns, {"cnpg.io/cluster": cluster_name}),
            backup_service_account=ServiceAccountRef(data_ns, cluster_name),
            protect=self.prod,
            s3=S3Params(aws.region, aws.account_id, aws.vpc_id, aws.vpc_cidr, aws.private_subnet_ids,
                        aws.eks_oidc_provider_arn, checkpoints.kms_key_arn, checkpoints.noncurrent_version_days,
                        checkpoints.abort_incomplete_upload_days, checkpoints.replication_region, aws.s3_sts_endpoints)
            if checkpoints.backend == "s3" else None,
            seaweedfs=SeaweedParams(checkpoints.storage_size) if checkpoints.backend == "seaweedfs" else None,
            external=ExternalParams(checkpoints.external_endpoint, checkpoints.external_region,
                                    secrets.get("checkpoint_store_access_key_id"),
                                    secrets.get("checkpoint_store_secret_access_key"), checkpoints.external_cidr)
            if checkpoints.backend == "external" else None,
        )

    def _postgres_workloads(self) -> tuple[Workload, ...]:
        postgres = self.settings.config.postgres
        if postgres.engine != "cloudnative-pg":
            return (Workload("retention", RETENTION_POD, max_pods=1),) if postgres.retention.enabled else ()
        instance = combined(ComputeResources(postgres.cpu, postgres.memory, postgres.cpu, postgres.memory), BACKUP_SIDECAR)
        kinds = 2 if postgres.instances > 1 else 1
        return (Workload("postgres", instance, max_pods=postgres.instances, max_surge=1),
                Workload("pooler", POOLER_POD, max_pods=postgres.pooler.instances * kinds, max_surge=kinds),
                *((Workload("retention", RETENTION_POD, max_pods=1),) if postgres.retention.enabled else ()))

    def _postgres_args(self, cluster_name: str, store: CheckpointStore) -> PostgresArgs:
        config, settings = self.settings.config, self.settings
        postgres, aws = config.postgres, config.aws
        tuning = Tuning(max_connections=postgres.max_connections, shared_buffers=postgres.shared_buffers,
                        effective_cache_size=postgres.effective_cache_size,
                        maintenance_work_mem=postgres.maintenance_work_mem)
        # The app role's cap: its worst case through the pooler's server side, or every app pod's pool.
        app_limit = (postgres.pooler.default_pool_size * postgres.pooler.instances * (2 if postgres.instances > 1 else 1)
                     if postgres.multiplexed else settings.sizing.postgres.total) + 5
        rds = None
        if postgres.engine == "rds":
            rds = RdsSpec(version=postgres.version, instance_class=postgres.instance_class,
                          storage_gib=math.ceil(_gib(postgres.storage_size)), multi_az=postgres.multi_az,
                          read_replicas=postgres.read_replicas, backup_retention_days=postgres.backup_retention_days,
                          deletion_protection=postgres.deletion_protection, parameters=rds_parameters(tuning),
                          vpc_id=aws.vpc_id, subnet_ids=aws.private_subnet_ids, eks_cluster_name=aws.eks_cluster_name,
                          database=postgres.database, admin_user="lgadmin", protect=self.prod,
                          proxy_max_connections_percent=math.floor(
                              100 * (postgres.max_connections - postgres.reserved_connections) / postgres.max_connections))
        return PostgresArgs(
            engine=postgres.engine, name=cluster_name, namespace=config.kubernetes.data_namespace,
            app_namespace=config.kubernetes.namespace, app_labels=self.app_labels, version=postgres.version,
            other_clients=(dict(netpol.namespace_peer(config.kubernetes.namespace),
                                podSelector={"matchLabels": dict(DRILL_LABELS)}),) if self.drill_spec else (),
            database=postgres.database, tuning=tuning, app_connection_limit=app_limit,
            admin_host=postgres.admin_host, admin_port=postgres.admin_port,
            retention_days=config.app.tuning.checkpoint_ttl_seconds // 86_400,
            retention_enabled=postgres.retention.enabled, retention_schedule=postgres.retention.schedule,
            retention_batch_size=postgres.retention.batch_size, retention_max_batches=postgres.retention.max_batches,
            monitoring_namespace=config.monitoring.namespace, api_server_cidrs=config.kubernetes.api_server_cidrs,
            image_pull_policy=config.app.image_pull_policy,
            cnpg_image=IMAGES[f"postgresql-{postgres.version}"].ref, instances=postgres.instances,
            storage_size=postgres.storage_size, cpu=postgres.cpu, memory=postgres.memory,
            pooler_instances=postgres.pooler.instances,
            pooler_parameters={"max_client_conn": str(postgres.pooler.max_client_connections),
                               "default_pool_size": str(postgres.pooler.default_pool_size),
                               "max_prepared_statements": str(postgres.pooler.max_prepared_statements)},
            backup=cnpg.BackupStore(store.backup.object_store_configuration(),
                                    store.backup.service_account_annotations(), store.endpoints),
            backup_schedule=postgres.backup_schedule, backup_retention_days=postgres.backup_retention_days,
            sidecar_resources=BACKUP_SIDECAR.as_resources(), pooler_resources=POOLER_POD.as_resources(),
            rds=rds, vpc_cidr=aws.vpc_cidr,
        )

    def _redis_spec(self, recovery_selector: dict | None = None) -> RedisSentinelSpec:
        config = self.settings.config
        redis = config.redis
        if recovery_selector is None:
            recovery_selector = self.recovery_spec.selector if self.recovery_spec else {}
        sentinel_clients = ((dict(netpol.namespace_peer(config.kubernetes.namespace),
                                  podSelector={"matchLabels": recovery_selector}),) if recovery_selector else ())
        return RedisSentinelSpec(
            name=f"{config.app.name}-redis", namespace=config.kubernetes.data_namespace,
            password_secret=f"{config.app.name}-redis-password", labels=DATA_LABELS, replicas=redis.replicas,
            sentinels=redis.sentinels, master_name=redis.master_name, down_after_ms=redis.down_after_milliseconds,
            failover_timeout_ms=redis.failover_timeout_milliseconds, maxmemory_policy=redis.maxmemory_policy,
            save=redis.save, tcp_keepalive=redis.tcp_keepalive, timeout=redis.timeout, storage_size=redis.storage_size,
            redis_resources=Resources("250m", "1", redis.memory_limit),
            require_separate_nodes=redis.require_separate_nodes, redis_image_ref=redis.image,
            image_pull_policy=config.app.image_pull_policy, client_pod_labels=self.app_labels,
            client_namespace=config.kubernetes.namespace, monitoring_namespace=config.monitoring.namespace,
            sentinel_clients=sentinel_clients,
        )

    def _elasticache_spec(self) -> ElastiCacheSpec:
        config = self.settings.config
        redis, aws = config.redis, config.aws
        return ElastiCacheSpec(
            node_type=redis.elasticache.node_type, replicas=redis.replicas, cluster_mode=redis.elasticache.cluster_mode,
            shards=redis.elasticache.shards, snapshot_retention_days=redis.elasticache.snapshot_retention_days,
            maxmemory_policy=redis.maxmemory_policy, timeout=redis.timeout, tcp_keepalive=redis.tcp_keepalive,
            vpc_id=aws.vpc_id, subnet_ids=aws.private_subnet_ids, eks_cluster_name=aws.eks_cluster_name,
            vpc_cidr=aws.vpc_cidr, protect=self.prod)

    # --- logs, traces, metrics -------------------------------------------------------------------

    def _observability_backends(self, name: str) -> tuple[Logging | None, Tracing | None]:
        config = self.settings.config
        logging = tracing = None
        on_elasticsearch = config.tracing.enabled and config.tracing.storage == "elasticsearch"
        if config.logging.enabled:
            logging = Logging(f"{name}-logging", LoggingSpec(
                app_namespace=config.kubernetes.namespace, elasticsearch_nodes=config.logging.elasticsearch_nodes,
                storage_size=config.logging.storage_size, memory=config.logging.memory,
                retention_days=config.logging.retention_days, api_server_cidrs=config.kubernetes.api_server_cidrs,
                monitoring_namespace=config.monitoring.namespace,
                tracing_namespace=config.tracing.namespace if on_elasticsearch else None,
                namespace=config.logging.namespace, max_nodes=config.kubernetes.max_nodes,
                image_pull_policy=config.app.image_pull_policy), opts=self.children,
                pod_security_version=self.pod_security_version)
        if config.tracing.enabled:
            self.tracing_spec = TracingSpec(
                app_namespace=config.kubernetes.namespace, storage=config.tracing.storage,
                sampling_ratio=config.tracing.sampling_ratio, monitoring_namespace=config.monitoring.namespace,
                namespace=config.tracing.namespace,
                elasticsearch=logging.endpoints[0] if on_elasticsearch else None,
                elasticsearch_replicas=1 if config.logging.elasticsearch_nodes > 1 else 0)
            tracing = Tracing(f"{name}-tracing", self.tracing_spec,
                              elasticsearch=logging.jaeger_access if on_elasticsearch else None, opts=self.children,
                              pod_security_version=self.pod_security_version)
        return logging, tracing

    def _monitoring(self, name: str, postgres: PostgresCluster, logging: Logging | None,
                    tracing: Tracing | None) -> Monitoring:
        config, secrets = self.settings.config, self.secrets
        monitoring, k = config.monitoring, config.kubernetes
        receiver_files = {"pager-key": "alerting_pager_key", "pager-token": "alerting_pager_token",
                          "chat-url": "alerting_chat_url", "chat-token": "alerting_chat_token",
                          "deadman-token": "alerting_deadman_token"}
        receiver_secrets = {file: secrets[key] for file, key in receiver_files.items() if key in secrets}
        if self.recovery_spec:
            receiver_secrets["auto-recovery-token"] = self.recovery_token

        def file(key: str) -> str | None:
            return am.secret_file(RECEIVERS_SECRET, key) if key in receiver_secrets else None

        # The alert log: auto-recovery writes every alert it receives as a JSON line (unknown ones: "ignored").
        alert_log = (am.Webhook(url=rec.webhook_url(self.recovery_spec), credentials_file=file("auto-recovery-token"))
                     if self.recovery_spec else None)
        pager = {"pagerduty": lambda: am.PagerDuty(routing_key_file=file("pager-key")),
                 "webhook": lambda: am.Webhook(url=monitoring.pager_webhook_url, credentials_file=file("pager-token")),
                 "log": lambda: alert_log}[monitoring.pager]()
        chat = {"slack": lambda: am.Slack(api_url_file=file("chat-url")),
                "webhook": lambda: am.Webhook(url=monitoring.chat_webhook_url, credentials_file=file("chat-token")),
                "log": lambda: alert_log}[monitoring.chat]()
        deadman = (am.Webhook(url=monitoring.deadman_url, credentials_file=file("deadman-token"))
                   if monitoring.deadman_url else alert_log)
        postgres_metrics = "cloudnativepg" if config.postgres.engine == "cloudnative-pg" else "postgres_exporter"
        scraped = [k.namespace, k.data_namespace, config.edge.namespace, FIXED_NAMESPACES["cnpg-system"],
                   FIXED_NAMESPACES["keda"], FIXED_NAMESPACES["cert-manager"]]
        if logging:
            scraped.append(FIXED_NAMESPACES["logging-agents"])
        if tracing:
            scraped.append(config.tracing.namespace)
        return Monitoring(f"{name}-monitoring", MonitoringSpec(
            namespace=monitoring.namespace, pod_security_version=self.pod_security_version,
            retention=monitoring.retention, storage_size=monitoring.storage_size,
            alertmanager_replicas=monitoring.alertmanager_replicas, scrape_interval=monitoring.scrape_interval,
            rule_params=rules.RuleParams(runbook_base_url=monitoring.runbook_base_url, postgres=postgres_metrics,
                                         namespaces=(k.namespace, k.data_namespace),
                                         availability_slo=monitoring.availability_slo),
            routing=am.RoutingParams(pager=pager, chat=chat, deadman=deadman),
            extra_routes=(rec.alertmanager_route(self.recovery_spec),) if self.recovery_spec else (),
            extra_receivers=(rec.alertmanager_receiver(self.recovery_spec, file("auto-recovery-token")),)
            if self.recovery_spec else (),
            receiver_secrets=receiver_secrets, postgres_metrics=postgres_metrics,
            datasources=DatasourceSettings(elasticsearch_url=logging.elasticsearch_url,
                                           jaeger_url=self.tracing_spec.ui_url)
            if logging and tracing else None,
            targets=self._scrape_targets(),
            scraped_namespaces=tuple(dict.fromkeys(scraped)),
            api_server_cidrs=k.api_server_cidrs,
            node_cidrs=(config.aws.vpc_cidr,) if config.aws.vpc_cidr else ("0.0.0.0/0",), max_nodes=k.max_nodes,
            extra_egress=tuple(endpoint for endpoint in postgres.endpoints if endpoint.cidr),
        ), depends_on=[], opts=self.children)

    def _scrape_targets(self) -> tuple[ScrapeTarget, ...]:
        config = self.settings.config
        app_ns = config.kubernetes.namespace
        targets = [ScrapeTarget(f"{tier.name}", app_ns, {**self.app_labels, "app.kubernetes.io/component": tier.role},
                                "http") for tier in tiers(self.settings)]
        targets.append(ScrapeTarget("kong", config.edge.namespace, dict(edge_manifests.KONG_POD_LABELS), "status"))
        if config.redis.engine == "sentinel":
            spec = self._redis_spec()
            targets += [ScrapeTarget(f"{spec.name}", spec.namespace, redis_manifests.selector(spec, "redis"), "metrics"),
                        ScrapeTarget(spec.haproxy_name, spec.namespace, redis_manifests.selector(spec, "haproxy"),
                                     "metrics")]
        return tuple(targets)

    # --- autoscaling and the app -----------------------------------------------------------------

    def _keda(self, name: str) -> list[pulumi.Resource]:
        config = self.settings.config
        if not (config.app.queue.enabled and config.app.queue.autoscaler == "keda" and config.app.queue.install_keda):
            return []
        return [Keda(f"{name}-keda", KedaSpec(
            api_server_cidrs=config.kubernetes.api_server_cidrs, prometheus_namespace=config.monitoring.namespace,
            prometheus_port=PROMETHEUS_PORT, pod_security_version=self.pod_security_version), opts=self.children)]

    def _app(self, name: str, store: CheckpointStore, postgres: PostgresCluster, redis, tracing: Tracing | None,
             ready: list[pulumi.Resource]) -> LangGraphApp:
        config, settings = self.settings.config, self.settings
        app_tiers = tiers(settings)
        keda_trigger = None
        if any(tier.autoscaler == "keda" for tier in app_tiers):
            keda_trigger = app_manifests.queue_depth_trigger(prometheus_url(config), config.kubernetes.namespace,
                                                             settings.server.jobs_per_worker)
        environment = app_env.server_environment(
            config.app, settings.server,
            redis_cluster=config.redis.engine == "elasticache" and config.redis.elasticache.cluster_mode,
            otlp_endpoint=None, extra={**store.app_config, **(tracing.app_env if tracing else {})})
        endpoints: tuple[Endpoint, ...] = (*postgres.endpoints, *redis.endpoints, *store.endpoints,
                                           *(tracing.endpoints if tracing else ()))
        spec = app_manifests.AppSpec(
            app=config.app, namespace=config.kubernetes.namespace, tiers=app_tiers, environment=environment,
            gateway_namespace=config.edge.namespace, monitoring_namespace=config.monitoring.namespace,
            endpoints=endpoints, keda_trigger=keda_trigger,
            service_annotations=edge_manifests.app_service_annotations(self.edge_spec),
            flags_config_map=self.recovery_spec.disabled_graphs_config_map if self.recovery_spec else None,
            canary=config.app.rollout == "canary")
        secret_values = {**postgres.app_env, "REDIS_URI": redis.url, **store.app_env,
                         **{env: value for key, value in self.secrets.items()
                            for env in app_env.CONFIG_SECRET_ENV.get(key, ())}}
        extra = ((rec.workload(self.recovery_spec),) if self.recovery_spec else ()) + \
            ((drill_workload(self.drill_spec),) if self.drill_spec else ())
        return LangGraphApp(f"{name}-app", LangGraphAppArgs(
            spec=spec, secret_values=secret_values, pod_security_version=self.pod_security_version,
            role_arn=store.iam_role_arn or config.app.iam_role_arn, extra_workloads=extra),
            opts=pulumi.ResourceOptions.merge(self.children, pulumi.ResourceOptions(depends_on=ready)))


def child_urn(parent_urn: str, type_: str, name: str) -> str:
    """The URN the engine gives a child of `parent_urn` (its type chain, then the child's name)."""
    prefix, parent_type, _ = parent_urn.rsplit("::", 2)
    return f"{prefix}::{parent_type}${type_}::{name}"


def prometheus_url(config) -> str:
    return f"http://{PROMETHEUS_SERVICE}.{config.monitoring.namespace}.svc:{PROMETHEUS_PORT}"


def _gib(quantity: str) -> float:
    return float(parse_quantity(quantity) / 2**30)


def capacity_output(settings: Settings) -> dict:
    sizing = settings.sizing
    return {
        **{tier.tier: {"required": float(tier.required), "per_instance": tier.per_instance,
                       "instances": tier.instances, "hpa_min": tier.hpa_min, "hpa_max": tier.hpa_max}
           for tier in sizing.tiers},
        "worst_case_db_connections": sizing.postgres.total,
        "worst_case_redis_connections": sizing.redis.total,
        "derivation": sizing.derivation,
    }
