"""The official LangGraph server reads back what the plan gives each of its containers.

The env of every app container in the plan (its ConfigMap, its own env, its Secret's keys) is loaded
into the real `langgraph_api.config` (the `langgraph-api` package, in `.venv-langgraph-api` because it
needs protobuf 6 while pulumi-policy pins 5), imported in a subprocess, and the values the server ends
up with are compared with what the stack config means.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from components.app_env import CONFIG_SECRET_ENV

from .conftest import ROOT

SERVER_PYTHON = ROOT / ".venv-langgraph-api" / "bin" / "python"
READ_BACK = """
import json, langgraph_api.config as c
print(json.dumps({name: getattr(c, name) for name in (
    "DATABASE_URI", "POSTGRES_POOL_MAX_SIZE", "N_JOBS_PER_WORKER", "THREAD_TTL", "REDIS_URI", "REDIS_CLUSTER",
    "REDIS_MAX_CONNECTIONS", "BG_JOB_TIMEOUT_SECS", "LANGSMITH_API_KEY", "LANGGRAPH_CLOUD_LICENSE_KEY")}, default=str))
"""
SECRETS = {"langgraph_license_key": "lg-license-for-tests", "langsmith_api_key": "lsv2-for-tests"}
# The plan masks the connection Secret's values (the data tier generates them); the test stands in for
# them under the keys the plan gives. Which keys exist, and everything plain, is the plan's.
STAND_INS = {"DATABASE_URI": "postgresql://langgraph_app:pw@langgraph-db-pooler-rw.langgraph-data.svc:5432/langgraph",
             "POSTGRES_URI": "postgresql://langgraph_app:pw@langgraph-db-pooler-rw.langgraph-data.svc:5432/langgraph",
             "DATABASE_READONLY_URI": "postgresql://langgraph_readonly:pw@langgraph-db-pooler-ro.langgraph-data.svc:5432/langgraph",
             "REDIS_URI": "redis://:pw@langgraph-redis.langgraph-data.svc.cluster.local:6379/0",
             "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example",
             **{env: SECRETS[key] for key, names in CONFIG_SECRET_ENV.items() for env in names}}


def server_view(plan, deployment) -> dict:
    """What langgraph_api.config reads inside `deployment`'s container."""
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    env = {}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            env |= plan.kube_object("ConfigMap", source["configMapRef"]["name"]).inputs["data"]
        else:
            keys = plan.kube_object("Secret", source["secretRef"]["name"]).inputs["stringData"]
            assert {"DATABASE_URI", "REDIS_URI"} <= set(keys), "the server's connection keys are in the Secret"
            env |= {key: STAND_INS[key] for key in keys}
    env |= {item["name"]: item["value"] for item in container.get("env", [])}
    result = subprocess.run([str(SERVER_PYTHON), "-c", READ_BACK], env={"PATH": "/usr/bin:/bin", **env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module", params=["dev", "prod"])
def contract(request):
    from .conftest import run_values, stack_values
    plan = run_values(stack_values(request.param), request.param, SECRETS)
    deployments = {d.inputs["metadata"]["name"]: d for d in plan.of_type("kubernetes:apps/v1:Deployment")
                   if d.parent == f"langgraph-{request.param}-app"}
    return request.param, {name: server_view(plan, d) for name, d in deployments.items()}


def test_the_server_reads_its_pool_jobs_ttl_and_redis_as_intended(contract):
    stack, views = contract
    expected_jobs = {"dev": {"langgraph": 50}, "prod": {"langgraph": 0, "langgraph-queue": 50}}[stack]
    assert set(views) == set(expected_jobs)
    for name, view in views.items():
        # The seed's pool (20 + 30 overflow), not the server's default of 150.
        assert view["POSTGRES_POOL_MAX_SIZE"] == 50, name
        assert view["N_JOBS_PER_WORKER"] == expected_jobs[name], name
        # The seed's 30-day checkpoint TTL, in the server's minutes.
        assert view["THREAD_TTL"] == {"strategy": "delete", "default_ttl": 43200.0, "sweep_interval_minutes": 60}
        assert view["REDIS_URI"] == STAND_INS["REDIS_URI"]
        assert view["DATABASE_URI"] == STAND_INS["DATABASE_URI"]
        assert view["REDIS_CLUSTER"] is False
        assert view["REDIS_MAX_CONNECTIONS"] == 10
        assert float(view["BG_JOB_TIMEOUT_SECS"]) == 3600
        assert view["LANGSMITH_API_KEY"] == SECRETS["langsmith_api_key"]
        assert view["LANGGRAPH_CLOUD_LICENSE_KEY"] == SECRETS["langgraph_license_key"]


def test_explicit_server_knobs_win(run_stack):
    plan = run_stack("dev", {"app": {"server": {"postgres_pool_max_size": 12, "jobs_per_worker": 7,
                                                "thread_ttl_strategy": "keep_latest"}}}, secrets=SECRETS)
    view = server_view(plan, plan.kube_object("Deployment", "langgraph"))
    assert (view["POSTGRES_POOL_MAX_SIZE"], view["N_JOBS_PER_WORKER"]) == (12, 7)
    assert view["THREAD_TTL"]["strategy"] == "keep_latest"
