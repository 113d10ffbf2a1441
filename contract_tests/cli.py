"""`hitl-contract run URL`: the conformance suite against a server, with a progress bar, a clause table, the smallest
failing example of every failure (with curl lines), the certification verdict, and an exit code for CI:

    0  certified: every MUST clause in scope was checked and holds
    1  a MUST clause failed
    2  the run could not start (bad options, server unreachable, credentials refused)
    3  not certified without a failure: the run was interrupted or crashed, or MUST clauses in scope were not checked
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import pytest
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .capabilities import Scope
from .clauses import CLAUSES
from .plugin import PROFILES, REPORT, SUITE, request_headers
from .render import print_report
from .report import Report, collect, mark_incomplete

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(highlight=False, soft_wrap=True)
EXIT_CERTIFIED, EXIT_FAILED, EXIT_USAGE, EXIT_UNCERTIFIED = 0, 1, 2, 3


class _ProgressPlugin:
    """Shows a progress bar while pytest runs the checks, and keeps the clause report."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("checking", total=None)
        self.report: Report | None = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.progress.update(self.task, total=len(session.items))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown":
            self.progress.update(self.task, advance=1, description=report.nodeid.rsplit("::", 1)[-1][:60])

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.report = session.config.stash.get(REPORT, None)


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    console.print(f"[red]hitl-contract:[/] {message}")
    return typer.Exit(code)


def _reachable(url: str, headers: dict[str, str]) -> None:
    """The server answers the contract (`/info`, else `/assistants/search`); a clear one-line error otherwise."""
    try:
        with httpx.Client(base_url=url.rstrip("/"), timeout=15, headers=headers) as http:
            answer = http.get("/info")
            if answer.status_code not in (200, 401, 403):
                answer = http.post("/assistants/search", json={"limit": 1})
    except httpx.HTTPError as exc:
        raise fail(f"cannot reach {url}: {exc}") from None
    if answer.status_code in (401, 403):
        sent = ", ".join(k for k in headers) or "no credentials"
        raise fail(
            f"{url} refused the request ({answer.status_code}; sent: {sent}): pass --api-key (x-api-key, or HITL_API_KEY) "
            "or --header 'Authorization: Bearer …' (or HITL_HEADERS)"
        )
    if answer.status_code != 200:
        raise fail(f"{url} answers neither /info nor /assistants/search ({answer.status_code}); is this a LangGraph server?")


# --workers auto: concurrency hides the server's latency, and each worker is a process that pays its own start-up
# (about 2 CPU-seconds). Measured on 2 cores with the default profile: the mock (a run in a few ms) took 8.7 s with
# 2 workers and 17.5 s with 8; the official dev server (about 1 s per run) took 38 s with 4, 30 s with 8, 52 s with 16.
MAX_WORKERS = 8
FAST_RUN = 0.1  # seconds: a server whose run answers this fast is bound by CPU, not by waiting


def _probe_run(http: httpx.Client) -> float | None:
    """Seconds for one run of the `nointerrupt` fixture graph on a new thread (deleted again), or None if it failed."""
    created = http.post("/threads", json={})
    if created.status_code != 200:
        return None
    thread = f"/threads/{created.json().get('thread_id')}"
    try:
        start = time.perf_counter()
        ran = http.post(f"{thread}/runs/wait", json={"assistant_id": "nointerrupt", "input": {}})
        return time.perf_counter() - start if ran.status_code == 200 else None
    finally:
        http.delete(thread)


def auto_workers(url: str, headers: dict[str, str]) -> tuple[int, str]:
    """The worker count for --workers auto, and why: one per CPU core (at most 8) for a server that runs in
    milliseconds, else 8."""
    cores = min(MAX_WORKERS, os.cpu_count() or 1)
    try:
        with httpx.Client(base_url=url.rstrip("/"), timeout=60, headers=headers) as http:
            took = _probe_run(http)
    except (httpx.HTTPError, ValueError):
        took = None
    if took is None:
        return MAX_WORKERS, "the probe run on `nointerrupt` failed"
    if took < FAST_RUN:
        return cores, f"a run took {took * 1000:.0f} ms, so the checks are bound by CPU ({os.cpu_count()} cores)"
    return MAX_WORKERS, f"a run took {took * 1000:.0f} ms, so the checks mostly wait"


@dataclass(frozen=True)
class RunOptions:
    url: str
    profile: str
    api_key: str | None
    headers: list[str]
    capabilities: str | None
    skip: list[str]
    keep_threads: bool
    workers: int
    select: str | None

    def pytest_args(self, scratch: str) -> list[str]:
        args = [str(SUITE), *PLUGINS, "-p", "no:cacheprovider", "-p", "no:terminal", "--hitl-url", self.url, "--hitl-profile", self.profile]
        for flag, value in (("--hitl-api-key", self.api_key), ("--hitl-capabilities", self.capabilities), ("-k", self.select)):
            if value:
                args += [flag, value]
        args += [a for h in self.headers for a in ("--hitl-header", h)]
        args += [a for s in self.skip for a in ("--hitl-skip-capability", s)]
        if self.keep_threads:
            args.append("--hitl-keep-threads")
        if self.workers > 1:
            args += ["-n", str(self.workers), "--dist", "worksteal"]
        ini = Path(scratch) / "pytest.ini"  # the user's pytest configuration stays out of this run
        ini.write_text("[pytest]\n")
        return [*args, "-c", str(ini), "--rootdir", scratch]


# The run loads only the plugins the suite needs (PYTEST_DISABLE_PLUGIN_AUTOLOAD, inherited by the workers): other
# installed plugins cannot change it, and each worker starts faster (measured: 5.6 s instead of 7.1 s on the mock).
PLUGINS = ["-p", "contract_tests.plugin", "-p", "xdist.plugin", "-p", "_hypothesis_pytestplugin"]


def _run_suite(options: RunOptions) -> tuple[int, Report | None]:
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True) as progress:
        plugin = _ProgressPlugin(progress)
        with tempfile.TemporaryDirectory() as scratch:  # keep pytest's and hypothesis's files out of the user's folder
            cwd, autoload = os.getcwd(), os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
            os.chdir(scratch)
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
            try:
                code = int(pytest.main(options.pytest_args(scratch), plugins=[plugin]))
            except KeyboardInterrupt:
                code = int(pytest.ExitCode.INTERRUPTED)
            finally:
                os.chdir(cwd)
                _restore("PYTEST_DISABLE_PLUGIN_AUTOLOAD", autoload)
    return code, plugin.report


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _incomplete(options: RunOptions, scope: Scope) -> Report:
    """The report of a run that stopped before the plugin could write one: every clause in scope not run."""
    return collect([], url=options.url, profile=options.profile, scope=scope, complete=False, collected={c.id for c in CLAUSES})


@app.command()
def run(
    url: Annotated[str, typer.Argument(help="The server to check, e.g. http://127.0.0.1:8123")],
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="HITL_API_KEY", help="Sent as x-api-key.")] = None,
    header: Annotated[list[str] | None, typer.Option("--header", "-H", help="'Name: value' for every request (repeatable), e.g. 'Authorization: Bearer …'; or HITL_HEADERS.")] = None,
    profile: Annotated[str, typer.Option(help="quick | default | thorough: how far the property checks go.")] = "default",
    capabilities: Annotated[str | None, typer.Option("--capabilities", help="Certify only these capabilities (comma-separated).")] = None,
    skip_capability: Annotated[list[str] | None, typer.Option("--skip-capability", help="Leave a capability out of the certification (repeatable).")] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-n", min=0, show_default="auto", help="Checks run at once, each on its own threads (0 or 1: one at a time). "
                     "By default 8, or one per CPU core when a probe run takes under 100 ms."),
    ] = None,
    keep_threads: Annotated[bool, typer.Option("--keep-threads", help="Do not delete the threads the suite created.")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the clause report as JSON here.")] = None,
    junit_path: Annotated[Path | None, typer.Option("--junit", help="Write the clause report as JUnit XML here.")] = None,
    select: Annotated[str | None, typer.Option("-k", help="Only the checks whose names match (a pytest -k expression); the rest are not checked.")] = None,
) -> None:
    """Check a server clause by clause; exit 0 only when it is certified (see the exit codes above)."""
    if profile not in PROFILES:
        raise fail(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    headers = [*(header or []), *(h for h in os.environ.get("HITL_HEADERS", "").splitlines() if h.strip())]
    try:
        scope = Scope.chosen(capabilities, skip_capability or [])
        sent = request_headers(headers, api_key)
    except ValueError as exc:
        raise fail(str(exc)) from None
    _reachable(url, sent)
    if workers is None:
        workers, why = auto_workers(url, sent)
        console.print(f"[dim]workers: {workers} ({why}; --workers N to choose)[/]")
    options = RunOptions(url.rstrip("/"), profile, api_key, headers, capabilities, skip_capability or [], keep_threads, workers, select)
    code, report = _run_suite(options)
    if report is None:
        console.print(f"[red]hitl-contract:[/] the suite did not finish (pytest exit {code}); nothing is certified")
        report = _incomplete(options, scope)
    if code in (2, 3, 4) and report.complete:  # interrupted, an internal or a usage error: the run is not complete
        report = mark_incomplete(report)
    for path, text in ((json_path, report.to_json), (junit_path, report.to_junit)):
        if path:
            path.write_text(text())
    print_report(report, console)
    raise typer.Exit(EXIT_FAILED if report.must_failures() else (EXIT_CERTIFIED if report.certified() else EXIT_UNCERTIFIED))


@app.command()
def clauses() -> None:
    """List the clause catalogue."""
    from rich.table import Table

    from .clauses import CAPABILITIES

    table = Table(title=f"{len(CLAUSES)} clauses")
    for column in ("clause", "level", "capability", "statement"):
        table.add_column(column, overflow="fold")
    for c in CLAUSES:
        table.add_row(c.id, c.level, c.capability, c.title)
    console.print(table)
    for name, meaning in CAPABILITIES.items():
        console.print(f"[bold]{name}[/]: {meaning}")


from . import compare_cli, load_cli  # noqa: E402, F401  (register `verify`, `diff` and `load` on `app`)


def main() -> None:
    sys.exit(app())


if __name__ == "__main__":
    main()
