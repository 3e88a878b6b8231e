"""Pure builders of the edge: Kong as the Gateway API implementation, cert-manager TLS,
HTTP->HTTPS redirect, per-client rate limiting and health-checked upstreams.

Chart values use the keys of the charts pinned in `pins.py` (kong/kong 3.4.1, cert-manager v1.21.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from stackconfig.model import EdgeConfig

from . import netpol
from .namespace import POD_SECURITY_VERSION, ComputeResources, Tier, Workload, combined
from .pins import IMAGES

GATEWAY_API = "gateway.networking.k8s.io/v1"
CERT_MANAGER_API = "cert-manager.io/v1"
KONG_CONTROLLER = "konghq.com/kic-gateway-controller"
KONG_STATUS_PORT = 8100  # Kong's status listener; /status/ready answers once config is loaded
# The same status API behind proxy protocol, for the NLB's health checks only: once proxy protocol
# is on, the NLB sends its header on health-check connections too, which the plain listener (the
# one kubelet probes, and Prometheus scrapes) would reject.
KONG_NLB_HEALTH_PORT = 8101
KONG_PROXY_PORT, KONG_PROXY_TLS_PORT = 8000, 8443  # the chart's proxy container ports
KIC_METRICS_PORT = 10255  # the ingress controller's Prometheus metrics (container port cmetrics)
KONG_PROXY_SERVICE = "kong-proxy"  # the chart's proxy Service for the release named kong
KONG_POD_LABELS = {"app.kubernetes.io/name": "kong", "app.kubernetes.io/instance": "kong"}
ACME_SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
ACME_SOLVER_PORT = 8089
CERT_MANAGER_NAMESPACE = "cert-manager"  # the release is named cert-manager and installed here
CERT_MANAGER_WEBHOOK_PORT = 10250  # the chart's webhook.securePort: what the API server connects to
CERT_MANAGER_METRICS_PORT = 9402
# Every private (RFC 1918) range: the NLB's nodes have private VPC addresses. The platform narrows
# this to the VPC's CIDR; it is the default only so that a spec built without it stays private.
PRIVATE_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
MAX_SURGE = 1  # rolling updates of the edge's Deployments add one pod at a time and remove none first

# Requests and limits of the edge's containers. The chart values and the namespaces' quotas are
# both built from these, so the quotas always admit what the charts run.
KONG_PROXY = ComputeResources("250m", "256Mi", "1", "1Gi")
KONG_INGRESS_CONTROLLER = ComputeResources("100m", "128Mi", "500m", "512Mi")
# cert-manager v1.21's defaults for HTTP-01 solver pods (they run in the Certificate's namespace).
ACME_SOLVER = ComputeResources("10m", "64Mi", "100m", "64Mi")
CERT_MANAGER_CONTROLLER = ComputeResources("50m", "128Mi", "500m", "512Mi")
CERT_MANAGER_WEBHOOK = ComputeResources("20m", "64Mi", "200m", "256Mi")
CERT_MANAGER_CAINJECTOR = ComputeResources("20m", "128Mi", "200m", "512Mi")
CERT_MANAGER_STARTUPAPICHECK = ComputeResources("10m", "32Mi", "100m", "128Mi")


@dataclass(frozen=True)
class EdgeSpec:
    """What the edge is built from: its config, the app it fronts, and its neighbours."""

    edge: EdgeConfig
    app_name: str
    app_namespace: str
    app_service: str
    app_service_port: int
    app_port: int
    health_path: str
    monitoring_namespace: str = "monitoring"
    """Where Prometheus runs: it may scrape Kong's status port and cert-manager's metrics."""
    load_balancer_cidrs: tuple[str, ...] = PRIVATE_NETWORKS
    """Where the AWS NLB connects to Kong from (its nodes sit in the VPC's subnets): the only
    sources of Kong's proxy ports behind the NLB, and the addresses whose proxy protocol header
    Kong believes (`trusted_ips`). The platform passes the VPC's CIDR."""
    pod_security_version: str = POD_SECURITY_VERSION
    api_server_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    canary: bool = False
    """Flagger owns the app's HTTPRoute (weighted backends): the edge renders it for Flagger, not the cluster."""
    """Pod Security Standards version of the edge's namespaces (the cluster's minor, e.g. v1.31)."""

    @property
    def gateway_name(self) -> str:
        return self.app_name

    @property
    def tls_secret(self) -> str:
        return f"{self.app_name}-tls"

    @property
    def issuer_name(self) -> str:
        return f"{self.app_name}-{'acme' if self.edge.tls.mode == 'acme' else 'selfsigned'}"

    @property
    def rate_limit_plugin(self) -> str:
        return f"{self.app_name}-rate-limit"

    @property
    def upstream_policy(self) -> str:
        return f"{self.app_name}-upstream"

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "edge"}


def _rolling_update() -> dict:
    return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": MAX_SURGE, "maxUnavailable": 0}}


# --- Kong's namespace ------------------------------------------------------------------------


def kong_tier(spec: EdgeSpec) -> Tier:
    """Kong's namespace. Restricted: the kong chart runs every container non-root with no
    capabilities, no privilege escalation and the RuntimeDefault seccomp profile, and so do
    cert-manager's HTTP-01 solver pods, which run here beside the Gateway."""
    workloads = [Workload("kong", combined(KONG_PROXY, KONG_INGRESS_CONTROLLER), spec.edge.replicas, MAX_SURGE)]
    if spec.edge.tls.mode == "acme":
        # One solver pod per pending HTTP-01 challenge: one per name on the certificate.
        workloads.append(Workload("acme-http01-solver", ACME_SOLVER, len(certificate(spec)["spec"]["dnsNames"])))
    return Tier(spec.edge.namespace, spec.labels, tuple(workloads), pod_security_version=spec.pod_security_version)


def kong_network_policy(spec: EdgeSpec) -> dict:
    """What Kong's pods accept and reach.

    Behind the NLB, the proxy ports and the NLB health-check port accept the NLB's addresses only:
    the NLB connects from its own nodes (client-IP preservation is off), and anyone else who could
    reach a proxy-protocol listener could claim any client address. On EKS, pods have VPC addresses
    too, so a VPC-wide `load_balancer_cidrs` still admits them; the NLB's subnets alone would not.
    Without the NLB the proxy ports stay open to every source (NodePort traffic arrives from the
    nodes).
    The status port (and the controller's metrics) accept Prometheus from the monitoring namespace;
    kubelet's probes need no rule, as common CNIs do not apply NetworkPolicy to them.
    Kong reaches DNS, the app's pods, ACME solver pods beside it, and the Kubernetes API (its
    controller watches it)."""
    edge = spec.edge
    proxy_ports = netpol.tcp(KONG_PROXY_PORT, KONG_PROXY_TLS_PORT)
    ingress = [
        {"from": netpol.ip_peers(spec.load_balancer_cidrs), "ports": [*proxy_ports, *netpol.tcp(KONG_NLB_HEALTH_PORT)]}
        if edge.aws_nlb else {"ports": proxy_ports},
        {"from": [netpol.namespace_peer(spec.monitoring_namespace)], "ports": netpol.tcp(KONG_STATUS_PORT, KIC_METRICS_PORT)},
    ]
    egress = [
        netpol.dns_egress(),
        {"to": [netpol.namespace_peer(spec.app_namespace)], "ports": netpol.tcp(spec.app_port)},
        netpol.api_server_egress(spec.api_server_cidrs),
    ]
    if edge.tls.mode == "acme":
        egress.append({"to": [{"podSelector": {"matchLabels": ACME_SOLVER_LABELS}}], "ports": netpol.tcp(ACME_SOLVER_PORT)})
    return netpol.network_policy("kong", edge.namespace, spec.labels, {
        "podSelector": {"matchLabels": KONG_POD_LABELS},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress,
        "egress": egress,
    })


def acme_solver_network_policy(spec: EdgeSpec) -> dict:
    """cert-manager's HTTP-01 solver pods answer Kong only."""
    return netpol.network_policy("acme-http01-solver", spec.edge.namespace, spec.labels, {
        "podSelector": {"matchLabels": ACME_SOLVER_LABELS},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": KONG_POD_LABELS}}], "ports": netpol.tcp(ACME_SOLVER_PORT)}],
    })


# --- Kong ------------------------------------------------------------------------------------
#
# Client addresses behind the NLB: proxy protocol v2, not client-IP preservation. With IP targets
# and preservation off, Kong sees the NLB's node addresses, so `limit_by: ip` would count per NLB
# node. Preservation would put every internet client's address on Kong's pods, so their security
# group and NetworkPolicy would have to admit the whole internet, and connections from a client
# that is itself one of the NLB's targets fail (hairpinning). Proxy protocol keeps the NLB the
# only direct peer: Kong takes the client address from the NLB's header (`real_ip_header:
# proxy_protocol`) and believes it only from the NLB's addresses (`trusted_ips`). It works alike
# for the TLS listener that ACM terminates on the NLB. Rate limiting (`kong.client.
# get_forwarded_ip`) then counts the real client. Kong forwards a client's own X-Forwarded-For
# when it comes through a trusted address, so the app must take the last entry (the one Kong
# appends), never the first.


def nlb_annotations(spec: EdgeSpec) -> dict[str, str]:
    """AWS Load Balancer Controller annotations of the Kong proxy Service."""
    edge, prefix = spec.edge, "service.beta.kubernetes.io/aws-load-balancer-"
    if not edge.aws_nlb:
        return {}
    annotations = {
        "type": "external",
        "nlb-target-type": "ip",
        "scheme": "internet-facing",
        # Proxy protocol v2 on every target group; client-IP preservation explicitly off, as
        # Kong's NetworkPolicy admits the NLB's own addresses only.
        "proxy-protocol": "*",
        "target-group-attributes": "preserve_client_ip.enabled=false",
        # The NLB checks that Kong is serving; Kong checks each app pod on the app's health path.
        "healthcheck-protocol": "http",
        "healthcheck-path": "/status/ready",
        "healthcheck-port": str(KONG_NLB_HEALTH_PORT),
        "healthcheck-interval": str(edge.health_check.interval_seconds),
        "healthcheck-healthy-threshold": str(edge.health_check.healthy_threshold),
        "healthcheck-unhealthy-threshold": str(edge.health_check.unhealthy_threshold),
    }
    if edge.tls.mode == "acm":
        # TLS ends on the NLB with the ACM certificate and is re-encrypted to Kong's TLS port,
        # so port 80 still reaches Kong's plain listener and its redirect.
        annotations |= {"ssl-cert": edge.tls.acm_certificate_arn, "ssl-ports": "443", "backend-protocol": "ssl"}
    return {prefix + key: value for key, value in annotations.items()}


def _listen(port: int, *parameters: str) -> list[str]:
    """Kong listen entries for `port` on IPv4 and IPv6, as the chart renders them."""
    return [" ".join([f"{address}:{port}", *parameters]) for address in ("0.0.0.0", "[::]")]


def kong_env(spec: EdgeSpec) -> dict[str, str]:
    """Kong settings (the chart turns each into a KONG_* variable; these win over its own)."""
    env = {"database": "off", "nginx_worker_processes": "2"}
    if spec.edge.aws_nlb:
        env |= {
            "real_ip_header": "proxy_protocol",
            "trusted_ips": ",".join(spec.load_balancer_cidrs),
            # The chart's single status listener, plus the proxy-protocol one the NLB checks.
            "status_listen": ", ".join([*_listen(KONG_STATUS_PORT), *_listen(KONG_NLB_HEALTH_PORT, "proxy_protocol")]),
        }
    return env


def kong_values(spec: EdgeSpec) -> dict:
    edge = spec.edge
    proxy_protocol = ["proxy_protocol"] if edge.aws_nlb else []
    return {
        "image": {"repository": IMAGES["kong"].repository, "tag": IMAGES["kong"].tag},
        "env": kong_env(spec),
        "admin": {"enabled": False},
        "ingressController": {
            "enabled": True,
            "image": {"repository": IMAGES["kong-ingress-controller"].repository,
                      "tag": IMAGES["kong-ingress-controller"].tag},
            "resources": KONG_INGRESS_CONTROLLER.as_resources(),
            # Off rather than admitted: the API server cannot reach it through our NetworkPolicy,
            # so with the chart's failurePolicy Ignore every validated request waited out the
            # timeout. It is optional (Ignore), and nothing we deploy needs it: our Kong objects
            # are rendered from the validated config, and a broken object is still reported as an
            # event on it while Kong keeps serving its last good configuration. cert-manager's
            # webhook, by contrast, is mandatory (failurePolicy Fail), so that one is admitted.
            "admissionWebhook": {"enabled": False},
        },
        "proxy": {
            "type": edge.service_type,
            "annotations": nlb_annotations(spec),
            "http": {"enabled": True, "parameters": proxy_protocol},
            "tls": {"enabled": True, "parameters": ["http2", *proxy_protocol]},
        },
        "status": {"enabled": True, "http": {"enabled": True, "containerPort": KONG_STATUS_PORT}},
        "replicaCount": edge.replicas,
        "updateStrategy": _rolling_update(),
        "podDisruptionBudget": {"enabled": edge.replicas > 1, "maxUnavailable": 1},
        "resources": KONG_PROXY.as_resources(),
    }


# --- cert-manager ----------------------------------------------------------------------------


def _cert_manager_pods(component: str | None = None) -> dict:
    labels = {"app.kubernetes.io/instance": "cert-manager"}
    return {"matchLabels": labels | ({"app.kubernetes.io/component": component} if component else {})}


def cert_manager_replicas(spec: EdgeSpec) -> int:
    """cert-manager controllers: two (leader-elected, with a PDB) where the gateway is replicated."""
    return 2 if spec.edge.replicas > 1 else 1


def cert_manager_tier(spec: EdgeSpec) -> Tier:
    """cert-manager's namespace. Restricted: at v1.21.1 the chart runs the controller, webhook,
    cainjector and startupapicheck pods non-root with RuntimeDefault seccomp, every capability
    dropped and no privilege escalation, and the webhook off the host network."""
    return Tier(CERT_MANAGER_NAMESPACE, spec.labels, (
        Workload("controller", CERT_MANAGER_CONTROLLER, cert_manager_replicas(spec), MAX_SURGE),
        Workload("webhook", CERT_MANAGER_WEBHOOK, 1, MAX_SURGE),
        Workload("cainjector", CERT_MANAGER_CAINJECTOR, 1, MAX_SURGE),
        # A Helm hook Job: one pod at a time; failed attempts no longer count against the quota.
        Workload("startupapicheck", CERT_MANAGER_STARTUPAPICHECK, 1),
    ), pod_security_version=spec.pod_security_version)


def cert_manager_network_policies(spec: EdgeSpec) -> list[dict]:
    """Exactly what cert-manager needs beside the namespace's default-deny.

    All its pods: DNS and the Kubernetes API out; Prometheus in on the metrics port. The webhook:
    the API server in (admission and CRD conversion; failurePolicy Fail, so it must be reachable).
    With ACME, the controller: the ACME directory (HTTPS) and its HTTP-01 self-check (HTTP to the
    public host name) out, to any address, as neither has fixed addresses.
    """
    edge, namespace, labels = spec.edge, CERT_MANAGER_NAMESPACE, spec.labels
    policies = [
        netpol.network_policy("cert-manager", namespace, labels, {
            "podSelector": _cert_manager_pods(),
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [netpol.namespace_peer(spec.monitoring_namespace)],
                         "ports": netpol.tcp(CERT_MANAGER_METRICS_PORT)}],
            "egress": [netpol.dns_egress(), netpol.api_server_egress(spec.api_server_cidrs)],
        }),
        netpol.network_policy("cert-manager-webhook", namespace, labels, {
            "podSelector": _cert_manager_pods("webhook"),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": netpol.ip_peers(spec.api_server_cidrs), "ports": netpol.tcp(CERT_MANAGER_WEBHOOK_PORT)}],
        }),
    ]
    if edge.tls.mode == "acme":
        policies.append(netpol.network_policy("cert-manager-acme", namespace, labels, {
            "podSelector": _cert_manager_pods("controller"),
            "policyTypes": ["Egress"],
            "egress": [{"ports": netpol.tcp(443, 80)}],
        }))
    return policies


def cert_manager_values(spec: EdgeSpec) -> dict:
    controllers = cert_manager_replicas(spec)
    return {
        "crds": {"enabled": True, "keep": True},
        # Lets ACME HTTP-01 challenges be answered through the Gateway.
        "config": {
            "apiVersion": "controller.config.cert-manager.io/v1alpha1",
            "kind": "ControllerConfiguration",
            "gatewayAPI": {"enabled": True},
        },
        "replicaCount": controllers,
        "podDisruptionBudget": {"enabled": controllers > 1},
        "strategy": _rolling_update(),
        "resources": CERT_MANAGER_CONTROLLER.as_resources(),
        "webhook": {"replicaCount": 1, "strategy": _rolling_update(), "resources": CERT_MANAGER_WEBHOOK.as_resources()},
        "cainjector": {"replicaCount": 1, "strategy": _rolling_update(),
                       "resources": CERT_MANAGER_CAINJECTOR.as_resources()},
        "startupapicheck": {"resources": CERT_MANAGER_STARTUPAPICHECK.as_resources()},
    }


# --- Gateway API objects ---------------------------------------------------------------------


def gateway_class(spec: EdgeSpec) -> dict:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "GatewayClass",
        "metadata": {"name": "kong", "labels": spec.labels,
                     # KIC serves Gateways with the Kong proxy the chart deployed (unmanaged mode).
                     "annotations": {"konghq.com/gatewayclass-unmanaged": "true"}},
        "spec": {"controllerName": KONG_CONTROLLER},
    }


def issuer(spec: EdgeSpec) -> dict:
    """ACME through the Gateway's HTTP listener, or self-signed (dev, and the NLB->Kong hop with ACM)."""
    tls = spec.edge.tls
    if tls.mode == "acme":
        issuer_spec = {"acme": {
            "server": tls.acme_server,
            "email": tls.acme_email,
            "privateKeySecretRef": {"name": f"{spec.issuer_name}-account"},
            "solvers": [{"http01": {"gatewayHTTPRoute": {"parentRefs": [{
                "name": spec.gateway_name, "namespace": spec.edge.namespace, "kind": "Gateway", "sectionName": "http",
            }]}}}],
        }}
    else:
        issuer_spec = {"selfSigned": {}}
    return {
        "apiVersion": CERT_MANAGER_API,
        "kind": "Issuer",
        "metadata": {"name": spec.issuer_name, "namespace": spec.edge.namespace, "labels": spec.labels},
        "spec": issuer_spec,
    }


def certificate(spec: EdgeSpec) -> dict:
    return {
        "apiVersion": CERT_MANAGER_API,
        "kind": "Certificate",
        "metadata": {"name": spec.tls_secret, "namespace": spec.edge.namespace, "labels": spec.labels},
        "spec": {
            "secretName": spec.tls_secret,
            "dnsNames": [spec.edge.hostname],
            "issuerRef": {"name": spec.issuer_name, "kind": "Issuer", "group": "cert-manager.io"},
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            "duration": "2160h",
            "renewBefore": "720h",
        },
    }


def gateway(spec: EdgeSpec) -> dict:
    # Routes may attach from the app's namespace, and from ours for cert-manager's ACME solver.
    allowed = {"namespaces": {"from": "Selector", "selector": {"matchExpressions": [{
        "key": "kubernetes.io/metadata.name", "operator": "In", "values": [spec.app_namespace, spec.edge.namespace],
    }]}}}
    host = spec.edge.hostname
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": {"name": spec.gateway_name, "namespace": spec.edge.namespace, "labels": spec.labels},
        "spec": {
            "gatewayClassName": "kong",
            "listeners": [
                {"name": "http", "protocol": "HTTP", "port": 80, "hostname": host, "allowedRoutes": allowed},
                {"name": "https", "protocol": "HTTPS", "port": 443, "hostname": host, "allowedRoutes": allowed,
                 "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": spec.tls_secret}]}},
            ],
        },
    }


def _route(spec: EdgeSpec, name: str, section: str, rule: dict, annotations: dict | None = None) -> dict:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": spec.app_namespace, "labels": spec.labels,
                     "annotations": annotations or {}},
        "spec": {
            "parentRefs": [{"name": spec.gateway_name, "namespace": spec.edge.namespace, "sectionName": section}],
            "hostnames": [spec.edge.hostname],
            "rules": [rule],
        },
    }


def redirect_route(spec: EdgeSpec) -> dict:
    return _route(spec, f"{spec.app_name}-https-redirect", "http", {
        "filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}],
    })


def app_route(spec: EdgeSpec) -> dict:
    return _route(
        spec, spec.app_name, "https",
        {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
         "backendRefs": [{"name": spec.app_service, "port": spec.app_service_port}]},
        annotations={"konghq.com/plugins": spec.rate_limit_plugin},
    )


def rate_limit_config(spec: EdgeSpec) -> dict:
    """Kong `rate-limiting`: a per-second cap of `burst` and a per-minute cap of 60 x rate.

    policy local keeps the counters in each Kong replica (the DB-less gateway has no shared
    store), so the limit holds per gateway replica.
    """
    limit = spec.edge.rate_limit
    config = {
        "second": limit.burst,
        "minute": limit.requests_per_second * 60,
        "limit_by": limit.limit_by,
        "policy": "local",
        "fault_tolerant": True,
        "hide_client_headers": False,
        "error_code": 429,
    }
    if limit.limit_by == "header":
        config["header_name"] = limit.header_name
    return config


def rate_limit_plugin(spec: EdgeSpec) -> dict:
    return {
        "apiVersion": "configuration.konghq.com/v1",
        "kind": "KongPlugin",
        "metadata": {"name": spec.rate_limit_plugin, "namespace": spec.app_namespace, "labels": spec.labels},
        "plugin": "rate-limiting",
        "config": rate_limit_config(spec),
    }


def upstream_policy(spec: EdgeSpec) -> dict:
    """Kong's health checks of each app pod on the app's health path, active and passive."""
    check = spec.edge.health_check
    return {
        "apiVersion": "configuration.konghq.com/v1beta1",
        "kind": "KongUpstreamPolicy",
        "metadata": {"name": spec.upstream_policy, "namespace": spec.app_namespace, "labels": spec.labels},
        "spec": {
            # Graph runs are long and uneven; route to the pod with the fewest open requests.
            "algorithm": "least-connections",
            "healthchecks": {
                "active": {
                    "type": "http",
                    "httpPath": spec.health_path,
                    "timeout": 5,
                    "concurrency": 2,
                    "healthy": {"interval": check.interval_seconds, "successes": check.healthy_threshold},
                    "unhealthy": {"interval": check.interval_seconds, "httpFailures": check.unhealthy_threshold,
                                  "tcpFailures": check.unhealthy_threshold, "timeouts": check.unhealthy_threshold},
                },
                "passive": {
                    "type": "http",
                    "unhealthy": {"httpFailures": check.unhealthy_threshold, "timeouts": check.unhealthy_threshold},
                },
            },
        },
    }


def app_service_annotations(spec: EdgeSpec) -> dict[str, str]:
    """Annotations the app's Service carries so Kong applies the upstream policy to it."""
    return {"konghq.com/upstream-policy": spec.upstream_policy}
