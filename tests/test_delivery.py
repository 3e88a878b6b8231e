"""Progressive delivery (Flagger): the Canary and MetricTemplates against Flagger's CRDs at the pinned
release, the canary queries evaluated by promtool on series of canary and primary pods, the route
Flagger renders from the Canary against the route the edge renders, and Flagger's own objects."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from components import delivery
from components.monitoring.rules import RuleParams, rule_groups
from components.namespace import namespace_objects
from tests.engines.crd_fetch import CrdFetchError
from tests.engines.crd_sources import SOURCES
from tests.engines.crd_validate import CrdCatalog, UnsupportedSchema
from tests.test_manifests import kubernetes_validate
from tools.mock_engine import Plan

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "crd-schemas"
PROMETHEUS = "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
# What Flagger substitutes into a MetricTemplate's query for our Canary (its RenderQuery variables).
FLAGGER_VARIABLES = {"namespace": "langgraph", "target": "langgraph", "interval": "2m"}


def spec_from(route: dict, backend_annotations: dict[str, str]) -> delivery.DeliverySpec:
    """The spec the platform builds from the edge's app route and the app Service's annotations."""
    return delivery.DeliverySpec(
        app_name="langgraph", namespace="langgraph", app_port=8000, route=route, prometheus_url=PROMETHEUS,
        monitoring_namespace="monitoring", api_server_cidrs=("10.0.0.0/16",),
        backend_annotations=backend_annotations, autoscaler="langgraph")


# The edge's app route as edge_manifests.app_route renders it, for the tests that are not about the route
# itself (those read it from the rendered stacks).
ROUTE = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
         "metadata": {"name": "langgraph", "namespace": "langgraph",
                      "labels": {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "edge"},
                      "annotations": {"konghq.com/plugins": "langgraph-rate-limit"}},
         "spec": {"parentRefs": [{"name": "langgraph", "namespace": "kong", "sectionName": "https"}],
                  "hostnames": ["langgraph.example.com"],
                  "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                             "backendRefs": [{"name": "langgraph", "port": 80}]}]}}


@pytest.fixture
def spec() -> delivery.DeliverySpec:
    return spec_from(copy.deepcopy(ROUTE), {"konghq.com/upstream-policy": "langgraph-upstream"})


@pytest.fixture
def rendered_spec(plan: Plan) -> delivery.DeliverySpec:
    """From the stack's rendered edge route and app Service."""
    route = {k: v for k, v in plan.kube_object("HTTPRoute", "langgraph").inputs.items() if k != "status"}
    return spec_from(route, plan.kube_object("Service", "langgraph").inputs["metadata"]["annotations"])


@pytest.fixture(scope="module")
def catalog() -> CrdCatalog:
    try:
        return CrdCatalog(tuple(s for s in SOURCES if s.pin == "flagger"), CACHE)
    except (CrdFetchError, KeyError, UnsupportedSchema) as error:
        pytest.fail(f"Flagger's CRDs could not be loaded: {error}")


def render(query: str, variables: dict[str, str] = FLAGGER_VARIABLES) -> str:
    """The query as Flagger sends it to Prometheus: `{{ name }}` replaced, whitespace collapsed."""
    for name, value in variables.items():
        query = query.replace(f"{{{{ {name} }}}}", value)
    assert "{{" not in query, query
    return " ".join(query.split())


# --- Flagger's CRDs -----------------------------------------------------------------------------------

def test_canary_and_templates_pass_flaggers_crd_schema(catalog, spec):
    objects = [delivery.canary(spec), *delivery.metric_templates(spec)]
    assert [catalog.validate(obj) for obj in objects] == [[], [], []]
    assert {catalog.lookup(o["apiVersion"], o["kind"]).module_version for o in objects} == {"v1.44.0"}


def test_the_schema_check_catches_a_misspelt_field(catalog, spec):
    broken = delivery.canary(spec)
    broken["spec"]["analysis"]["stepWieght"] = 10
    assert any("stepWieght" in problem for problem in catalog.validate(broken))
    wrong_provider = delivery.canary(spec)
    wrong_provider["spec"]["provider"] = "gatewayapi:v2"
    assert catalog.validate(wrong_provider)


# --- the queries in promtool ----------------------------------------------------------------------------

def _rule_file(tmp_path: Path, spec: delivery.DeliverySpec, breaking: str = "") -> Path:
    """Each template's rendered query as an alert at its Canary threshold (what the analysis halts on)."""
    thresholds = {m["templateRef"]["name"]: m["thresholdRange"]["max"]
                  for m in delivery.canary(spec)["spec"]["analysis"]["metrics"]}
    rules = [{"alert": f"CanaryCheck{index}", "expr": f"{render(t['spec']['query'])}{breaking} > {thresholds[t['metadata']['name']]}"}
             for index, t in enumerate(delivery.metric_templates(spec))]
    path = tmp_path / "canary-rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "canary", "rules": rules}]}))
    return path


def test_the_queries_parse_in_promtool(tmp_path, spec):
    result = subprocess.run(["promtool", "check", "rules", str(_rule_file(tmp_path, spec))], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rules found" in result.stdout
    broken = subprocess.run(["promtool", "check", "rules", str(_rule_file(tmp_path, spec, breaking=")"))],
                            capture_output=True, text=True)
    assert broken.returncode != 0


CANARY_POD, PRIMARY_POD = "langgraph-7f6e5d4c3b-k8m2q", "langgraph-primary-5c4b3a2d1e-p9r7t"


def _series(pod: str, graph: str, **values: str) -> list[dict]:
    labels = f'namespace="langgraph", pod="{pod}", graph_name="{graph}"'
    series = [{"series": f'langgraph_executions_total{{{labels}, status="{status}"}}', "values": v}
              for status, v in values.items() if status in ("error", "success")]
    series += [{"series": f'langgraph_execution_duration_seconds_bucket{{{labels}, le="{le}"}}', "values": v}
               for le, v in (("5", values.get("fast", "0x10")), ("10", values.get("slow", "0x10")),
                             ("+Inf", values.get("slow", "0x10")))]
    return series


def test_the_queries_judge_the_canary_pods_only(tmp_path, spec):
    """promtool evaluates the rendered queries on executions of a canary pod, a primary pod that fails
    and is slow (left out by the pod matcher), and a graph without executions (left out, not NaN)."""
    error_query, latency_query = (render(t["spec"]["query"]) for t in delivery.metric_templates(spec))
    tests = {"rule_files": [], "evaluation_interval": "1m", "tests": [
        {"interval": "1m",
         "input_series": [
             # support_ticket on the canary: 6 errors and 54 successes a minute (10 %), all within 5-10 s.
             *_series(CANARY_POD, "support_ticket", error="0+6x10", success="0+54x10", fast="0x10", slow="0+60x10"),
             # order_refund on the canary: no executions at all.
             *_series(CANARY_POD, "order_refund", error="0x10", success="0x10"),
             # The primary fails every execution, slowly: not the canary's business.
             *_series(PRIMARY_POD, "support_ticket", error="0+60x10", success="0x10", fast="0x10", slow="0x10")],
         "promql_expr_test": [
             {"expr": error_query, "eval_time": "5m", "exp_samples": [{"labels": "{}", "value": 0.1}]},
             # Every execution between 5 and 10 s: the 95th percentile interpolates to 5 + 0.95 x 5.
             {"expr": latency_query, "eval_time": "5m", "exp_samples": [{"labels": "{}", "value": 9.75}]}]},
        {"interval": "1m",
         # A quiet canary (no executions yet) passes instead of halting the release.
         "input_series": _series(PRIMARY_POD, "support_ticket", error="0+60x10", success="0x10"),
         "promql_expr_test": [
             {"expr": error_query, "eval_time": "5m", "exp_samples": [{"labels": "{}", "value": 0}]},
             {"expr": latency_query, "eval_time": "5m", "exp_samples": [{"labels": "{}", "value": 0}]}]},
    ]}
    path = tmp_path / "canary-test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False))
    result = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_queries_are_the_alerts_expressions(spec):
    """Without the canary's matchers and at the alerts' window, each check is its alert's expression."""
    alerts = {r["alert"]: r["expr"] for g in rule_groups(RuleParams(runbook_base_url="https://r.example.com/"))
              for r in g["rules"] if "alert" in r}
    analysis = spec.analysis
    assert " ".join(alerts["LangGraphHighErrorRate"].split()) == " ".join(
        f"{delivery.error_ratio_expr('', '5m')} > {analysis.error_ratio}".split())
    assert " ".join(alerts["LangGraphHighLatency"].split()) == " ".join(
        f"{delivery.latency_p95_expr('', '5m')} > {analysis.latency_p95_seconds:g}".split())


# --- the route Flagger manages ------------------------------------------------------------------------

def flagger_route(canary: dict) -> dict:
    """The HTTPRoute Flagger 1.44 creates for this Canary (pkg/router/gateway_api.go at v1.44.0: parentRefs
    from gatewayRefs, hostnames from hosts, the path match PathPrefix / when none is given, the primary at
    weight 100 and the canary at 0, apex metadata plus Flagger's two Flux annotations)."""
    name, service = canary["spec"]["targetRef"]["name"], canary["spec"]["service"]
    backend = {"group": "", "kind": "Service", "port": service["port"]}
    return {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": canary["metadata"]["namespace"],
                     "labels": service["apex"]["labels"],
                     "annotations": {**service["apex"]["annotations"],
                                     "kustomize.toolkit.fluxcd.io/reconcile": "disabled",
                                     "helm.toolkit.fluxcd.io/driftDetection": "disabled"}},
        "spec": {"parentRefs": service["gatewayRefs"], "hostnames": service["hosts"],
                 "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                            "backendRefs": [{**backend, "name": f"{name}-primary", "weight": 100},
                                            {**backend, "name": f"{name}-canary", "weight": 0}]}]},
    }


def test_flaggers_route_is_the_edges_route_with_weighted_backends(rendered_spec):
    spec = rendered_spec
    edge, managed = copy.deepcopy(spec.route), flagger_route(delivery.canary(spec))
    for route in (edge, managed):
        route["spec"]["rules"][0].pop("backendRefs")
        route["metadata"]["annotations"].pop("kustomize.toolkit.fluxcd.io/reconcile", None)
        route["metadata"]["annotations"].pop("helm.toolkit.fluxcd.io/driftDetection", None)
    assert managed == edge
    services = delivery.canary(spec)["spec"]["service"]
    # Kong's upstream policy follows the traffic to both Services behind the route.
    assert services["primary"]["annotations"] == services["canary"]["annotations"] == {
        "konghq.com/upstream-policy": "langgraph-upstream"}
    assert (services["port"], services["targetPort"]) == (80, 8000)


def test_a_route_flagger_cannot_reproduce_is_refused(spec):
    route = copy.deepcopy(spec.route)
    route["spec"]["rules"][0]["filters"] = [{"type": "RequestHeaderModifier",
                                             "requestHeaderModifier": {"set": [{"name": "x", "value": "y"}]}}]
    with pytest.raises(ValueError, match="not one Flagger renders"):
        delivery.canary(delivery.DeliverySpec(**{**spec.__dict__, "route": route}))


# --- Flagger's namespace and values -------------------------------------------------------------------

def test_flaggers_objects_pass_kubernetes_validate_strict(tmp_path, spec):
    ns = namespace_objects(delivery.flagger_tier(spec))
    files = []
    for obj in (ns.namespace, ns.default_deny, ns.quota, ns.limit_range, delivery.flagger_network_policy(spec)):
        files.append(tmp_path / f"{obj['kind']}-{obj['metadata']['name']}.yaml")
        files[-1].write_text(yaml.safe_dump(obj))
    result = kubernetes_validate(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ns.namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_flagger_runs_on_gateway_api_against_our_prometheus_restricted(spec):
    values = delivery.flagger_values(spec)
    assert (values["meshProvider"], values["metricsServer"], values["namespace"], values["selectorLabels"]) == (
        "gatewayapi:v1", PROMETHEUS, "langgraph", "app")
    context = values["securityContext"]["context"]
    # What Pod Security `restricted` requires of a container that sets nothing at pod level.
    assert context["runAsNonRoot"] is True and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]} and context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert delivery.canary(spec)["spec"]["autoscalerRef"]["name"] == "langgraph"


def test_bad_analysis_settings_are_refused():
    with pytest.raises(ValueError, match="step_weight"):
        delivery.Analysis(step_weight=60, max_weight=50)
    with pytest.raises(ValueError, match="interval"):
        delivery.Analysis(interval="soon")


def test_the_component_installs_the_pinned_chart_before_its_custom_objects():
    from components.pins import CHARTS
    from stackconfig import PROJECT
    from tools.mock_engine import run_program

    secrets = {f"{PROJECT}:sentinel_password": "fake-redis-password", f"{PROJECT}:webhook_token": "fake-token"}
    plan = run_program(ROOT / "tests" / "data" / "recovery" / "program", PROJECT, "dev", secrets, list(secrets))
    release = plan.one("kubernetes:helm.sh/v3:Release", "delivery-flagger")
    assert (release.inputs["chart"], release.inputs["version"], release.inputs["namespace"]) == (
        "flagger", CHARTS["flagger"].version, "flagger")
    assert release.inputs["values"]["meshProvider"] == "gatewayapi:v1"
    canary = plan.kube_object("Canary", "langgraph")
    templates = {plan.kube_object("MetricTemplate", f"langgraph-{n}").urn for n in ("error-rate", "latency-p95")}
    assert {release.urn, *templates} <= set(canary.dependencies)
    assert plan.kube_object("Namespace", "flagger").inputs["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"] == "restricted"
