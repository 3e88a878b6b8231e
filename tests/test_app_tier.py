"""LangGraphApp in both stacks, as the engine would receive it."""

from __future__ import annotations

import math

import pytest

from .conftest import stack_values

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _container(plan):
    return plan.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]["containers"][0]


def test_prod_hpa_matches_the_capacity_model(prod_plan):
    capacity = stack_values("prod")["capacity"]
    required = capacity["target_rps"] * capacity["avg_execution_seconds"] * 2.0 * 1.3
    instances = max(3, math.ceil(required / 50))
    hpa = prod_plan.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (instances, 2 * instances) == (6, 12)
    assert prod_plan.one(DEPLOYMENT).inputs["spec"]["replicas"] == instances
    assert prod_plan.outputs["capacity"]["hpa_min"] == instances
    assert "ceil(260 / 50)" in prod_plan.outputs["capacity"]["derivation"]


def test_dev_runs_one_to_two_replicas(dev_plan):
    hpa = dev_plan.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 2)


def test_hpa_targets_and_stabilization(plan):
    spec = plan.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in spec["metrics"]}
    assert targets == {"cpu": 70, "memory": 80}
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "langgraph"}


def test_rolling_update_never_drops_capacity(plan):
    strategy = plan.one(DEPLOYMENT).inputs["spec"]["strategy"]
    assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def test_restricted_security_context(plan):
    pod = plan.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]
    sc = _container(plan)["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] >= 1000
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert plan.one("kubernetes:core/v1:ServiceAccount").inputs["automountServiceAccountToken"] is False
    namespace = plan.kube_object("Namespace", "langgraph").inputs["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "restricted"


def test_seed_resources_probes_and_drain(plan):
    container = _container(plan)
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "512Mi"},
                                      "limits": {"cpu": "2000m", "memory": "2Gi"}}
    assert {k: container[k]["httpGet"]["path"] for k in ("startupProbe", "readinessProbe", "livenessProbe")} == {
        "startupProbe": "/ok", "readinessProbe": "/ok", "livenessProbe": "/ok"}
    assert container["livenessProbe"]["initialDelaySeconds"] == 30 and container["readinessProbe"]["periodSeconds"] == 5
    assert container["ports"][0]["containerPort"] == 8000
    pod = plan.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]
    assert container["lifecycle"]["preStop"]["sleep"]["seconds"] < pod["terminationGracePeriodSeconds"]
    keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


def test_probe_paths_are_config(run_stack):
    plan = run_stack("dev", {"app": {"probes": {"readiness": {"path": "/ready"}, "liveness": {"path": "/health"}}}})
    container = _container(plan)
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    # The gateway's health checks follow the readiness path.
    policy = plan.one("kubernetes:configuration.konghq.com/v1beta1:KongUpstreamPolicy").inputs["spec"]
    assert policy["healthchecks"]["active"]["httpPath"] == "/ready"


def test_config_map_carries_the_seeds_production_config(plan):
    data = plan.one("kubernetes:core/v1:ConfigMap").inputs["data"]
    assert data | {} == data
    expected = {"DATABASE_POOL_SIZE": "20", "DATABASE_MAX_OVERFLOW": "30", "DATABASE_POOL_TIMEOUT": "30",
                "REDIS_POOL_SIZE": "10", "REDIS_TIMEOUT": "5", "CHECKPOINT_BATCH_SIZE": "100",
                "CHECKPOINT_COMPRESSION": "true", "CHECKPOINT_TTL": "2592000", "MAX_CONCURRENT_EXECUTIONS": "50",
                "NODE_TIMEOUT": "300", "RETRY_MAX_ATTEMPTS": "3", "RETRY_BACKOFF_FACTOR": "2",
                "METRICS_EXPORT_INTERVAL": "30", "HEALTH_CHECK_TIMEOUT": "10"}
    assert expected.items() <= data.items()


def test_connection_strings_are_masked_secrets(run_stack):
    secrets = {"database_uri": "postgresql://app:hunter2@db/app", "redis_uri": "redis://:pw-redis@r:6379/0"}
    plan = run_stack("dev", secrets=secrets)
    secret = plan.one("kubernetes:core/v1:Secret").inputs
    assert secret["stringData"] == {"DATABASE_URI": "[secret]", "POSTGRES_URI": "[secret]", "REDIS_URI": "[secret]"}
    assert plan.outputs["database_url"] == "[secret]" and plan.outputs["redis_url"] == "[secret]"
    dumped = repr(plan.as_json())
    assert "hunter2" not in dumped and "pw-redis" not in dumped
    env_from = _container(plan)["envFrom"]
    assert {"secretRef": {"name": "langgraph-connections", "optional": True}} in env_from


def test_irsa_annotation_only_when_configured(dev_plan, run_stack):
    assert dev_plan.one("kubernetes:core/v1:ServiceAccount").inputs["metadata"].get("annotations", {}) == {}
    role = "arn:aws:iam::123456789012:role/langgraph-app"
    plan = run_stack("dev", {"app": {"iam_role_arn": role}})
    annotations = plan.one("kubernetes:core/v1:ServiceAccount").inputs["metadata"]["annotations"]
    assert annotations == {"eks.amazonaws.com/role-arn": role}


def test_service_is_cluster_internal_and_health_checked(plan):
    service = plan.kube_object("Service", "langgraph").inputs
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert service["metadata"]["annotations"] == {"konghq.com/upstream-policy": "langgraph-upstream"}


def test_pdb_keeps_all_but_one(plan):
    spec = plan.one("kubernetes:policy/v1:PodDisruptionBudget").inputs["spec"]
    assert spec["maxUnavailable"] == 1
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": "langgraph"}}


def test_network_policies(plan):
    policies = {r.inputs["metadata"]["name"]: r.inputs["spec"]
                for r in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    app = policies["langgraph"]
    sources = {p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for p in app["ingress"][0]["from"]}
    assert sources == {"kong", "monitoring"}
    assert app["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8000}]
    egress_ports = {p["port"] for rule in app["egress"] for p in rule["ports"]}
    assert egress_ports == {53, 5432, 6379, 26379, 9000}


def test_prod_egress_to_managed_data_tier_is_limited_to_the_vpc(prod_plan, dev_plan):
    blocks = [peer["ipBlock"]["cidr"] for rule in prod_plan.kube_object("NetworkPolicy", "langgraph").inputs["spec"]["egress"]
              for peer in rule["to"] if "ipBlock" in peer]
    assert blocks == ["10.40.0.0/16"]
    dev_rules = dev_plan.kube_object("NetworkPolicy", "langgraph").inputs["spec"]["egress"]
    assert not [peer for rule in dev_rules for peer in rule["to"] if "ipBlock" in peer]


def test_https_egress_is_opt_in(run_stack):
    plan = run_stack("dev", {"app": {"https_egress_cidrs": ["0.0.0.0/0"]}})
    rules = plan.kube_object("NetworkPolicy", "langgraph").inputs["spec"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]} in rules


@pytest.mark.parametrize("token", [
    "kubernetes:core/v1:Namespace", "kubernetes:core/v1:ServiceAccount", "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Secret", DEPLOYMENT, "kubernetes:core/v1:Service",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:policy/v1:PodDisruptionBudget",
])
def test_app_objects_are_children_of_the_component(plan, token):
    resources = [r for r in plan.of_type(token) if r.parent == f"langgraph-{plan.stack}-app"]
    assert resources, f"{token} not under LangGraphApp"
    assert all(r.inputs["metadata"].get("namespace", "langgraph") == "langgraph" for r in resources)
