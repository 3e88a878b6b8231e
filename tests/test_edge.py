"""Edge in both stacks: Gateway API on Kong, cert-manager TLS, redirect, rate limit, health checks."""

from __future__ import annotations

import json

import pytest

RELEASE = "kubernetes:helm.sh/v3:Release"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
NLB = "service.beta.kubernetes.io/aws-load-balancer-"


def _release(plan, chart):
    return next(r for r in plan.of_type(RELEASE) if r.inputs["chart"] == chart)


def test_charts_are_pinned_and_nothing_uses_ingress_nginx(plan):
    kong, cert_manager = _release(plan, "kong"), _release(plan, "cert-manager")
    assert (kong.inputs["version"], kong.inputs["repositoryOpts"]["repo"]) == ("3.4.1", "https://charts.konghq.com")
    assert cert_manager.inputs["version"] == "v1.21.1"
    assert kong.inputs["values"]["image"]["tag"] == "3.9.3"
    assert kong.inputs["values"]["ingressController"]["image"]["tag"] == "3.5.13"
    assert cert_manager.inputs["values"]["config"]["gatewayAPI"] == {"enabled": True}
    assert "ingress-nginx" not in json.dumps(plan.as_json())
    crds = plan.one("kubernetes:yaml/v2:ConfigFile").inputs
    assert crds["file"] == "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.3.0/standard-install.yaml"


def test_gateway_serves_http_and_https_for_the_host(plan):
    gateway = plan.one(GATEWAY).inputs
    host = {"dev": "langgraph.localtest.me", "prod": "langgraph.example.com"}[plan.stack]
    listeners = {l["name"]: l for l in gateway["spec"]["listeners"]}
    assert (listeners["http"]["port"], listeners["http"]["protocol"]) == (80, "HTTP")
    assert (listeners["https"]["port"], listeners["https"]["protocol"]) == (443, "HTTPS")
    assert {l["hostname"] for l in listeners.values()} == {host}
    assert listeners["https"]["tls"] == {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "langgraph-tls"}]}
    gateway_class = plan.one("kubernetes:gateway.networking.k8s.io/v1:GatewayClass").inputs
    assert gateway["spec"]["gatewayClassName"] == gateway_class["metadata"]["name"] == "kong"
    assert gateway_class["spec"]["controllerName"] == "konghq.com/kic-gateway-controller"
    assert gateway_class["metadata"]["annotations"]["konghq.com/gatewayclass-unmanaged"] == "true"


def test_http_redirects_to_https_and_https_reaches_the_app(plan):
    routes = {r.inputs["metadata"]["name"]: r.inputs for r in plan.of_type(ROUTE)}
    redirect, app = routes["langgraph-https-redirect"], routes["langgraph"]
    assert redirect["spec"]["parentRefs"][0]["sectionName"] == "http"
    assert redirect["spec"]["rules"][0]["filters"] == [
        {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]
    assert app["spec"]["parentRefs"][0]["sectionName"] == "https"
    assert app["spec"]["rules"][0]["backendRefs"] == [{"name": "langgraph", "port": 80}]
    assert app["metadata"]["annotations"]["konghq.com/plugins"] == "langgraph-rate-limit"
    assert app["metadata"]["namespace"] == "langgraph"


def test_certificate_by_mode(dev_plan, prod_plan):
    dev_issuer = dev_plan.one("kubernetes:cert-manager.io/v1:Issuer").inputs
    assert dev_issuer["spec"] == {"selfSigned": {}}
    acme = prod_plan.one("kubernetes:cert-manager.io/v1:Issuer").inputs["spec"]["acme"]
    assert acme["email"] == "platform-team@example.com"
    assert acme["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"][0]["sectionName"] == "http"
    cert = prod_plan.one("kubernetes:cert-manager.io/v1:Certificate").inputs["spec"]
    assert cert["dnsNames"] == ["langgraph.example.com"] and cert["secretName"] == "langgraph-tls"
    assert cert["issuerRef"]["name"] == "langgraph-acme"


def test_rate_limit_per_client(plan):
    plugin = plan.one("kubernetes:configuration.konghq.com/v1:KongPlugin").inputs
    rate, burst = {"dev": (10, 20), "prod": (50, 100)}[plan.stack]
    assert plugin["plugin"] == "rate-limiting"
    assert plugin["config"] | {} == {"second": burst, "minute": rate * 60, "limit_by": "ip", "policy": "local",
                                     "fault_tolerant": True, "hide_client_headers": False, "error_code": 429}


def test_rate_limit_by_header(run_stack):
    plan = run_stack("dev", {"edge": {"rate_limit": {"requests_per_second": 5, "burst": 5, "limit_by": "header",
                                                      "header_name": "X-Tenant"}}})
    config = plan.one("kubernetes:configuration.konghq.com/v1:KongPlugin").inputs["config"]
    assert (config["limit_by"], config["header_name"], config["second"], config["minute"]) == ("header", "X-Tenant", 5, 300)


def test_gateway_health_checks_the_app_health_path(plan):
    policy = plan.one("kubernetes:configuration.konghq.com/v1beta1:KongUpstreamPolicy").inputs
    active = policy["spec"]["healthchecks"]["active"]
    assert (active["type"], active["httpPath"]) == ("http", "/ok")
    assert active["healthy"] == {"interval": 10, "successes": 2}
    assert active["unhealthy"]["httpFailures"] == 3
    service = plan.kube_object("Service", "langgraph").inputs
    assert policy["metadata"]["name"] == service["metadata"]["annotations"]["konghq.com/upstream-policy"]


def test_prod_sits_behind_an_nlb_checking_kong(prod_plan, dev_plan):
    proxy = _release(prod_plan, "kong").inputs["values"]["proxy"]
    assert proxy["type"] == "LoadBalancer"
    annotations = proxy["annotations"]
    assert annotations[NLB + "type"] == "external" and annotations[NLB + "scheme"] == "internet-facing"
    assert (annotations[NLB + "healthcheck-path"], annotations[NLB + "healthcheck-port"]) == ("/status/ready", "8100")
    assert NLB + "ssl-cert" not in annotations, "ACME terminates in Kong, not on the NLB"
    dev_proxy = _release(dev_plan, "kong").inputs["values"]["proxy"]
    assert (dev_proxy["type"], dev_proxy["annotations"]) == ("NodePort", {})


def test_acm_terminates_on_the_nlb_and_re_encrypts(run_stack):
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"
    plan = run_stack("prod", {"edge": {"tls": {"mode": "acm", "acm_certificate_arn": arn}}})
    annotations = _release(plan, "kong").inputs["values"]["proxy"]["annotations"]
    assert annotations[NLB + "ssl-cert"] == arn
    assert (annotations[NLB + "ssl-ports"], annotations[NLB + "backend-protocol"]) == ("443", "ssl")
    # Kong still serves the NLB's TLS hop and the redirect with a cert-manager certificate.
    assert plan.one("kubernetes:cert-manager.io/v1:Issuer").inputs["spec"] == {"selfSigned": {}}


def test_cluster_add_ons_can_be_left_to_the_cluster(run_stack, dev_plan):
    assert len(dev_plan.of_type(RELEASE)) == 2 and dev_plan.of_type("kubernetes:yaml/v2:ConfigFile")
    plan = run_stack("dev", {"edge": {"install_cert_manager": False, "install_gateway_api_crds": False}})
    assert [r.inputs["chart"] for r in plan.of_type(RELEASE)] == ["kong"]
    assert plan.of_type("kubernetes:yaml/v2:ConfigFile") == []


def test_prod_kong_is_highly_available(prod_plan):
    values = _release(prod_plan, "kong").inputs["values"]
    assert values["replicaCount"] == 3
    assert values["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    assert values["env"]["database"] == "off"
    assert values["admin"] == {"enabled": False}


def test_gateway_namespace_is_default_deny_with_narrow_openings(dev_plan, prod_plan):
    for plan in (dev_plan, prod_plan):
        policies = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in plan.of_type(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy") if r.inputs["metadata"]["namespace"] == "kong"}
        assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        kong = policies["kong"]
        assert kong["ingress"] == [{"ports": [{"protocol": "TCP", "port": p} for p in (8000, 8443, 8100)]}]
        to_app = [rule for rule in kong["egress"]
                  if rule["to"][0].get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": "langgraph"}]
        assert to_app == [{"to": to_app[0]["to"], "ports": [{"protocol": "TCP", "port": 8000}]}]
    assert "acme-http01-solver" not in {r.inputs["metadata"]["name"] for r in dev_plan.resources if "metadata" in r.inputs}
    solver = prod_plan.kube_object("NetworkPolicy", "acme-http01-solver").inputs["spec"]
    assert solver["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8089}]
