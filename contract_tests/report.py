"""Clause-by-clause reports and the certification they support: JSON (below) and JUnit XML for CI; `render` prints
them for people.

A clause is `passed`, `failed`, `not-checked` (its checks were skipped, with the reason: e.g. the server does not
offer that capability), `excluded` (outside the capabilities the user chose to certify) or `not-run` (the run was
interrupted or crashed before its checks ran). A server is certified for a capability when every MUST clause of it
passed; the run certifies the server when it is complete and every MUST clause in scope passed.

JSON schema (`"schema": "hitl-contract-report/2"`): {schema, url, profile, complete, summary: {passed, failed,
not_checked, excluded, not_run, must_failed}, certification: {certified: bool, capabilities: [..], not_checked:
{capability: [reason]}, failed: [..], excluded: [..], choice}, threads: {created, removed, left: [id]},
inputs_not_checked: [{operation, input, reason}], clauses: [{id, title, level, capability, status, reason, checks:
[nodeid], failures: [{check, message, exchanges: [{request, response, curl}]}]}]}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from .capabilities import Scope
from .clauses import AVOIDED_INPUTS, CAPABILITIES, CLAUSES, Clause
from .outcomes import DERIVED, Litter, Outcome

SCHEMA = "hitl-contract-report/2"
STATUSES = ("passed", "failed", "not-checked", "excluded", "not-run")


@dataclass
class ClauseResult:
    clause: Clause
    status: str  # one of STATUSES
    reason: str = ""
    checks: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Report:
    url: str
    profile: str
    results: list[ClauseResult]
    complete: bool = True
    scope: Scope = field(default_factory=lambda: Scope(tuple(CAPABILITIES)))
    litter: Litter = field(default_factory=Litter)

    def must_failures(self) -> list[ClauseResult]:
        return [r for r in self.results if r.status == "failed" and r.clause.level == "MUST"]

    def unchecked_must(self) -> list[ClauseResult]:
        return [r for r in self.results if r.status in ("not-checked", "not-run") and r.clause.level == "MUST"]

    def certified(self) -> bool:
        return self.complete and not self.must_failures() and not self.unchecked_must()

    def summary(self) -> dict[str, int]:
        count = {s.replace("-", "_"): sum(r.status == s for r in self.results) for s in STATUSES}
        return {**count, "must_failed": len(self.must_failures())}

    def certification(self) -> dict[str, Any]:
        failed = sorted({r.clause.capability for r in self.must_failures()}, key=list(CAPABILITIES).index)
        not_checked: dict[str, list[str]] = {}
        for r in self.unchecked_must():
            reasons = not_checked.setdefault(r.clause.capability, [])
            if r.reason not in reasons:
                reasons.append(r.reason)
        held = [c for c in self.scope.capabilities if c not in failed and c not in not_checked]
        return {
            "certified": self.certified(),
            "capabilities": held if self.complete else [],
            "not_checked": not_checked,
            "failed": failed,
            "excluded": [c for c in CAPABILITIES if c not in self.scope],
            "choice": self.scope.choice,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "url": self.url,
            "profile": self.profile,
            "complete": self.complete,
            "summary": self.summary(),
            "certification": self.certification(),
            "threads": {"created": self.litter.created, "removed": self.litter.removed, "left": self.litter.left},
            "inputs_not_checked": [dict(i) for i in AVOIDED_INPUTS],
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
        skipped = s["not_checked"] + s["excluded"] + s["not_run"]
        lines = [
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<testsuites><testsuite name="hitl-contract" tests="{len(self.results)}" failures="{s["failed"]}" skipped="{skipped}">',
        ]
        for r in self.results:
            name = quoteattr(f"{r.clause.id} {r.clause.title}")
            lines.append(f'<testcase classname={quoteattr(f"hitl-contract.{r.clause.capability}.{r.clause.level}")} name={name}>')
            if r.status == "failed":
                detail = "\n\n".join(f["message"] + "\n" + "\n".join(e["curl"] for e in f["exchanges"]) for f in r.failures)
                lines.append(f"<failure message={quoteattr(r.reason[:500])}>{escape(detail)}</failure>")
            elif r.status != "passed":
                lines.append(f"<skipped message={quoteattr(f'{r.status}: {r.reason}')}/>")
            lines.append("</testcase>")
        lines.append("</testsuite></testsuites>")
        return "\n".join(lines) + "\n"


def _result(c: Clause, mine: list[Outcome], *, scope: Scope, complete: bool, collected: set[str]) -> ClauseResult:
    checks = sorted({o.nodeid for o in mine})
    failed = [o for o in mine if o.outcome == "failed"]
    failures = [{"check": o.nodeid, "message": o.message, "exchanges": o.transcript} for o in sorted(failed, key=lambda o: o.nodeid)]
    if c.capability not in scope:
        return ClauseResult(c, "excluded", f"excluded by {scope.choice}")
    if failed:
        first = sorted(failed, key=lambda o: o.nodeid)[0]
        return ClauseResult(c, "failed", first.message.splitlines()[0][:300] if first.message else "a check failed", checks, failures)
    if mine and all(o.outcome == "skipped" for o in mine):
        return ClauseResult(c, "not-checked", sorted(o.message for o in mine)[0], checks)
    if mine and all(o.nodeid.endswith(DERIVED) for o in mine):
        # Other checks' responses conformed, but the clause's own checks never ran: that is not a pass.
        return ClauseResult(c, "not-checked", "only other checks' responses were validated; its own checks did not run", checks)
    if mine:
        # Passed; a check that stopped early (a linked shard whose server state moved on) is named, so the verdict
        # does not claim more than was checked.
        skipped = sorted({o.message for o in mine if o.outcome == "skipped"})
        partial = f"{sum(o.outcome == 'skipped' for o in mine)} of {len(mine)} checks did not run: {skipped[0]}" if skipped else ""
        return ClauseResult(c, "passed", partial, checks)
    if not complete:
        return ClauseResult(c, "not-run", "the run stopped before its checks ran")
    if c.id not in collected:
        return ClauseResult(c, "not-checked", "no check of this clause ran (deselected)")
    return ClauseResult(c, "not-checked", "its checks ran but reported nothing")


def collect(
    outcomes: list[Outcome],
    *,
    url: str,
    profile: str,
    scope: Scope | None = None,
    complete: bool = True,
    collected: set[str] | None = None,
    litter: Litter | None = None,
) -> Report:
    scope = scope or Scope(tuple(CAPABILITIES))
    collected = collected if collected is not None else {c.id for c in CLAUSES}
    results = [_result(c, [o for o in outcomes if c.id in o.clauses], scope=scope, complete=complete, collected=collected) for c in CLAUSES]
    return Report(url or "", profile, results, complete, scope, litter or Litter())


def mark_incomplete(report: Report) -> Report:
    """The report of a run that turned out incomplete: clauses that got no outcome are `not-run`, not skipped."""
    for r in report.results:
        if r.status == "not-checked" and not r.checks:
            r.status, r.reason = "not-run", "the run stopped before its checks ran"
    report.complete = False
    return report
