"""Auto-recovery, end to end: a real Alertmanager posts alerts to the recovery service, started as a real
process (`python -m recovery`), which acts on a recorded Kubernetes API and a real Redis Sentinel group.

The Kubernetes API is recorded, not real (no API server runs here): `tests/engines/kube_api.py` serves
the objects of `tests/data/recovery/objects.json`, written in the shape the API server returns them,
applies merge patches with resourceVersion conflicts, and records every request. The service reaches
it through the official `kubernetes` client and a kubeconfig, as it would reach a cluster.

The Redis group is real (`tests/engines/redis.py`: master, two replicas, three Sentinels, HAProxy,
from the shipped configs). Two Sentinels are killed, then the master: the last Sentinel sees the
master down but cannot reach a quorum, so nothing fails over until the service forces it.

Phases, in file order on shared fixtures: the service in dry-run mode receives every alert (Events
and audit lines, no mutating call, the master stays down); it is stopped and started again live on
the same port, Alertmanager re-sends the still-firing alerts, the service acts once per alert, and
the re-sends that follow within the rate-limit window do nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import yaml

from components import recovery as component
from components.monitoring.alertmanager import RoutingParams, Webhook, alertmanager_config
from components.monitoring.rules import RuleParams, alert_names
from components.redis.sentinel_config import RedisSentinelSpec, Resources
from recovery.actions import Remediator, parse_flag_list
from recovery.kube import Kube, api_client
from recovery.payload import Alert
from recovery.ratelimit import RateLimiter
from recovery.sentinel import Sentinels
from recovery.settings import Autoscaler, RateLimit, Settings, SettingsError, parse_settings
from reference_app.refapp.disabled import parse_disabled
from tests.engines.alertmanager import start_alertmanager
from tests.engines.kube_api import RecordedKubeApi
from tests.engines.procs import free_port, port_open, start, stop_pid, wait_for, wait_started
from tests.engines.redis import PASSWORD, RedisGroup
from tests.test_manifests import kubernetes_validate

ROOT = Path(__file__).resolve().parent.parent
OBJECTS = json.loads((ROOT / "tests" / "data" / "recovery" / "objects.json").read_text())
NAMESPACE, DATA_NAMESPACE = "langgraph", "langgraph-data"
SA_TOKEN, WEBHOOK_TOKEN = "fake-service-account-token", "fake-webhook-token-0123456789"
POD = "langgraph-6d8f9b7c5d-x7k2p"
CONFIG_MAP = "langgraph-disabled-graphs"
REDIS = RedisSentinelSpec(name="redis", namespace=DATA_NAMESPACE, password_secret="redis-password",
                          redis_resources=Resources("100m", "500m", "256Mi"), down_after_ms=1000)
HPA_PATH = f"/apis/autoscaling/v2/namespaces/{NAMESPACE}/horizontalpodautoscalers"
SO_PATH = f"/apis/keda.sh/v1alpha1/namespaces/{NAMESPACE}/scaledobjects/langgraph-queue"
CM_PATH = f"/api/v1/namespaces/{NAMESPACE}/configmaps/{CONFIG_MAP}"
POD_PATH = f"/api/v1/namespaces/{NAMESPACE}/pods/{POD}"
EVENTS_PATH = f"/apis/events.k8s.io/v1/namespaces/{NAMESPACE}/events"


def spec(sentinel_addresses: tuple[str, ...] = ("localhost:26379",)) -> component.RecoverySpec:
    """What the platform would render for the app tier: API and queue Deployments, the API's HPA and the
    workers' ScaledObject (cap 13 with step 2 from 12: the cap clips the step), the Sentinels, the flag."""
    return component.RecoverySpec(
        namespace=NAMESPACE, image="registry.example.com/langgraph-recovery:1.0.0", monitoring_namespace="monitoring",
        api_server_cidrs=("10.0.0.0/16",), dry_run=True, rate_limit=RateLimit(1, 3600),
        restart_deployments=("langgraph", "langgraph-queue"),
        autoscalers=(Autoscaler("langgraph", 10), Autoscaler("keda-hpa-langgraph-queue", 13, "langgraph-queue")),
        sentinel=component.SentinelTarget("langgraph", sentinel_addresses, DATA_NAMESPACE,
                                          {"app.kubernetes.io/instance": "redis", "app.kubernetes.io/component": "sentinel"}),
        disabled_graphs_config_map=CONFIG_MAP)


def local_settings(directory: Path, addresses: tuple[str, ...], dry_run: bool) -> Settings:
    """The component's settings with the files where this test keeps them instead of the pod's mounts."""
    settings = spec(addresses).settings()
    return dataclasses.replace(
        settings, dry_run=dry_run, webhook_token_file=str(directory / "webhook-token"),
        sentinel_failover=dataclasses.replace(settings.sentinel_failover, password_file=str(directory / "redis-password")))


def alert(name: str, severity: str, family: str, **labels: str) -> dict:
    return {"labels": {"alertname": name, "severity": severity, "family": family, **labels},
            "annotations": {"summary": name, "description": name, "runbook_url": f"https://runbooks.example.com/{name}.md"}}


# The alerts as the platform's rules label them (components/monitoring/rules.py); the pod is the recorded one.
ALERTS = [
    alert("LangGraphPodCrashLooping", "warning", "pods", namespace=NAMESPACE, pod=POD, container="langgraph"),
    alert("LangGraphAutoscalerAtMax", "warning", "capacity", namespace=NAMESPACE, horizontalpodautoscaler="langgraph"),
    alert("LangGraphAutoscalerAtMax", "warning", "capacity", namespace=NAMESPACE,
          horizontalpodautoscaler="keda-hpa-langgraph-queue"),
    alert("RedisNoMaster", "critical", "redis", namespace=DATA_NAMESPACE),
    alert("LangGraphHighErrorRate", "critical", "graph-executions", graph_name="support_ticket"),
]
# (alert, target) of each decision the alerts above lead to.
TARGETS = {("LangGraphPodCrashLooping", POD), ("LangGraphAutoscalerAtMax", "langgraph"),
           ("LangGraphAutoscalerAtMax", "langgraph-queue"), ("RedisNoMaster", "langgraph"),
           ("LangGraphHighErrorRate", "support_ticket")}


def post(port: int, path: str, body: object, token: str | None = WEBHOOK_TOKEN) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def audit_lines(log: Path) -> list[dict]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "remediation"]


class Service:
    """The recovery service as a process, restartable on the same port with other settings."""

    def __init__(self, directory: Path, kubeconfig: Path):
        self.directory, self.kubeconfig, self.port = directory, kubeconfig, free_port()
        self.process: subprocess.Popen | None = None
        self.log: Path | None = None

    def start(self, settings: Settings, phase: str) -> None:
        config = self.directory / f"{phase}.json"
        config.write_text(settings.to_json())
        self.log = self.directory / f"{phase}.log"
        env = {"PATH": os.environ["PATH"], "RECOVERY_CONFIG": str(config), "HOST": "127.0.0.1",
               "PORT": str(self.port), "KUBECONFIG": str(self.kubeconfig), "POD_NAME": f"langgraph-recovery-{phase}"}
        self.process = start([sys.executable, "-m", "recovery"], self.log, cwd=ROOT, env=env)
        wait_started(self.process, self.log, lambda: port_open(self.port),
                     what=f"the {phase} recovery service listening", timeout=20, cleanup=self.stop)

    def stop(self) -> None:
        if self.process:
            stop_pid(self.process.pid)
            self.process = None


@pytest.fixture(scope="module")
def directory(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("recovery")
    (directory / "webhook-token").write_text(WEBHOOK_TOKEN + "\n")
    (directory / "redis-password").write_text(PASSWORD + "\n")
    return directory


@pytest.fixture(scope="module")
def kube_api():
    api = RecordedKubeApi(OBJECTS, SA_TOKEN).start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def redis_group(tmp_path_factory):
    group = RedisGroup.build(REDIS, tmp_path_factory.mktemp("redis-group"))
    group.start_servers_first()
    yield group
    group.stop()


@pytest.fixture(scope="module")
def addresses(redis_group) -> tuple[str, ...]:
    return tuple(node.address for node in redis_group.sentinels)


@pytest.fixture(scope="module")
def master_lost(redis_group, addresses, directory, kube_api) -> str:
    """While the group is healthy the service refuses to fail over; then two Sentinels and the master are
    killed, and the last Sentinel reports the master down without the quorum to replace it. Returns the
    old master's address."""
    master = redis_group.wait_ready()
    remediator = Remediator(local_settings(directory, addresses, dry_run=False), Kube(api_client_for(kube_api, directory)),
                            Sentinels(addresses, REDIS.master_name, PASSWORD))
    healthy = remediator.handle(Alert("RedisNoMaster", "firing", {"namespace": DATA_NAMESPACE}, "x"))
    assert (healthy.outcome, healthy.action) == ("skipped", "sentinel_failover")
    assert "reports master" in healthy.detail and "up" in healthy.detail
    for node in [*redis_group.sentinels[:2], master]:
        node.kill(signal.SIGKILL)
    last = redis_group.sentinels[2].client()

    def reported_down() -> bool:
        state = last.execute_command("SENTINEL", "MASTER", REDIS.master_name)
        flags = state["flags"] if isinstance(state, dict) else dict(zip(state[::2], state[1::2]))["flags"]
        return "s_down" in str(flags)

    wait_for(reported_down, timeout=10, what="the last Sentinel reporting the master down")
    return master.address


def api_client_for(kube_api: RecordedKubeApi, directory: Path):
    os.environ["KUBECONFIG"] = str(kube_api.kubeconfig(directory / "kubeconfig"))
    try:
        return api_client()
    finally:
        del os.environ["KUBECONFIG"]


def _alertmanager_config(directory: Path, service_port: int, closed: int) -> dict:
    """The platform's routing (components/monitoring/alertmanager.py) with the recovery route first and
    its receiver, as the platform wires them, with fast timings. The other receivers point at a closed
    port: their deliveries fail, which changes nothing here."""
    nowhere = Webhook(f"http://127.0.0.1:{closed}/")
    config = alertmanager_config(RoutingParams(pager=nowhere, chat=nowhere, deadman=nowhere))
    recovery_spec = spec()
    receiver = component.alertmanager_receiver(recovery_spec, str(directory / "webhook-token"))
    receiver["webhook_configs"][0]["url"] = f"http://127.0.0.1:{service_port}/alerts"
    config["route"]["routes"].insert(0, component.alertmanager_route(recovery_spec, "0s", "1s", "1s"))
    config["receivers"].append(receiver)
    return config


@pytest.fixture(scope="module")
def running(directory, kube_api, master_lost, addresses):
    """Alertmanager 0.25 and the service (dry-run first); yields (service, Alertmanager's port)."""
    service = Service(directory, kube_api.kubeconfig(directory / "kubeconfig"))
    config = yaml.safe_dump(_alertmanager_config(directory, service.port, free_port()), sort_keys=False)
    try:
        service.start(local_settings(directory, addresses, dry_run=True), "dry-run")
        alertmanager = start_alertmanager(config)
        try:
            yield service, alertmanager.port
        finally:
            alertmanager.cleanup()
    finally:
        service.stop()


def post_to_alertmanager(port: int, alerts: list[dict]) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/alerts", data=json.dumps(alerts).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=5).close()


def outcomes(log: Path, outcome: str) -> set[tuple[str, str]]:
    return {(line["alert"], line["target"]) for line in audit_lines(log) if line["outcome"] == outcome}


@pytest.fixture(scope="module")
def dry_run(running, kube_api, redis_group, master_lost):
    """Every alert through Alertmanager to the dry-run service; the requests it made."""
    service, alertmanager_port = running
    post_to_alertmanager(alertmanager_port, ALERTS)
    wait_for(lambda: outcomes(service.log, "dry_run") >= TARGETS, timeout=20,
             what="a dry-run decision for every alert")
    made = list(kube_api.requests)
    return made, audit_lines(service.log)


@pytest.fixture(scope="module")
def live(dry_run, running, kube_api, directory, addresses, redis_group):
    """The same service restarted live on the same port: Alertmanager's re-sends reach it; then the
    re-sends after the first action of each alert are refused by the rate limit."""
    service, _ = running
    # As two minutes into a real outage (RedisNoMaster's `for`): the Sentinel has re-read the replicas'
    # INFO since they lost the master. Until it has, it finds no replica fresh enough to promote
    # (NOGOODSLAVE): it reads a replica's INFO every 10 s, every second once one reports its link down.
    wait_for(lambda: replicas_saw_master_go(redis_group.sentinels[2]), timeout=15,
             what="the Sentinel's view of the replicas' lost link")
    before = len(kube_api.requests)
    service.stop()
    service.start(local_settings(directory, addresses, dry_run=False), "live")
    wait_for(lambda: outcomes(service.log, "done") >= TARGETS, timeout=20, what="a live action for every alert")
    wait_for(lambda: outcomes(service.log, "rate_limited") >= TARGETS, timeout=20,
             what="a rate-limited re-send of every alert")
    return kube_api.requests[before:], audit_lines(service.log)


def replicas_saw_master_go(sentinel) -> bool:
    replicas = sentinel.client().execute_command("SENTINEL", "REPLICAS", REDIS.master_name)
    states = [state if isinstance(state, dict) else dict(zip(state[::2], state[1::2])) for state in replicas]
    return len(states) == 2 and all(int(state["master-link-down-time"]) > 0 for state in states)


def summary(requests) -> list[tuple[str, str]]:
    return sorted((r.method, r.path) for r in requests)


# --- the service's HTTP contract ------------------------------------------------------------------

def test_the_webhook_refuses_callers_without_the_token(running, kube_api):
    service, _ = running
    payload = {"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": ALERTS[0]["labels"]}]}
    assert post(service.port, "/alerts", payload, token=None)[0] == 401
    assert post(service.port, "/alerts", payload, token="not-the-token")[0] == 401
    assert post(service.port, "/alerts", {"version": "3", "alerts": []})[0] == 400
    assert not any(r.path == POD_PATH for r in kube_api.requests)


def test_unknown_alerts_are_ignored_and_logged(running, kube_api):
    service, _ = running
    before = len(kube_api.requests)
    payload = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "SomethingElse", "namespace": NAMESPACE, "pod": POD}},
        {"status": "firing", "labels": {**ALERTS[0]["labels"], "pod": "kube-proxy-abcde"}},
        {"status": "resolved", "labels": ALERTS[4]["labels"]}]}
    code, answer = post(service.port, "/alerts", payload)
    assert code == 200
    assert [(d["alert"], d["outcome"]) for d in answer["decisions"]] == [
        ("SomethingElse", "ignored"), ("LangGraphPodCrashLooping", "ignored"), ("LangGraphHighErrorRate", "ignored")]
    assert kube_api.requests[before:] == []
    logged = [line for line in audit_lines(service.log) if line["outcome"] == "ignored"]
    assert {"SomethingElse", "LangGraphPodCrashLooping", "LangGraphHighErrorRate"} <= {line["alert"] for line in logged}


# --- dry run --------------------------------------------------------------------------------------

def test_dry_run_reads_and_records_events_but_changes_nothing(dry_run, redis_group, master_lost):
    requests, audit = dry_run
    assert [r for r in requests if r.mutating and r.path != EVENTS_PATH] == []
    events = [r.body for r in requests if r.method == "POST"]
    assert sorted((e["action"], e["regarding"]["name"]) for e in events) == sorted([
        ("RestartPod", POD), ("RaiseAutoscalerMax", "langgraph"), ("RaiseAutoscalerMax", "langgraph-queue"),
        ("SentinelFailover", "langgraph-recovery"), ("DisableGraph", CONFIG_MAP)])
    assert {(e["reason"], e["type"]) for e in events} == {("RemediationDryRun", "Normal")}
    lines = [line for line in audit if line["outcome"] == "dry_run"]
    assert {(line["alert"], line["target"]) for line in lines} == TARGETS
    assert all(line["dry_run"] is True and line["detail"].startswith("would ") for line in lines)
    # Nothing failed over: the last Sentinel still names the dead master, and no replica was promoted.
    assert redis_group.sentinel_views()[2] == master_lost and redis_group.masters() == []


# --- live -----------------------------------------------------------------------------------------

def test_each_remediation_makes_exactly_its_api_calls(live):
    requests, _ = live
    assert all(r.authorization == f"Bearer {SA_TOKEN}" for r in requests)
    mutating = [r for r in requests if r.mutating and r.path != EVENTS_PATH]
    assert summary(mutating) == sorted([("DELETE", POD_PATH), ("PATCH", f"{HPA_PATH}/langgraph"),
                                        ("PATCH", SO_PATH), ("PATCH", CM_PATH)])
    assert {r.content_type for r in mutating if r.method == "PATCH"} == {"application/merge-patch+json"}
    bodies = {r.path: r.body for r in mutating}
    assert bodies[f"{HPA_PATH}/langgraph"] == {"metadata": {"resourceVersion": "47120"}, "spec": {"maxReplicas": 8}}
    # 12 + step 2 is above the cap of 13: the cap wins.
    assert bodies[SO_PATH] == {"metadata": {"resourceVersion": "47990"}, "spec": {"maxReplicaCount": 13}}
    flag_text = bodies[CM_PATH]["data"]["disabled-graphs"]
    assert bodies[CM_PATH]["metadata"] == {"resourceVersion": "40001"}
    assert re.fullmatch(r"support_ticket  # auto-recovery \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: LangGraphHighErrorRate\n",
                        flag_text)
    # The reference app reads the patched key as exactly this graph disabled.
    assert parse_disabled(flag_text) == frozenset({"support_ticket"})
    reads = [r for r in requests if r.method == "GET"]
    assert summary(reads) == sorted([("GET", f"{HPA_PATH}/langgraph"), ("GET", f"{HPA_PATH}/keda-hpa-langgraph-queue"),
                                     ("GET", SO_PATH), ("GET", CM_PATH)])


def test_every_action_records_an_event_that_the_api_accepts(live, tmp_path):
    requests, _ = live
    events = [r.body for r in requests if r.method == "POST"]
    assert len(events) == 5 and {(e["reason"], e["type"]) for e in events} == {("RemediationApplied", "Warning")}
    assert {e["reportingInstance"] for e in events} == {"langgraph-recovery-live"}
    files = []
    for index, event in enumerate(events):
        files.append(tmp_path / f"event-{index}.yaml")
        # The API server names it from generateName; the validator wants the name.
        named = {**event, "metadata": {**event["metadata"], "name": f"{event['metadata']['generateName']}x7k2p"}}
        files[-1].write_text(yaml.safe_dump(named))
    result = kubernetes_validate(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_forced_failover_promotes_a_replica(live, redis_group, master_lost):
    redis_group.wait(lambda: len(redis_group.masters()) == 1, 15, "a promoted replica")
    promoted = redis_group.masters()[0]
    assert promoted.address != master_lost
    redis_group.wait(lambda: redis_group.sentinel_views()[2] == promoted.address, 15, "the Sentinel naming it")
    _, audit = live
    done = next(line for line in audit if line["alert"] == "RedisNoMaster" and line["outcome"] == "done")
    assert f"at {master_lost}" in done["detail"] and redis_group.sentinels[2].address in done["detail"]


def test_resends_within_the_window_do_nothing(live):
    requests, audit = live
    # Alertmanager re-sent every alert after the first action; each re-send was refused, and no second
    # mutating call or Event followed.
    assert Counter((r.method, r.path) for r in requests if r.mutating) == Counter(
        {("DELETE", POD_PATH): 1, ("PATCH", f"{HPA_PATH}/langgraph"): 1, ("PATCH", SO_PATH): 1, ("PATCH", CM_PATH): 1,
         ("POST", EVENTS_PATH): 5})
    limited = [line for line in audit if line["outcome"] == "rate_limited"]
    assert {(line["alert"], line["target"]) for line in limited} == TARGETS
    assert all("within 3600s" in line["detail"] for line in limited)


def test_the_role_grants_exactly_the_verbs_used(dry_run, live):
    """Every recorded request is allowed by the rendered Role, and every verb it grants was used."""
    rules = component.role(spec())["rules"]
    used = set()
    for request in [*dry_run[0], *live[0]]:
        group, resource, name = _resource(request.path)
        verb = {"GET": "get", "PATCH": "patch", "DELETE": "delete", "POST": "create"}[request.method]
        allowed = [rule for rule in rules if group in rule["apiGroups"] and resource in rule["resources"]
                   and verb in rule["verbs"] and (name in rule.get("resourceNames", [name]))]
        assert allowed, f"{request.method} {request.path} is not granted"
        used.add((group, resource, verb, name if "resourceNames" in allowed[0] else None))
    granted = {(group, resource, verb, name)
               for rule in rules for group in rule["apiGroups"] for resource in rule["resources"]
               for verb in rule["verbs"] for name in rule.get("resourceNames", [None])}
    assert granted == used


def _resource(path: str) -> tuple[str, str, str | None]:
    parts = path.strip("/").split("/")
    group = "" if parts[0] == "api" else parts[1]
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    assert rest[0] == "namespaces" and rest[1] == NAMESPACE
    return group, rest[2], rest[3] if len(rest) > 3 else None


# --- the same logic in-process, on the recorded API -----------------------------------------------

@pytest.fixture
def fresh_api():
    api = RecordedKubeApi(OBJECTS, SA_TOKEN).start()
    yield api
    api.stop()


def _remediator(api: RecordedKubeApi, tmp_path: Path, **changes) -> Remediator:
    (tmp_path / "webhook-token").write_text(WEBHOOK_TOKEN)
    (tmp_path / "redis-password").write_text(PASSWORD)
    settings = dataclasses.replace(local_settings(tmp_path, ("localhost:1",), dry_run=False), **changes)
    return Remediator(settings, Kube(api_client_for(api, tmp_path)), None)


def _alert(index: int) -> Alert:
    labels = ALERTS[index]["labels"]
    return Alert(labels["alertname"], "firing", dict(labels), "x")


def test_an_autoscaler_at_its_cap_or_no_longer_pinned_is_left_alone(fresh_api, tmp_path):
    remediator = _remediator(fresh_api, tmp_path)
    fresh_api.objects[SO_PATH]["spec"]["maxReplicaCount"] = 13
    at_cap = remediator.handle(_alert(2))
    assert (at_cap.outcome, at_cap.detail) == ("skipped", "ScaledObject langgraph-queue is at its cap: "
                                                          "maxReplicaCount 13 >= 13")
    fresh_api.objects[f"{HPA_PATH}/langgraph"]["status"]["currentReplicas"] = 4
    calmer = remediator.handle(_alert(1))
    assert calmer.outcome == "skipped" and "no longer at its maximum" in calmer.detail
    assert [r for r in fresh_api.requests if r.mutating] == []
    # A skip spends nothing: once pinned again, the same target is acted on.
    fresh_api.objects[f"{HPA_PATH}/langgraph"]["status"]["currentReplicas"] = 6
    assert remediator.handle(_alert(1)).outcome == "done"


def test_a_concurrent_change_fails_the_patch_instead_of_overwriting_it(fresh_api, tmp_path):
    remediator = _remediator(fresh_api, tmp_path)
    original = fresh_api._answer

    def someone_else_first(method, path, body, content_type):
        if method == "PATCH":  # another writer bumps the ConfigMap between our read and our patch
            fresh_api.objects[path]["metadata"]["resourceVersion"] = "40002"
        return original(method, path, body, content_type)

    fresh_api._answer = someone_else_first
    decision = remediator.handle(_alert(4))
    assert decision.outcome == "failed" and "409" in decision.detail
    event = next(r.body for r in fresh_api.requests if r.method == "POST")
    assert (event["reason"], event["type"]) == ("RemediationFailed", "Warning")


def test_disabling_stops_at_the_configured_number_of_graphs(fresh_api, tmp_path):
    remediator = _remediator(fresh_api, tmp_path)
    fresh_api.objects[CM_PATH]["data"] = {"disabled-graphs": "order_refund\n"}
    decision = remediator.handle(_alert(4))
    assert decision.outcome == "skipped" and "1 graph(s) already disabled (order_refund)" in decision.detail
    assert [r for r in fresh_api.requests if r.mutating] == []


def test_a_pod_of_another_workload_is_not_deleted(fresh_api, tmp_path):
    remediator = _remediator(fresh_api, tmp_path)
    for pod in ("langgraph-recovery-5f7d8c9b6-abcde", "redis-0", "langgraph-6d8f9b7c5d-x7k2p-extra"):
        decision = remediator.handle(Alert("LangGraphPodCrashLooping", "firing", {"namespace": NAMESPACE, "pod": pod}, ""))
        assert decision.outcome == "ignored", pod
    other_namespace = remediator.handle(Alert("LangGraphPodCrashLooping", "firing", {"namespace": "kube-system", "pod": POD}, ""))
    assert other_namespace.outcome == "ignored"
    assert fresh_api.requests == []


# --- pure parts ------------------------------------------------------------------------------------

def test_the_rate_limit_window_slides():
    now = [0.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    for _ in range(2):
        assert limiter.allows("k")
        limiter.record("k")
    assert not limiter.allows("k") and limiter.allows("other")
    now[0] = 60.5
    assert limiter.allows("k")


def test_the_flag_list_is_read_as_the_reference_app_reads_it():
    text = "support_ticket  # auto-recovery 2026-01-01T00:00:00Z: X\norder_refund, research\n# note\n\n"
    assert frozenset(parse_flag_list(text)) == parse_disabled(text) == {"support_ticket", "order_refund", "research"}


def test_settings_round_trip_and_refusals():
    settings = spec().settings()
    assert parse_settings(settings.to_json()) == settings
    assert settings.dry_run is True, "dry-run is the default"
    data = json.loads(settings.to_json())
    for change, named in (({"rate_limit": {"max_actions": 0, "window_seconds": 3600}}, "rate_limit.max_actions"),
                          ({"surprise": 1}, "unknown keys"),
                          ({"dry_run": "false"}, "dry_run"),
                          ({"disable_graph": {**data["disable_graph"], "alerts": ["LangGraphPodCrashLooping"]}},
                           "mapped to both")):
        with pytest.raises(SettingsError, match=named):
            parse_settings(json.dumps(data | change))


def test_handled_alerts_exist_in_the_platform_rules():
    """The route and the service key on alert names the rules really define."""
    defined = set(alert_names(RuleParams(runbook_base_url="https://runbooks.example.com/")))
    assert set(spec().settings().alert_names) <= defined


# --- the rendered objects and the Alertmanager config ---------------------------------------------

def test_rendered_objects_pass_kubernetes_validate_strict(tmp_path):
    files = []
    for obj in component.objects(spec(), "token", "password"):
        files.append(tmp_path / f"{obj['kind']}-{obj['metadata']['name']}.yaml")
        files[-1].write_text(yaml.safe_dump(obj))
    result = kubernetes_validate(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    for kind in ("serviceaccount", "role", "rolebinding", "configmap", "secret", "deployment", "service",
                 "networkpolicy"):
        assert f"passed for resource {kind}/" in result.stdout, kind


def test_the_pod_is_restricted_and_reaches_only_what_it_needs():
    deployment = component.deployment(spec())
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True and pod["securityContext"]["runAsNonRoot"]
    assert {"startupProbe", "readinessProbe", "livenessProbe", "resources"} <= set(container)
    policy = component.network_policy(spec())["spec"]
    assert policy["ingress"] == [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                                  "ports": [{"protocol": "TCP", "port": 8080}]}]
    assert [rule["ports"] for rule in policy["egress"]] == [
        [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}],
        [{"protocol": "TCP", "port": 26379}]]
    assert policy["egress"][2]["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "sentinel"


def test_the_disabled_graphs_config_map_is_not_owned_by_the_program():
    flag = component.disabled_graphs_config_map(spec())
    assert "data" not in flag and flag["metadata"]["annotations"] == {"flagger.app/config-tracking": "disabled"}


def test_amtool_accepts_the_routing_and_sends_handled_alerts_to_both_receivers(directory, tmp_path):
    config = _alertmanager_config(directory, 8080, 9)
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    check = subprocess.run(["amtool", "check-config", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    def routes(*labels: str) -> str:
        result = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={path}", *labels],
                                capture_output=True, text=True)
        return result.stdout.strip()

    assert routes("alertname=LangGraphHighErrorRate", "severity=critical") == "auto-recovery,pager"
    assert routes("alertname=LangGraphPodCrashLooping", "severity=warning") == "auto-recovery,chat"
    assert routes("alertname=LangGraphHighLatency", "severity=warning") == "chat"


# --- the component under the mock engine -----------------------------------------------------------

def test_the_component_registers_its_objects_with_secrets_kept_secret():
    from stackconfig import PROJECT
    from tools.mock_engine import SECRET, run_program

    secrets = {f"{PROJECT}:sentinel_password": "fake-redis-password", f"{PROJECT}:webhook_token": "fake-token"}
    plan = run_program(ROOT / "tests" / "data" / "recovery" / "program", PROJECT, "dev", secrets, list(secrets))
    webhook = plan.kube_object("Secret", "langgraph-recovery-webhook")
    sentinel = plan.kube_object("Secret", "langgraph-recovery-sentinel")
    assert webhook.inputs["stringData"] == {"token": SECRET} and sentinel.inputs["stringData"] == {"password": SECRET}
    assert plan.outputs["webhook_token"] == SECRET
    assert plan.outputs["webhook_url"] == "http://langgraph-recovery.langgraph.svc:8080/alerts"
    deployment = plan.kube_object("Deployment", "langgraph-recovery")
    needed = {plan.kube_object(kind, name).urn for kind, name in (
        ("Role", "langgraph-recovery"), ("RoleBinding", "langgraph-recovery"), ("ConfigMap", "langgraph-recovery"),
        ("Secret", "langgraph-recovery-webhook"), ("Secret", "langgraph-recovery-sentinel"))}
    assert needed <= set(deployment.dependencies)
    config = parse_settings(plan.kube_object("ConfigMap", "langgraph-recovery").inputs["data"]["config.json"])
    assert config.dry_run is True and config.sentinel_failover.password_file == "/var/run/secrets/recovery/sentinel/password"
    assert "data" not in plan.kube_object("ConfigMap", "langgraph-disabled-graphs").inputs
