#!/usr/bin/env python3
"""`hitl-contract load` on the mock and on the official server, side by side in one run.

    .venv/bin/python benchmarks/journeys.py                  # 50 users for 60 s on each, then 200 on the mock
    .venv/bin/python benchmarks/journeys.py --quick          # 5 users for 5 s, to check the script (CI)
    .venv/bin/python benchmarks/journeys.py --no-official    # the mock only

Both servers serve fixtures/graphs (bench.py `server`), and each gets the same load: `--users` reviewers on the
four journey graphs, `--think` seconds of thinking, steps by wait and by stream, half the streams dropped and
rejoined. For each it prints journeys/s, the p95 of the starting run and of the resume, correctness failures
and HTTP errors. `--mock-users` adds a run on the mock alone with more users. Beside them, measured in the same
run: the in-process floor (benchmarks/floor.py), one interrupt/resume cycle on LangGraph alone, no HTTP.
The load generator shares the machine's cores with the server, as it would on a developer's laptop; the
figures compare the servers under the same generator, not the generator's limits.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import floor
from bench import server
from rich.console import Console
from rich.table import Table

console = Console(width=None if sys.stdout.isatty() else 150)
HITL_CONTRACT = str(Path(sys.executable).with_name("hitl-contract"))


def run_load(url: str, users: int, duration: int, think: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="journeys-") as tmp:
        report = Path(tmp) / "load.json"
        command = [HITL_CONTRACT, "load", url, "--users", str(users), "--spawn-rate", str(max(users // 5, 5)), "--duration", f"{duration}s", "--think", str(think), "--json", str(report), "--quiet"]
        proc = subprocess.run(command, check=False, capture_output=True, text=True, timeout=duration + 300)
        if not report.exists():
            raise SystemExit(f"hitl-contract load failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        summary: dict[str, Any] = json.loads(report.read_text())
        return summary


def p95(summary: dict[str, Any], suffix: str) -> float | None:
    """The largest p95 of the steps whose name ends with `suffix` (one per graph)."""
    steps = [s for s in summary["steps"] if s["step"].endswith(suffix) and s["p95_ms"] is not None]
    return max((s["p95_ms"] for s in steps), default=None)


def row(label: str, summary: dict[str, Any]) -> list[str]:
    start, resume = p95(summary, "start (wait)"), p95(summary, "resume (wait)")
    return [
        label,
        str(summary["users"]),
        f"{summary['journeys']['per_s']:.1f}",
        str(summary["journeys"]["completed"]),
        f"{start:.0f}" if start is not None else "-",
        f"{resume:.0f}" if resume is not None else "-",
        str(summary["correctness_failures"]) + "".join(f" ({kind} {c['failed']})" for kind, c in summary["checks"].items() if c["failed"]),
        str(summary["http_errors"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds per run")
    parser.add_argument("--think", type=float, default=0.5)
    parser.add_argument("--mock-users", type=int, default=200, help="users for the extra run on the mock alone (0: none)")
    parser.add_argument("--no-official", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.users, args.duration, args.mock_users = 5, 5, 0
    results: list[tuple[str, dict[str, Any]]] = []
    with console.status("the in-process floor"):
        base = floor.cycles(200 if not args.quick else 20, 200 if not args.quick else 20)
    kinds = ["mock"] + ([] if args.no_official else ["official"])
    for kind in kinds:
        with server(kind) as (url, _, _), console.status(f"{kind}: {args.users} users for {args.duration} s"):
            results.append((kind, run_load(url, args.users, args.duration, args.think)))
            if kind == "mock" and args.mock_users:
                with console.status(f"mock: {args.mock_users} users for {args.duration} s"):
                    results.append(("mock", run_load(url, args.mock_users, args.duration, args.think)))
    columns = ("server", "users", "journeys/s", "journeys", "p95 start (wait) ms", "p95 agent resume (wait) ms", "correctness failures", "HTTP errors")
    table = Table(*columns, title=f"hitl-contract load, {args.duration} s, think {args.think} s")
    for label, summary in results:
        table.add_row(*row(label, summary))
    console.print(table)
    console.print(f"in-process floor (LangGraph alone, same run): one interrupt/resume cycle p50 {base['p50']:.2f} ms, {base['c10']:.0f} cycles/s with 10 in flight")
    bad = [label for label, s in results if s["exit_code"] != 0]
    if bad:
        console.print(f"[red]not every run kept the contract: {', '.join(bad)}[/]")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
