"""The Alertmanager config in its real engines: amtool checks it and tests its routes, and a real
Alertmanager delivers to PagerDuty, Slack and webhook endpoints served here, reading every secret
from a file, with the critical inhibiting its family's warning for the same graph."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from components.monitoring.alertmanager import (CHAT, DEADMAN, PAGER, PagerDuty, RoutingParams, Slack, Webhook,
                                                alertmanager_config, alertmanager_config_yaml, secret_file)
from components.monitoring.rules import RuleParams, rule_groups
from tests.engines.alertmanager import start_alertmanager
from tests.engines.procs import wait_for

SECRET = "alertmanager-receivers"
RECEIVER_SETS = {
    "pagerduty+slack": RoutingParams(
        pager=PagerDuty(secret_file(SECRET, "pagerduty-routing-key")),
        chat=Slack(secret_file(SECRET, "slack-webhook-url"), channel="#langgraph-alerts"),
        deadman=Webhook("https://hc-ping.example.com/ping/langgraph", secret_file(SECRET, "deadman-token"))),
    "webhooks": RoutingParams(
        pager=Webhook("https://pager.example.com/hooks/langgraph", secret_file(SECRET, "pager-token")),
        chat=Webhook("https://chat.example.com/hooks/langgraph", secret_file(SECRET, "chat-token")),
        deadman=Webhook("https://hc-ping.example.com/ping/langgraph")),
}


@pytest.fixture(params=sorted(RECEIVER_SETS))
def config_file(request, tmp_path) -> Path:
    path = tmp_path / "alertmanager.yml"
    path.write_text(alertmanager_config_yaml(RECEIVER_SETS[request.param]))
    return path


def amtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["amtool", *args], capture_output=True, text=True)


def test_amtool_accepts_the_config(config_file):
    result = amtool("check-config", str(config_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "3 receivers" in result.stdout and "1 inhibit rules" in result.stdout


def test_amtool_rejects_a_broken_config(tmp_path):
    """The check above can fail: the same config with a receiver the route does not know is refused."""
    config = alertmanager_config(RECEIVER_SETS["webhooks"])
    config["route"]["routes"][1]["receiver"] = "nowhere"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(config))
    assert amtool("check-config", str(path)).returncode != 0


def _alerts_and_severities() -> list[tuple[str, str]]:
    groups = rule_groups(RuleParams(runbook_base_url="https://runbooks.example.com/"))
    return [(r["alert"], r["labels"]["severity"]) for g in groups for r in g["rules"] if "alert" in r]


@pytest.mark.parametrize("labels, receiver", [
    ({"alertname": "LangGraphHighErrorRate", "severity": "critical", "graph_name": "research"}, PAGER),
    ({"alertname": "LangGraphHighLatency", "severity": "warning", "graph_name": "research"}, CHAT),
    ({"alertname": "Watchdog", "severity": "none"}, DEADMAN),
    # The switch must hear the Watchdog whatever severity another rule set gives it.
    ({"alertname": "Watchdog", "severity": "critical"}, DEADMAN),
    # Nothing ends at a null receiver: unknown or missing severities reach a human in chat.
    ({"alertname": "KubeletTooManyPods", "severity": "info"}, CHAT),
    ({"alertname": "SomethingWithoutSeverity"}, CHAT),
])
def test_amtool_routes(config_file, labels, receiver):
    result = amtool("config", "routes", "test", f"--config.file={config_file}",
                    *(f"{k}={v}" for k, v in labels.items()))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receiver


def test_every_rendered_alert_routes_by_its_severity(tmp_path):
    path = tmp_path / "alertmanager.yml"
    path.write_text(alertmanager_config_yaml(RECEIVER_SETS["pagerduty+slack"]))
    expected = {"critical": PAGER, "warning": CHAT, "none": DEADMAN}
    for alert, severity in _alerts_and_severities():
        result = amtool("config", "routes", "test", f"--config.file={path}", f"alertname={alert}",
                        f"severity={severity}")
        assert result.stdout.strip() == expected[severity], (alert, severity, result.stdout)


@pytest.mark.parametrize("name", sorted(RECEIVER_SETS))
def test_secrets_come_from_files_only(name):
    config = alertmanager_config(RECEIVER_SETS[name])
    text = json.dumps(config)
    for inline in ('"routing_key"', '"service_key"', '"api_url"', '"credentials"', '"url_file"'):
        assert inline not in text, f"{inline} inline (or a field Alertmanager 0.25 lacks)"
    files = [value for receiver in config["receivers"] for integrations in receiver.values()
             if isinstance(integrations, list)
             for integration in integrations for key, value in _flatten(integration) if key.endswith("_file")]
    assert files and all(f.startswith(f"/etc/alertmanager/secrets/{SECRET}/") for f in files)
    assert all(len([k for k in receiver if k.endswith("_configs")]) == 1 for receiver in config["receivers"]), \
        "every receiver has exactly one integration: none is a null receiver"


def _flatten(node: dict, prefix: str = ""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield key, value


def test_inhibition_rule_shape():
    """A critical inhibits the warnings of its family for the same graph or namespace, and only ours."""
    (rule,) = alertmanager_config(RECEIVER_SETS["webhooks"])["inhibit_rules"]
    assert rule["source_matchers"] == ['severity="critical"', 'family=~".+"']
    assert rule["target_matchers"] == ['severity="warning"', 'family=~".+"']
    assert rule["equal"] == ["family", "namespace", "graph_name"]
    families = {}
    for group in rule_groups(RuleParams(runbook_base_url="https://runbooks.example.com/")):
        for r in group["rules"]:
            if "alert" in r:
                families.setdefault(r["labels"]["family"], set()).add(r["labels"]["severity"])
    assert {"critical", "warning"} <= families["graph-executions"] and {"critical", "warning"} <= families["slo"]


@pytest.mark.parametrize("change, named", [
    ({"group_wait": "soon"}, "group_wait"),
    ({"pager": PagerDuty("relative/key")}, "routing_key_file"),
    ({"deadman": Webhook("ftp://x")}, "deadman.url"),
])
def test_bad_routing_is_refused(change, named):
    base = dict(pager=PagerDuty("/k"), chat=Slack("/u"), deadman=Webhook("https://x"))
    with pytest.raises(ValueError, match=named):
        RoutingParams(**(base | change))


# --- a real Alertmanager delivering to receivers served by this test -------------------------------------

class _Receivers(BaseHTTPRequestHandler):
    received: list[tuple[str, dict, dict]]

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, dict(self.headers), body))
        reply = b"ok"
        self.send_response(202 if self.path == "/pagerduty" else 200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def receivers():
    handler = type("Handler", (_Receivers,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler.received
    server.shutdown()
    server.server_close()


FAKE_ROUTING_KEY = "fake-routing-key-0123456789abcdef"
FAKE_TOKEN = "fake-deadman-token"


@pytest.fixture(scope="module")
def alertmanager(receivers, tmp_path_factory):
    """Alertmanager 0.25 with PagerDuty, Slack and a webhook, all pointed at the receivers above; the
    routing key, the Slack URL and the bearer token only in files, as mounted from a Secret."""
    port, _ = receivers
    directory = tmp_path_factory.mktemp("alertmanager")
    (directory / "routing-key").write_text(FAKE_ROUTING_KEY)
    (directory / "slack-url").write_text(f"http://127.0.0.1:{port}/slack")
    (directory / "token").write_text(FAKE_TOKEN)
    params = RoutingParams(
        pager=PagerDuty(str(directory / "routing-key"), url=f"http://127.0.0.1:{port}/pagerduty"),
        chat=Slack(str(directory / "slack-url"), channel="#langgraph-alerts"),
        deadman=Webhook(f"http://127.0.0.1:{port}/deadman", credentials_file=str(directory / "token")),
        group_wait="1s", group_interval="1s", deadman_interval="1s", deadman_repeat_interval="2s")
    server = start_alertmanager(alertmanager_config_yaml(params))
    yield server.port
    server.cleanup()


def _get(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        body = response.read()
    return json.loads(body) if body.startswith((b"[", b"{")) else body


def _post_alerts(port: int, alerts: list[dict]) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/alerts", data=json.dumps(alerts).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=5).close()


def _alert(name: str, severity: str, family: str, **labels: str) -> dict:
    return {"labels": {"alertname": name, "severity": severity, "family": family, **labels},
            "annotations": {"summary": f"{name} summary", "description": f"{name} description",
                            "runbook_url": f"https://runbooks.example.com/{name}.md"}}


@pytest.fixture(scope="module")
def delivered(alertmanager, receivers):
    """Post a critical and two warnings of one family (graphs research and support_ticket) and the
    Watchdog; wait until every receiver has heard what it should."""
    _, received = receivers
    _post_alerts(alertmanager, [
        _alert("LangGraphHighErrorRate", "critical", "graph-executions", graph_name="research")])
    _post_alerts(alertmanager, [
        _alert("LangGraphHighLatency", "warning", "graph-executions", graph_name="research"),
        _alert("LangGraphHighLatency", "warning", "graph-executions", graph_name="support_ticket"),
        _alert("Watchdog", "none", "watchdog"),
    ])

    def paths() -> list[str]:
        return [path for path, _, _ in received]

    wait_for(lambda: "/pagerduty" in paths() and "/slack" in paths() and paths().count("/deadman") >= 2,
             timeout=30, what="PagerDuty, Slack and two dead-man's switch deliveries")
    return received


def test_critical_pages_through_pagerduty_with_the_key_from_its_file(delivered):
    pages = [body for path, _, body in delivered if path == "/pagerduty"]
    assert pages and all(page["routing_key"] == FAKE_ROUTING_KEY for page in pages)
    assert {page["payload"]["summary"] for page in pages} == {"LangGraphHighErrorRate: LangGraphHighErrorRate summary"}
    assert pages[0]["links"] == [{"href": "https://runbooks.example.com/LangGraphHighErrorRate.md", "text": "Runbook"}]


def test_warning_goes_to_slack_at_the_url_from_its_file(delivered):
    messages = [body for path, _, body in delivered if path == "/slack"]
    titles = [attachment["title"] for message in messages for attachment in message["attachments"]]
    assert titles == ["[FIRING:1] LangGraphHighLatency (support_ticket)"]
    assert messages[0]["channel"] == "#langgraph-alerts"
    assert "Runbook: https://runbooks.example.com/LangGraphHighLatency.md" in messages[0]["attachments"][0]["text"]


def test_the_critical_inhibits_its_familys_warning_for_the_same_graph(delivered, alertmanager):
    alerts = _get(alertmanager, "/api/v2/alerts?filter=alertname%3D%22LangGraphHighLatency%22")
    state = {a["labels"]["graph_name"]: a["status"] for a in alerts}
    assert state["research"]["state"] == "suppressed" and state["research"]["inhibitedBy"]
    assert state["support_ticket"]["state"] == "active"
    delivered_text = json.dumps([body for path, _, body in delivered if path != "/deadman"])
    assert "(research)" not in delivered_text


def test_watchdog_feeds_the_deadmans_switch_repeatedly(delivered):
    beats = [(headers, body) for path, headers, body in delivered if path == "/deadman"]
    assert len(beats) >= 2
    assert all(headers["Authorization"] == f"Bearer {FAKE_TOKEN}" for headers, _ in beats)
    assert {a["labels"]["alertname"] for _, body in beats for a in body["alerts"]} == {"Watchdog"}
    others = [body for path, _, body in delivered if path in ("/pagerduty", "/slack")]
    assert "Watchdog" not in json.dumps(others)
