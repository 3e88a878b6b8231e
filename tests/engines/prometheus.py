"""A real Prometheus (Debian's `prometheus` 2.42) on 127.0.0.1 scraping static targets, with rules
and an Alertmanager if given.

The config is plain data built here. A target may carry the `namespace` and `pod` labels the
Prometheus operator's relabelling gives a scraped pod, so that rules and dashboards grouping by them
see what they would see in the cluster; one without them keeps the labels its series carry.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .procs import free_port, http_ok, start, stop_pid, wait_started


@dataclass(frozen=True)
class Target:
    """One scrape target (host:port, metrics on /metrics) and the pod it stands for, if any."""

    job: str
    address: str
    namespace: str | None = None
    pod: str | None = None


@dataclass(frozen=True)
class PrometheusSettings:
    """What the test's Prometheus loads: targets, the rules file text (empty: no rules), Alertmanagers (host:port)."""

    targets: tuple[Target, ...]
    rules: str = ""
    alertmanagers: tuple[str, ...] = ()
    interval: str = "1s"
    """Scrape and evaluation interval: seconds, so that rates and `for`s pass within a test."""
    resend_delay: str = "1s"
    """How often a firing alert is sent again (Prometheus' default is 1m). Alerts that fire before
    Prometheus has set up its Alertmanager list are dropped, not queued: the Watchdog, firing on the
    first evaluation, would otherwise reach Alertmanager only a minute later."""


def _static_config(target: Target) -> dict:
    labels = {name: value for name, value in (("namespace", target.namespace), ("pod", target.pod)) if value}
    return {"targets": [target.address], **({"labels": labels} if labels else {})}


def config(settings: PrometheusSettings, rules_path: Path) -> dict:
    """prometheus.yml as data: one job per distinct `job`, a static config per target."""
    jobs: dict[str, list[dict]] = {}
    for target in settings.targets:
        jobs.setdefault(target.job, []).append(_static_config(target))
    document: dict = {
        "global": {"scrape_interval": settings.interval, "evaluation_interval": settings.interval},
        "rule_files": [str(rules_path)],
        "scrape_configs": [{"job_name": job, "static_configs": statics} for job, statics in jobs.items()],
    }
    if settings.alertmanagers:
        document["alerting"] = {"alertmanagers": [
            {"api_version": "v2", "static_configs": [{"targets": list(settings.alertmanagers)}]}]}
    return document


@dataclass
class PrometheusServer:
    """A running Prometheus; the query helpers read its HTTP API."""

    directory: Path
    port: int
    process: subprocess.Popen
    targets: tuple[Target, ...]

    @property
    def log(self) -> Path:
        return self.directory / "prometheus.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, **params: str) -> dict | list:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=10) as response:
            body = json.load(response)
        if body["status"] != "success":
            raise RuntimeError(f"Prometheus API {path}: {body}")
        return body["data"]

    def query(self, promql: str) -> list[dict]:
        """Instant vector result of `promql` now: [{"metric": {...}, "value": [ts, "v"]}]."""
        return self.api("query", query=promql)["result"]

    def finite_values(self, promql: str) -> list[float]:
        """The finite sample values `promql` returns now (NaN and ±Inf are what Grafana shows as no value)."""
        return [v for v in (float(r["value"][1]) for r in self.query(promql)) if math.isfinite(v)]

    def active_targets(self) -> list[dict]:
        return self.api("targets", state="active")["activeTargets"]

    def all_up(self) -> bool:
        """Every target scraped and up."""
        targets = self.active_targets()
        return len(targets) == len(self.targets) and all(t["health"] == "up" for t in targets)

    def rules(self) -> list[dict]:
        """Every loaded rule with its health, lastError and (for alerts) its alerts."""
        return [rule for group in self.api("rules")["groups"] for rule in group["rules"]]

    def alerts(self) -> list[dict]:
        """Pending and firing alerts: [{"labels", "annotations", "state", ...}]."""
        return self.api("alerts")["alerts"]

    def cleanup(self) -> None:
        stop_pid(self.process.pid)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_prometheus(settings: PrometheusSettings) -> PrometheusServer:
    """Write the rules and config, refuse them if promtool does, start Prometheus and wait until it serves."""
    directory = Path(tempfile.mkdtemp(prefix="lg-prometheus-"))
    rules_path = directory / "rules.yml"
    rules_path.write_text(settings.rules)
    config_path = directory / "prometheus.yml"
    config_path.write_text(json.dumps(config(settings, rules_path), indent=2))  # JSON is YAML
    checked = subprocess.run(["promtool", "check", "config", str(config_path)], capture_output=True, text=True)
    if checked.returncode:
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"promtool refuses the test's Prometheus config: {checked.stdout}{checked.stderr}")
    port = free_port()
    process = start(["prometheus", f"--config.file={config_path}", f"--storage.tsdb.path={directory / 'data'}",
                     f"--web.listen-address=127.0.0.1:{port}", f"--rules.alert.resend-delay={settings.resend_delay}"],
                    directory / "prometheus.log")
    server = PrometheusServer(directory, port, process, settings.targets)
    wait_started(process, server.log, lambda: http_ok(port, "/-/ready"), what="Prometheus ready", timeout=30,
                 cleanup=server.cleanup)
    return server
