"""The benchmark script runs and prints its table (a check of the script, not of the figures)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {"COLUMNS": "200", "PATH": "/usr/bin:/bin"}


def _bench(*args: str) -> str:
    proc = subprocess.run([sys.executable, "benchmarks/bench.py", "--quick", "--no-official", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


def test_bench_quick_prints_every_row():
    out = _bench()
    for row in ("cycle latency p50", "cycle latency p95", "concurrency 1", "concurrency 10", "start to first /ok", "RSS after 50 interrupted threads"):
        assert row in out, out
    assert "not measured" not in out
    assert "in-process floor" in out, out  # the reference, measured in the same run


def test_bench_measures_a_baseline_ref_beside_the_mock():
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode:
        pytest.skip("not a git checkout")
    out = _bench("--baseline", "HEAD", "--rounds", "1")
    assert "mock @ HEAD" in out and "change" in out, out


def _load(*args: str) -> str:
    proc = subprocess.run([sys.executable, "benchmarks/load.py", *args, "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 0, proc.stderr + proc.stdout  # 1 for a wrong answer, a dropped connection or a leftover
    return proc.stdout


def test_load_levels_check_every_cycle_from_several_processes():
    out = _load("levels")
    rows = re.findall(r"│\s+(\d+) │\s+(\d+) │\s+(\d+) /s │\s+([\d.]+) │\s+([\d.]+) │.*?│\s+(\d+) │\s+(\d+) │\s+(\d+) │", out)
    assert [(level, procs) for level, procs, *_ in rows] == [("10", "2"), ("40", "2")], out
    assert all(int(checked) > 0 and (wrong, dropped) == ("0", "0") for *_, checked, wrong, dropped in rows), out
    assert rows[0][3] == "1.00" and "floor (LangGraph alone" in out, out  # c10 against itself, and the floor of the same run


def test_load_disconnect_leaves_nothing_behind():
    assert "nothing left behind ✓" in _load("disconnect")


def test_load_soak_reports_rss_over_time():
    out = _load("soak", "--max-threads", "100")
    assert re.search(r"300 cycles checked in \d+ s .* 0 failed; threads kept at the end: 100;", out), out


def test_suite_time_prints_the_mock_figure_and_verdict():
    proc = subprocess.run([sys.executable, "benchmarks/suite_time.py", "--no-official", "--profile", "quick"], cwd=ROOT, capture_output=True, text=True, timeout=600, env=ENV)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.startswith("│ mock"))
    assert "auto" in row and re.search(r"│ CERTIFIED \(\d+ passed, 0 failed", row), proc.stdout


def test_fuzz_finds_no_server_error_in_a_small_run():
    proc = subprocess.run([sys.executable, "benchmarks/fuzz.py", "--requests", "300"], cwd=ROOT, capture_output=True, text=True, timeout=600, env=ENV)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # both specs: at least the requests asked for, 0 server errors, 0 non-JSON error bodies
    rows = re.findall(r"│ (openapi/openapi\.yaml|official /openapi\.json).*?│ (\d+)\s+│ (\d+)\s+│ (\d+)\s+│", proc.stdout)
    assert len(rows) == 2 and all(int(n) >= 300 and (e, j) == ("0", "0") for _, n, e, j in rows), proc.stdout


def test_journeys_prints_the_load_figures_beside_the_floor():
    proc = subprocess.run([sys.executable, "benchmarks/journeys.py", "--quick", "--no-official"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert re.search(r"│ mock\s+│ 5\s+│ [\d.]+\s+│ \d+\s+│ \d+\s+│ \d+\s+│ 0\s+│ 0\s+│", proc.stdout), proc.stdout
    assert "in-process floor (LangGraph alone, same run)" in proc.stdout


@pytest.mark.official
def test_replay_times_the_source_and_the_replay_side_by_side():
    proc = subprocess.run([sys.executable, "benchmarks/replay.py", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=600, env=ENV)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    rows = re.findall(r"│ (\w+)\s+│ ([\d.]+)\s+│ ([\d.]+)\s+│ ([\d.]+)\s+│ (\d+)\s+│", proc.stdout)
    assert [r[0] for r in rows] == ["agent", "approve", "all"] and all(r[4] == "0" for r in rows), proc.stdout
