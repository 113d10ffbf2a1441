"""The report for people: a clause table, each failure with its smallest example and curl lines, and the verdict:
what the run certifies, what it did not check and why, and what the user excluded."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from .report import Report

STYLE = {"passed": "[green]pass[/]", "failed": "[bold red]FAIL[/]", "not-checked": "[yellow]not checked[/]", "excluded": "[dim]excluded[/]", "not-run": "[red]not run[/]"}


def print_report(report: Report, console: Console) -> None:
    table = Table(title=f"HITL contract: {report.url} (profile {report.profile})", show_lines=False)
    for column in ("clause", "title", "level", "capability", "result"):
        table.add_column(column, overflow="fold")
    for r in report.results:
        result = STYLE[r.status] + (f" ({r.reason})" if r.status in ("not-checked", "not-run", "passed") and r.reason else "")
        table.add_row(r.clause.id, r.clause.title, r.clause.level, r.clause.capability, result)
    console.print(table)
    for r in (r for r in report.results if r.status == "failed"):
        console.print(f"\n[bold red]FAIL[/] [bold]{r.clause.id}[/] ({r.clause.level}) {r.clause.title}")
        for failure in r.failures[:2]:
            _print_failure(failure, console)
    console.print("\n" + verdict(report))


def _print_failure(failure: dict[str, Any], console: Console) -> None:
    console.print(f"  check {failure['check']}\n  {failure['message'].strip()[:1500]}", markup=False, highlight=False)
    if failure["exchanges"]:
        console.print("  smallest failing example, as sent:", style="dim")
    for exchange in failure["exchanges"]:
        req, resp = exchange["request"], exchange["response"]
        body = json.dumps(req["body"])[:300] if req["body"] is not None else ""
        console.print(f"    {req['method']} {req['url']} {body}", markup=False, highlight=False)
        console.print(f"      -> {resp['status']} {resp['body'][:300]}", markup=False, highlight=False)
        console.print(f"    $ {exchange['curl']}", markup=False, highlight=False, soft_wrap=True)


def verdict(report: Report) -> str:
    """The summary line: counts, then what is certified and what is not, and why."""
    s, c = report.summary(), report.certification()
    counts = f"{s['passed']} passed, {s['failed']} failed, {s['not_checked']} not checked, {s['excluded']} excluded, {s['not_run']} not run"
    parts = [f"certified for capabilities {', '.join(c['capabilities'])}" if c["capabilities"] else "certified for no capability"]
    if c["failed"]:
        parts.append(f"MUST clauses failed in: {', '.join(c['failed'])}")
    if c["not_checked"]:
        parts.append("not checked: " + "; ".join(f"{cap} ({reasons[0]})" for cap, reasons in c["not_checked"].items()))
    if c["excluded"]:
        parts.append(f"excluded by {c['choice']}: {', '.join(c['excluded'])}")
    if not report.complete:
        parts.append("the run did not complete")
    if report.litter.created:
        parts.append(f"threads: {report.litter.created} created, {report.litter.removed} removed")
    head = "[bold green]CERTIFIED[/]" if c["certified"] else "[bold red]NOT CERTIFIED[/]"
    return f"{counts}\n{head}: " + "; ".join(parts)
