"""Bad config stops the program before anything is registered, naming the key, value and what is allowed."""

from __future__ import annotations

import json

import pytest
import yaml

from stackconfig import PROJECT, ConfigError, validate
from tools import plan as plan_cli
from tools.mock_engine import run_program

from .conftest import ROOT, run_values, stack_values


def _set(path: str, value):
    def mutate(values: dict) -> None:
        *parents, leaf = path.split(".")
        node = values
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return mutate


def _drop(path: str):
    def mutate(values: dict) -> None:
        *parents, leaf = path.split(".")
        node = values
        for part in parents:
            node = node[part]
        del node[leaf]
    return mutate


def _both(*mutations):
    def mutate(values: dict) -> None:
        for mutation in mutations:
            mutation(values)
    return mutate


REFUSED = {
    "min above max": ("dev", _both(_set("app.min_replicas", 5), _set("app.max_replicas", 3)), "app.min_replicas", "greater than max_replicas"),
    "min above derived max": ("dev", _set("app.min_replicas", 5), "app.min_replicas", "greater than the HPA maximum 2"),
    "zero rps": ("dev", _set("capacity.target_rps", 0), "capacity.target_rps", "must be a number > 0"),
    "negative rps": ("prod", _set("capacity.target_rps", -5), "capacity.target_rps", "must be a number > 0"),
    "unknown nested key": ("dev", _set("app.replics", 3), "app.replics", "unknown key 'replics'; allowed keys here: name, image"),
    "unknown section": ("dev", _set("capacty", {"target_rps": 3}), "capacty", "allowed keys here: environment, kubernetes"),
    "malformed quantity": ("dev", _set("app.resources.memory_limit", "2GB"), "app.resources.memory_limit", "not a Kubernetes quantity"),
    "request over limit": ("dev", _set("app.resources.cpu_request", "3"), "app.resources.cpu_request", "exceeds cpu_limit 2000m"),
    "latest image in prod": ("prod", _set("app.image", "ghcr.io/example/app:latest"), "app.image", "pinned image"),
    "untagged image in prod": ("prod", _set("app.image", "ghcr.io/example/app"), "app.image", "pinned image"),
    "missing aws ids": ("prod", _drop("aws"), "aws.vpc_id", "required because postgres.engine=rds"),
    "one subnet": ("prod", _set("aws.private_subnet_ids", ["subnet-0a1b2c3d4e5f60001"]), "aws.private_subnet_ids", "at least two"),
    "burst below rate": ("dev", _set("edge.rate_limit.burst", 5), "edge.rate_limit.burst", "below requests_per_second 10"),
    "burst beyond a minute": ("dev", _set("edge.rate_limit.burst", 601), "edge.rate_limit.burst", "a whole minute's allowance"),
    "zero rate": ("dev", _set("edge.rate_limit.requests_per_second", 0), "edge.rate_limit.requests_per_second", "must be an integer from 1 to 100000"),
    "unknown tls mode": ("dev", _set("edge.tls.mode", "letsencrypt"), "edge.tls.mode", "one of 'self-signed', 'acme' or 'acm'"),
    "acme without email": ("prod", _drop("edge.tls.acme_email"), "edge.tls.acme_email", "required with mode acme"),
    "acm without nlb": ("dev", _set("edge.tls", {"mode": "acm", "acm_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/x"}), "edge.aws_nlb", "set aws_nlb true"),
    "unknown environment": ("dev", _set("environment", "staging"), "environment", "must be one of dev, prod"),
    "connections beyond the pooler": ("dev", _set("app.max_replicas", 30), "app.server.postgres_pool_max_size",
                                      "api 30 pods x 50 = 1500 (accepted: 1000, postgres.pooler.max_client_connections) exceeds"),
    "connections beyond postgres": ("dev", _both(_set("postgres", {"pooler": {"enabled": False}}), _set("app.max_replicas", 4)),
                                    "app.server.postgres_pool_max_size",
                                    "(accepted: 190, postgres.max_connections - postgres.reserved_connections)"),
    "connections beyond rds proxy": ("prod", _set("app.queue.max_replicas", 20), "app.server.postgres_pool_max_size",
                                     "api 6 pods x 50 + queue 20 pods x 50 = 1300 (accepted: 990, postgres.max_connections - "
                                     "postgres.reserved_connections; RDS Proxy pins sessions"),
    "redis connections beyond maxclients": ("prod", _set("app.server", {"redis_max_connections": 1000}),
                                            "app.server.redis_max_connections", "= 18000 (accepted: 10000, redis.maxclients)"),
    "even sentinels": ("dev", _set("redis.sentinels", 4), "redis.sentinels", "odd number"),
    "bad service type": ("dev", _set("edge.service_type", "Ingress"), "edge.service_type", "one of 'LoadBalancer', 'NodePort' or 'ClusterIP'"),
    "section not a map": ("dev", _set("app", "ghcr.io/example/app:1"), "app", "must be a map of settings"),
}


def _values(stack: str, mutate) -> dict:
    values = stack_values(stack)
    mutate(values)
    return values


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_refused_before_any_resource(case):
    stack, mutate, key, fragment = REFUSED[case]
    registered = []
    with pytest.raises(ConfigError) as error:
        run_values(_values(stack, mutate), stack, record=registered)
    message = str(error.value)
    assert f"{PROJECT}:{key}" in message
    assert fragment in message
    assert registered == [], "a refused config must register nothing"


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_plan_cli_exits_2_naming_the_key(case, tmp_path, capsys):
    stack, mutate, key, fragment = REFUSED[case]
    stack_file = tmp_path / "Pulumi.bad.yaml"
    stack_file.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in _values(stack, mutate).items()}}))
    assert plan_cli.main([stack, "--config-file", str(stack_file)]) == 2
    captured = capsys.readouterr()
    assert f"{PROJECT}:{key}" in captured.err and fragment in captured.err
    assert captured.out == ""


def test_plaintext_credential_is_refused_without_echoing_it():
    registered = []
    config = {f"{PROJECT}:{k}": json.dumps(v) if isinstance(v, dict) else v for k, v in stack_values("dev").items()}
    config[f"{PROJECT}:langsmith_api_key"] = "lsv2-hunter2"
    with pytest.raises(ConfigError) as error:
        run_program(ROOT, PROJECT, "dev", config, [], registered)
    assert f"{PROJECT}:langsmith_api_key" in str(error.value) and "--secret" in str(error.value)
    assert "hunter2" not in str(error.value)
    assert registered == []


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as error:
        validate({"app": {"image": "x:1", "port": 0, "resources": {"cpu_limit": "lots"}}, "capacity": {"target_rps": 0}}, "dev")
    keys = {key for key, _, _ in error.value.problems}
    assert {"app.port", "app.resources.cpu_limit", "capacity.target_rps"} <= keys


def test_environment_defaults_to_the_stack_name():
    assert validate({"app": {"image": "x:1"}}, "dev").config.environment == "dev"
    with pytest.raises(ConfigError, match="environment"):
        validate({"app": {"image": "x:1"}}, "staging")


def test_explicit_values_override_environment_defaults():
    settings = validate({"app": {"image": "x:1"}, "edge": {"replicas": 4, "rate_limit": {"requests_per_second": 3, "burst": 9}}}, "dev")
    assert settings.config.edge.replicas == 4
    assert settings.config.edge.rate_limit.burst == 9
    assert settings.config.edge.tls.mode == "self-signed", "untouched defaults of the same section stay"


@pytest.mark.parametrize("image,pinned", [
    ("repo/app:1.2.3", True), ("registry:5000/app:v1", True), ("app@sha256:" + "a" * 64, True),
    ("repo/app:1.2@sha256:" + "b" * 64, True), ("repo/app", False), ("repo/app:latest", False),
    ("registry:5000/app", False), ("app:", False),
])
def test_image_pinning(image, pinned):
    from policy.rules.images import image_is_pinned

    assert image_is_pinned(image) is pinned


def test_a_mistyped_project_namespace_is_refused(tmp_path, capsys):
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text((ROOT / "Pulumi.dev.yaml").read_text() + "  langgraph-platfrom:edge:\n    replicas: 2\n")
    assert plan_cli.main(["dev", "--config-file", str(stack_file)]) == 2
    err = capsys.readouterr().err
    assert "langgraph-platfrom:edge" in err and "unknown config namespace" in err
