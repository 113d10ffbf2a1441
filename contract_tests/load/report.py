"""The load report, read from Locust's statistics (summed over workers in master/worker mode): journeys per
second, each step's p50/p95/p99, every check kind with how often it ran and failed, HTTP errors apart, examples,
the verdict and the exit code:

    0  every journey's checks held, with no HTTP error
    1  a correctness check failed, or a call answered an error
    2  nothing was checked: no journey completed
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from contract_tests.load.checks import CHECK, JOURNEY, KINDS

EXAMPLES = 3  # failure messages kept per kind


def summarise(stats: Any, options: Any, *, workers: int = 1) -> dict[str, Any]:
    entries = list(stats.entries.values())
    end = stats.total.last_request_timestamp or stats.total.start_time
    elapsed = max(0.0, end - stats.total.start_time)
    journeys = [e for e in entries if e.method == JOURNEY]
    completed = sum(e.num_requests - e.num_failures for e in journeys)
    checks: dict[str, dict[str, Any]] = {kind: {"checked": 0, "failed": 0, "what": what} for kind, what in KINDS.items()}
    for e in entries:
        if e.method == CHECK:
            checks.setdefault(e.name, {"checked": 0, "failed": 0, "what": ""})
            checks[e.name]["checked"] += e.num_requests
            checks[e.name]["failed"] += e.num_failures
    checks["journey-completes"]["checked"] = sum(e.num_requests for e in journeys)  # it is reported only when it fails
    steps = [_step(e) for e in sorted(entries, key=lambda e: (e.method == JOURNEY, e.name)) if e.method != CHECK]
    http_errors = sum(e.num_failures for e in entries if e.method not in (CHECK, JOURNEY))
    failures = sum(c["failed"] for c in checks.values())
    examples: dict[str, list[str]] = {}
    for error in sorted(stats.errors.values(), key=lambda e: -e.occurrences):
        bucket = examples.setdefault(f"{error.method} {error.name}", [])
        if len(bucket) < EXAMPLES:
            bucket.append(f"{error.error} (x{error.occurrences})")
    if completed == 0:
        code, verdict = 2, "NOTHING CHECKED: no journey completed"
    elif failures:
        code, verdict = 1, f"FAILED: {failures} correctness failure(s)"
    elif http_errors:
        code, verdict = 1, f"FAILED: {http_errors} HTTP error(s), no correctness failure"
    else:
        code, verdict = 0, f"PASSED: {completed} journeys, every check held"
    return {
        "host": getattr(options, "host", None),
        "users": getattr(options, "hitl_users", None),
        "profile": getattr(options, "hitl_profile", None),
        "graphs": getattr(options, "hitl_graphs", None),
        "workers": workers,
        "elapsed_s": round(elapsed, 2),
        "journeys": {"completed": completed, "started": sum(e.num_requests for e in journeys), "per_s": round(completed / elapsed, 2) if elapsed else 0.0},
        "steps": steps,
        "checks": checks,
        "checks_total": sum(c["checked"] for c in checks.values()),
        "correctness_failures": failures,
        "http_errors": http_errors,
        "examples": examples,
        "verdict": verdict,
        "exit_code": code,
    }


def _step(entry: Any) -> dict[str, Any]:
    pct = entry.get_response_time_percentile
    return {
        "step": entry.name,
        "type": entry.method,
        "count": entry.num_requests,
        "errors": entry.num_failures,
        "p50_ms": pct(0.5) if entry.num_requests else None,
        "p95_ms": pct(0.95) if entry.num_requests else None,
        "p99_ms": pct(0.99) if entry.num_requests else None,
    }


def write_report(summary: dict[str, Any], json_path: str | None, console: Console | None = None) -> None:
    console = console or Console(highlight=False, soft_wrap=True)
    if json_path:
        Path(json_path).write_text(json.dumps(summary, indent=2) + "\n")
    j = summary["journeys"]
    console.print(
        f"\n[bold]hitl-contract load[/] {summary['host']}: {summary['users']} users ({summary['profile']}), "
        f"{summary['workers']} worker process(es), {summary['elapsed_s']:.0f} s: {j['completed']} journeys completed "
        f"of {j['started']}, {j['per_s']:.1f}/s"
    )
    steps = Table("step", "type", "count", "HTTP errors", "p50 ms", "p95 ms", "p99 ms", title="steps (a journey's time includes its think time)")
    for s in summary["steps"]:
        steps.add_row(s["step"], s["type"], str(s["count"]), str(s["errors"]), *(str(s[k]) if s[k] is not None else "-" for k in ("p50_ms", "p95_ms", "p99_ms")))
    console.print(steps)
    checks = Table("check", "checked", "failed", title="correctness checks (apart from HTTP errors)")
    for kind, c in summary["checks"].items():
        failed = f"[red]{c['failed']}[/]" if c["failed"] else "0"
        checks.add_row(kind, str(c["checked"]) if c["checked"] else "[yellow]not checked[/]", failed)
    console.print(checks)
    for kind, c in summary["checks"].items():
        if c["failed"] or not c["checked"]:
            console.print(f"[bold]{kind}[/]: {c['what']}")
    for where, messages in summary["examples"].items():
        console.print(f"[red]{where}[/]")
        for message in messages:
            console.print(f"  {message}")
    colour = {0: "green", 1: "red", 2: "yellow"}[summary["exit_code"]]
    console.print(f"[bold {colour}]{summary['verdict']}[/]")
