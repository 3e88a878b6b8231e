"""The auto-recovery and progressive-delivery components alone, for the mock-engine tests.

Config: `sentinel_password` and `webhook_token` (config secrets). Both components get the parameters the platform
would pass for a prod-like app tier (API HPA, KEDA workers, Sentinels, the edge's app route).
"""

import pulumi

from components import delivery, recovery
from recovery.settings import Autoscaler

config = pulumi.Config()
recovery_spec = recovery.RecoverySpec(
    namespace="langgraph", image="registry.example.com/langgraph-recovery:1.0.0", monitoring_namespace="monitoring",
    api_server_cidrs=("10.0.0.0/16",), dry_run=True, restart_deployments=("langgraph", "langgraph-queue"),
    autoscalers=(Autoscaler("langgraph", 12), Autoscaler("keda-hpa-langgraph-queue", 24, "langgraph-queue")),
    sentinel=recovery.SentinelTarget(
        "langgraph", tuple(f"redis-sentinel-{i}.redis-sentinel-headless.langgraph-data.svc.cluster.local:26379"
                           for i in range(3)),
        "langgraph-data", {"app.kubernetes.io/instance": "redis", "app.kubernetes.io/component": "sentinel"}),
    disabled_graphs_config_map="langgraph-disabled-graphs")
auto_recovery = recovery.AutoRecovery("recovery", recovery.AutoRecoveryArgs(
    recovery_spec, webhook_token=config.require_secret("webhook_token"),
    sentinel_password=config.require_secret("sentinel_password")))

route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
         "metadata": {"name": "langgraph", "namespace": "langgraph", "labels": {},
                      "annotations": {"konghq.com/plugins": "langgraph-rate-limit"}},
         "spec": {"parentRefs": [{"name": "langgraph", "namespace": "kong", "sectionName": "https"}],
                  "hostnames": ["langgraph.example.com"],
                  "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                             "backendRefs": [{"name": "langgraph", "port": 80}]}]}}
delivery.ProgressiveDelivery("delivery", delivery.DeliverySpec(
    app_name="langgraph", namespace="langgraph", app_port=8000, route=route,
    prometheus_url="http://kube-prometheus-stack-prometheus.monitoring.svc:9090", monitoring_namespace="monitoring",
    api_server_cidrs=("10.0.0.0/16",), backend_annotations={"konghq.com/upstream-policy": "langgraph-upstream"},
    autoscaler="langgraph"), depends_on=[])

pulumi.export("webhook_token", auto_recovery.webhook_token)
pulumi.export("webhook_url", auto_recovery.webhook_url)
