"""`python -m ops bench` against the reference app as a process on a real PostgreSQL and Redis: a short
profile.

The app runs with N_JOBS_PER_WORKER=2, so its real knee is known: two runs execute at once and a
third client waits for a slot, doubling its latency. The benchmark must find exactly that knee,
see the app's own `langgraph_active_graphs` gauge top out at 2, and turn the knee into capacity
inputs and the HPA range of the program's capacity model. Every run goes through Redis (its thread's
run lock), as the official server's runs do. The pure parts (percentiles, the knee
rule, the steps, the gauge scrape) are checked on hand-made figures.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from PIL import Image

from ops.bench import concurrency_steps, find_knee, gauge_values, percentile, verdict
from ops.cli import main
from ops.report import Status
from tests.engines.postgres import new_server
from tests.engines.procs import free_port
from tests.engines.redis import RedisServer, start_redis
from tests.engines.reference_app import ReferenceApp

SLOTS = 2  # the app's N_JOBS_PER_WORKER
DELAY = 0.2


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = start_redis(tmp_path_factory.mktemp("bench-redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, redis_server):
    workdir = tmp_path_factory.mktemp("bench")
    server = new_server({"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"})
    app = ReferenceApp(server.dsn(), workdir / "app.log", {
        "N_JOBS_PER_WORKER": str(SLOTS), "LANGGRAPH_POSTGRES_POOL_MAX_SIZE": "4", "LOG_LEVEL": "WARNING",
        "REDIS_URI": redis_server.uri()})
    try:
        app.start()
        yield app.url
    finally:
        app.close()
        server.cleanup()


def lock_commands(server: RedisServer) -> dict[str, int]:
    """How many lock takes (SET) and compare-and-deletes (EVALSHA) the Redis has served."""
    with server.client() as client:
        stats = client.info("commandstats")
    return {name: stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("set", "evalsha")}


def outputs_file(directory: Path, **values: str) -> str:
    path = directory / "outputs.json"
    path.write_text(json.dumps(values))
    return str(path)


def test_short_profile_finds_the_apps_slot_limit_as_the_knee(app_url, redis_server, tmp_path, capsys):
    out, plot = tmp_path / "bench.json", tmp_path / "bench.png"
    before = lock_commands(redis_server)
    code = main(["bench", "--outputs", outputs_file(tmp_path, app_url=app_url), "--json", "--steps", "1,2,4",
                 "--step-seconds", "2", "--warmup-seconds", "0.5", "--delay", str(DELAY), "--degradation", "1.5",
                 "--target-rps", "10", "--out", str(out), "--plot", str(plot)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["status"] == "OK"
    assert json.loads(out.read_text()) == report

    steps = {step["concurrency"]: step for step in report["steps"]}
    assert list(steps) == [1, 2, 4]
    for step in steps.values():
        latency = step["latency_seconds"]
        assert step["throughput_rps"] > 0 and step["errors"] == 0 and step["outcomes"] == {"ok": step["runs"]}
        assert DELAY <= latency["min"] <= latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
        assert step["server_gauges"]["langgraph_active_graphs"]["max"] <= SLOTS
        # Only runs that ended inside the window count: per client, their time fits in it plus one run.
        assert latency["mean"] * step["successes"] <= step["concurrency"] * (step["window_seconds"] + latency["max"])
    # Beyond the app's two slots runs queue: the third and fourth client wait a whole run.
    assert steps[4]["server_gauges"]["langgraph_active_graphs"]["max"] == SLOTS
    assert steps[4]["latency_seconds"]["p50"] >= 2 * DELAY
    assert steps[2]["throughput_rps"] > steps[1]["throughput_rps"]
    # Each run took its thread's lock and released it (warm-up runs and runs cut by a window's end too).
    taken = {name: calls - before[name] for name, calls in lock_commands(redis_server).items()}
    assert taken["set"] >= sum(step["runs"] for step in steps.values()) and taken["evalsha"] >= taken["set"] - 4

    knee = report["knee"]
    assert knee["concurrency"] == SLOTS and knee["reached"] and knee["degraded_at"] == 4
    assert knee["bound_p95_seconds"] == pytest.approx(1.5 * steps[1]["latency_seconds"]["p95"])

    capacity = report["capacity"]
    assert capacity["per_instance_concurrency"] == SLOTS
    assert capacity["avg_execution_seconds"] == round(steps[SLOTS]["latency_seconds"]["mean"], 3)
    # The seed's model (rounding up), computed here independently of stackconfig.capacity.
    instances = math.ceil(10 * capacity["avg_execution_seconds"] * 2.0 * 1.3 / SLOTS - 1e-9)
    assert capacity["hpa"] | {"instances": instances, "hpa_min": instances, "hpa_max": 2 * instances} == capacity["hpa"]

    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(plot) as image:
        assert image.size == (800, 650)


def test_readable_output_prints_the_stack_file_inputs(app_url, tmp_path, capsys):
    code = main(["bench", "--outputs", outputs_file(tmp_path, app_url=app_url), "--steps", "1,4",
                 "--step-seconds", "1.5", "--warmup-seconds", "0.3", "--delay", str(DELAY), "--degradation", "1.5"])
    text = capsys.readouterr().out
    assert code == 0
    assert "1 <- knee" in text and "knee: 1 (at concurrency 4: P95" in text
    assert "langgraph-platform:capacity:" in text and "per_instance_concurrency: 1" in text
    assert "pass --target-rps" in text and "result: OK (exit 0)" in text


def test_unreachable_app_fails_and_missing_url_is_a_usage_error(tmp_path, capsys):
    closed = outputs_file(tmp_path, app_url=f"http://127.0.0.1:{free_port()}")
    assert main(["bench", "--outputs", closed, "--steps", "1", "--step-seconds", "1", "--warmup-seconds", "0"]) == 2
    assert "the app is not reachable" in capsys.readouterr().err
    assert main(["bench", "--outputs", outputs_file(tmp_path), "--steps", "1"]) == 3
    assert main(["bench", "--outputs", closed, "--steps", "4,2"]) == 3


# --- pure parts ---------------------------------------------------------------------------------

def step(concurrency: int, p95: float, runs: int = 100, errors: int = 0) -> dict:
    successes = runs - errors
    return {"concurrency": concurrency, "runs": runs, "successes": successes, "errors": errors,
            "error_rate": errors / runs if runs else None, "throughput_rps": successes / 10,
            "latency_seconds": {"mean": p95 * 0.9, "p95": p95} if successes else None}


def test_knee_rule():
    degraded = find_knee([step(1, 1.0), step(2, 1.1), step(4, 1.9), step(8, 2.5), step(16, 1.0)], 2.0, 0.01)
    assert (degraded["concurrency"], degraded["reached"], degraded["degraded_at"]) == (4, True, 8)
    assert "P95 2.500 s > 2.000 s" in degraded["reason"]
    erroring = find_knee([step(1, 1.0), step(2, 1.0, errors=2)], 2.0, 0.01)
    assert erroring["concurrency"] == 1 and "error rate 2.0% > 1.0%" in erroring["reason"]
    silent = find_knee([step(1, 1.0), step(2, 1.0), step(4, 5.0, runs=0)], 2.0, 0.01)
    assert silent["concurrency"] == 2 and "no run completed" in silent["reason"]
    never = find_knee([step(1, 1.0), step(2, 1.5)], 2.0, 0.01)
    assert (never["concurrency"], never["reached"], verdict(never)) == (2, False, Status.WARN)
    broken = find_knee([step(1, 1.0, runs=4, errors=4), step(2, 1.0)], 2.0, 0.01)
    assert (broken["concurrency"], verdict(broken)) == (None, Status.FAIL)


def test_percentiles_and_steps():
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert percentile([1, 2, 3, 4], 0.95) == pytest.approx(3.85)
    assert percentile([1, 2, 3, 4], 0.0) == 1 and percentile([7.0], 0.99) == 7.0
    assert concurrency_steps(64) == (1, 2, 4, 8, 16, 32, 64)
    assert concurrency_steps(48) == (1, 2, 4, 8, 16, 32, 48)
    assert concurrency_steps(1) == (1,)


def test_gauges_are_summed_over_label_sets_and_counters_ignored():
    exposition = """# TYPE langgraph_active_graphs gauge
langgraph_active_graphs 3.0
# TYPE lg_api_num_pending_runs gauge
lg_api_num_pending_runs{project_id="a", revision_id="r"} 2
lg_api_num_pending_runs{project_id="b", revision_id="r"} 1
# TYPE langgraph_executions_total counter
langgraph_executions_total{graph_name="g",status="success"} 9
# TYPE process_open_fds gauge
process_open_fds 12
"""
    assert gauge_values(exposition) == {"langgraph_active_graphs": 3.0, "lg_api_num_pending_runs": 3.0}
