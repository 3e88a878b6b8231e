"""Mutated stack files through the plan CLI: exit 0 or 2, never a traceback, quick, no credential echoed.

The mutations are driven by the config model's own field list (`StackConfig.model_fields`, walked
recursively), so a field added to any section is fuzzed without editing this test. Each example
sets a few leaves of a real stack file to hostile values (wrong types, booleans, huge and non-finite
numbers, non-ASCII digits, trailing newlines, YAML dates, binary and sets, URLs with credentials),
and may add unknown keys holding credentials and `secure:` values anywhere.
"""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackconfig import PROJECT
from stackconfig.model import StackConfig
from tools import plan as plan_cli

from .conftest import ROOT, config_leaves

MARKER = "hunter2zq"  # stands for a credential: it must never reach any output


LEAVES = [path for path, _ in config_leaves()]
credential = st.sampled_from([
    f"postgresql://app:{MARKER}@db.internal:5432/langgraph",
    f"redis://:{MARKER}@redis:6379/0",
    f"https://user:{MARKER}@hooks.example.com/x",
])
hostile = st.one_of(
    st.booleans(), st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["٥٠٠m", "2GB\n", "1e999999999", "-1", "0", "0d", "0s", "0.0.0.0/0", "10.0.0.1", "@sha256:abc",
                     "Upper/Case:1", "http://acme.example.com", "kube-system", "default", "..", "", " ", "\n"]),
    st.dates(), st.binary(max_size=8), st.sets(st.integers(0, 3), max_size=3),
    st.lists(st.integers(0, 5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(0, 3), max_size=2),
    credential,
)
secure = st.builds(lambda s: {"secure": f"v1:{MARKER}{s}"}, st.text(alphabet="abc", max_size=4))
credential_key = st.sampled_from(["database_url", "redis_password", "api_token", "license", "langsmith", "secret"])


def _set(document: dict, path: tuple[str, ...], value: Any) -> None:
    node = document
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


@st.composite
def mutated_stack(draw) -> tuple[str, str]:
    stack = draw(st.sampled_from(["dev", "prod"]))
    entries = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    values = {key.split(":", 1)[1]: value for key, value in entries.items() if key.startswith(PROJECT + ":")}
    for path in draw(st.lists(st.sampled_from(LEAVES), min_size=1, max_size=3)):
        _set(values, path, draw(st.one_of(hostile, secure)))
    if draw(st.booleans()):
        values[draw(credential_key)] = draw(st.one_of(credential, secure, st.just(f"tok-{MARKER}")))
    document = {"config": {f"{PROJECT}:{key}": value for key, value in values.items()}}
    return stack, yaml.safe_dump(document, allow_unicode=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutated_stack())
def test_mutated_stack_files_plan_or_exit_2_without_leaking(tmp_path, case):
    stack, text = case
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = plan_cli.main([stack, "--config-file", str(path), "--json"])
    elapsed = time.perf_counter() - start
    printed = out.getvalue() + err.getvalue()
    assert code in (0, 2), printed[-2000:]
    assert "Traceback" not in printed
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert MARKER not in printed, "a credential reached the output"
    if code == 2:
        assert f"{PROJECT}:" in err.getvalue() or "config" in err.getvalue()


def test_the_fuzzer_reaches_every_section_and_leaf():
    assert {path[0] for path in LEAVES} == set(StackConfig.model_fields)
    assert ("app", "probes", "startup", "period_seconds") in LEAVES and ("postgres", "pooler", "instances") in LEAVES
