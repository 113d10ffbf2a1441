"""`hitl-contract run URL`: the conformance suite against a server, with a progress bar, a clause table,
the smallest failing example of every failure (with curl lines), and an exit code for CI."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import httpx
import pytest
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .plugin import PROFILES, REPORT, SUITE
from .report import Report

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(highlight=False, soft_wrap=True)


class _ProgressPlugin:
    """Shows a progress bar while pytest runs the checks, and keeps the clause report."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("checking", total=None)
        self.report: Report | None = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.progress.update(self.task, total=len(session.items))

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self.progress.update(self.task, advance=1, description=nodeid.rsplit("::", 1)[-1][:60])

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.report = session.config.stash.get(REPORT, None)


@app.command()
def run(
    url: Annotated[str, typer.Argument(help="The server to check, e.g. http://127.0.0.1:8123")],
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="HITL_API_KEY", help="Sent as x-api-key.")] = None,
    profile: Annotated[str, typer.Option(help="quick | default | thorough: how far the property checks go.")] = "default",
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the clause report as JSON here.")] = None,
    junit_path: Annotated[Path | None, typer.Option("--junit", help="Write the clause report as JUnit XML here.")] = None,
    select: Annotated[str | None, typer.Option("-k", help="Only the checks whose names match (a pytest -k expression).")] = None,
) -> None:
    """Check a server clause by clause. Exits 1 when a MUST clause fails, 2 when the run could not start."""
    if profile not in PROFILES:
        console.print(f"[red]hitl-contract:[/] unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        raise typer.Exit(2)
    try:
        ok = httpx.get(url.rstrip("/") + "/ok", timeout=10, headers={"x-api-key": api_key} if api_key else None)
    except httpx.HTTPError as exc:
        console.print(f"[red]hitl-contract:[/] cannot reach {url}: {exc}")
        raise typer.Exit(2) from None
    if ok.status_code != 200:
        console.print(f"[red]hitl-contract:[/] {url}/ok answered {ok.status_code}; is this a LangGraph server?")
        raise typer.Exit(2)
    args = [str(SUITE), "-p", "no:cacheprovider", "-p", "no:terminal", "--hitl-url", url, "--hitl-profile", profile]
    if api_key:
        args += ["--hitl-api-key", api_key]
    if json_path:
        args += ["--hitl-json", str(json_path)]
    if junit_path:
        args += ["--hitl-junit", str(junit_path)]
    if select:
        args += ["-k", select]
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True) as progress:
        plugin = _ProgressPlugin(progress)
        with tempfile.TemporaryDirectory() as scratch:  # keep pytest's and hypothesis's files out of the user's folder
            ini = Path(scratch) / "pytest.ini"  # and the user's pytest configuration out of this run
            ini.write_text("[pytest]\n")
            args += ["-c", str(ini), "--rootdir", scratch]
            cwd = os.getcwd()
            os.chdir(scratch)
            try:
                code = pytest.main(args, plugins=[plugin])
            finally:
                os.chdir(cwd)
    if plugin.report is None:
        console.print(f"[red]hitl-contract:[/] the suite did not run (pytest exit {int(code)})")
        raise typer.Exit(2)
    plugin.report.print(console)
    raise typer.Exit(1 if plugin.report.must_failures() else 0)


@app.command()
def clauses() -> None:
    """List the clause catalogue."""
    from rich.table import Table

    from .clauses import CAPABILITIES, CLAUSES

    table = Table(title=f"{len(CLAUSES)} clauses")
    for column in ("clause", "level", "capability", "statement"):
        table.add_column(column, overflow="fold")
    for c in CLAUSES:
        table.add_row(c.id, c.level, c.capability, c.title)
    console.print(table)
    for name, meaning in CAPABILITIES.items():
        console.print(f"[bold]{name}[/]: {meaning}")


def main() -> None:
    sys.exit(app())


if __name__ == "__main__":
    main()
