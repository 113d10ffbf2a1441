"""Clause-by-clause reports: a rich table for people, JSON (schema version 1, below) and JUnit XML for CI.

JSON schema (`"schema": "hitl-contract-report/1"`): {schema, url, profile, summary: {passed, failed, skipped,
must_failed}, clauses: [{id, title, level, capability, status (passed|failed|skipped), reason, checks:
[nodeid], failures: [{check, message, exchanges: [{request, response, curl}]}]}]}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from rich.console import Console
from rich.table import Table

from .clauses import CLAUSES, Clause

SCHEMA = "hitl-contract-report/1"


@dataclass
class ClauseResult:
    clause: Clause
    status: str  # passed | failed | skipped
    reason: str = ""
    checks: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Report:
    url: str
    profile: str
    results: list[ClauseResult]

    def must_failures(self) -> list[ClauseResult]:
        return [r for r in self.results if r.status == "failed" and r.clause.level == "MUST"]

    def summary(self) -> dict[str, int]:
        count = {s: sum(r.status == s for r in self.results) for s in ("passed", "failed", "skipped")}
        return {**count, "must_failed": len(self.must_failures())}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "url": self.url,
            "profile": self.profile,
            "summary": self.summary(),
            "clauses": [
                {
                    "id": r.clause.id,
                    "title": r.clause.title,
                    "level": r.clause.level,
                    "capability": r.clause.capability,
                    "status": r.status,
                    "reason": r.reason,
                    "checks": r.checks,
                    "failures": r.failures,
                }
                for r in self.results
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_junit(self) -> str:
        s = self.summary()
        lines = [
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<testsuites><testsuite name="hitl-contract" tests="{len(self.results)}" failures="{s["failed"]}" skipped="{s["skipped"]}">',
        ]
        for r in self.results:
            name = quoteattr(f"{r.clause.id} {r.clause.title}")
            lines.append(f'<testcase classname={quoteattr(f"hitl-contract.{r.clause.capability}.{r.clause.level}")} name={name}>')
            if r.status == "failed":
                detail = "\n\n".join(f["message"] + "\n" + "\n".join(e["curl"] for e in f["exchanges"]) for f in r.failures)
                lines.append(f"<failure message={quoteattr(r.reason[:500])}>{escape(detail)}</failure>")
            elif r.status == "skipped":
                lines.append(f"<skipped message={quoteattr(r.reason)}/>")
            lines.append("</testcase>")
        lines.append("</testsuite></testsuites>")
        return "\n".join(lines) + "\n"

    def print(self, console: Console) -> None:
        table = Table(title=f"HITL contract: {self.url} (profile {self.profile})", show_lines=False)
        for column in ("clause", "title", "level", "capability", "result"):
            table.add_column(column, overflow="fold")
        style = {"passed": "[green]pass[/]", "failed": "[bold red]FAIL[/]", "skipped": "[yellow]skip[/]"}
        for r in self.results:
            result = style[r.status] + (f" ({r.reason})" if r.status == "skipped" and r.reason else "")
            table.add_row(r.clause.id, r.clause.title, r.clause.level, r.clause.capability, result)
        console.print(table)
        for r in (r for r in self.results if r.status == "failed"):
            console.print(f"\n[bold red]FAIL[/] [bold]{r.clause.id}[/] ({r.clause.level}) {r.clause.title}")
            for failure in r.failures[:2]:
                console.print(f"  check {failure['check']}\n  {failure['message'].strip()[:1500]}", markup=False, highlight=False)
                if failure["exchanges"]:
                    console.print("  smallest failing example, as sent:", style="dim")
                for exchange in failure["exchanges"]:
                    req, resp = exchange["request"], exchange["response"]
                    console.print(f"    {req['method']} {req['url']} {json.dumps(req['body'])[:300] if req['body'] is not None else ''}", markup=False, highlight=False)
                    console.print(f"      -> {resp['status']} {resp['body'][:300]}", markup=False, highlight=False)
                    console.print(f"    $ {exchange['curl']}", markup=False, highlight=False, soft_wrap=True)
        s = self.summary()
        verdict = "[bold red]MUST clauses failed[/]" if s["must_failed"] else "[bold green]every MUST clause holds[/]"
        console.print(f"\n{s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped — {verdict}")


def collect(outcomes: list[Any], *, url: str, profile: str) -> Report:
    results = []
    for c in CLAUSES:
        mine = [o for o in outcomes if c.id in o.clauses]
        failed = [o for o in mine if o.outcome == "failed"]
        if failed:
            status, reason = "failed", failed[0].message.splitlines()[0][:300] if failed[0].message else "a check failed"
        elif mine and all(o.outcome == "skipped" for o in mine):
            status, reason = "skipped", mine[0].message
        elif mine:
            status, reason = "passed", ""
        else:
            status, reason = "skipped", "no check of this clause ran (deselected)"
        results.append(
            ClauseResult(
                c,
                status,
                reason,
                [o.nodeid for o in mine],
                [{"check": o.nodeid, "message": o.message, "exchanges": o.transcript} for o in failed],
            )
        )
    return Report(url or "", profile, results)
