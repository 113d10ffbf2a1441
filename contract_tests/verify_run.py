"""Running `hitl-contract verify`: the scenario's side (a mock serving the file, started as a process: the suite never
imports the mock), the deployment's assistant, the conversations on both, and the report."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import httpx

from .scenario_model import Scenario
from .verify import Driver, Outcome, VerifyReport, compare, conversations


class VerifyError(RuntimeError):
    """Verify cannot run (the mock does not start, no assistant for the graph); the message says why."""


@contextlib.contextmanager
def scenario_server(path: Path, timeout: float = 60) -> Iterator[str]:
    """`hitl-mock serve --scenarios FILE` on a free loopback port, stopped on exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [_hitl_mock(), "serve", "--host", "127.0.0.1", "--port", str(port), "--scenarios", str(path)]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    log.seek(0)
                    said = log.read().decode("utf-8", "replace").strip().splitlines()
                    raise VerifyError(f"the mock did not start on {path}: {said[-1] if said else f'exit {proc.returncode}'}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url + "/ok", timeout=1).status_code == 200:
                        break
                time.sleep(0.1)
            else:
                raise VerifyError(f"the mock did not answer within {timeout:.0f} s")
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _hitl_mock() -> str:
    """The `hitl-mock` command of this environment (beside this Python), else the one on PATH."""
    beside = Path(sys.executable).parent / "hitl-mock"
    found = str(beside) if beside.exists() else shutil.which("hitl-mock")
    if not found:
        raise VerifyError("verify runs the scenario with hitl-mock, which is not installed here: install hitl-contract-kit, or pass --mock URL")
    return found


def resolve_assistant(url: str, graph_id: str, headers: dict[str, str]) -> str:
    """The deployment's assistant for `graph_id`: the first one `/assistants/search` lists for it."""
    try:
        found = httpx.post(url.rstrip("/") + "/assistants/search", json={"graph_id": graph_id, "limit": 1}, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise VerifyError(f"cannot reach {url}: {exc}") from None
    if found.status_code != 200 or not found.json():
        raise VerifyError(f"{url} has no assistant for graph {graph_id!r} (pass --assistant ID)")
    return str(found.json()[0]["assistant_id"])


def run_verify(
    scenario: Scenario,
    mock_url: str,
    url: str,
    assistant: str,
    headers: dict[str, str],
    progress: Callable[[str, int], None] = lambda _, __: None,
    *,
    first_side: tuple[str, dict[str, str]] | None = None,
) -> VerifyReport:
    """The scenario's conversations on `mock_url` (the expectation) and on `url`. `first_side` is the assistant and
    headers for the first side when it is a server rather than the scenario's mock (`diff --scenario`)."""
    expected_side = Driver(mock_url, *(first_side or (scenario.graph_id, {})))
    actual_side = Driver(url, assistant, headers)
    try:
        todo = conversations(scenario, expected_side)
        outcomes = []
        for conversation in todo:
            progress(conversation.name, len(todo))
            expected = expected_side.run(conversation)
            actual = actual_side.run(conversation)
            outcomes.append(Outcome(conversation, expected, actual, compare(conversation, expected, actual, scenario, actual_side.curl)))
    except httpx.HTTPError as exc:
        raise VerifyError(f"a request failed: {exc}") from None
    finally:
        expected_side.close()
        actual_side.close()
    not_generated = [name for steps in scenario.interrupts.values() for s in steps for name in s.not_generated]
    return VerifyReport(str(scenario.path), url, assistant, outcomes, scenario.branches, not_generated, scenario.untracked)


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_verify(report: VerifyReport, console: Any) -> None:
    from rich.markup import escape as esc
    from rich.table import Table

    table = Table(title=f"{report.scenario} against {report.url} (assistant {report.assistant})")
    for column in ("conversation", "requests (scenario / deployment)", "result"):
        table.add_column(column, overflow="fold")
    for o in report.outcomes:
        table.add_row(esc(o.conversation.name), f"{len(o.expected)} / {len(o.actual)}", "[green]same[/]" if o.passed else f"[red]{len(o.differences)} differences[/]")
    console.print(table)
    for d in report.differences:
        console.print(f"\n[bold]{esc(d.conversation)}[/], step {d.step} ({esc(d.label)}), {esc(d.what)}: {esc(d.why)}")
        console.print(f"  scenario:   {esc(_short(d.expected))}\n  deployment: {esc(_short(d.actual))}")
        if d.curl:
            console.print(f"  [dim]{esc(d.curl)}[/]")
    coverage = Table(title="branch coverage")
    coverage.add_column("branch", overflow="fold")
    coverage.add_column("result")
    for branch, result in report.coverage():
        coverage.add_row(esc(branch), result)
    if report.branches or report.not_generated or report.untracked:
        console.print(coverage)
    failed = sum(1 for o in report.outcomes if not o.passed)
    if failed:
        console.print(f"\n[red]{failed} of {len(report.outcomes)} conversations differ from the scenario[/]")
    else:
        console.print(f"\n[green]all {len(report.outcomes)} conversations match the scenario[/]")


def to_junit(report: VerifyReport) -> str:
    failed = sum(1 for o in report.outcomes if not o.passed)
    lines = ['<?xml version="1.0" encoding="utf-8"?>', f'<testsuites><testsuite name="hitl-contract verify" tests="{len(report.outcomes)}" failures="{failed}">']
    for o in report.outcomes:
        lines.append(f'<testcase classname={quoteattr("hitl-contract.verify." + Path(report.scenario).stem)} name={quoteattr(o.conversation.name)}>')
        if o.differences:
            detail = "\n\n".join(f"step {d.step} ({d.label}), {d.what}: {d.why}\nscenario: {_short(d.expected, 2000)}\ndeployment: {_short(d.actual, 2000)}\n{d.curl}" for d in o.differences)
            first = o.differences[0]
            lines.append(f"<failure message={quoteattr(f'step {first.step} ({first.label}), {first.what}: {first.why}')}>{escape(detail)}</failure>")
        lines.append("</testcase>")
    lines.append("</testsuite></testsuites>")
    return "\n".join(lines) + "\n"
