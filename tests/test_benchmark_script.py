"""The benchmark script runs and prints its table (a check of the script, not of the figures)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_prints_every_row():
    proc = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--quick", "--no-official"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    for row in ("cycle latency p50", "cycle latency p95", "concurrency 1", "concurrency 10", "start to first /ok", "RSS after 50 interrupted threads"):
        assert row in proc.stdout, proc.stdout
    assert "not measured" not in proc.stdout
