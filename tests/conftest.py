"""Fixtures that run the real program under the recording mock engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from stackconfig import PROJECT
from stackconfig.model import StackConfig, deep_merge
from tools.mock_engine import Plan, Resource, run_program
from tools.plan import build_plan
from tools.plan_render import write_manifests

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def aws_test_credentials(monkeypatch) -> None:
    """Fake credentials and region for boto3 under moto: no call can reach a real account."""
    fake = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    for key, value in fake.items():
        monkeypatch.setenv(key, value)


def config_leaves(model: type[BaseModel] = StackConfig,
                  prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], FieldInfo]]:
    """Every leaf key of the config model with its field, nested sections (optional ones too) walked."""
    for name, info in model.model_fields.items():
        nested = [a for a in (info.annotation, *getattr(info.annotation, "__args__", ()))
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        if nested:
            yield from config_leaves(nested[0], prefix + (name,))
        else:
            yield prefix + (name,), info


def stack_values(stack: str) -> dict[str, Any]:
    """The stack file's config as plain values, keys without the project prefix."""
    entries = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {key.split(":", 1)[1]: value for key, value in entries.items() if key.startswith(PROJECT + ":")}


def run_values(values: dict[str, Any], stack: str = "dev", secrets: dict[str, str] | None = None,
               record: list[Resource] | None = None) -> Plan:
    """Run the program with config `values` (sections as dicts) and config secrets `secrets`."""
    config = {f"{PROJECT}:{k}": json.dumps(v) if isinstance(v, (dict, list)) else str(v) for k, v in values.items()}
    config |= {f"{PROJECT}:{k}": v for k, v in (secrets or {}).items()}
    return run_program(ROOT, PROJECT, stack, config, [f"{PROJECT}:{k}" for k in secrets or {}], record)


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    return build_plan("dev")


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return build_plan("prod")


@pytest.fixture(params=["dev", "prod"])
def plan(request, dev_plan, prod_plan) -> Plan:
    return {"dev": dev_plan, "prod": prod_plan}[request.param]


@pytest.fixture
def run_stack() -> Callable[..., Plan]:
    """Run a stack file's config with `overrides` merged in (sections merge key by key)."""

    def run(stack: str, overrides: dict[str, Any] | None = None, secrets: dict[str, str] | None = None) -> Plan:
        return run_values(deep_merge(stack_values(stack), overrides or {}), stack, secrets)

    return run


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, dev_plan, prod_plan) -> dict[str, Path]:
    """stack -> directory holding its Kubernetes objects as `tools.plan --out` writes them."""
    out = {}
    for plan in (dev_plan, prod_plan):
        directory = tmp_path_factory.mktemp(f"manifests-{plan.stack}")
        write_manifests(plan, directory)
        out[plan.stack] = directory
    return out
