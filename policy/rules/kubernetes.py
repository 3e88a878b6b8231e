"""Kubernetes guarantees: limits, probes, restricted pods, pinned images, PDBs, default deny, HPA floor."""

from __future__ import annotations

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import ENVIRONMENT_SCHEMA, containers, dig, is_prod, kind_of, namespace_of, pod_spec
from .images import image_is_pinned

LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet")


def _check_resources(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = pod_spec(kind_of(args.resource_type), args.props)
    for what, container in containers(spec or {}):
        resources = container.get("resources") or {}
        for section in ("requests", "limits"):
            missing = [r for r in ("cpu", "memory") if r not in (resources.get(section) or {})]
            if missing:
                report(f"{what} has no {section} for {', '.join(missing)}")


def _check_probes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = kind_of(args.resource_type)
    if kind not in LONG_RUNNING:
        return
    for what, container in containers({"containers": (pod_spec(kind, args.props) or {}).get("containers")}):
        missing = [p for p in ("startupProbe", "readinessProbe", "livenessProbe") if not container.get(p)]
        if missing:
            report(f"{what} lacks {', '.join(missing)}")


def _check_security(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = pod_spec(kind_of(args.resource_type), args.props)
    if spec is None:
        return
    pod = spec.get("securityContext") or {}
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            report(f"pod sets {flag}")
    for what, container in containers(spec):
        sc = container.get("securityContext") or {}
        if not sc.get("runAsNonRoot", pod.get("runAsNonRoot")):
            report(f"{what} may run as root (runAsNonRoot is not true)")
        if sc.get("privileged"):
            report(f"{what} is privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            report(f"{what} does not set allowPrivilegeEscalation: false")
        if sc.get("readOnlyRootFilesystem") is not True:
            report(f"{what} has a writable root filesystem")
        if "ALL" not in (dig(sc, "capabilities", "drop") or []):
            report(f"{what} does not drop ALL capabilities")
        if dig(sc, "capabilities", "add"):
            report(f"{what} adds capabilities {dig(sc, 'capabilities', 'add')}")
        seccomp = dig(sc, "seccompProfile", "type") or dig(pod, "seccompProfile", "type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            report(f"{what} has no RuntimeDefault seccomp profile")


def _check_images(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_prod(args):
        return
    for what, container in containers(pod_spec(kind_of(args.resource_type), args.props) or {}):
        image = container.get("image", "")
        if not image_is_pinned(image):
            report(f"{what} runs {image!r}: pin a tag other than latest, or a digest")


def _check_hpa_floor(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if kind_of(args.resource_type) != "HorizontalPodAutoscaler" or not is_prod(args):
        return
    floor = args.get_config().get("minReplicas", 3)
    minimum = dig(args.props, "spec", "minReplicas", default=1)
    if minimum < floor:
        report(f"minReplicas {minimum} is below {floor}: one zone or node loss would take the tier down")


def _objects(args: StackValidationArgs, kind: str):
    return [r for r in args.resources if kind_of(r.resource_type) == kind]


def _selects(selector: dict, labels: dict) -> bool:
    match = selector.get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def _check_pdbs(args: StackValidationArgs, report: ReportViolation) -> None:
    hpas = {(namespace_of(h.props), dig(h.props, "spec", "scaleTargetRef", "name")): dig(h.props, "spec", "maxReplicas", default=1)
            for h in _objects(args, "HorizontalPodAutoscaler")}
    pdbs = _objects(args, "PodDisruptionBudget")
    for deployment in _objects(args, "Deployment"):
        namespace, name = namespace_of(deployment.props), dig(deployment.props, "metadata", "name")
        replicas = max(dig(deployment.props, "spec", "replicas", default=1), hpas.get((namespace, name), 0))
        if replicas <= 1:
            continue
        labels = dig(deployment.props, "spec", "template", "metadata", "labels", default={})
        if not any(namespace_of(p.props) == namespace and _selects(dig(p.props, "spec", "selector", default={}), labels)
                   for p in pdbs):
            report(f"Deployment {namespace}/{name} runs up to {replicas} replicas and no PodDisruptionBudget selects its pods",
                   deployment.urn)


def _denies_all(policy_props: dict) -> bool:
    spec = policy_props.get("spec") or {}
    return (spec.get("podSelector") in ({}, None) and {"Ingress", "Egress"} <= set(spec.get("policyTypes") or [])
            and not spec.get("ingress") and not spec.get("egress"))


def _check_default_deny(args: StackValidationArgs, report: ReportViolation) -> None:
    covered = {namespace_of(p.props) for p in _objects(args, "NetworkPolicy") if _denies_all(p.props)}
    for namespace in _objects(args, "Namespace"):
        name = dig(namespace.props, "metadata", "name")
        if name not in covered:
            report(f"namespace {name} has no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)",
                   namespace.urn)


POLICIES = [
    ResourceValidationPolicy(
        name="k8s-container-resources",
        description="Every container sets CPU and memory requests and limits.",
        validate=_check_resources,
    ),
    ResourceValidationPolicy(
        name="k8s-container-probes",
        description="Every long-running container has startup, readiness and liveness probes.",
        validate=_check_probes,
    ),
    ResourceValidationPolicy(
        name="k8s-restricted-security-context",
        description="Pods meet the restricted profile: non-root, no privilege escalation, read-only root, "
                    "ALL capabilities dropped, RuntimeDefault seccomp, no host namespaces.",
        validate=_check_security,
    ),
    ResourceValidationPolicy(
        name="k8s-pinned-images",
        description="In prod every image is pinned to a tag other than latest, or to a digest.",
        validate=_check_images,
        config_schema=ENVIRONMENT_SCHEMA,
    ),
    ResourceValidationPolicy(
        name="k8s-hpa-minimum",
        description="In prod an HPA keeps at least the seed's 3 replicas.",
        validate=_check_hpa_floor,
        config_schema=PolicyConfigSchema(properties={
            **ENVIRONMENT_SCHEMA.properties, "minReplicas": {"type": "integer", "minimum": 1},
        }),
    ),
    StackValidationPolicy(
        name="k8s-replicated-deployment-has-pdb",
        description="A Deployment that runs (or may scale to) more than one replica has a PodDisruptionBudget.",
        validate=_check_pdbs,
    ),
    StackValidationPolicy(
        name="k8s-namespace-default-deny",
        description="Every namespace the stack creates has a default-deny NetworkPolicy.",
        validate=_check_default_deny,
    ),
]
