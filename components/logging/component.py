"""`Logging`: the ECK operator, Elasticsearch + Kibana, the ILM policy and index template, and Fluent Bit.

Order matters once: the index template must exist before Fluent Bit creates the first daily index
(an index takes its mapping and ILM policy when it is created), so Fluent Bit is installed after
the setup Job has completed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi

from .. import helm
from ..connections import Endpoint
from ..kube import KubeObject
from ..namespace import POD_SECURITY_VERSION, Tier, Workload, register_namespace
from ..pins import CHARTS
from ..random_tls_postgresql import Resource, random_password
from . import eck_manifests as m

# Long enough that it is renewed by a `pulumi up` (early_renewal) long before it expires; ECK
# rotates the leaf certificates it signs with it on its own (a year each by default).
CA_VALIDITY_HOURS, CA_EARLY_RENEWAL_HOURS = 10 * 8760, 2 * 8760


@dataclass(frozen=True)
class ElasticsearchAccess:
    """What a client in another namespace needs to write to the cluster as its own user."""

    url: str
    username: str
    password: pulumi.Output[str]
    ca_certificate: pulumi.Output[str]
    """PEM of the CA that signs Elasticsearch's HTTP certificate."""


def _checksum(pem: str | None) -> str:
    # None while the certificate is not known yet (a preview).
    return hashlib.sha256(pem.encode()).hexdigest()[:16] if pem else ""


class Logging(pulumi.ComponentResource):
    """Logs of the app namespace in Elasticsearch (ECK), daily `langgraph-YYYY.MM.dd` indices, Kibana."""

    url: pulumi.Output[str]
    """Kibana, in-cluster."""
    elasticsearch_url: str
    endpoints: tuple[Endpoint, ...]
    jaeger_access: ElasticsearchAccess | None
    """For `Tracing` when it stores traces here (spec.tracing_namespace set)."""

    def __init__(self, name: str, spec: m.LoggingSpec, opts: pulumi.ResourceOptions | None = None,
                 pod_security_version: str = POD_SECURITY_VERSION):
        super().__init__("langgraph:platform:Logging", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        operator_ns = register_namespace(f"{name}-operator", Tier(
            spec.operator_namespace, m.LABELS, (Workload("elastic-operator", m.OPERATOR, max_pods=1),),
            pod_security_version=pod_security_version), self)
        logging_ns = register_namespace(name, Tier(spec.namespace, m.LABELS, (
            # ECK replaces Elasticsearch pods one at a time, deleting before creating: no surge.
            Workload("elasticsearch", m.es_resources(spec), max_pods=spec.elasticsearch_nodes),
            Workload("kibana", m.KIBANA, max_pods=m.kibana_count(spec), max_surge=1),
            Workload("elasticsearch-setup", m.SETUP, max_pods=1),
        ), pod_security_version=pod_security_version), self)
        agents_ns = register_namespace(f"{name}-agents", Tier(
            spec.agent_namespace, m.LABELS, (Workload("fluent-bit", m.FLUENT_BIT, max_pods=spec.max_nodes),),
            pod_security="privileged", pod_security_version=pod_security_version), self)

        # The operator's global CA; clients get its certificate.
        key = Resource("tls:index/privateKey:PrivateKey", f"{name}-ca-key", {"algorithm": "RSA", "rsaBits": 3072},
                       child)
        ca = Resource("tls:index/selfSignedCert:SelfSignedCert", f"{name}-ca", {
            "privateKeyPem": key.private_key_pem, "isCaCertificate": True,
            "validityPeriodHours": CA_VALIDITY_HOURS, "earlyRenewalHours": CA_EARLY_RENEWAL_HOURS,
            "allowedUses": ["cert_signing", "crl_signing", "digital_signature"],
            "subject": {"commonName": "langgraph-logging-ca", "organization": "langgraph-platform"}}, child)
        certificate = ca.cert_pem

        in_operator_ns = pulumi.ResourceOptions(parent=self, depends_on=[operator_ns])
        operator_ready = [
            operator_ns,
            KubeObject(f"{name}-global-ca", m.global_ca_secret(spec.operator_namespace, certificate,
                                                               pulumi.Output.secret(key.private_key_pem)), in_operator_ns),
            KubeObject(f"{name}-operator-netpol", m.operator_network_policy(spec), in_operator_ns),
        ]
        operator = helm.release(f"{name}-eck-operator", CHARTS["eck-operator"], spec.operator_namespace,
                                m.operator_values(certificate.apply(_checksum)),
                                pulumi.ResourceOptions(parent=self, depends_on=operator_ready))

        in_logging_ns = pulumi.ResourceOptions(parent=self, depends_on=[logging_ns])
        es_ready: list[pulumi.Resource] = [logging_ns, operator]
        es_ready += [KubeObject(f"{name}-{policy['metadata']['name']}-netpol", policy, in_logging_ns)
                     for policy in m.logging_network_policies(spec)]
        es_ready.append(KubeObject(f"{name}-roles", m.roles_secret(spec), in_logging_ns))
        fluent_bit_password = self._user(name, spec, m.FLUENT_BIT_USER, m.FLUENT_BIT_ROLE, in_logging_ns, es_ready)
        jaeger_password = (self._user(name, spec, m.JAEGER_USER, m.JAEGER_ROLE, in_logging_ns, es_ready)
                           if spec.tracing_namespace else None)
        logging_ca = KubeObject(f"{name}-ca-certificate", m.ca_configmap(spec.namespace, certificate), in_logging_ns)

        elasticsearch = KubeObject(f"{name}-elasticsearch", m.elasticsearch(spec),
                                   pulumi.ResourceOptions(parent=self, depends_on=es_ready))
        after_es = pulumi.ResourceOptions(parent=self, depends_on=[elasticsearch])
        KubeObject(f"{name}-kibana", m.kibana(spec), after_es)

        payloads = m.setup_payloads(spec)
        digest = hashlib.sha256(json.dumps(payloads, sort_keys=True).encode()).hexdigest()[:8]
        setup_files = KubeObject(f"{name}-setup-files", m.setup_configmap(spec), in_logging_ns)
        setup = KubeObject(f"{name}-setup", m.setup_job(spec, f"{m.SETUP_CONFIGMAP}-{digest}"),
                           pulumi.ResourceOptions(parent=self, depends_on=[elasticsearch, setup_files, logging_ca],
                                                  delete_before_replace=True))

        in_agents_ns = pulumi.ResourceOptions(parent=self, depends_on=[agents_ns])
        fluent_bit_ready = [
            agents_ns, setup,
            KubeObject(f"{name}-fluent-bit-netpol", m.fluent_bit_network_policy(spec), in_agents_ns),
            KubeObject(f"{name}-fluent-bit-password", m.password_secret(
                m.FLUENT_BIT_PASSWORD_SECRET, spec.agent_namespace, fluent_bit_password), in_agents_ns),
            KubeObject(f"{name}-fluent-bit-ca", m.ca_configmap(spec.agent_namespace, certificate), in_agents_ns),
        ]
        helm.release(f"{name}-fluent-bit", CHARTS["fluent-bit"], spec.agent_namespace, m.fluent_bit_values(spec),
                     pulumi.ResourceOptions(parent=self, depends_on=fluent_bit_ready))

        self.url = pulumi.Output.from_input(spec.kibana_url)
        self.elasticsearch_url = spec.es_url
        self.endpoints = (
            Endpoint("elasticsearch", (m.ES_HTTP_PORT,), namespace=spec.namespace, pod_labels=m.ES_POD_LABELS),
            Endpoint("kibana", (m.KIBANA_PORT,), namespace=spec.namespace, pod_labels=m.KIBANA_POD_LABELS),
        )
        self.jaeger_access = (ElasticsearchAccess(spec.es_url, m.JAEGER_USER, jaeger_password, certificate)
                              if jaeger_password is not None else None)
        self.register_outputs({"url": self.url, "elasticsearch_url": self.elasticsearch_url})

    def _user(self, name: str, spec: m.LoggingSpec, user: str, role: str, opts: pulumi.ResourceOptions,
              ready: list[pulumi.Resource]) -> pulumi.Output[str]:
        """A file-realm user with a generated password; its Secret joins `ready` (Elasticsearch waits for it)."""
        # Alphanumeric: safe in Fluent Bit's config expansion and in HTTP basic auth without escaping.
        password = pulumi.Output.secret(random_password(f"{name}-{user}-password", 32,
                                                        pulumi.ResourceOptions(parent=self)).result)
        ready.append(KubeObject(f"{name}-{user}-user", m.user_secret(spec, user, role, password), opts))
        return password
