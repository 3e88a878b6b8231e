"""The plan loads no provider package (pulumi_aws, pulumi_kubernetes, pulumi_random, pulumi_tls,
pulumi_postgresql), no Helm or YAML renderer and no Grafana dashboard v2 model, and what it
registers in their place (`components.aws`, `components.kube`, `components.random_tls_postgresql`,
`components.helm`) is what the typed classes and functions send the engine.

Loading pulumi_aws's typed classes cost about a second of every prod plan, the Helm and YAML
modules (and `requests` with them) about a tenth, the other provider packages about 0.035 s, the
dashboard v2 models (which the Grafana SDK's panel builders load) about 0.017 s; the first test
keeps that from coming back unnoticed. The others compare, request by request, what the engine
receives from each typed class the program stood in for and from ours, so an upgrade that adds a
secret, an alias, an input, an output or a setting read from the environment to one of them fails
here rather than drifting silently.
"""
from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pulumi
import pytest
from google.protobuf import json_format

from components import aws, helm, random_tls_postgresql
from tools import mock_engine

ROOT = Path(__file__).resolve().parent.parent
# Every type registered by token, whichever package it is of.
TYPES = aws.TYPES | random_tls_postgresql.TYPES
REPLACED_PACKAGES = ("pulumi_aws", "pulumi_kubernetes", "pulumi_random", "pulumi_tls", "pulumi_postgresql")

# In a fresh interpreter: plan prod as `python -m tools.plan prod` does (its `main`), then report
# which of the modules in question were executed. A lazily imported module sits in sys.modules
# unexecuted (type `_LazyModule`) until its first attribute access: only executed ones count.
PLAN_THEN_LIST_MODULES = """
import contextlib, io, json, sys
from tools.plan import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["prod"]) == 0
print(json.dumps(sorted(name for name, module in sys.modules.items()
                        if name.split(".")[0] in ("pulumi_aws", "pulumi_random", "pulumi_tls", "pulumi_postgresql",
                                                  "pulumi_kubernetes", "requests", "grafana_foundation_sdk")
                        and type(module).__name__ != "_LazyModule")))
"""


def test_the_prod_plan_imports_no_replaced_package_no_typed_kubernetes_class_and_no_dashboard_v2():
    result = subprocess.run([sys.executable, "-c", PLAN_THEN_LIST_MODULES], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout)
    assert "grafana_foundation_sdk.models.dashboard" in loaded, "the check must see the modules the plan loads"
    assert [name for name in loaded if name.split(".")[0] in (*REPLACED_PACKAGES, "requests")] == []
    assert [name for name in loaded if name.split(".")[-1].startswith("dashboardv2")] == []


# --- resources registered by token against the typed classes --------------------------------------

def _typed_class(token: str) -> type[pulumi.CustomResource]:
    """`aws:s3/bucket:Bucket` -> pulumi_aws.s3.Bucket, `random:index/randomString:RandomString` ->
    pulumi_random.RandomString."""
    package, module, name = token.split(":")[0], token.split(":")[1].split("/")[0], token.split(":")[2]
    return getattr(importlib.import_module(f"pulumi_{package}" + ("" if module == "index" else f".{module}")), name)


def _args_class(cls: type) -> type:
    """The class of a typed resource's arguments: `<Name>Args`, or `<Name>InitArgs` where the
    module has an input type of that name already (BucketVersioning's, for one)."""
    module = importlib.import_module(cls.__module__)
    return getattr(module, f"{cls.__name__}InitArgs", None) or getattr(module, f"{cls.__name__}Args")


def _engine_names(cls: type) -> dict[str, str]:
    """Python name -> engine name of each property of a typed resource or args class."""
    return {name: getattr(prop.fget, "_pulumi_name", name) for name, prop in inspect.getmembers(cls)
            if isinstance(prop, property) and hasattr(prop.fget, "_pulumi_name")}


def _sample_inputs(token: str) -> dict[str, str]:
    """A value for each required input and each secret one, by engine name (the engine takes any
    value of a mock: only names, wrapping and options are compared)."""
    args = _args_class(_typed_class(token))
    names = _engine_names(args)
    required = [name for name, param in inspect.signature(args.__init__).parameters.items()
                if name not in ("self", "__self__") and param.default is inspect.Parameter.empty]
    inputs = {names[name]: f"{name}-value" for name in required}
    inputs |= {secret: f"{secret}-value" for secret in TYPES[token].secrets if secret in names.values()}
    return inputs


# The functions the program calls through `invoke`: token -> (module, typed function, its keyword
# arguments, the same arguments as the engine names them).
INVOKES = {
    "aws:eks/getCluster:getCluster": ("pulumi_aws.eks", "get_cluster_output", {"name": "langgraph-prod"},
                                      {"name": "langgraph-prod"}),
    "aws:secretsmanager/getSecretVersion:getSecretVersion": (
        "pulumi_aws.secretsmanager", "get_secret_version_output", {"secret_id": "arn:aws:secretsmanager:x"},
        {"secretId": "arn:aws:secretsmanager:x"}),
}

PROGRAM = """
import importlib
import json
import pulumi
import pulumi_kubernetes
import pulumi_postgresql
from components.aws import AwsResource, invoke
from components.kube import kubernetes_provider
from components.random_tls_postgresql import Resource, postgresql_provider

config = pulumi.Config()
for token, inputs in json.loads(config.require("inputs")).items():
    package, module, name = token.split(":")[0], token.split(":")[1].split("/")[0], token.split(":")[2]
    typed = getattr(importlib.import_module(f"pulumi_{package}" + ("" if module == "index" else f".{module}")), name)
    snake = json.loads(config.require("snake"))[token]
    typed(f"typed-{token}", **{snake[key]: value for key, value in inputs.items()})
    (AwsResource if package == "aws" else Resource)(token, f"generic-{token}", inputs)
for token, (module, function, kwargs, args) in json.loads(config.require("invokes")).items():
    getattr(importlib.import_module(module), function)(**kwargs)
    invoke(token, args)
pulumi_postgresql.Provider("typed-postgresql", host="db", port=5432, username="admin", password="pw", sslmode="require",
                           superuser=False, database="postgres", connect_timeout=15, max_connections=4)
postgresql_provider("generic-postgresql", {"host": "db", "port": 5432, "username": "admin", "password": "pw",
                                           "sslmode": "require", "superuser": False, "database": "postgres",
                                           "connectTimeout": 15, "maxConnections": 4})
# The settings each provider reads from the environment (see ENVIRONMENT) when they are not given.
pulumi_postgresql.Provider("typed-postgresql-from-env", host="db")
postgresql_provider("generic-postgresql-from-env", {"host": "db"})
pulumi_kubernetes.Provider("typed-kubernetes", context="ctx", enable_server_side_apply=True)
kubernetes_provider("generic-kubernetes", {"context": "ctx", "enableServerSideApply": True})
"""
ENVIRONMENT = {"PGSSLMODE": "verify-full", "PGCONNECT_TIMEOUT": "7", "KUBECONFIG": "kubeconfig-path",
               "PULUMI_K8S_DELETE_UNREACHABLE": "true", "PULUMI_K8S_SUPPRESS_HELM_HOOK_WARNINGS": "0",
               "PULUMI_K8S_ENABLE_PATCH_FORCE": "not-a-boolean", "PULUMI_K8S_ENABLE_SERVER_SIDE_APPLY": "false"}


def _engine_requests(program: Path, source: str, config: dict[str, str]) -> dict[str, list[dict]]:
    """Every request the engine got from `source`, by kind, without source positions."""
    (program / "__main__.py").write_text(textwrap.dedent(source))
    seen: dict[str, list[dict]] = {"register": [], "invoke": []}
    monitor = mock_engine._RecordingMonitor

    def recording(kind: str, method):
        def record(self, request):
            message = json_format.MessageToDict(request)
            seen[kind].append({k: v for k, v in message.items() if k not in ("sourcePosition", "stackTrace")})
            return method(self, request)
        return record

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(monitor, "RegisterResource", recording("register", monitor.RegisterResource))
        patch.setattr(monitor, "Invoke", recording("invoke", monitor.Invoke))
        mock_engine.run_program(program, "proj", "dev", config)
    return seen


@pytest.fixture(scope="module")
def requests(tmp_path_factory) -> dict[str, list[dict]]:
    """What the engine got from the program above."""
    inputs = {token: _sample_inputs(token) for token in TYPES}
    snake = {token: {engine: python for python, engine in _engine_names(_args_class(_typed_class(token))).items()}
             for token in TYPES}
    config = {f"proj:{key}": json.dumps(value) for key, value in
              {"inputs": inputs, "snake": snake, "invokes": INVOKES}.items()}
    with pytest.MonkeyPatch.context() as patch:
        for variable in [name for name in os.environ if name.startswith(("PG", "PULUMI_K8S_", "KUBECONFIG"))]:
            patch.delenv(variable)
        for variable, value in ENVIRONMENT.items():
            patch.setenv(variable, value)
        return _engine_requests(tmp_path_factory.mktemp("token-types"), PROGRAM, config)


def _by_name(registered: list[dict], prefix: str) -> dict[str, dict]:
    """Requests whose resource name starts with `prefix`, by the rest of the name; dependency
    lists (sets, in no fixed order) sorted, and the name prefix taken out of every URN."""
    found = {}
    for request in registered:
        if request["name"].startswith(prefix):
            text = json.dumps({**request, "dependencies": sorted(request.get("dependencies", []))}, sort_keys=True)
            found[request["name"][len(prefix):]] = json.loads(text.replace(f"::{prefix}", "::"))
    return found


def test_resources_by_token_send_the_engine_what_the_typed_classes_send(requests):
    typed, generic = _by_name(requests["register"], "typed-"), _by_name(requests["register"], "generic-")
    providers = ["kubernetes", "postgresql", "postgresql-from-env"]
    assert sorted(typed) == sorted([*TYPES, *providers])
    for token in [*TYPES, *providers]:
        assert generic[token] | {"name": ""} == typed[token] | {"name": ""}, token
    # What makes the comparison worth having: each kind of addition appears somewhere.
    assert typed["aws:rds/instance:Instance"]["additionalSecretOutputs"] == ["password", "passwordWo"]
    assert typed["aws:s3/bucket:Bucket"]["aliases"] and typed["aws:s3/bucket:Bucket"]["version"]
    assert typed["aws:rds/subnetGroup:SubnetGroup"]["object"]["description"] == "Managed by Pulumi"
    assert typed["random:index/randomPassword:RandomPassword"]["additionalSecretOutputs"] == ["bcryptHash", "result"]
    assert typed["postgresql:index/defaultPrivileges:DefaultPrivileges"]["aliases"]
    # The provider's inputs as the typed class sends them: all strings, the password secret.
    assert typed["postgresql"]["object"]["port"] == "5432" and typed["postgresql"]["object"]["superuser"] == "false"
    assert typed["postgresql"]["additionalSecretOutputs"] == ["password"] and typed["postgresql"]["version"]
    # What the environment filled in: given values win, unparsable booleans count as unset.
    assert {key: typed["postgresql-from-env"]["object"][key] for key in ("sslmode", "connectTimeout")} == {
        "sslmode": "verify-full", "connectTimeout": "7"}
    assert typed["kubernetes"]["object"] == {"context": "ctx", "enableServerSideApply": "true",
                                             "kubeconfig": "kubeconfig-path", "deleteUnreachable": "true",
                                             "suppressHelmHookWarnings": "false"}


def test_invokes_send_the_engine_what_the_typed_functions_send(requests):
    calls = {}
    for call in requests["invoke"]:
        calls.setdefault(call["tok"], []).append(call)
    assert sorted(calls) == sorted(INVOKES)
    for token, (typed, generic) in calls.items():
        assert typed == generic and typed["version"], token


@pytest.mark.parametrize("token", sorted(TYPES))
def test_declared_outputs_are_the_typed_class_outputs(token):
    """Every output-only property of the typed class is declared, and nothing else but inputs."""
    cls = _typed_class(token)
    properties, inputs = set(_engine_names(cls).values()), set(_engine_names(_args_class(cls)).values())
    declared = set(TYPES[token].outputs)
    assert properties - inputs - {"id", "urn"} <= declared | set(TYPES[token].secrets)
    assert declared <= properties, declared - properties


# --- the Helm release and the manifest bundle against their typed classes -------------------------

KUBERNETES_PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s
from components import helm
from components.pins import BUNDLES, CHARTS

chart = CHARTS["kong"]
options = pulumi.ResourceOptions(protect=True, ignore_changes=["values"])
k8s.helm.v3.Release("typed-release", name=chart.name, chart=chart.name, version=chart.version,
                    repository_opts={"repo": chart.repository}, namespace="edge", values={"proxy": {"http": [1]}},
                    atomic=True, cleanup_on_fail=True, timeout=600, opts=options)
helm.release("generic-release", chart, "edge", {"proxy": {"http": [1]}}, options)
k8s.yaml.v2.ConfigFile("typed-bundle", file=BUNDLES["gateway-api-crds"].url, opts=options)
helm.ConfigFile("generic-bundle", BUNDLES["gateway-api-crds"].url, options)
"""


def test_helm_releases_and_bundles_send_the_engine_what_the_typed_classes_send(tmp_path):
    registered = _engine_requests(tmp_path, KUBERNETES_PROGRAM, {})["register"]
    typed, generic = _by_name(registered, "typed-"), _by_name(registered, "generic-")
    assert sorted(typed) == sorted(generic) == ["bundle", "release"]
    for kind in typed:
        assert generic[kind] | {"name": ""} == typed[kind] | {"name": ""}, kind
    assert typed["release"]["object"]["compat"] == "true" and typed["release"]["version"]
    assert typed["bundle"]["remote"] and typed["bundle"]["type"] == helm.CONFIG_FILE_TYPE


def test_release_properties_are_the_typed_class_properties():
    from pulumi_kubernetes.helm.v3 import Release

    assert sorted(helm.RELEASE_PROPERTIES) == sorted(_engine_names(Release).values())
