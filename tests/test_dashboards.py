"""Dashboards and datasources: their PromQL in real Prometheus tooling, their metric names against
the real exporters (Debian's redis_exporter and postgres_exporter, the official server's own
Prometheus exporter), and the ConfigMaps Grafana's sidecars load."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from components.monitoring import dashboards, datasources
from components.monitoring.dashboard_panels import DATASOURCE_VARIABLE
from tests.engines.exporters import scrape_once
from tests.engines.pg_standby import new_standby
from tests.engines.postgres import new_server
from tests.engines.procs import free_port, port_open, start, stop_pid, wait_for

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("cloudnativepg", "postgres_exporter")
STEP = 2 ** -20
AGGREGATION = r"(?:sum|max|min|avg|count)(?:\s+(?:by|without)\s*\([^()]*\))?\s*\(\s*$"
SETTINGS = datasources.DatasourceSettings(
    elasticsearch_url="https://logs.example.test:9200", jaeger_url="http://traces.example.test:16686",
    elasticsearch_user="grafana", elasticsearch_password_env="ES_PASSWORD", elasticsearch_ca_env="ES_CA")


def all_expressions() -> dict[str, str]:
    """Every query of every dashboard, under both PostgreSQL metric sources ("<source>: <key>")."""
    return {f"{source}: {key}": expr
            for source in SOURCES for key, expr in dashboards.promql_expressions(source).items()}


def metric_names(exposition: str) -> set[str]:
    """Metric names in a Prometheus text exposition."""
    return {re.split(r"[{ ]", line, maxsplit=1)[0] for line in exposition.splitlines() if line and line[0] != "#"}


def used(prefix: str) -> set[str]:
    """Metric names with `prefix` that the dashboards query."""
    return {name for expr in all_expressions().values() for name in re.findall(rf"\b({prefix}[a-z0-9_]+)\b", expr)}


# --- PromQL -----------------------------------------------------------------------------------

def test_every_query_passes_promtool(tmp_path):
    """Each query, as a recording rule, is valid PromQL to Prometheus' own parser."""
    expressions = all_expressions()
    rules = [{"record": f"dashboard:query_{index}", "expr": expr} for index, expr in enumerate(expressions.values())]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_query_listing_covers_every_target_with_variables_resolved():
    for source in SOURCES:
        expressions = dashboards.promql_expressions(source)
        targets = [t for board in dashboards.dashboards(source) for p in dashboards.panels(board) for t in p["targets"]]
        assert len(expressions) == len(targets)
        assert not [expr for expr in expressions.values() if "$" in expr]


def test_seed_panels_compute_per_graph_values(tmp_path):
    """The seed's four panels in `promtool test rules`: graph a fails 1%, graph b 50% over two pods.
    The seed's own queries give 1.0 or nothing for the error rate and one P95 per pod.
    Values are rounded to a power of two (exact in binary): promtool compares floats exactly."""
    expressions = dashboards.promql_expressions()
    panel = {title: f"round({expressions[f'langgraph-executions / {title} / A']}, {STEP})"
             for title in ("Graph execution rate", "Execution duration P95", "Active graphs", "Error rate")}
    record = {title: "seed:" + re.sub(r"\W+", "_", title.lower()) for title in panel}
    (tmp_path / "seed.yaml").write_text(yaml.safe_dump({"groups": [{"name": "seed", "rules": [
        {"record": record[title], "expr": expr} for title, expr in panel.items()]}]}))
    executions, duration = "langgraph_executions_total", "langgraph_execution_duration_seconds_bucket"
    series = [
        (f'{executions}{{graph_name="a", status="success", pod="p1"}}', "0+99x10"),
        (f'{executions}{{graph_name="a", status="error", pod="p1"}}', "0+1x10"),
        (f'{executions}{{graph_name="b", status="success", pod="p1"}}', "0+25x10"),
        (f'{executions}{{graph_name="b", status="success", pod="p2"}}', "0+25x10"),
        (f'{executions}{{graph_name="b", status="error", pod="p2"}}', "0+50x10"),
        # a: every run within 1 s; b: every run between 1 s and 5 s, on two pods.
        *[(f'{duration}{{graph_name="a", pod="p1", le="{le}"}}', "0+10x10") for le in ("1", "5", "+Inf")],
        *[(f'{duration}{{graph_name="b", pod="{pod}", le="{le}"}}', "0+0x10" if le == "1" else "0+10x10")
          for pod in ("p1", "p2") for le in ("1", "5", "+Inf")],
        ('langgraph_active_graphs{pod="p1"}', "3x10"),
        ('langgraph_active_graphs{pod="p2"}', "4x10"),
    ]
    expected = {
        "Graph execution rate": [({"graph_name": "a", "status": "success"}, 99 / 60),
                                 ({"graph_name": "a", "status": "error"}, 1 / 60),
                                 ({"graph_name": "b", "status": "success"}, 50 / 60),
                                 ({"graph_name": "b", "status": "error"}, 50 / 60)],
        "Execution duration P95": [({"graph_name": "a"}, 0.95), ({"graph_name": "b"}, 1 + 4 * 0.95)],
        "Active graphs": [({}, 7)],
        "Error rate": [({"graph_name": "a"}, 0.01), ({"graph_name": "b"}, 0.5)],
    }
    tests = {"rule_files": ["seed.yaml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": name, "values": values} for name, values in series],
        "promql_expr_test": [{
            "expr": record[title], "eval_time": "10m",
            "exp_samples": [{"labels": record[title] + "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}",
                             "value": math.floor(value / STEP + 0.5) * STEP} for labels, value in samples],
        } for title, samples in expected.items()],
    }]}
    (tmp_path / "seed-test.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = subprocess.run(["promtool", "test", "rules", "seed-test.yaml"], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rates_are_aggregated_and_quantiles_sum_buckets_by_le():
    for key, expr in all_expressions().items():
        for call in re.finditer(r"\b(?:rate|increase)\(", expr):
            assert re.search(AGGREGATION, expr[:call.start()]), f"{key}: unaggregated {expr[call.start():]}"
        for quantile in re.finditer(r"histogram_quantile\(\s*[\d.]+\s*,\s*", expr):
            grouping = re.match(r"sum\s+by\s*\(([^)]*)\)", expr[quantile.end():])
            assert grouping and "le" in [label.strip() for label in grouping.group(1).split(",")], key


def test_error_rate_aggregates_both_sides_by_graph():
    expr = dashboards.promql_expressions()["langgraph-executions / Error rate / A"]
    numerator, denominator = expr.split(" / ")
    assert numerator.startswith("sum by (graph_name) (") and 'status="error"' in numerator
    assert denominator.startswith("sum by (graph_name) (") and "status" not in denominator


def test_p95_is_the_fixed_seed_query():
    expr = dashboards.promql_expressions()["langgraph-executions / Execution duration P95 / A"]
    assert re.sub(r"\{[^}]*\}", "", expr) == \
        "histogram_quantile(0.95, sum by (le, graph_name) (rate(langgraph_execution_duration_seconds_bucket[5m])))"


def test_postgres_source_selects_the_exporters_metrics():
    cnpg = " ".join(dashboards.promql_expressions("cloudnativepg").values())
    exporter = " ".join(dashboards.promql_expressions("postgres_exporter").values())
    assert "cnpg_backends_total" in cnpg and 'cnpg_pg_settings_setting{namespace=~".*", name="max_connections"}' in cnpg
    assert "pg_stat_activity_count" in exporter and "pg_settings_max_connections" in exporter
    assert "cnpg_" not in exporter and "pg_stat_activity_count" not in cnpg
    with pytest.raises(ValueError, match="postgres: 'rds' is not one of cloudnativepg, postgres_exporter"):
        dashboards.data_tier_dashboard("rds")  # type: ignore[arg-type]


# --- Dashboard structure ---------------------------------------------------------------------

@pytest.mark.parametrize("source", SOURCES)
def test_panels_are_current_types_with_unique_ids(source):
    boards = dashboards.dashboards(source)
    uids = [board["uid"] for board in boards]
    assert len(set(uids)) == len(uids) and all(len(uid) <= 40 for uid in uids)  # Grafana's uid limit
    for board in boards:
        ids = [panel["id"] for panel in board["panels"]]
        assert len(set(ids)) == len(ids), board["uid"]
        for panel in dashboards.panels(board):
            assert panel["type"] in ("timeseries", "stat"), (board["uid"], panel["title"], panel["type"])
            assert panel["datasource"] == {"type": "prometheus", "uid": f"${{{DATASOURCE_VARIABLE}}}"}
        variables = {variable["name"] for variable in board["templating"]["list"]}
        assert DATASOURCE_VARIABLE in variables
        exprs = " ".join(t["expr"] for p in dashboards.panels(board) for t in p["targets"])
        assert set(re.findall(r"\$(\w+)", exprs)) <= variables, board["uid"]
    active = [p for p in dashboards.panels(boards[0]) if p["title"] == "Active graphs"]
    assert [p["type"] for p in active] == ["stat"]


def test_template_variables_filter_executions_by_namespace_and_graph():
    board = dashboards.executions_dashboard()
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["graph_name"]["allValue"] == variables["namespace"]["allValue"] == ".*"
    rate = [t["expr"] for p in dashboards.panels(board) if p["title"] == "Graph execution rate" for t in p["targets"]]
    assert 'namespace=~"$namespace"' in rate[0] and 'graph_name=~"$graph_name"' in rate[0]


# --- ConfigMaps -------------------------------------------------------------------------------

@pytest.mark.parametrize("source", SOURCES)
def test_dashboard_config_maps_for_the_sidecar(source):
    maps = dashboards.dashboard_config_maps("monitoring", source)
    boards = dashboards.dashboards(source)
    assert len(maps) == len(boards)
    names = [cm["metadata"]["name"] for cm in maps]
    assert len(set(names)) == len(names)
    values = dashboards.sidecar_values()["dashboards"]
    for cm, board in zip(maps, boards, strict=True):
        metadata = cm["metadata"]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", metadata["name"])
        assert metadata["namespace"] == "monitoring"
        assert metadata["labels"]["grafana_dashboard"] == "1"
        assert metadata["annotations"]["grafana_folder"] == "LangGraph"
        # The chart watches the same label and reads folders from the same annotation.
        assert (values["label"], values["labelValue"], values["folderAnnotation"]) == \
            ("grafana_dashboard", "1", "grafana_folder")
        assert values["provider"]["foldersFromFilesStructure"] is True
        assert len(cm["data"]) == 1  # one dashboard per ConfigMap
        [(key, text)] = cm["data"].items()
        assert key.endswith(".json") and json.loads(text) == board
        assert len(text.encode()) < 256 * 1024  # well under the 1 MiB object limit


# --- Datasources ------------------------------------------------------------------------------

def test_datasource_provisioning_links_traces_and_logs():
    cm = datasources.datasource_config_map(SETTINGS, "monitoring")
    assert cm["metadata"]["labels"]["grafana_datasource"] == "1"
    assert dashboards.sidecar_values()["datasources"] == {"enabled": True, "label": "grafana_datasource",
                                                          "labelValue": "1"}
    text = cm["data"][datasources.PROVISIONING_KEY]
    document = yaml.safe_load(text)
    assert document["apiVersion"] == 1
    by_type = {source["type"]: source for source in document["datasources"]}
    logs, traces = by_type["elasticsearch"], by_type["jaeger"]
    uids = [source["uid"] for source in document["datasources"]]
    assert len(set(uids)) == len(uids) and "prometheus" not in uids  # kube-prometheus-stack's own
    assert (logs["url"], traces["url"]) == (SETTINGS.elasticsearch_url, SETTINGS.jaeger_url)
    assert logs["jsonData"]["index"] == "[langgraph-]YYYY.MM.DD" and logs["jsonData"]["interval"] == "Daily"
    assert logs["jsonData"]["timeField"] == "@timestamp"
    to_logs = traces["jsonData"]["tracesToLogsV2"]
    assert to_logs["datasourceUid"] == logs["uid"] and to_logs["customQuery"] is True
    # Jaeger prints trace ids without leading zeros; the logs have all 32 hex digits.
    assert to_logs["query"] == "trace_id:*$${__trace.traceId}"
    assert logs["jsonData"]["dataLinks"] == [{"field": "trace_id", "datasourceUid": traces["uid"],
                                             "url": "$${__value.raw}", "urlDisplayLabel": "Trace in Jaeger"}]
    # Grafana expands ${NAME} from its environment: every link variable must be escaped as $${...}.
    assert not re.search(r"(?<!\$)\$\{", text)
    assert logs["secureJsonData"] == {"basicAuthPassword": "$ES_PASSWORD", "tlsCACert": "$ES_CA"}
    open_cluster = datasources.elasticsearch_datasource(
        datasources.DatasourceSettings("http://logs.example.test:9200", "http://traces.example.test:16686"))
    assert "secureJsonData" not in open_cluster and "basicAuth" not in open_cluster


@pytest.mark.parametrize("change, field", [
    ({"elasticsearch_url": "logs:9200"}, "elasticsearch_url"),
    ({"jaeger_url": "ftp://traces"}, "jaeger_url"),
    ({"elasticsearch_password_env": "es-password"}, "elasticsearch_password_env"),
    ({"elasticsearch_password_env": None}, "elasticsearch_user"),
])
def test_datasource_settings_refuse_bad_values(change, field):
    values = {**SETTINGS.__dict__, **change}
    with pytest.raises(ValueError, match=field):
        datasources.DatasourceSettings(**values)


# --- Metric names against the real exporters ----------------------------------------------------

@pytest.fixture(scope="module")
def redis_exposition(tmp_path_factory) -> str:
    """redis_exporter 1.45 scraping a real master, its replica and a Sentinel watching them."""
    directory = tmp_path_factory.mktemp("redis")
    master, replica, sentinel = free_port(), free_port(), free_port()
    (directory / "sentinel.conf").write_text(f"port {sentinel}\nbind 127.0.0.1\n"
                                             f"sentinel monitor lg 127.0.0.1 {master} 1\n")
    processes = [
        start(["redis-server", "--port", str(master), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory),
               "--maxmemory", "64mb"], directory / "master.log"),
        start(["redis-server", "--port", str(replica), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory),
               "--replicaof", "127.0.0.1", str(master)], directory / "replica.log"),
        start(["redis-sentinel", str(directory / "sentinel.conf")], directory / "sentinel.log"),
    ]
    try:
        for port in (master, replica, sentinel):
            wait_for(lambda port=port: port_open(port), what=f"redis on {port}")
        return "\n".join(scrape_once(["prometheus-redis-exporter", f"--redis.addr=redis://127.0.0.1:{port}"],
                                      directory / f"exporter-{port}.log") for port in (master, replica, sentinel))
    finally:
        for process in reversed(processes):
            stop_pid(process.pid)


@pytest.fixture(scope="module")
def postgres_exposition() -> str:
    """postgres_exporter 0.11 scraping a real primary with a streaming standby attached."""
    # Durability is not under test: no fsync keeps initdb-to-streaming to a few seconds.
    primary = new_server({"fsync": "off"})
    try:
        standby = new_standby(primary)
        try:
            return scrape_once(["prometheus-postgres-exporter"], primary.directory / "exporter.log",
                               env={**os.environ, "DATA_SOURCE_NAME": primary.dsn() + "?sslmode=disable"})
        finally:
            standby.cleanup()
    finally:
        primary.cleanup()


# Records one sample of every metric the official server defines, then prints what its
# Prometheus exporter serves on /metrics (the server reads REDIS_URI and DATABASE_URI at import).
LANGGRAPH_API_EXPOSITION = """
from langgraph_api import metrics_otlp as m
from prometheus_client import generate_latest
reporter = m.get_otlp_metrics_reporter()
reporter.initialize()
record = {"counter": reporter.inc_counter, "latency": reporter.record_latency,
          "histogram": reporter.record_histogram, "gauge": reporter.record_gauge}
for metric in [v for v in vars(m).values() if isinstance(v, m.MetricDef)]:
    record[metric.metric_type](metric, 1)
print(generate_latest().decode())
"""


@pytest.fixture(scope="module")
def langgraph_api_exposition() -> str:
    python = ROOT / ".venv-langgraph-api" / "bin" / "python"
    env = {"PATH": os.environ["PATH"], "REDIS_URI": "redis://127.0.0.1:1", "DATABASE_URI": "postgres://x@127.0.0.1:1/x"}
    result = subprocess.run([str(python), "-c", LANGGRAPH_API_EXPOSITION], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_redis_metric_names_are_redis_exporters(redis_exposition):
    names = used("redis_")
    assert {"redis_instance_info", "redis_memory_used_bytes", "redis_sentinel_master_ckquorum_status"} <= names
    assert names - metric_names(redis_exposition) == set()
    assert re.search(r'redis_instance_info\{[^}]*role="slave"', redis_exposition)  # the role label's values


def test_postgres_exporter_metric_names_are_real(postgres_exposition):
    names = used("pg_")
    assert {"pg_stat_activity_count", "pg_settings_max_connections", "pg_stat_replication_pg_wal_lsn_diff"} <= names
    assert names - metric_names(postgres_exposition) == set()


def test_server_metric_names_are_what_langgraph_api_serves(langgraph_api_exposition):
    names = used("lg_api_")
    assert {"lg_api_num_pending_runs", "lg_api_workers_active", "lg_api_workers_max"} <= names
    assert names - metric_names(langgraph_api_exposition) == set()
