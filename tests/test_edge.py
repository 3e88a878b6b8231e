"""Edge in both stacks: Gateway API on Kong, cert-manager TLS, redirect, rate limit, health checks,
the client address behind the NLB, and the edge's namespaces and NetworkPolicies."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from fractions import Fraction

import pytest

from components import edge_manifests as m
from components import netpol
from components.pins import BUNDLES, CHARTS, IMAGES
from stackconfig.model import EdgeConfig, deep_merge
from stackconfig.quantity import parse_quantity
from tools.mock_engine import Plan, Resource

RELEASE = "kubernetes:helm.sh/v3:Release"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NLB = "service.beta.kubernetes.io/aws-load-balancer-"
MONITORING = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]


def _release(plan: Plan, chart: str) -> Resource:
    return next(r for r in plan.of_type(RELEASE) if r.inputs["chart"] == chart)


def _in_namespace(plan: Plan, kind: str, namespace: str) -> dict[str, dict]:
    """metadata.name -> inputs of the `kind` objects in `namespace`."""
    return {r.inputs["metadata"]["name"]: r.inputs for r in plan.resources
            if r.type.endswith(f":{kind}") and r.inputs.get("metadata", {}).get("namespace") == namespace}


def _ports(rule: dict) -> set[int]:
    return {port["port"] for port in rule["ports"]}


def _spec(**edge: object) -> m.EdgeSpec:
    """An EdgeSpec for builder-level checks: prod's edge settings with `edge` merged in."""
    prod = {"hostname": "langgraph.example.com", "tls": {"mode": "acme", "acme_email": "platform-team@example.com"},
            "rate_limit": {"requests_per_second": 50, "burst": 100}, "service_type": "LoadBalancer",
            "aws_nlb": True, "replicas": 3}
    return m.EdgeSpec(edge=EdgeConfig.model_validate(deep_merge(prod, edge)), app_name="langgraph",
                      app_namespace="langgraph", app_service="langgraph", app_service_port=80, app_port=8000,
                      health_path="/ok", load_balancer_cidrs=("10.40.0.0/16",))


def test_charts_are_pinned_and_nothing_uses_ingress_nginx(plan):
    for chart in ("kong", "cert-manager"):
        release = _release(plan, chart).inputs
        assert (release["name"], release["version"], release["repositoryOpts"]["repo"]) == (
            CHARTS[chart].name, CHARTS[chart].version, CHARTS[chart].repository)
    kong, cert_manager = _release(plan, "kong").inputs["values"], _release(plan, "cert-manager").inputs["values"]
    assert kong["image"] == {"repository": "kong", "tag": IMAGES["kong"].tag}
    assert kong["ingressController"]["image"]["tag"] == IMAGES["kong-ingress-controller"].tag
    assert cert_manager["config"]["gatewayAPI"] == {"enabled": True}
    assert "ingress-nginx" not in json.dumps(plan.as_json())
    crds = plan.one("kubernetes:yaml/v2:ConfigFile").inputs
    assert crds["file"] == BUNDLES["gateway-api-crds"].url and "/v1.3.0/standard-install.yaml" in crds["file"]


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
    assert plugin["config"] == {"second": burst, "minute": rate * 60, "limit_by": "ip", "policy": "local",
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
    assert annotations[NLB + "nlb-target-type"] == "ip"
    assert (annotations[NLB + "healthcheck-path"], annotations[NLB + "healthcheck-port"]) == ("/status/ready", "8101")
    assert NLB + "ssl-cert" not in annotations, "ACME terminates in Kong, not on the NLB"
    dev_proxy = _release(dev_plan, "kong").inputs["values"]["proxy"]
    assert (dev_proxy["type"], dev_proxy["annotations"]) == ("NodePort", {})


def _status_listeners(env: dict) -> dict[int, list[str]]:
    """Port -> the parameters of each of its Kong status listen entries."""
    found: dict[int, list[str]] = {}
    for entry in env["status_listen"].split(","):
        address, *parameters = entry.split()
        found.setdefault(int(address.rsplit(":", 1)[1]), []).append(" ".join(parameters))
    return found


def test_kong_sees_the_client_address_behind_the_nlb(prod_plan):
    values = _release(prod_plan, "kong").inputs["values"]
    annotations, env = values["proxy"]["annotations"], values["env"]
    # The NLB prepends a proxy protocol v2 header and does not also preserve the client address.
    assert annotations[NLB + "proxy-protocol"] == "*"
    assert annotations[NLB + "target-group-attributes"] == "preserve_client_ip.enabled=false"
    # Both proxy listeners read that header, and Kong takes the client address from it ...
    assert "proxy_protocol" in values["proxy"]["http"]["parameters"]
    assert {"http2", "proxy_protocol"} <= set(values["proxy"]["tls"]["parameters"])
    assert env["real_ip_header"] == "proxy_protocol"
    # ... believing it only from where the NLB connects from: exactly the sources Kong's
    # NetworkPolicy admits on the proxy ports, all of them private addresses.
    trusted = env["trusted_ips"].split(",")
    kong = prod_plan.kube_object("NetworkPolicy", "kong").inputs["spec"]
    proxy_rule = next(rule for rule in kong["ingress"] if {8000, 8443} <= _ports(rule))
    assert sorted(peer["ipBlock"]["cidr"] for peer in proxy_rule["from"]) == sorted(trusted)
    assert trusted and all(ipaddress.ip_network(cidr).is_private for cidr in trusted)
    assert trusted == ["10.40.0.0/16"], "only the VPC the NLB lives in is trusted"
    # Health checks carry the header too: they go to a proxy-protocol status listener, while
    # the plain one stays for kubelet's probes and Prometheus.
    listeners = _status_listeners(env)
    health_port = int(annotations[NLB + "healthcheck-port"])
    assert listeners[health_port] == ["proxy_protocol", "proxy_protocol"]
    assert listeners[values["status"]["http"]["containerPort"]] == ["", ""]
    assert health_port in _ports(proxy_rule)
    # What rate limiting counts: the client address.
    assert prod_plan.one("kubernetes:configuration.konghq.com/v1:KongPlugin").inputs["config"]["limit_by"] == "ip"


def test_without_an_nlb_kong_expects_no_proxy_protocol(dev_plan):
    values = _release(dev_plan, "kong").inputs["values"]
    assert values["proxy"]["http"]["parameters"] == [] and values["proxy"]["tls"]["parameters"] == ["http2"]
    assert not {"real_ip_header", "trusted_ips", "status_listen"} & set(values["env"])


def test_trusted_ips_are_the_load_balancer_addresses_the_spec_names():
    spec = _spec()
    assert m.kong_env(spec)["trusted_ips"] == "10.40.0.0/16"
    proxy_rule = m.kong_network_policy(spec)["spec"]["ingress"][0]
    assert proxy_rule["from"] == [{"ipBlock": {"cidr": "10.40.0.0/16"}}]
    with pytest.raises(ValueError, match="empty list would admit every address"):
        m.kong_network_policy(dataclasses.replace(spec, load_balancer_cidrs=()))


def test_acm_terminates_on_the_nlb_and_re_encrypts(run_stack):
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"
    plan = run_stack("prod", {"edge": {"tls": {"mode": "acm", "acm_certificate_arn": arn}}})
    values = _release(plan, "kong").inputs["values"]
    annotations = values["proxy"]["annotations"]
    assert annotations[NLB + "ssl-cert"] == arn
    assert (annotations[NLB + "ssl-ports"], annotations[NLB + "backend-protocol"]) == ("443", "ssl")
    # Proxy protocol goes ahead of the re-encrypted TLS hop as well.
    assert annotations[NLB + "proxy-protocol"] == "*" and "proxy_protocol" in values["proxy"]["tls"]["parameters"]
    # Kong still serves the NLB's TLS hop and the redirect with a cert-manager certificate.
    assert plan.one("kubernetes:cert-manager.io/v1:Issuer").inputs["spec"] == {"selfSigned": {}}


def test_cluster_add_ons_can_be_left_to_the_cluster(run_stack, dev_plan):
    assert {r.inputs["chart"] for r in dev_plan.of_type(RELEASE)} >= {"kong", "cert-manager"}
    assert dev_plan.of_type("kubernetes:yaml/v2:ConfigFile")
    plan = run_stack("dev", {"edge": {"install_cert_manager": False, "install_gateway_api_crds": False}})
    assert "cert-manager" not in {r.inputs["chart"] for r in plan.of_type(RELEASE)}
    assert "kong" in {r.inputs["chart"] for r in plan.of_type(RELEASE)}
    assert plan.of_type("kubernetes:yaml/v2:ConfigFile") == []
    assert _in_namespace(plan, "NetworkPolicy", "cert-manager") == {}
    assert "cert-manager" not in {r.inputs["metadata"]["name"] for r in plan.of_type("kubernetes:core/v1:Namespace")}


def test_prod_kong_is_highly_available(prod_plan):
    values = _release(prod_plan, "kong").inputs["values"]
    assert values["replicaCount"] == 3
    assert values["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    assert values["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    assert values["env"]["database"] == "off"
    assert values["admin"] == {"enabled": False}


def test_gateway_namespace_is_default_deny_with_narrow_openings(dev_plan, prod_plan):
    for plan in (dev_plan, prod_plan):
        policies = {name: p["spec"] for name, p in _in_namespace(plan, "NetworkPolicy", "kong").items()}
        assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        egress = policies["kong"]["egress"]
        app = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "langgraph"}}}
        assert [rule for rule in egress if app in rule["to"]] == [{"to": [app], "ports": netpol.tcp(8000)}]
        assert {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": netpol.tcp(443, 6443)} in egress
        assert netpol.dns_egress() in egress
    assert "acme-http01-solver" not in _in_namespace(dev_plan, "NetworkPolicy", "kong")
    solver = prod_plan.kube_object("NetworkPolicy", "acme-http01-solver").inputs["spec"]
    assert solver["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8089}]


def test_admission_webhook_off_and_status_port_narrow(plan):
    """Kong's webhook is disabled (nothing admits the API server to it); its status port and the
    controller's metrics take Prometheus only, plus the NLB's health checks behind the NLB."""
    values = _release(plan, "kong").inputs["values"]
    assert values["ingressController"]["admissionWebhook"] == {"enabled": False}
    ingress = plan.kube_object("NetworkPolicy", "kong").inputs["spec"]["ingress"]
    ports_from_anywhere = set().union(*(_ports(rule) for rule in ingress if "from" not in rule))
    assert ports_from_anywhere == ({8000, 8443} if plan.stack == "dev" else set())
    status_rules = [rule for rule in ingress if 8100 in _ports(rule)]
    assert status_rules == [{"from": MONITORING, "ports": netpol.tcp(8100, 10255)}]
    assert not any(8080 in _ports(rule) for rule in ingress), "nothing may reach the disabled webhook port"


def _namespace(plan: Plan, name: str) -> Resource:
    return next(r for r in plan.of_type("kubernetes:core/v1:Namespace") if r.inputs["metadata"]["name"] == name)


def test_cert_manager_namespace_is_ours_restricted_and_default_deny(plan):
    release = _release(plan, "cert-manager")
    assert release.inputs["namespace"] == "cert-manager"
    assert not release.inputs.get("createNamespace"), "the release must not create (and own) the namespace"
    namespace = _namespace(plan, "cert-manager")
    assert namespace.urn in release.dependencies, "the release must wait for our namespace"
    labels = namespace.inputs["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"].startswith("v1.")
    policies = _in_namespace(plan, "NetworkPolicy", "cert-manager")
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_charts_install_after_the_policies_their_pods_need(plan):
    """Default-deny is in place first; a chart installed before its allow rules would start pods
    that cannot reach the API server (crash loops, a failed atomic release)."""
    for chart, namespace in (("kong", "kong"), ("cert-manager", "cert-manager")):
        release = _release(plan, chart)
        policies = [r for r in plan.of_type(NETWORK_POLICY) if r.inputs["metadata"]["namespace"] == namespace
                    and r.inputs["metadata"]["name"] not in ("default-deny", "acme-http01-solver")]
        assert policies and all(p.urn in release.dependencies for p in policies), chart
        assert _namespace(plan, namespace).urn in release.dependencies, chart


def test_cert_manager_network_policy_is_exactly_what_it_needs(plan, run_stack):
    policies = {name: p["spec"] for name, p in _in_namespace(plan, "NetworkPolicy", "cert-manager").items()}
    acme = plan.stack == "prod"
    expected = {"default-deny", "cert-manager", "cert-manager-webhook"} | ({"cert-manager-acme"} if acme else set())
    assert set(policies) == expected
    # The selectors name the release's pods: instance is the Helm release name.
    assert _release(plan, "cert-manager").inputs["name"] == "cert-manager"
    everyone = policies["cert-manager"]
    assert everyone["podSelector"] == {"matchLabels": {"app.kubernetes.io/instance": "cert-manager"}}
    assert everyone["egress"] == [netpol.dns_egress(),
                                  {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": netpol.tcp(443, 6443)}]
    assert everyone["ingress"] == [{"from": MONITORING, "ports": netpol.tcp(9402)}]
    webhook = policies["cert-manager-webhook"]
    assert webhook["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "webhook"
    assert (webhook["policyTypes"], webhook["ingress"]) == (
        ["Ingress"], [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": netpol.tcp(10250)}])
    if acme:
        controller = policies["cert-manager-acme"]
        assert controller["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "controller"
        assert (controller["policyTypes"], controller["egress"]) == (["Egress"], [{"ports": netpol.tcp(443, 80)}])


def test_api_server_cidrs_narrow_both_kong_and_cert_manager(run_stack):
    plan = run_stack("prod", {"kubernetes": {"api_server_cidrs": ["10.40.0.0/24"]}})
    api = [{"ipBlock": {"cidr": "10.40.0.0/24"}}]
    kong = plan.kube_object("NetworkPolicy", "kong").inputs["spec"]
    assert {"to": api, "ports": netpol.tcp(443, 6443)} in kong["egress"]
    policies = _in_namespace(plan, "NetworkPolicy", "cert-manager")
    assert {"to": api, "ports": netpol.tcp(443, 6443)} in policies["cert-manager"]["spec"]["egress"]
    assert policies["cert-manager-webhook"]["spec"]["ingress"][0]["from"] == api


def _charged(values: dict, key: str) -> Fraction:
    kind, resource = key.split(".")
    return parse_quantity(values["resources"][kind][resource])


def _surge(strategy: dict) -> int:
    return strategy["rollingUpdate"]["maxSurge"]


def test_edge_quotas_admit_what_the_charts_run(plan):
    """Each quota, read against the chart values actually rendered: every replica plus the rollout's
    surge at its requests and limits (a Kong pod holds the proxy and controller containers)."""
    kong = _release(plan, "kong").inputs["values"]
    kong_pods = kong["replicaCount"] + _surge(kong["updateStrategy"])
    solvers = 1 if plan.stack == "prod" else 0  # one HTTP-01 solver pod beside Kong with ACME
    cert_manager = _release(plan, "cert-manager").inputs["values"]
    deployments = [cert_manager, cert_manager["webhook"], cert_manager["cainjector"]]
    kong_hard = _in_namespace(plan, "ResourceQuota", "kong")["compute"]["spec"]["hard"]
    cert_manager_hard = _in_namespace(plan, "ResourceQuota", "cert-manager")["compute"]["spec"]["hard"]
    for key in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory"):
        kind, resource = key.split(".")
        kong_pod = _charged(kong, key) + _charged(kong["ingressController"], key)
        solver = parse_quantity(m.ACME_SOLVER.as_resources()[kind][resource])
        assert parse_quantity(kong_hard[key]) >= kong_pods * kong_pod + solvers * solver, f"kong {key}"
        needed = sum((d["replicaCount"] + _surge(d["strategy"])) * _charged(d, key) for d in deployments)
        needed += _charged(cert_manager["startupapicheck"], key)
        assert parse_quantity(cert_manager_hard[key]) >= needed, f"cert-manager {key}"
        if kind == "limits":  # and no pod may be charged more than one Kong pod, the largest planned
            pod_max = _in_namespace(plan, "LimitRange", "kong")["compute"]["spec"]["limits"][0]
            assert pod_max["type"] == "Pod" and parse_quantity(pod_max["max"][resource]) == kong_pod
    assert int(kong_hard["pods"]) == kong_pods + solvers


def test_network_policies_refuse_empty_peer_and_port_lists():
    for spec in ({"podSelector": {}, "ingress": [{"from": []}]},
                 {"podSelector": {}, "egress": [{"to": [], "ports": netpol.tcp(443)}]},
                 {"podSelector": {}, "egress": [{"to": [netpol.namespace_peer("x")], "ports": []}]}):
        with pytest.raises(ValueError, match="empty list"):
            netpol.network_policy("p", "ns", {}, spec)
    with pytest.raises(ValueError, match="empty list would admit every address"):
        netpol.ip_peers([])
    # Leaving the key out is how a rule says "any": still allowed.
    assert netpol.network_policy("p", "ns", {}, {"podSelector": {}, "egress": [{"ports": netpol.tcp(443)}]})
