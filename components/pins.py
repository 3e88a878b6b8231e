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


# renovate: each entry below is matched by the custom manager in renovate.json; keep one per line.
CHARTS: dict[str, Chart] = {
    "kong": Chart("kong", "https://charts.konghq.com", "3.4.1"),
    "cert-manager": Chart("cert-manager", "https://charts.jetstack.io", "v1.21.1"),
}

IMAGES: dict[str, Image] = {
    "kong": Image("kong", "3.9.3"),
    "kong-ingress-controller": Image("kong/kubernetes-ingress-controller", "3.5.13"),
}

BUNDLES: dict[str, Bundle] = {
    # The standard channel KIC 3.5 is built against.
    "gateway-api-crds": Bundle(
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/{version}/standard-install.yaml", "v1.3.0"),
}
