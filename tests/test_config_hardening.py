"""Classes of invalid config that used to be accepted, crash or hang: each refused with the key named,
nothing registered, no credential echoed (issue: hardening)."""

from __future__ import annotations

import json
import time
from typing import get_args, get_origin

import pytest
import yaml

from stackconfig import PROJECT, ConfigError
from stackconfig.load import validate
from stackconfig.types import INT32_MAX, number_field
from tools import plan as plan_cli

from .conftest import ROOT, config_leaves, run_values, stack_values
from .test_config_validation import _set


def _refused(stack: str, mutate, key: str, fragment: str = "") -> str:
    values = stack_values(stack)
    mutate(values)
    registered = []
    with pytest.raises(ConfigError) as error:
        run_values(values, stack, record=registered)
    message = str(error.value)
    assert f"{PROJECT}:{key} " in message, message
    assert fragment in message, message
    assert registered == [], "a refused config must register nothing"
    return message


CLASSES = {
    # Booleans are not numbers (strict mode).
    "bool-as-port": ("dev", _set("app.port", True), "app.port", "must be an integer from 1 to 65535"),
    "bool-as-replicas": ("dev", _set("app.min_replicas", True), "app.min_replicas", "must be an integer from 1 to 1000"),
    "bool-as-rps": ("dev", _set("capacity.target_rps", True), "capacity.target_rps", "must be a number > 0"),
    "float-as-int": ("dev", _set("edge.replicas", 2.0), "edge.replicas", "must be an integer from 1 to 50"),
    # Integers beyond Kubernetes' int32, and beyond 2^53 (which the engine's doubles would round).
    "int32-probe": ("dev", _set("app.probes.startup.period_seconds", INT32_MAX + 1), "app.probes.startup.period_seconds", "from 1 to 3600"),
    "huge-uid": ("dev", _set("app.run_as_user", 2**60), "app.run_as_user", "from 1000 to 2147483647"),
    "beyond-2^53": ("dev", _set("postgres.max_connections", 2**53 + 1), "postgres.max_connections", "from 20 to 10000"),
    # Patterns: ASCII digits only, no trailing newline.
    "arabic-digits": ("dev", _set("app.resources.cpu_request", "٥٠٠m"), "app.resources.cpu_request", "not a Kubernetes quantity"),
    "trailing-newline-quantity": ("dev", _set("app.resources.memory_limit", "2Gi\n"), "app.resources.memory_limit", "not a Kubernetes quantity"),
    "trailing-newline-name": ("dev", _set("app.name", "langgraph\n"), "app.name", "must match ^"),
    "fullwidth-digits": ("dev", _set("postgres.database", "db１"), "postgres.database", "must match ^"),
    # Zero or negative where only positive makes sense; no infinities.
    "negative-cpu": ("dev", _set("app.resources.cpu_request", "-1"), "app.resources.cpu_request", "not a Kubernetes quantity"),
    "zero-memory": ("dev", _set("app.resources.memory_request", "0"), "app.resources.memory_request", "greater than zero"),
    "zero-retention": ("dev", _set("monitoring.retention", "0d"), "monitoring.retention", "must match ^"),
    "zero-scrape": ("dev", _set("monitoring.scrape_interval", "0s"), "monitoring.scrape_interval", "must match ^"),
    "infinite-backoff": ("dev", _set("app.tuning.retry_backoff_factor", float("inf")), "app.tuning.retry_backoff_factor", "must be a number"),
    "nan-rps": ("dev", _set("capacity.target_rps", float("nan")), "capacity.target_rps", "must be a number"),
    "zero-storage": ("dev", _set("postgres.storage_size", "0Gi"), "postgres.storage_size", "greater than zero"),
    # Networks.
    "vpc-everything": ("prod", _set("aws.vpc_cidr", "0.0.0.0/0"), "aws.vpc_cidr", "every address"),
    "no-prefix": ("prod", _set("aws.vpc_cidr", "10.40.0.0"), "aws.vpc_cidr", "no prefix length"),
    "host-bits": ("dev", _set("app.https_egress_cidrs", ["10.0.0.1/16"]), "app.https_egress_cidrs.0", "host bits set"),
    "vpc-too-small": ("prod", _set("aws.vpc_cidr", "10.40.0.0/30"), "aws.vpc_cidr", "between /16 and /28"),
    "empty-api-server-cidrs": ("dev", _set("kubernetes.api_server_cidrs", []), "kubernetes.api_server_cidrs", "at least 1"),
    # Images.
    "short-digest": ("dev", _set("app.image", "ghcr.io/example/app@sha256:abc"), "app.image", "digest must be complete"),
    "uppercase-path": ("dev", _set("app.image", "ghcr.io/Example/App:1.0"), "app.image", "path lowercase"),
    # Odds and ends of the same kind.
    "acme-over-http": ("prod", _set("edge.tls.acme_server", "http://acme.example.com/directory"), "edge.tls.acme_server", "not an https URL"),
    "duplicate-subnets": ("prod", _set("aws.private_subnet_ids", ["subnet-0a1b2c3d4e5f60001"] * 2), "aws.private_subnet_ids", "twice"),
    "pool-beyond-max_connections": ("dev", _set("postgres.pooler.default_pool_size", 500), "postgres.pooler.default_pool_size", "exceeds the 190"),
    "reserved-beyond-max_connections": ("dev", _set("postgres.reserved_connections", 200), "postgres.reserved_connections", "below max_connections"),
    # Namespaces.
    "kube-system": ("dev", _set("kubernetes.namespace", "kube-system"), "kubernetes.namespace", "system namespace"),
    "default-namespace": ("dev", _set("monitoring.namespace", "default"), "monitoring.namespace", "system namespace"),
    "namespace-collision": ("dev", _set("edge.namespace", "langgraph"), "edge.namespace", "is also kubernetes.namespace"),
    "fixed-namespace-collision": ("dev", _set("logging.namespace", "cert-manager"), "edge.install_cert_manager", "is also logging.namespace"),
    # Prod safety.
    "prod-without-context": ("prod", _set("kubernetes.context", None), "kubernetes.context", "explicit kubeconfig context"),
}


@pytest.mark.parametrize("case", CLASSES, ids=list(CLASSES))
def test_class_is_refused(case):
    _refused(*CLASSES[case])


FLOORS = {
    "postgres.backup_retention_days": 0,
    "postgres.deletion_protection": False,
    "postgres.multi_az": False,
    "edge.replicas": 1,
    "redis.replicas": 1,
}


@pytest.mark.parametrize("key", FLOORS)
def test_prod_floor_refused_unless_lowered_by_name_with_a_reason(key, run_stack):
    message = _refused("prod", _set(key, FLOORS[key]), key, "prod requires")
    assert f"lowered_floors: {{{key}:" in message
    reason = "single-AZ staging account, see ticket OPS-1234"
    plan = run_stack("prod", {key.split(".")[0]: {key.split(".")[1]: FLOORS[key]}, "lowered_floors": {key: reason}})
    assert plan.outputs["lowered_floors"] == {key: reason}


def test_lowering_a_floor_that_holds_or_in_dev_is_refused():
    _refused("prod", _set("lowered_floors", {"edge.replicas": "we think 3 is too many"}), "lowered_floors.edge.replicas",
             "is not below its floor")
    _refused("dev", _set("lowered_floors", {"edge.replicas": "dev has one replica anyway"}), "lowered_floors.edge.replicas",
             "prod only")
    _refused("prod", _set("lowered_floors", {"edge.replica": "a typo in the floor name"}), "lowered_floors.edge.replica",
             "not a safety floor")


def test_the_plan_prints_lowered_floors_and_their_reasons(tmp_path, capsys):
    document = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    document["config"][f"{PROJECT}:postgres"] = {"multi_az": False}
    document["config"][f"{PROJECT}:lowered_floors"] = {"postgres.multi_az": "cost review 2026-Q4, single-AZ accepted"}
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    assert plan_cli.main(["prod", "--config-file", str(stack_file)]) == 0
    out = capsys.readouterr().out
    assert "postgres.multi_az" in out and "cost review 2026-Q4, single-AZ accepted" in out


def test_huge_exponent_is_refused_quickly():
    start = time.perf_counter()
    _refused("dev", _set("app.resources.memory_limit", "1e999999999"), "app.resources.memory_limit", "not a Kubernetes quantity")
    assert time.perf_counter() - start < 1.0


NEAR_MISS_CREDENTIALS = {
    "near-miss-top-level-key": ("database_url", "postgresql://app:hunter2@db/app"),
    "credential-named-key": ("langsmith_token", "lsv2_pt_hunter2"),
    "plain-near-miss": ("langsmith", "lsv2_pt_hunter2"),
}


@pytest.mark.parametrize("case", NEAR_MISS_CREDENTIALS, ids=list(NEAR_MISS_CREDENTIALS))
def test_an_unknown_key_never_echoes_its_value(case, tmp_path, capsys):
    key, value = NEAR_MISS_CREDENTIALS[case]
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"][f"{PROJECT}:{key}"] = value
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    assert plan_cli.main(["dev", "--config-file", str(stack_file)]) == 2
    captured = capsys.readouterr()
    assert f"{PROJECT}:{key}" in captured.err and "unknown key" in captured.err
    assert "hunter2" not in captured.err + captured.out


def test_a_url_with_credentials_is_refused_anywhere_without_echo():
    message = _refused("dev", _set("kubernetes.context", "https://admin:hunter2@k8s.example.com"),
                       "kubernetes.context", "user:password@")
    assert "hunter2" not in message
    message = _refused("prod", _set("edge.tls.acme_server", "https://acct:hunter2@acme.example.com/dir"),
                       "edge.tls.acme_server", "user:password@")
    assert "hunter2" not in message


def test_a_refused_value_is_shown_redacted():
    with pytest.raises(ConfigError) as error:
        run_values({**stack_values("dev"), "lowered_floors": {"x.y": "ftp://u:hunter2@h/"}}, "dev")
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize("key, section", [("edge", {"tls": {"acme_email": "[secret]"}}),
                                          ("kubernetes", {"context": "[secret]"})])
def test_a_secure_value_outside_the_credential_keys_is_refused(key, section):
    values = stack_values("dev")
    values[key] = {**values.get(key, {}), **section}
    from tools.mock_engine import run_program
    config = {f"{PROJECT}:{k}": json.dumps(v) if isinstance(v, dict) else str(v) for k, v in values.items()}
    registered = []
    with pytest.raises(ConfigError) as error:
        run_program(ROOT, PROJECT, "dev", config, [f"{PROJECT}:{key}"], registered)
    assert f"{PROJECT}:{key} " in str(error.value) and "a secret makes no sense here" in str(error.value)
    assert registered == []


NUMBER_FIELDS = {".".join(path): number for path, info in config_leaves() if (number := number_field(info))}


def test_every_integer_field_is_bounded_by_int32():
    """No integer in the model can exceed what Kubernetes and the engine carry exactly."""
    ints = {key: bounds for key, (kind, bounds) in NUMBER_FIELDS.items() if kind is int}
    assert "app.min_replicas" in ints  # an optional one (`Int(...) | None`) is seen through
    assert [key for key, bounds in ints.items() if bounds.get("le", INT32_MAX + 1) > INT32_MAX] == []


@pytest.mark.parametrize("value", ["x", True, -1e30])
def test_a_wrong_number_names_the_allowed_range(value):
    """A number of the wrong type or out of range is refused with what is allowed, for every numeric key."""
    values = stack_values("dev")
    for key in NUMBER_FIELDS:
        _set(key, value)(values)
    with pytest.raises(ConfigError) as error:
        validate(values, "dev")
    lines = {line.split(" = ", 1)[0].strip(): line for line in str(error.value).splitlines() if " = " in line}
    for key, (kind, bounds) in NUMBER_FIELDS.items():
        line = lines[f"{PROJECT}:{key}"]
        assert f": must be {'an integer' if kind is int else 'a number'}" in line, line
        assert all(str(bound) in line for bound in bounds.values()), line


def _pattern(info) -> str | None:
    """The regular expression a string field must match, through `| None` and `Annotated`."""
    pending = [*info.metadata, info.annotation]
    while pending:
        item = pending.pop()
        if isinstance(getattr(item, "pattern", None), str):
            return item.pattern
        if get_origin(item) not in (tuple, list, dict):  # items of a collection are checked one by one
            pending += [*getattr(item, "metadata", ()), *get_args(item)]
    return None


PATTERN_FIELDS = {".".join(path): pattern for path, info in config_leaves() if (pattern := _pattern(info))}


def test_a_malformed_string_names_the_pattern_and_an_example():
    """A string that does not have its key's form is refused with the pattern, and the default as an example."""
    assert len(PATTERN_FIELDS) > 20 and "kubernetes.namespace" in PATTERN_FIELDS
    values = stack_values("dev")
    for key in PATTERN_FIELDS:
        _set(key, "no\nmatch")(values)
    with pytest.raises(ConfigError) as error:
        validate(values, "dev")
    lines = {line.split(" = ", 1)[0].strip(): line for line in str(error.value).splitlines() if " = " in line}
    for key, pattern in PATTERN_FIELDS.items():
        assert f": must match {pattern}" in lines[f"{PROJECT}:{key}"], lines[f"{PROJECT}:{key}"]
    assert lines[f"{PROJECT}:kubernetes.namespace"].endswith(', like "langgraph"')
    assert lines[f"{PROJECT}:monitoring.scrape_interval"].endswith(', like "30s"')
