"""LangGraphApp in both stacks, as the engine would receive it."""

from __future__ import annotations

import math

import pytest

from .conftest import stack_values

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"


def _app(plan, token):
    """The app component's resources of `token` (other components have Deployments and ServiceAccounts too)."""
    return [r for r in plan.of_type(token) if r.parent == f"langgraph-{plan.stack}-app"]


def _deployment(plan, name="langgraph"):
    return plan.kube_object("Deployment", name).inputs


def _container(plan, name="langgraph"):
    return _deployment(plan, name)["spec"]["template"]["spec"]["containers"][0]


def _env(plan, name="langgraph") -> dict[str, str]:
    """What the container sees: the ConfigMap, then its own env (which wins)."""
    data = dict(plan.kube_object("ConfigMap", "langgraph-config").inputs["data"])
    return data | {item["name"]: item["value"] for item in _container(plan, name).get("env", [])}


def test_prod_tiers_match_the_capacity_model(prod_plan):
    capacity = stack_values("prod")["capacity"]
    required = capacity["target_rps"] * capacity["avg_execution_seconds"] * 2.0 * 1.3
    workers = max(3, math.ceil(required / 50))
    scaled = prod_plan.kube_object("ScaledObject", "langgraph-queue").inputs["spec"]
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == (workers, 2 * workers) == (6, 12)
    api = prod_plan.kube_object("HorizontalPodAutoscaler", "langgraph").inputs["spec"]
    api_instances = max(3, math.ceil(capacity["target_rps"] * 2.0 * 1.3 / 50))
    assert (api["minReplicas"], api["maxReplicas"]) == (api_instances, 2 * api_instances) == (3, 6)
    assert prod_plan.outputs["capacity"]["queue"]["hpa_min"] == workers
    assert "ceil(260 / 50)" in prod_plan.outputs["capacity"]["derivation"]


def test_dev_runs_one_tier_of_one_to_two_replicas(dev_plan):
    hpa = dev_plan.one(HPA).inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 2)
    assert [d.inputs["metadata"]["name"] for d in _app(dev_plan, DEPLOYMENT)] == ["langgraph"]
    assert _env(dev_plan)["N_JOBS_PER_WORKER"] == "50", "without workers the API pods run the jobs"


def test_no_replicas_while_an_autoscaler_owns_the_count(plan):
    for deployment in plan.of_type(DEPLOYMENT):
        if deployment.parent == f"langgraph-{plan.stack}-app":
            assert "replicas" not in deployment.inputs["spec"], deployment.name


def test_hpa_targets_and_stabilization(plan):
    spec = plan.kube_object("HorizontalPodAutoscaler", "langgraph").inputs["spec"]
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in spec["metrics"]}
    assert targets == {"cpu": 70, "memory": 80}
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "langgraph"}


def test_rolling_update_never_drops_capacity(plan):
    for deployment in _app(plan, DEPLOYMENT):
        assert deployment.inputs["spec"]["strategy"] == {
            "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def test_restricted_security_context(plan):
    for deployment in _app(plan, DEPLOYMENT):
        pod = deployment.inputs["spec"]["template"]["spec"]
        sc = pod["containers"][0]["securityContext"]
        assert sc["runAsNonRoot"] is True and sc["runAsUser"] >= 1000
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
    [account] = _app(plan, "kubernetes:core/v1:ServiceAccount")
    assert account.inputs["automountServiceAccountToken"] is False
    labels = plan.kube_object("Namespace", "langgraph").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.31"


def test_seed_resources_probes_and_drain(plan):
    container = _container(plan)
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "512Mi"},
                                      "limits": {"cpu": "2000m", "memory": "2Gi"}}
    assert {k: container[k]["httpGet"]["path"] for k in ("startupProbe", "readinessProbe", "livenessProbe")} == {
        "startupProbe": "/ok", "readinessProbe": "/ok", "livenessProbe": "/ok"}
    assert container["livenessProbe"]["initialDelaySeconds"] == 30 and container["readinessProbe"]["periodSeconds"] == 5
    assert container["ports"][0]["containerPort"] == 8000
    pod = _deployment(plan)["spec"]["template"]["spec"]
    assert container["lifecycle"]["preStop"]["sleep"]["seconds"] < pod["terminationGracePeriodSeconds"]


def test_zone_spread_is_hard_in_prod_and_soft_in_dev(prod_plan, dev_plan):
    def zone_rule(plan, name):
        spread = _deployment(plan, name)["spec"]["template"]["spec"]["topologySpreadConstraints"]
        return {c["topologyKey"]: c["whenUnsatisfiable"] for c in spread}

    for name in ("langgraph", "langgraph-queue"):
        assert zone_rule(prod_plan, name) == {"topology.kubernetes.io/zone": "DoNotSchedule",
                                              "kubernetes.io/hostname": "ScheduleAnyway"}
    assert zone_rule(dev_plan, "langgraph")["topology.kubernetes.io/zone"] == "ScheduleAnyway"


def test_probe_paths_are_config(run_stack):
    plan = run_stack("dev", {"app": {"probes": {"readiness": {"path": "/ready"}, "liveness": {"path": "/health"}}}})
    container = _container(plan)
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    # The gateway's health checks follow the readiness path.
    policy = plan.one("kubernetes:configuration.konghq.com/v1beta1:KongUpstreamPolicy").inputs["spec"]
    assert policy["healthchecks"]["active"]["httpPath"] == "/ready"


def test_config_map_carries_the_seeds_names_and_the_servers_knobs(plan):
    env = _env(plan)
    seed = {"DATABASE_POOL_SIZE": "20", "DATABASE_MAX_OVERFLOW": "30", "DATABASE_POOL_TIMEOUT": "30",
            "REDIS_POOL_SIZE": "10", "REDIS_TIMEOUT": "5", "CHECKPOINT_BATCH_SIZE": "100",
            "CHECKPOINT_COMPRESSION": "true", "CHECKPOINT_TTL": "2592000", "NODE_TIMEOUT": "300",
            "RETRY_MAX_ATTEMPTS": "3", "RETRY_BACKOFF_FACTOR": "2", "METRICS_EXPORT_INTERVAL": "30",
            "HEALTH_CHECK_TIMEOUT": "10"}
    server = {"LANGGRAPH_POSTGRES_POOL_MAX_SIZE": "50", "REDIS_MAX_CONNECTIONS": "10", "BG_JOB_TIMEOUT_SECS": "3600",
              "REDIS_CLUSTER": "false", "PORT": "8000"}
    for name, value in {**seed, **server}.items():
        assert env.get(name) == value, name


def test_queue_workers_get_the_jobs_and_api_pods_none(prod_plan):
    assert _env(prod_plan, "langgraph")["N_JOBS_PER_WORKER"] == "0"
    assert _env(prod_plan, "langgraph-queue")["N_JOBS_PER_WORKER"] == "50"
    assert _container(prod_plan, "langgraph-queue")["command"] == ["python", "-m", "langgraph_api.queue_entrypoint"]
    pdbs = {p.inputs["metadata"]["name"] for p in prod_plan.of_type("kubernetes:policy/v1:PodDisruptionBudget")
            if p.parent == "langgraph-prod-app"}
    assert pdbs == {"langgraph", "langgraph-queue"}
    worker_policy = prod_plan.kube_object("NetworkPolicy", "langgraph-queue").inputs["spec"]
    sources = {p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in worker_policy["ingress"][0]["from"]}
    assert sources == {"monitoring"}, "workers take no traffic from the gateway"
    service = prod_plan.kube_object("Service", "langgraph").inputs["spec"]
    assert service["selector"]["app.kubernetes.io/component"] == "api", "the Service never routes to workers"


def test_keda_scales_workers_on_queue_depth_per_worker(prod_plan):
    spec = prod_plan.kube_object("ScaledObject", "langgraph-queue").inputs["spec"]
    queue, cpu, memory = spec["triggers"]
    assert queue["type"] == "prometheus" and queue["metadata"]["threshold"] == "50"
    assert "max(lg_api_num_pending_runs{namespace=\"langgraph\"})" in queue["metadata"]["query"]
    assert "lg_api_num_running_runs" in queue["metadata"]["query"]
    assert queue["metadata"]["serverAddress"] == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
    assert (cpu["type"], cpu["metadata"]["value"], memory["type"]) == ("cpu", "70", "memory")
    assert spec["scaleTargetRef"]["name"] == "langgraph-queue"
    assert not [h for h in prod_plan.of_type(HPA) if h.inputs["metadata"]["name"] == "langgraph-queue"], \
        "KEDA owns the workers' HPA"
    assert prod_plan.one("kubernetes:helm.sh/v3:Release", "langgraph-prod-keda-release").inputs["namespace"] == "keda"


def test_plain_hpa_when_keda_is_off(run_stack):
    plan = run_stack("prod", {"app": {"queue": {"autoscaler": "hpa"}}})
    assert not plan.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject")
    assert not [r for r in plan.resources if r.type == "langgraph:platform:Keda"]
    hpa = plan.kube_object("HorizontalPodAutoscaler", "langgraph-queue").inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (6, 12)


def test_a_config_change_rolls_the_pods(run_stack):
    def config_hash(plan):
        return _deployment(plan)["spec"]["template"]["metadata"]["annotations"]["langgraph-platform/config-hash"]

    # The digest covers the connection Secret's values, so the engine keeps it secret in the plan.
    assert config_hash(run_stack("dev")) == "[secret]"
    from components.app_manifests import content_hash
    assert len(content_hash({"A": "1"}, {"S": "x"})) == 32
    assert content_hash({"A": "1"}, {"S": "x"}) != content_hash({"A": "2"}, {"S": "x"}), "a ConfigMap change rolls"
    assert content_hash({"A": "1"}, {"S": "x"}) != content_hash({"A": "1"}, {"S": "y"}), "a Secret change rolls"
    assert content_hash({"A": "1"}, {"S": "x"}) == content_hash({"A": "1"}, {"S": "x"}), "stable otherwise"


def test_the_connection_secret_carries_the_data_tier_masked(run_stack):
    plan = run_stack("dev", secrets={"langsmith_api_key": "lsv2-hunter2"})
    secret = plan.kube_object("Secret", "langgraph-connections").inputs
    assert secret["stringData"] == dict.fromkeys(("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "DATABASE_READONLY_URI",
                                                  "DATABASE_URI", "LANGSMITH_API_KEY", "POSTGRES_URI", "REDIS_URI"),
                                                 "[secret]")
    assert plan.outputs["database_url"] == "[secret]" and plan.outputs["redis_url"] == "[secret]"
    assert "hunter2" not in repr(plan.as_json())
    env_from = _container(plan)["envFrom"]
    assert {"secretRef": {"name": "langgraph-connections"}} in env_from


def test_irsa_annotation_only_when_configured(dev_plan, prod_plan, run_stack):
    [account] = _app(dev_plan, "kubernetes:core/v1:ServiceAccount")
    assert account.inputs["metadata"].get("annotations", {}) == {}
    role = "arn:aws:iam::123456789012:role/langgraph-app"
    [account] = _app(run_stack("dev", {"app": {"iam_role_arn": role}}), "kubernetes:core/v1:ServiceAccount")
    assert account.inputs["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role}
    # Prod's S3 store makes the app's IRSA role.
    [account] = _app(prod_plan, "kubernetes:core/v1:ServiceAccount")
    assert account.inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(":role/langgraph-prod-checkpoints-app")


def test_service_is_cluster_internal_and_health_checked(plan):
    service = plan.kube_object("Service", "langgraph").inputs
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert service["metadata"]["annotations"] == {"konghq.com/upstream-policy": "langgraph-upstream"}


def test_pdb_keeps_all_but_one(plan):
    spec = plan.kube_object("PodDisruptionBudget", "langgraph").inputs["spec"]
    assert spec["maxUnavailable"] == 1
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": "langgraph", "app.kubernetes.io/component": "api"}}


def test_network_policies(plan):
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                if r.inputs["metadata"]["namespace"] == "langgraph"}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    app = policies["langgraph"]
    sources = {p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in app["ingress"][0]["from"]}
    assert sources == {"kong", "monitoring"}
    assert app["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8000}]
    assert all(rule["to"] for rule in app["egress"]), "an empty peer list would admit every destination"


def test_dev_egress_reaches_the_in_cluster_data_tier_only(dev_plan):
    rules = dev_plan.kube_object("NetworkPolicy", "langgraph").inputs["spec"]["egress"]
    assert not [peer for rule in rules for peer in rule["to"] if "ipBlock" in peer]
    data = [rule for rule in rules if any(p.get("namespaceSelector", {}).get("matchLabels", {}).get(
        "kubernetes.io/metadata.name") == "langgraph-data" for p in rule["to"])]
    assert data, "the in-cluster data tier is reachable"


def test_prod_egress_to_managed_services_and_aws_endpoints_is_the_vpc(prod_plan):
    rules = prod_plan.kube_object("NetworkPolicy", "langgraph").inputs["spec"]["egress"]
    blocks = {(peer["ipBlock"]["cidr"], port["port"]) for rule in rules for peer in rule["to"] if "ipBlock" in peer
              for port in rule["ports"]}
    # RDS, ElastiCache (not used by default), and S3/STS through interface VPC endpoints: all inside the VPC.
    assert blocks == {("10.40.0.0/16", 5432), ("10.40.0.0/16", 443)}


def test_https_egress_is_opt_in(run_stack):
    plan = run_stack("dev", {"app": {"https_egress_cidrs": ["0.0.0.0/0"]}})
    rules = plan.kube_object("NetworkPolicy", "langgraph").inputs["spec"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]} in rules


def test_namespace_quota_admits_every_tier_at_its_maximum(prod_plan):
    [quota] = [r for r in prod_plan.of_type("kubernetes:core/v1:ResourceQuota") if r.parent == "langgraph-prod-app"]
    hard = quota.inputs["spec"]["hard"]
    # API 6 + workers 12 at their maxima, plus one surge pod each; auto-recovery and the restore drill, one each.
    assert hard["pods"] == str(6 + 1 + 12 + 1 + 1 + 1)
    assert hard["limits.memory"] == f"{(6 + 1 + 12 + 1) * 2 * 1024 + 256 + 1024}Mi"


@pytest.mark.parametrize("token", [
    "kubernetes:core/v1:Namespace", "kubernetes:core/v1:ServiceAccount", "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Secret", DEPLOYMENT, "kubernetes:core/v1:Service",
    HPA, "kubernetes:policy/v1:PodDisruptionBudget",
])
def test_app_objects_are_children_of_the_component(plan, token):
    resources = [r for r in plan.of_type(token) if r.parent == f"langgraph-{plan.stack}-app"]
    assert resources, f"{token} not under LangGraphApp"
    for resource in resources:
        metadata = resource.inputs["metadata"]
        where = metadata["name"] if token == "kubernetes:core/v1:Namespace" else metadata["namespace"]
        assert where == "langgraph"
