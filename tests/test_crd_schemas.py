"""Every custom object in both plans passes the CRD schema of the exact release we install, strictly.

kubernetes-validate covers Kubernetes' own kinds (test_manifests); every other apiVersion/kind must
map to a CRD source (tests/engines/crd_sources.py: the pinned chart or bundle, and the Go module
version it ships), fetched from the Go module proxy at test time and cached in .cache/crd-schemas/.
What the validator checks and what it does not: tests/engines/crd_validate.py's docstring.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from components import pins
from tests.engines.crd_fetch import CrdFetchError, load_sources
from tests.engines.crd_sources import SOURCES
from tests.engines.crd_validate import CrdCatalog, NoSchema, UnsupportedSchema, is_built_in, to_json_schema
from tools.mock_engine import Plan
from tools.plan_render import is_kube_object

from .conftest import ROOT

CACHE = ROOT / ".cache" / "crd-schemas"
# Kinds the program renders today: the custom-object filter must find each of them in both stacks.
RENDERED = {"GatewayClass", "Gateway", "HTTPRoute", "Issuer", "Certificate", "KongPlugin", "KongUpstreamPolicy"}


@pytest.fixture(scope="module")
def catalog() -> CrdCatalog:
    try:
        return CrdCatalog(SOURCES, CACHE)
    except (CrdFetchError, KeyError, UnsupportedSchema) as error:
        pytest.fail(f"CRD sources could not be loaded: {error}")


def custom_objects(plan: Plan) -> list[dict[str, Any]]:
    return [r.inputs for r in plan.resources
            if is_kube_object(r) and not is_built_in(r.inputs["apiVersion"], r.inputs["kind"])]


def problems(catalog: CrdCatalog, objects: list[dict[str, Any]]) -> list[str]:
    """One line per violation or unmapped kind, prefixed with the object."""
    lines = []
    for obj in objects:
        label = f"{obj.get('apiVersion')} {obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            lines += [f"{label} {error}" for error in catalog.validate(obj)]
        except NoSchema as error:
            lines.append(f"{label}: {error}")
    return lines


def rendered(plan: Plan, kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(obj for obj in custom_objects(plan) if obj["kind"] == kind))


def test_every_custom_object_passes_the_schema_of_its_installed_release(catalog, plan):
    objects = custom_objects(plan)
    assert RENDERED <= {obj["kind"] for obj in objects}
    assert problems(catalog, objects) == []


def test_each_custom_kind_maps_to_the_pinned_release(catalog, dev_plan):
    owners = {obj["kind"]: catalog.lookup(obj["apiVersion"], obj["kind"]) for obj in custom_objects(dev_plan)}
    assert {kind: (found.source.pin, found.source.module) for kind, found in owners.items()
            if kind in ("Gateway", "Certificate", "KongPlugin")} == {
        "Gateway": ("gateway-api-crds", "sigs.k8s.io/gateway-api"),
        "Certificate": ("cert-manager", "github.com/cert-manager/cert-manager"),
        "KongPlugin": ("kong", "github.com/kong/kubernetes-configuration"),
    }
    assert owners["Gateway"].module_version == pins.BUNDLES["gateway-api-crds"].version
    assert owners["Certificate"].module_version == pins.CHARTS["cert-manager"].version
    assert owners["KongPlugin"].module_version == "v1.5.2"  # what the kong chart 3.4.1 bundles


def test_no_kind_has_two_sources_and_every_source_has_crds(catalog):
    assert {key: pins_ for key, pins_ in catalog.owners.items() if len(pins_) > 1} == {}
    assert {source.pin for source in SOURCES} == {pin for pins_ in catalog.owners.values() for pin in pins_}
    assert all(source.pin in pins.CHARTS or source.pin in pins.BUNDLES for source in SOURCES)


def _unknown_listener_field(gateway):
    gateway["spec"]["listeners"][0]["portt"] = 80


def _port_not_int(gateway):
    gateway["spec"]["listeners"][0]["port"] = "eighty"


def _no_gateway_class(gateway):
    del gateway["spec"]["gatewayClassName"]


def _duplicate_listener(gateway):
    gateway["spec"]["listeners"].append(copy.deepcopy(gateway["spec"]["listeners"][0]))


def _unknown_metadata_field(gateway):
    gateway["metadata"]["label"] = {"a": "b"}


def _unknown_plugin_field(plugin):
    plugin["configuration"] = plugin.pop("config")


def _dns_names_not_list(certificate):
    certificate["spec"]["dnsNames"] = "api.example.com"


def _namespaced_gateway_class(gateway_class):
    gateway_class["metadata"]["namespace"] = "default"


@pytest.mark.parametrize("kind, mutate, expected", [
    ("Gateway", _unknown_listener_field,
     "/spec/listeners/0: Additional properties are not allowed ('portt' was unexpected)"),
    ("Gateway", _port_not_int, "/spec/listeners/0/port: 'eighty' is not of type 'integer'"),
    ("Gateway", _no_gateway_class, "/spec: 'gatewayClassName' is a required property"),
    ("Gateway", _duplicate_listener, "/spec/listeners: items 0 and "),
    ("Gateway", _unknown_metadata_field, "/metadata: Additional properties are not allowed ('label' was unexpected)"),
    ("KongPlugin", _unknown_plugin_field, "/: Additional properties are not allowed ('configuration' was unexpected)"),
    ("Certificate", _dns_names_not_list, "/spec/dnsNames: 'api.example.com' is not of type 'array'"),
    ("GatewayClass", _namespaced_gateway_class, "/metadata/namespace: GatewayClass is cluster-scoped"),
])
def test_a_broken_object_is_rejected(catalog, dev_plan, kind, mutate, expected):
    obj = rendered(dev_plan, kind)
    assert catalog.validate(obj) == []
    mutate(obj)
    errors = catalog.validate(obj)
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_preserve_unknown_fields_lets_free_form_config_through(catalog, dev_plan):
    plugin = rendered(dev_plan, "KongPlugin")
    plugin["config"]["any_plugin_option"] = {"nested": [1, "two"]}  # KongPlugin.config preserves unknown fields
    assert catalog.validate(plugin) == []


def _service_monitor(target_port: Any) -> dict[str, Any]:
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "app"},
            "spec": {"selector": {"matchLabels": {"app": "langgraph"}},
                     "endpoints": [{"targetPort": target_port, "path": "/metrics"}]}}


@pytest.mark.parametrize("target_port, ok", [(8000, True), ("metrics", True), ([8000], False), (True, False)])
def test_int_or_string_takes_an_integer_or_a_string_only(catalog, target_port, ok):
    errors = catalog.validate(_service_monitor(target_port))
    assert (errors == []) is ok, errors
    if not ok:  # (controller-gen also writes the same rule as an anyOf, which reports its own line)
        assert f"/spec/endpoints/0/targetPort: {target_port!r} is not of type 'integer', 'string'" in errors


def _scaled_object(stabilization: int) -> dict[str, Any]:
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "workers"},
            "spec": {"scaleTargetRef": {"name": "langgraph-queue"},
                     "triggers": [{"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}],
                     "advanced": {"horizontalPodAutoscalerConfig": {
                         "behavior": {"scaleDown": {"stabilizationWindowSeconds": stabilization}}}}}}


def test_kustomize_patches_of_the_release_build_apply(catalog):
    """KEDA's release build patches a 3600 s maximum into the stabilization window; the raw CRD file has none."""
    assert catalog.validate(_scaled_object(3600)) == []
    assert catalog.validate(_scaled_object(3601)) == [
        "/spec/advanced/horizontalPodAutoscalerConfig/behavior/scaleDown/stabilizationWindowSeconds: "
        "3601 is greater than the maximum of 3600"]


def test_defaults_are_applied_before_required_fields_are_checked(catalog):
    """CloudNativePG's Cluster requires spec.instances but defaults it to 1, as the API server would."""
    cluster = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg"},
               "spec": {"storage": {"size": "1Gi"}}}
    assert catalog.validate(cluster) == []
    cluster["spec"]["instances"] = "3"
    assert catalog.validate(cluster) == ["/spec/instances: '3' is not of type 'integer'"]


@pytest.mark.parametrize("api_version, kind, reason", [
    ("example.com/v1", "Widget", "no CRD source covers it"),
    ("gateway.networking.k8s.io/v1alpha9", "Gateway", "the installed CRD serves v1, v1beta1 only"),
    # The experimental channel is not what we install: its kinds have no schema here.
    ("gateway.networking.k8s.io/v1alpha2", "TCPRoute", "no CRD source covers it"),
])
def test_a_kind_without_a_schema_fails(catalog, dev_plan, api_version, kind, reason):
    stray = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "stray"}, "spec": {}}
    assert not is_built_in(api_version, kind)
    found = problems(catalog, custom_objects(dev_plan) + [stray])
    assert len(found) == 1 and found[0].startswith(f"{api_version} {kind}/stray: ") and reason in found[0], found


def test_a_pin_bump_without_its_module_version_fails(monkeypatch):
    source = next(s for s in SOURCES if s.pin == "kube-prometheus-stack")
    chart = pins.CHARTS["kube-prometheus-stack"]
    assert source.module_version == source.versions[chart.version]
    monkeypatch.setitem(pins.CHARTS, "kube-prometheus-stack", dataclasses.replace(chart, version="89.0.0"))
    with pytest.raises(KeyError, match="kube-prometheus-stack 89.0.0 is pinned, but .* does not say which"):
        _ = source.module_version


def test_unsupported_schema_keywords_are_refused():
    with pytest.raises(UnsupportedSchema, match=r"/spec: schema keywords \['x-kubernetes-embedded-resource'\]"):
        to_json_schema({"type": "object", "properties": {
            "spec": {"type": "object", "x-kubernetes-embedded-resource": True}}})


def test_cached_sources_need_neither_go_nor_the_network(catalog):
    assert all(any(CACHE.glob(f"{s.module.replace('/', '_')}@*.json")) for s in SOURCES)
    offline = CrdCatalog(SOURCES, CACHE, go="/nonexistent/go")
    assert offline.by_gvk.keys() == catalog.by_gvk.keys()


def test_an_uncached_source_is_downloaded_with_go(tmp_path):
    source = next(s for s in SOURCES if s.pin == "gateway-api-crds")
    with pytest.raises(CrdFetchError, match="go mod download"):
        load_sources([source], tmp_path, go="/nonexistent/go")


@pytest.mark.parametrize("sums, reason", [
    ({"v1.5.2": "h1:" + "A" * 43 + "="}, "is not the recorded"),
    # Without a recorded hash the checksum database must vouch for the module, and it does not list this one.
    ({}, "sum.golang.org"),
])
def test_a_module_that_cannot_be_verified_is_refused(tmp_path, sums, reason):
    kong = next(s for s in SOURCES if s.pin == "kong")
    with pytest.raises(CrdFetchError, match=reason):
        load_sources([dataclasses.replace(kong, sums=sums)], tmp_path)
    assert list(Path(tmp_path).iterdir()) == []
