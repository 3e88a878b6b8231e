"""Where the CRDs of each pinned chart or bundle come from: a Go module at the version that release ships.

Helm chart repositories and GitHub release downloads are not reachable from CI; the Go module proxy
is, and each project's module carries the CRD YAML its release is built from. For a chart whose
version is not the operator's, `versions` records which module version that chart version ships
(read from the chart's Chart.yaml `appVersion` or its bundled CRD files). A pin that Renovate moves
to a version missing here fails the schema test with a message saying what to add.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from components.pins import BUNDLES, CHARTS


@dataclass(frozen=True)
class CrdSource:
    """The CRDs one pinned chart or bundle installs, as files of a Go module."""

    pin: str
    """Key in CHARTS or BUNDLES (components/pins.py)."""
    module: str
    """Go module path."""
    paths: tuple[str, ...]
    """Inside the module: a directory with a kustomization.yaml (resources and JSON 6902 patches are
    applied, as the project's release build does) or a glob of plain CRD files."""
    versions: dict[str, str] = field(default_factory=dict)
    """Pin version -> module version, where they differ; empty means the module is tagged like the pin."""
    sums: dict[str, str] = field(default_factory=dict)
    """Module version -> go.sum `h1:` hash, for modules the checksum database does not list."""

    @property
    def pin_version(self) -> str:
        return (CHARTS[self.pin] if self.pin in CHARTS else BUNDLES[self.pin]).version

    @property
    def module_version(self) -> str:
        """The module version matching the pinned release; KeyError (with what to do) when unrecorded."""
        pinned = self.pin_version
        if not self.versions:
            return pinned if pinned.startswith("v") else f"v{pinned}"
        if pinned not in self.versions:
            raise KeyError(f"{self.pin} {pinned} is pinned, but tests/engines/crd_sources.py does not say which "
                           f"{self.module} version it ships (known: {', '.join(self.versions)}): read the "
                           f"release's Chart.yaml appVersion or CRD files and add it")
        return self.versions[pinned]


SOURCES: tuple[CrdSource, ...] = (
    # standard-install.yaml is config/crd/standard concatenated.
    CrdSource("gateway-api-crds", "sigs.k8s.io/gateway-api", ("config/crd/standard/*.yaml",)),
    # The chart's templates/crd-*.yaml are these files wrapped in Helm conditionals.
    CrdSource("cert-manager", "github.com/cert-manager/cert-manager", ("deploy/crds/*.yaml",)),
    # The kong chart's crds/custom-resource-definitions.yaml carries the annotation
    # kubernetes-configuration.konghq.com/version: v1.5.2 (KIC 3.5.13's go.mod requires the same). The
    # checksum database does not list this module: the hash is the one in KIC v3.5.13's go.sum.
    CrdSource("kong", "github.com/kong/kubernetes-configuration", ("config/crd/ingress-controller",),
              versions={"3.4.1": "v1.5.2"},
              sums={"v1.5.2": "h1:E7aL+M7/wnqOkG3WXcO0Kx4Ru/7IM2WwtFv6h8Rx05w="}),
    CrdSource("keda", "github.com/kedacore/keda/v2", ("config/crd",)),
    # Chart.yaml appVersion.
    CrdSource("cloudnative-pg", "github.com/cloudnative-pg/cloudnative-pg", ("config/crd",),
              versions={"0.29.0": "v1.30.0"}),
    CrdSource("plugin-barman-cloud", "github.com/cloudnative-pg/plugin-barman-cloud", ("config/crd",),
              versions={"0.7.0": "v0.13.0"}),
    # Chart.yaml appVersion; the chart's crds subchart is generated from example/prometheus-operator-crd.
    CrdSource("kube-prometheus-stack", "github.com/prometheus-operator/prometheus-operator",
              ("example/prometheus-operator-crd/*.yaml",), versions={"88.5.3": "v0.93.1"}),
    # all-crds.yaml is the kustomize output (patches applied) that the eck-operator-crds chart templates.
    CrdSource("eck-operator", "github.com/elastic/cloud-on-k8s/v3", ("config/crds/v1/all-crds.yaml",)),
    CrdSource("flagger", "github.com/fluxcd/flagger", ("artifacts/flagger/crd.yaml",)),
)
