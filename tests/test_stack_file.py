"""Reading stack files: every malformed file is refused with exit 2 naming the key, fast, without a
traceback and without echoing a value; `secure:` values anywhere make their top-level key secret."""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tools import plan as plan_cli
from tools import stack_file
from tools.stack_file import MAX_BYTES, SECRET_PLACEHOLDER, StackFileError, load_stack_file

from .conftest import ROOT

PROJECT = "langgraph-platform"
# Planted in every bad file: no error message may show it.
CREDENTIAL = "postgresql://app:hunter2@db:5432/app"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(f"config:\n  langgraph-platform:database_uri: {CREDENTIAL}\n{text}")
    return path


def _refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(StackFileError) as raised:
        load_stack_file(_file(tmp_path, text), PROJECT)
    message = str(raised.value)
    assert "hunter2" not in message
    return message


@pytest.mark.parametrize("key, kind", [("1", "a number"), ("true", "a boolean"), ("null", "null"), ("~", "null"),
                                       ("2.5", "a number"), ("<<", "a merge key")])
def test_non_string_keys_are_refused_naming_the_key(tmp_path, key, kind):
    message = _refusal(tmp_path, f"  {key}: {CREDENTIAL}\n")
    assert f"key {key!r} under config is read as {kind}" in message and "line 3" in message


def test_a_non_string_key_deep_inside_a_section_names_the_section(tmp_path):
    message = _refusal(tmp_path, "  langgraph-platform:edge:\n    tls:\n      yes: x\n")
    assert "key 'yes' under langgraph-platform:edge.tls is read as a boolean" in message


@pytest.mark.parametrize("value, tag", [
    ("2024-01-01", "!!timestamp"), ("2024-01-01T10:00:00Z", "!!timestamp"), ("!!binary aGVsbG8=", "!!binary"),
    ("!!set {a, b}", "!!set"), ("!!omap [a: 1]", "!!omap"), ("!!python/object:os.system {}", "!!python/object"),
    ("!vault hunter2", "!vault"),
])
def test_non_json_values_are_refused_at_any_depth_naming_the_dotted_key(tmp_path, value, tag):
    top = _refusal(tmp_path, f"  langgraph-platform:edge:\n    hostname: {value}\n")
    assert f"langgraph-platform:edge.hostname is a YAML {tag}" in top
    deep = _refusal(tmp_path, f"  edge:\n    tls:\n      names:\n        - ok\n        - {value}\n")
    assert f"langgraph-platform:edge.tls.names.1 is a YAML {tag}" in deep


def test_a_quoted_or_str_tagged_date_is_a_string(tmp_path):
    config, _ = load_stack_file(_file(tmp_path, "  edge:\n    a: '2024-01-01'\n    b: !!str 2024-01-02\n"), PROJECT)
    assert json.loads(config[f"{PROJECT}:edge"]) == {"a": "2024-01-01", "b": "2024-01-02"}


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    levels = ["  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    start = time.process_time()
    message = _refusal(tmp_path, "\n".join(levels) + "\n")
    assert time.process_time() - start < 0.1
    assert "langgraph-platform:a1.0 is a YAML alias (*a0)" in message


def test_an_alias_used_as_a_key_is_refused(tmp_path):
    assert "a key under config is a YAML alias (*k)" in _refusal(tmp_path, "  &k edge: {}\n  *k : {}\n")


@pytest.mark.parametrize("text, key", [
    ("  edge:\n    hostname: a\n    hostname: b\n", "langgraph-platform:edge.hostname"),
    ("  edge: {}\n  langgraph-platform:edge: {}\n", "langgraph-platform:edge"),
    ("  edge:\n    tls: {mode: acme, mode: self-signed}\n", "langgraph-platform:edge.tls.mode"),
    ("  edge:\n    hosts:\n      - {name: a, name: b}\n", "langgraph-platform:edge.hosts.0.name"),
    ("config: {}\n", "duplicate key config"),
])
def test_duplicate_keys_are_refused_at_any_level(tmp_path, text, key):
    message = _refusal(tmp_path, text)
    assert "duplicate key" in message and key in message


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_a_file_that_is_not_a_map_is_refused(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(StackFileError, match="must be a map with a `config` key"):
        load_stack_file(path, PROJECT)


def test_config_that_is_not_a_map_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("config: [a]\n")
    with pytest.raises(StackFileError, match="`config` must be a map"):
        load_stack_file(path, PROJECT)


def test_size_and_depth_are_bounded(tmp_path):
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"config:\n  a: '" + b"x" * MAX_BYTES + b"'\n")
    with pytest.raises(StackFileError, match="larger than 128 KiB"):
        load_stack_file(huge, PROJECT)
    message = _refusal(tmp_path, "  edge: " + "[" * 50_000 + "\n")
    assert "langgraph-platform:edge.0.0" in message and "nested more than 32 levels" in message


def test_an_integer_too_long_to_convert_is_refused_by_its_key(tmp_path):
    # Python refuses to convert integers of more than 4300 digits (a denial-of-service guard).
    message = _refusal(tmp_path, "  edge:\n    replicas: " + "9" * 5000 + "\n")
    assert "langgraph-platform:edge.replicas is not a valid !!int value" in message


def test_the_largest_accepted_file_reads_well_within_a_second(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"config:\n  a: [" + b"1," * ((MAX_BYTES - 20) // 2) + b"1]\n")
    assert path.stat().st_size <= MAX_BYTES
    start = time.process_time()  # CPU time: a busy CI machine stretches wall time, not this
    config, _ = load_stack_file(path, PROJECT)
    assert time.process_time() - start < 0.6 and len(json.loads(config[f"{PROJECT}:a"])) > 60_000


@pytest.mark.parametrize("text, problem", [
    ("  edge: {password: hunter2\n", "invalid YAML"),
    ("  edge:\n\thostname: hunter2\n", "invalid YAML"),
    ("  edge: hunter2\x00\n", "invalid YAML"),
    ("---\nconfig: {}\n", "more than one YAML document"),
])
@pytest.mark.parametrize("parser", [yaml.CSafeLoader, yaml.SafeLoader], ids=["libyaml", "pure-python"])
def test_syntax_errors_name_the_line_and_never_quote_it(tmp_path, monkeypatch, text, problem, parser):
    # PyYAML's own parser quotes the offending line in str(error); libyaml's does not.
    monkeypatch.setattr(stack_file, "_Parser", parser)
    assert problem in _refusal(tmp_path, text)


def test_non_utf8_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"config:\n  edge: \xff\xfe\n")
    with pytest.raises(StackFileError, match="not UTF-8 text"):
        load_stack_file(path, PROJECT)


def test_non_finite_floats_reach_the_program_as_json_it_parses(tmp_path):
    config, _ = load_stack_file(_file(tmp_path, "  edge:\n    a: .inf\n    b: -.inf\n    c: .nan\n  top: .inf\n"),
                                PROJECT)
    section = json.loads(config[f"{PROJECT}:edge"])
    assert section["a"] == math.inf and section["b"] == -math.inf and math.isnan(section["c"])
    assert float(config[f"{PROJECT}:top"]) == math.inf


def test_the_config_model_refuses_a_non_finite_number_by_its_key(tmp_path, capsys):
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text((ROOT / "Pulumi.dev.yaml").read_text() + "  langgraph-platform:capacity:\n"
                                                                     "    target_rps: .inf\n")
    assert plan_cli.main(["dev", "--config-file", str(stack_file)]) == 2
    assert "langgraph-platform:capacity.target_rps" in capsys.readouterr().err


def test_scalars_become_the_strings_the_engine_hands_over(tmp_path):
    path = _file(tmp_path, "  aws:region: us-east-1\n  flag: true\n  count: 3\n  empty:\n"
                           "  langgraph-platform:app:\n    port: 8000\n    tags: [a, null]\n")
    config, secret_keys = load_stack_file(path, PROJECT)
    assert config == {f"{PROJECT}:database_uri": CREDENTIAL, "aws:region": "us-east-1", f"{PROJECT}:flag": "true",
                      f"{PROJECT}:count": "3", f"{PROJECT}:empty": "",
                      f"{PROJECT}:app": '{"port": 8000, "tags": ["a", null]}'}
    assert secret_keys == []


def test_a_secure_value_anywhere_makes_its_top_level_key_secret(tmp_path):
    path = _file(tmp_path, "  redis_uri:\n    secure: v1:AAAAcipher1\n"
                           "  edge:\n    hostname: api.example.com\n    tls:\n      acme_email:\n"
                           "        secure: v1:AAAAcipher2\n"
                           "  kubernetes:\n    contexts:\n      - {secure: v1:AAAAcipher3}\n"
                           "  app:\n    image: repo/app:1\n")
    config, secret_keys = load_stack_file(path, PROJECT)
    assert secret_keys == [f"{PROJECT}:redis_uri", f"{PROJECT}:edge", f"{PROJECT}:kubernetes"]
    assert config[f"{PROJECT}:redis_uri"] == SECRET_PLACEHOLDER
    assert json.loads(config[f"{PROJECT}:edge"]) == {"hostname": "api.example.com",
                                                      "tls": {"acme_email": SECRET_PLACEHOLDER}}
    assert json.loads(config[f"{PROJECT}:kubernetes"]) == {"contexts": [SECRET_PLACEHOLDER]}
    assert "cipher" not in json.dumps(config)


@pytest.mark.parametrize("text, key", [
    ("  1: x\n", "key '1' under config"),
    ("  edge:\n    hostname: 2024-01-01\n", "langgraph-platform:edge.hostname"),
    ("  a: &a [x]\n  b: [*a, *a]\n", "langgraph-platform:b.0"),
    ("  edge:\n    hostname: a\n    hostname: b\n", "langgraph-platform:edge.hostname"),
])
def test_the_cli_exits_2_within_a_second_naming_the_key(tmp_path, text, key):
    def cpu_seconds_of_children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    # CPU time of the child, interpreter start included: a busy CI machine stretches wall time, not this.
    start = cpu_seconds_of_children()
    result = subprocess.run([sys.executable, "-m", "tools.plan", "dev", "--config-file", str(_file(tmp_path, text))],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    elapsed = cpu_seconds_of_children() - start
    assert result.returncode == 2 and result.stdout == ""
    assert key in result.stderr and "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert elapsed < 1.0, f"took {elapsed:.2f} s of CPU"
