"""The Redis group's Kubernetes objects: valid (kubernetes-validate --strict, checkov), wired to the
shipped scripts and rendered configs they run, and shaped as the parameters say."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.pins import IMAGES
from components.redis import manifests
from components.redis.sentinel_config import (MAXMEMORY_FRACTION, RedisSentinelSpec, Resources, haproxy_cfg,
                                              redis_conf, sentinel_conf)

from .test_manifests import CHECKOV, SKIPS, checkov

KUBERNETES_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
DEV = RedisSentinelSpec(name="redis", namespace="langgraph", password_secret="redis-password", replicas=1,
                        redis_resources=Resources("100m", "500m", "512Mi"), storage_size="1Gi")
PROD = RedisSentinelSpec(name="redis", namespace="langgraph", password_secret="redis-password", replicas=2,
                         require_separate_nodes=True, storage_class="gp3", image_pull_policy="Always",
                         client_pod_labels={"app.kubernetes.io/name": "langgraph"}, monitoring_namespace="monitoring",
                         labels={"app.kubernetes.io/part-of": "langgraph-platform"})


def _by(objects: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def _container(workload: dict, name: str) -> dict:
    return next(c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def _env_names(container: dict) -> list[str]:
    return [entry["name"] for entry in container["env"]]


def _required_env(script: str) -> set[str]:
    """Variables a start-up script refuses to run without (`: "${NAME:?}"`)."""
    return set(re.findall(r'"\$\{([A-Z_]+):\?\}"', manifests.scripts()[script]))


def _placeholders(template: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", template))


@pytest.mark.parametrize("spec", [DEV, PROD], ids=["dev", "prod"])
def test_objects_pass_kubernetes_validate_strict(tmp_path, spec):
    objects = manifests.objects(spec)
    path = tmp_path / "redis.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    result = subprocess.run([str(KUBERNETES_VALIDATE), "--strict", "-k", "1.31.0", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(objects) == 18


def test_checkov_passes_with_the_projects_prod_skips(tmp_path):
    """Prod only: dev differs in exactly what the dev skips cover (pull policy), and checkov is slow."""
    if not CHECKOV.is_file():
        pytest.fail("checkov is not installed in .venv-checkov; run `make test`")
    (tmp_path / "redis.yaml").write_text(yaml.safe_dump_all(manifests.objects(PROD)))
    # The pins table holds no digests for these images yet (CKV_K8S_43 wants one).
    report = checkov(tmp_path, [*SKIPS["all"], *SKIPS.get("prod", {}), "CKV_K8S_43"])
    assert [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]] == []
    assert report["summary"]["passed"] > 100


@pytest.mark.parametrize("spec", [DEV, PROD], ids=["dev", "prod"])
def test_every_variable_the_scripts_and_configs_need_is_in_the_container(spec):
    redis_server = _container(manifests.redis_statefulset(spec), "redis")
    sentinel = _container(manifests.sentinel_statefulset(spec), "sentinel")
    haproxy = _container(manifests.haproxy_deployment(spec), "haproxy")
    assert _required_env("start-redis.sh") <= set(_env_names(redis_server))
    assert _required_env("start-sentinel.sh") <= set(_env_names(sentinel))
    assert _placeholders(redis_conf(spec)) <= set(_env_names(redis_server))
    # The Sentinel script exports the master it found as MASTER_HOST / MASTER_PORT.
    assert _placeholders(sentinel_conf(spec)) <= set(_env_names(sentinel)) | {"MASTER_HOST", "MASTER_PORT"}
    assert _placeholders(haproxy_cfg(spec, spec.redis_endpoints())) == {"REDIS_PASSWORD"} <= set(_env_names(haproxy))
    for container in (redis_server, sentinel):
        names = _env_names(container)
        # $(POD_NAME) in MY_HOST is expanded only from variables defined before it.
        assert names.index("POD_NAME") < names.index("MY_HOST")
        assert {"secretKeyRef": {"name": "redis-password", "key": "password"}} == next(
            e["valueFrom"] for e in container["env"] if e["name"] == "REDIS_PASSWORD")


def test_config_maps_carry_the_rendered_configs_and_the_shipped_scripts_where_the_pods_read_them():
    objects = manifests.objects(PROD)
    scripts = _by(objects, "ConfigMap", "redis-scripts")["data"]
    assert scripts == {p.name: p.read_text() for p in manifests.SCRIPTS_DIR.glob("*.sh")}
    assert set(scripts) == {"discover.sh", "start-redis.sh", "start-sentinel.sh", "health.sh"}
    assert _by(objects, "ConfigMap", "redis-config")["data"] == {"redis.conf": redis_conf(PROD)}
    assert _by(objects, "ConfigMap", "redis-sentinel-config")["data"] == {"sentinel.conf": sentinel_conf(PROD)}
    assert _by(objects, "ConfigMap", "redis-haproxy-config")["data"] == {
        "haproxy.cfg": haproxy_cfg(PROD, PROD.redis_endpoints())}
    for workload, container_name, config_map in (
            (_by(objects, "StatefulSet", "redis"), "redis", "redis-config"),
            (_by(objects, "StatefulSet", "redis-sentinel"), "sentinel", "redis-sentinel-config")):
        pod = workload["spec"]["template"]["spec"]
        container = _container(workload, container_name)
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        env = {e["name"]: e.get("value") for e in container["env"]}
        template_dir, template_key = env["CONFIG_TEMPLATE"].rsplit("/", 1)
        config_volume = next(name for name, path in mounts.items() if path == template_dir)
        assert volumes[config_volume]["configMap"]["name"] == config_map
        assert template_key in _by(objects, "ConfigMap", config_map)["data"]
        assert container["command"] == ["sh", f"{mounts['scripts']}/start-{container_name}.sh"]
        assert volumes["scripts"]["configMap"]["name"] == "redis-scripts"
        # The filled-in config holds the password: a writable, memory-backed volume.
        written = next(name for name, path in mounts.items() if env["CONFIG_FILE"].startswith(path + "/"))
        assert volumes[written]["emptyDir"]["medium"] == "Memory"
        modes = set(re.findall(r"^(\S+)\)$", scripts["health.sh"], re.M)) - {"*"}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            command = container[probe]["exec"]["command"]
            assert command[:2] == ["sh", f"{mounts['scripts']}/health.sh"] and command[2] in modes


def test_config_changes_roll_only_the_pods_that_read_them():
    def checksums(spec: RedisSentinelSpec) -> list[str]:
        return [w["spec"]["template"]["metadata"]["annotations"]["checksum/config"] for w in (
            manifests.redis_statefulset(spec), manifests.sentinel_statefulset(spec), manifests.haproxy_deployment(spec))]

    before = checksums(PROD)
    assert checksums(dataclasses.replace(PROD, maxmemory_policy="allkeys-lfu"))[1:] == before[1:]
    assert checksums(dataclasses.replace(PROD, maxmemory_policy="allkeys-lfu"))[0] != before[0]
    assert checksums(dataclasses.replace(PROD, down_after_ms=3000)) == [before[0], checksums(
        dataclasses.replace(PROD, down_after_ms=3000))[1], before[2]] and checksums(
        dataclasses.replace(PROD, down_after_ms=3000))[1] != before[1]


def test_images_come_from_the_pins_table():
    objects = manifests.objects(PROD)
    images = {c["name"]: (c["image"], c["imagePullPolicy"]) for o in objects if o["kind"] in ("StatefulSet", "Deployment")
              for c in o["spec"]["template"]["spec"]["containers"]}
    assert images == {"redis": (IMAGES["valkey"].ref, "Always"), "exporter": (IMAGES["redis-exporter"].ref, "Always"),
                      "sentinel": (IMAGES["valkey"].ref, "Always"), "haproxy": (IMAGES["haproxy"].ref, "Always")}
    assert IMAGES["valkey"].tag.startswith("8.1.") and IMAGES["haproxy"].tag.startswith("3.2.")


@pytest.mark.parametrize("spec", [DEV, PROD], ids=["dev", "prod"])
def test_pods_are_restricted_spread_and_budgeted(spec):
    objects = manifests.objects(spec)
    workloads = [o for o in objects if o["kind"] in ("StatefulSet", "Deployment")]
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
            assert context["capabilities"] == {"drop": ["ALL"]} and context["runAsUser"] >= 10000
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}
            limits, requests = container["resources"]["limits"], container["resources"]["requests"]
            assert set(limits) == set(requests) == {"cpu", "memory"}
        anti = pod["affinity"]["podAntiAffinity"]
        hard = "requiredDuringSchedulingIgnoredDuringExecution" in anti
        assert hard is spec.require_separate_nodes and len(anti) == 1
    statefulsets = [w for w in workloads if w["kind"] == "StatefulSet"]
    assert [w["spec"]["replicas"] for w in statefulsets] == [spec.replicas + 1, spec.sentinels]
    assert all(w["spec"]["podManagementPolicy"] == "Parallel" for w in statefulsets)
    haproxy = _by(objects, "Deployment", "redis-haproxy")["spec"]
    assert haproxy["replicas"] == 2 and haproxy["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    budgets = {o["metadata"]["name"]: o["spec"]["maxUnavailable"] for o in objects if o["kind"] == "PodDisruptionBudget"}
    assert budgets == {"redis": 1, "redis-sentinel": 1, "redis-haproxy": 1}
    five = manifests.pod_disruption_budgets(dataclasses.replace(spec, sentinels=5))
    assert [b["spec"]["maxUnavailable"] for b in five] == [1, 2, 1]


def test_services_give_stable_names_and_the_master_endpoint():
    objects = manifests.objects(PROD)
    services = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "Service"}
    assert services["redis"]["selector"] == manifests.selector(PROD, "haproxy")
    assert services["redis"]["ports"][0] == {"name": "redis", "port": 6379, "targetPort": "redis", "protocol": "TCP"}
    for headless in ("redis-headless", "redis-sentinel-headless"):
        assert services[headless]["clusterIP"] == "None" and services[headless]["publishNotReadyAddresses"] is True
    assert str(PROD.master_endpoint()) == "redis.langgraph.svc.cluster.local:6379"
    assert [str(e) for e in PROD.redis_endpoints()] == [
        f"redis-{i}.redis-headless.langgraph.svc.cluster.local:6379" for i in range(3)]
    assert str(PROD.sentinel_endpoints()[2]) == "redis-sentinel-2.redis-sentinel-headless.langgraph.svc.cluster.local:26379"
    assert _by(objects, "StatefulSet", "redis")["spec"]["serviceName"] == "redis-headless"
    servers = re.findall(r"^    server (\S+) (\S+)$", haproxy_cfg(PROD, PROD.redis_endpoints()), re.M)
    assert servers == [(f"redis-{i}", str(e)) for i, e in enumerate(PROD.redis_endpoints())]


def test_network_policies_admit_exactly_the_groups_flows():
    policies = {o["metadata"]["name"]: o["spec"] for o in manifests.objects(PROD) if o["kind"] == "NetworkPolicy"}
    redis_pods, sentinel_pods, haproxy_pods = ({"podSelector": {"matchLabels": manifests.selector(PROD, c)}}
                                               for c in manifests.COMPONENTS)
    app = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "langgraph"}}}
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}

    def flows(rules: list[dict], peers_key: str) -> set[tuple[str, int]]:
        return {(yaml.safe_dump(peer), port["port"]) for rule in rules for peer in rule[peers_key] for port in rule["ports"]}

    def expected(*pairs: tuple[dict, int]) -> set[tuple[str, int]]:
        return {(yaml.safe_dump(peer), port) for peer, port in pairs}

    assert flows(policies["redis"]["ingress"], "from") == expected(
        (redis_pods, 6379), (sentinel_pods, 6379), (haproxy_pods, 6379), (monitoring, 9121))
    assert flows(policies["redis-sentinel"]["ingress"], "from") == expected(
        (sentinel_pods, 26379), (redis_pods, 26379), (app, 26379), (monitoring, 9121))
    assert flows(policies["redis-haproxy"]["ingress"], "from") == expected((app, 6379), (monitoring, 8404))
    dns = {port["port"] for port in policies["redis"]["egress"][0]["ports"]}
    assert dns == {53}
    assert flows(policies["redis-haproxy"]["egress"][1:], "to") == expected((redis_pods, 6379))
    assert flows(policies["redis"]["egress"][1:], "to") == expected((redis_pods, 6379), (sentinel_pods, 26379))
    assert flows(policies["redis-sentinel"]["egress"][1:], "to") == expected((redis_pods, 6379), (sentinel_pods, 26379))
    assert all(p["policyTypes"] == ["Ingress", "Egress"] for p in policies.values())


def test_maxmemory_follows_the_memory_limit_and_quorum_is_a_majority():
    assert MAXMEMORY_FRACTION == 0.7
    assert PROD.maxmemory_bytes == int(3 * 2**30 * 0.7) and f"maxmemory {PROD.maxmemory_bytes}\n" in redis_conf(PROD)
    assert DEV.maxmemory_bytes == int(512 * 2**20 * 0.7)
    assert [dataclasses.replace(PROD, sentinels=n).quorum for n in (3, 5, 7)] == [2, 3, 4]
    assert "sentinel monitor langgraph ${MASTER_HOST} ${MASTER_PORT} 2\n" in sentinel_conf(PROD)
    conf = redis_conf(PROD)
    for line in ("maxmemory-policy allkeys-lru", "save 900 1", "save 300 10", "save 60 10000", "tcp-keepalive 60",
                 "timeout 300", "requirepass ${REDIS_PASSWORD}", "masterauth ${REDIS_PASSWORD}",
                 "replica-announce-ip ${MY_HOST}", "min-replicas-to-write 1"):
        assert f"\n{line}\n" in conf
    assert "\nmin-replicas-to-write 0\n" in redis_conf(DEV)
    for line in ("sentinel down-after-milliseconds langgraph 5000", "sentinel failover-timeout langgraph 10000",
                 "sentinel parallel-syncs langgraph 1", "sentinel resolve-hostnames yes",
                 "sentinel announce-hostnames yes", "sentinel auth-pass langgraph ${REDIS_PASSWORD}"):
        assert f"\n{line}\n" in sentinel_conf(PROD)


def test_haproxy_admits_only_a_master_that_takes_writes():
    with_two = haproxy_cfg(PROD, PROD.redis_endpoints())
    assert "tcp-check expect rstring role:master\\r\\nconnected_slaves:[0-9]+\\r\\nmin_slaves_good_slaves:[1-9]\n" in with_two
    # With one replica min-replicas-to-write is off, so role:master alone says the server takes writes.
    assert "tcp-check expect string role:master\n" in haproxy_cfg(DEV, DEV.redis_endpoints())
    assert "on-marked-down shutdown-sessions" in with_two and "monitor fail if { nbsrv(redis_master) gt 1 }" in with_two


@pytest.mark.parametrize("change, message", [
    ({"sentinels": 4}, "sentinels=4"),
    ({"sentinels": 1}, "sentinels=1"),
    ({"replicas": 0}, "replicas=0"),
    ({"save": ("900",)}, "save rules ['900']"),
    ({"redis_resources": Resources("1", "1", "2GB")}, "redis memory: '2GB' is not"),
    ({"redis_resources": Resources("1", "1", "1Ki")}, "less than 1 MiB"),
    ({"name": "Redis_Cache"}, "name 'Redis_Cache'"),
    ({"master_name": "a b"}, "master_name 'a b'"),
])
def test_bad_parameters_are_refused_with_their_name(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        dataclasses.replace(PROD, **change)
