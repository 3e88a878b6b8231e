"""Render a recorded plan: a readable tree with each resource's key facts, and YAML manifests."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import yaml

if TYPE_CHECKING:
    from .mock_engine import Plan, Resource

# Types that carry a Kubernetes object in their inputs (not Helm releases, files or providers).
_NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "pulumi:providers:")


def is_kube_object(resource: Resource) -> bool:
    return (resource.type.startswith("kubernetes:") and not resource.type.startswith(_NOT_OBJECTS)
            and "kind" in resource.inputs)


def _probe(probe: dict) -> str:
    if "httpGet" in probe:
        return probe["httpGet"].get("path", "/")
    if "exec" in probe:
        return "exec:" + " ".join(probe["exec"].get("command", []))[-40:]
    return next(iter(probe), "?")


def _container_facts(spec: dict) -> list[str]:
    facts = []
    pod = spec.get("template", {}).get("spec", {})
    for container in pod.get("containers", []):
        res = container.get("resources", {})
        sc = container.get("securityContext", {})
        probes = [f"{kind}={_probe(container[kind + 'Probe'])}"
                  for kind in ("startup", "readiness", "liveness") if kind + "Probe" in container]
        facts += [
            f"image {container.get('image')}",
            f"requests {res.get('requests')} limits {res.get('limits')}",
            f"probes {' '.join(probes) or 'none'}",
            "security nonRoot={} readOnlyRootFS={} drop={} seccomp={}".format(
                sc.get("runAsNonRoot"), sc.get("readOnlyRootFilesystem"),
                ",".join(sc.get("capabilities", {}).get("drop", [])), sc.get("seccompProfile", {}).get("type")),
        ]
    return facts


def _deployment(r: Resource) -> list[str]:
    spec = r.inputs.get("spec", {})
    rolling = spec.get("strategy", {}).get("rollingUpdate", {})
    return [f"replicas {spec.get('replicas')} rollingUpdate maxSurge={rolling.get('maxSurge')} "
            f"maxUnavailable={rolling.get('maxUnavailable')}", *_container_facts(spec)]


def _hpa(r: Resource) -> list[str]:
    spec = r.inputs.get("spec", {})
    targets = ", ".join(f"{m['resource']['name']} {m['resource']['target']['averageUtilization']}%"
                        for m in spec.get("metrics", []))
    window = spec.get("behavior", {}).get("scaleDown", {}).get("stabilizationWindowSeconds")
    return [f"replicas {spec.get('minReplicas')}..{spec.get('maxReplicas')} on {targets}; "
            f"scale-down stabilization {window}s"]


def _service(r: Resource) -> list[str]:
    spec = r.inputs.get("spec", {})
    ports = ", ".join(f"{p.get('port')}->{p.get('targetPort')}" for p in spec.get("ports", []))
    return [f"{spec.get('type')} {ports}"]


def _release(r: Resource) -> list[str]:
    i = r.inputs
    facts = [f"chart {i.get('chart')} {i.get('version')} from {i.get('repositoryOpts', {}).get('repo')} "
             f"into {i.get('namespace')}"]
    proxy = i.get("values", {}).get("proxy")
    if proxy:
        facts.append(f"proxy Service {proxy.get('type')}, replicas {i['values'].get('replicaCount')}")
        facts += [f"{k}: {v}" for k, v in sorted(proxy.get("annotations", {}).items())]
    return facts


def _gateway(r: Resource) -> list[str]:
    return [f"listener {l['name']} {l['protocol']}:{l['port']} {l.get('hostname', '*')}"
            + (f" TLS {l['tls']['mode']} from secret {l['tls']['certificateRefs'][0]['name']}" if "tls" in l else "")
            for l in r.inputs.get("spec", {}).get("listeners", [])]


def _issuer(r: Resource) -> list[str]:
    spec = r.inputs.get("spec", {})
    if "acme" in spec:
        return [f"ACME {spec['acme']['server']} ({spec['acme']['email']}), HTTP-01 through the Gateway"]
    return [f"{', '.join(spec)}"]


def _certificate(r: Resource) -> list[str]:
    spec = r.inputs.get("spec", {})
    return [f"{', '.join(spec.get('dnsNames', []))} -> secret {spec.get('secretName')} by {spec.get('issuerRef', {}).get('name')}"]


def _route(r: Resource) -> list[str]:
    spec = r.inputs.get("spec", {})
    facts = []
    for rule in spec.get("rules", []):
        for f in rule.get("filters", []):
            if f.get("type") == "RequestRedirect":
                facts.append(f"redirect to {f['requestRedirect']['scheme']} ({f['requestRedirect']['statusCode']})")
        for b in rule.get("backendRefs", []):
            facts.append(f"-> {b['name']}:{b['port']}")
    plugins = r.inputs.get("metadata", {}).get("annotations", {}).get("konghq.com/plugins")
    return facts + ([f"plugins {plugins}"] if plugins else [])


def _plugin(r: Resource) -> list[str]:
    c = r.inputs.get("config", {})
    if r.inputs.get("plugin") == "rate-limiting":
        return [f"rate limit per {c.get('limit_by')}: {c.get('second')}/s burst, {c.get('minute')}/min sustained, "
                f"policy {c.get('policy')} (per gateway replica)"]
    return [f"plugin {r.inputs.get('plugin')}"]


def _upstream(r: Resource) -> list[str]:
    active = r.inputs.get("spec", {}).get("healthchecks", {}).get("active", {})
    return [f"active health check {active.get('type')} {active.get('httpPath')} every "
            f"{active.get('healthy', {}).get('interval')}s"]


def _pdb(r: Resource) -> list[str]:
    spec = r.inputs.get("spec", {})
    return [f"maxUnavailable {spec['maxUnavailable']}" if "maxUnavailable" in spec else f"minAvailable {spec.get('minAvailable')}"]


def _netpol(r: Resource) -> list[str]:
    spec = r.inputs.get("spec", {})
    return [f"{'/'.join(spec.get('policyTypes', []))}: {len(spec.get('ingress', []))} ingress rule(s), "
            f"{len(spec.get('egress', []))} egress rule(s)"]


_FACTS: dict[str, Callable[[Resource], list[str]]] = {
    "Deployment": _deployment,
    "HorizontalPodAutoscaler": _hpa,
    "Service": _service,
    "Release": _release,
    "Gateway": _gateway,
    "Issuer": _issuer,
    "Certificate": _certificate,
    "HTTPRoute": _route,
    "KongPlugin": _plugin,
    "KongUpstreamPolicy": _upstream,
    "PodDisruptionBudget": _pdb,
    "NetworkPolicy": _netpol,
}


def facts(resource: Resource) -> list[str]:
    render = _FACTS.get(resource.type.rsplit(":", 1)[-1])
    return render(resource) if render else []


def _options(resource: Resource) -> str:
    """The options that change what the engine does, as a suffix; empty when none is set."""
    options = [label for label, on in (("protected", resource.protect),
                                       ("retained on delete", resource.retain_on_delete),
                                       ("delete before replace", resource.delete_before_replace)) if on]
    if resource.ignore_changes:
        options.append(f"ignores changes to {', '.join(resource.ignore_changes)}")
    return f"  ({'; '.join(options)})" if options else ""


def render_tree(plan: Plan) -> str:
    children: dict[str | None, list[Resource]] = defaultdict(list)
    for resource in plan.resources:
        children[resource.parent].append(resource)
    lines = [f"Plan for stack {plan.stack}: {len(plan.resources)} resources"]
    capacity = plan.outputs.get("capacity") or {}
    if "derivation" in capacity:
        lines.append(f"Capacity: {capacity['derivation']}")

    def walk(parent: str | None, depth: int, path: frozenset[str]) -> None:
        for resource in children.get(parent, []):
            pad = "  " * depth
            lines.append(f"{pad}- {resource.name}  [{resource.type}]{_options(resource)}")
            lines.extend(f"{pad}    {fact}" for fact in facts(resource))
            # Parents are named, not typed: a resource named like its component parent is not its own parent.
            if resource.name not in path:
                walk(resource.name, depth + 1, path | {resource.name})

    walk(None, 0, frozenset())
    if plan.reads:
        lines.append("Reads (existing objects, looked up and never changed):")
        lines.extend(f"  - {read.name}  [{read.type}] {read.id}" for read in plan.reads)
    lines.append("Outputs:")
    lines.extend(f"  {key}: {json.dumps(value)}" for key, value in plan.outputs.items())
    return "\n".join(lines)


def manifests_by_component(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """Every Kubernetes object, grouped by the component that owns it."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for resource in plan.resources:
        if is_kube_object(resource):
            grouped[resource.parent or "stack"].append(resource.inputs)
    return dict(grouped)


def write_manifests(plan: Plan, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for component, objects in manifests_by_component(plan).items():
        path = out_dir / f"{component}.yaml"
        path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
        written.append(path)
    return written
