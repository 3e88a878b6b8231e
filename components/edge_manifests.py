"""Pure builders of the edge: Kong as the Gateway API implementation, cert-manager TLS,
HTTP->HTTPS redirect, per-client rate limiting and health-checked upstreams.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackconfig.model import EdgeConfig

from . import netpol

GATEWAY_API = "gateway.networking.k8s.io/v1"
CERT_MANAGER_API = "cert-manager.io/v1"
KONG_CONTROLLER = "konghq.com/kic-gateway-controller"
KONG_STATUS_PORT = 8100  # Kong's status listener; /status/ready answers once config is loaded
KONG_PROXY_PORT, KONG_PROXY_TLS_PORT = 8000, 8443  # the chart's proxy container ports
KONG_POD_LABELS = {"app.kubernetes.io/name": "kong", "app.kubernetes.io/instance": "kong"}
ACME_SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
ACME_SOLVER_PORT = 8089
GATEWAY_API_CRDS_URL = "https://github.com/kubernetes-sigs/gateway-api/releases/download/{version}/standard-install.yaml"


@dataclass(frozen=True)
class EdgeSpec:
    edge: EdgeConfig
    app_name: str
    app_namespace: str
    app_service: str
    app_service_port: int
    app_port: int
    health_path: str

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


def namespace(spec: EdgeSpec) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": spec.edge.namespace, "labels": {
        **spec.labels,
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/warn": "restricted",
    }}}


def default_deny(spec: EdgeSpec) -> dict:
    return netpol.default_deny(spec.edge.namespace, spec.labels)


def kong_network_policy(spec: EdgeSpec) -> dict:
    """Kong takes traffic from anywhere on its proxy and status ports and reaches only DNS, the
    app's pods, ACME solver pods beside it, and the Kubernetes API (its controller watches it)."""
    egress = [
        netpol.dns_egress(),
        {"to": [netpol.namespace_peer(spec.app_namespace)], "ports": netpol.tcp(spec.app_port)},
        {"to": [{"ipBlock": {"cidr": cidr}} for cidr in spec.edge.api_server_cidrs], "ports": netpol.tcp(443, 6443)},
    ]
    if spec.edge.tls.mode == "acme":
        egress.append({"to": [{"podSelector": {"matchLabels": ACME_SOLVER_LABELS}}], "ports": netpol.tcp(ACME_SOLVER_PORT)})
    return netpol.network_policy("kong", spec.edge.namespace, spec.labels, {
        "podSelector": {"matchLabels": KONG_POD_LABELS},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"ports": netpol.tcp(KONG_PROXY_PORT, KONG_PROXY_TLS_PORT, KONG_STATUS_PORT)}],
        "egress": egress,
    })


def acme_solver_network_policy(spec: EdgeSpec) -> dict:
    """cert-manager's HTTP-01 solver pods answer Kong only."""
    return netpol.network_policy("acme-http01-solver", spec.edge.namespace, spec.labels, {
        "podSelector": {"matchLabels": ACME_SOLVER_LABELS},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": KONG_POD_LABELS}}], "ports": netpol.tcp(ACME_SOLVER_PORT)}],
    })


def nlb_annotations(spec: EdgeSpec) -> dict[str, str]:
    """AWS Load Balancer Controller annotations of the Kong proxy Service."""
    edge, prefix = spec.edge, "service.beta.kubernetes.io/aws-load-balancer-"
    if not edge.aws_nlb:
        return {}
    annotations = {
        "type": "external",
        "nlb-target-type": "ip",
        "scheme": "internet-facing",
        # The NLB checks that Kong is serving; Kong checks each app pod on the app's health path.
        "healthcheck-protocol": "http",
        "healthcheck-path": "/status/ready",
        "healthcheck-port": str(KONG_STATUS_PORT),
        "healthcheck-interval": str(edge.health_check.interval_seconds),
        "healthcheck-healthy-threshold": str(edge.health_check.healthy_threshold),
        "healthcheck-unhealthy-threshold": str(edge.health_check.unhealthy_threshold),
    }
    if edge.tls.mode == "acm":
        # TLS ends on the NLB with the ACM certificate and is re-encrypted to Kong's TLS port,
        # so port 80 still reaches Kong's plain listener and its redirect.
        annotations |= {"ssl-cert": edge.tls.acm_certificate_arn, "ssl-ports": "443", "backend-protocol": "ssl"}
    return {prefix + key: value for key, value in annotations.items()}


def kong_values(spec: EdgeSpec) -> dict:
    edge = spec.edge
    return {
        "image": {"repository": "kong", "tag": edge.kong_image_tag},
        "env": {"database": "off", "nginx_worker_processes": "2"},
        "admin": {"enabled": False},
        "ingressController": {
            "enabled": True,
            "image": {"repository": "kong/kubernetes-ingress-controller", "tag": edge.kic_image_tag},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
        },
        "proxy": {
            "type": edge.service_type,
            "annotations": nlb_annotations(spec),
            "http": {"enabled": True},
            "tls": {"enabled": True},
        },
        "status": {"enabled": True, "http": {"enabled": True, "containerPort": KONG_STATUS_PORT}},
        "replicaCount": edge.replicas,
        "podDisruptionBudget": {"enabled": edge.replicas > 1, "maxUnavailable": 1},
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
    }


def cert_manager_values(spec: EdgeSpec) -> dict:
    return {
        "crds": {"enabled": True, "keep": True},
        # Lets ACME HTTP-01 challenges be answered through the Gateway.
        "config": {
            "apiVersion": "controller.config.cert-manager.io/v1alpha1",
            "kind": "ControllerConfiguration",
            "gatewayAPI": {"enabled": True},
        },
        "podDisruptionBudget": {"enabled": spec.edge.replicas > 1},
        "replicaCount": 2 if spec.edge.replicas > 1 else 1,
    }


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
