"""`make bench`: what it runs and what it prints (its figures are for people, not asserted)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from tools.bench import run_once

ROOT = Path(__file__).resolve().parent.parent


def test_the_baselines_register_nothing_and_as_many_bare_objects_as_asked():
    assert run_once("empty", 0) == 0
    assert run_once("floor", 7) == 7


def test_the_bench_compares_the_prod_plan_with_both_baselines_compiled_once():
    # Its samples time plans, not compiling our sources each time: the warm-up writes the .pyc
    # files even where the environment says not to (as this machine's does).
    compiled = Path(importlib.util.cache_from_source(str(ROOT / "components" / "platform.py")))
    compiled.unlink(missing_ok=True)
    result = subprocess.run([sys.executable, "-m", "tools.bench", "--runs", "1"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert compiled.exists()
    count = int(re.search(r"prod plan: +[\d.]+ s \((\d+) resources", result.stdout)[1])
    assert count > 100
    assert re.search(r"ratio: +[\d.]+ \(target < 3\)", result.stdout)
    assert re.search(rf"{count} bare ConfigMaps: [\d.]+ s, [\d.]+x the empty program", result.stdout)


def test_each_figure_is_the_fastest_of_its_samples(monkeypatch, capsys):
    # Interference only adds time: a slow spell in some samples must not move the figures.
    from tools import bench

    samples = {"prod": iter([0.9, 0.45, 0.6]), "empty": iter([0.15, 0.4, 0.2]), "floor": iter([0.3, 0.21, 0.5])}
    monkeypatch.setattr(bench, "sample", lambda which, count=0, env=None: (next(samples[which]), 216)
                        if count else (1.0, 216))
    assert bench.main(["--runs", "3"]) == 0
    out = capsys.readouterr().out
    assert "prod plan:     0.450 s (216 resources; fastest of 3)" in out
    assert "empty program: 0.150 s" in out and "ratio:         3.00" in out
    assert "216 bare ConfigMaps: 0.210 s, 1.40x" in out
