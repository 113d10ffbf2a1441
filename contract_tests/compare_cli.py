"""`hitl-contract verify` and `hitl-contract diff`: the commands that compare two sides (a scenario and a
deployment, or two servers), registered on cli.py's app."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .cli import EXIT_FAILED, _reachable, app, console, fail
from .plugin import request_headers


@app.command()
def verify(
    url: Annotated[str, typer.Argument(help="The deployment to verify, e.g. https://my-deployment.example")],
    scenario: Annotated[Path, typer.Option("--scenario", "-s", help="The scenario file the frontend mocks with.")],
    assistant: Annotated[str | None, typer.Option("--assistant", help="The deployment's assistant (default: the first for the scenario's graph_id).")] = None,
    mock: Annotated[str | None, typer.Option("--mock", help="A mock already serving the scenario (default: start one).")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="HITL_API_KEY", help="Sent as x-api-key to the deployment.")] = None,
    header: Annotated[list[str] | None, typer.Option("--header", "-H", help="'Name: value' for every request to the deployment (repeatable).")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON here.")] = None,
    junit_path: Annotated[Path | None, typer.Option("--junit", help="Write the report as JUnit XML here (a test case per conversation).")] = None,
) -> None:
    """Run the scenario's conversations on the scenario (in a mock) and on the deployment, and compare what a
    frontend sees: interrupts, what stays pending, values, messages, statuses and errors. Exit 0 when every
    conversation matches, 1 when one differs, 2 when verify cannot run (bad file, unreachable server)."""
    from .scenario_model import ScenarioError, load
    from .verify_run import VerifyError, print_verify, resolve_assistant, run_verify, scenario_server, to_junit

    try:
        model = load(scenario)
        sent = request_headers(header or [], api_key)
    except (ScenarioError, ValueError) as exc:
        raise fail(str(exc)) from None
    _reachable(url, sent)
    try:
        target = assistant or resolve_assistant(url, model.graph_id, sent)
        with contextlib.ExitStack() as stack:
            mock_url = mock or stack.enter_context(scenario_server(scenario))
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True) as progress:
                task = progress.add_task("conversations", total=None)
                report = run_verify(model, mock_url, url, target, sent, lambda name, total: progress.update(task, advance=1, total=total, description=name[:60]))
    except VerifyError as exc:
        raise fail(str(exc)) from None
    for path, text in ((json_path, report.to_json), (junit_path, lambda: to_junit(report))):
        if path:
            path.write_text(text())
    print_verify(report, console)
    raise typer.Exit(EXIT_FAILED if report.differences else 0)


@app.command()
def diff(
    url_a: Annotated[str, typer.Argument(help="The first server (A), e.g. the official server or production.")],
    url_b: Annotated[str, typer.Argument(help="The second server (B), e.g. the mock, a new version or staging.")],
    conversation: Annotated[list[str] | None, typer.Option("--conversation", "-c", help="Run only this conversation (repeatable; see --list).")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Hide differences whose path or CONVERSATION:PATH match this (repeatable): e.g. 'body.metadata.*' or 'bulk:*'.")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="HITL_API_KEY", help="Sent as x-api-key to both servers.")] = None,
    header: Annotated[list[str] | None, typer.Option("--header", "-H", help="'Name: value' for every request to both servers (repeatable).")] = None,
    api_key_b: Annotated[str | None, typer.Option("--api-key-b", help="x-api-key for B only, when it differs from A's.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write every difference as JSON here.")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the conversations and exit.")] = False,
    scenario: Annotated[Path | None, typer.Option("--scenario", "-s", help="Instead, a scenario's conversations (as verify runs them), A's answers as the expectation.")] = None,
    assistant: Annotated[str | None, typer.Option("--assistant", help="With --scenario: the assistant on both servers (default: the scenario's graph_id).")] = None,
) -> None:
    """Run the same conversations on two servers and print where their answers differ after normalisation (ids
    renamed consistently, timestamps and host fields hidden). Exit 0 when nothing differs outside --ignore, 1 when
    something does, 2 when a server cannot be reached or an option is wrong. The conversations need the graphs of
    fixtures/graphs on both servers."""
    from .conversations import FLOWS
    from .diff import print_diff, run_diff

    if list_only:
        for name, flow in FLOWS.items():
            console.print(f"[bold]{name}[/]: {(flow.__doc__ or '').strip().splitlines()[0] if flow.__doc__ else ''}")
        raise typer.Exit(0)
    unknown = [c for c in conversation or [] if c not in FLOWS]
    if unknown:
        raise fail(f"unknown conversation {', '.join(unknown)}; choose from {', '.join(FLOWS)}")
    try:
        headers_a = request_headers(header or [], api_key)
        headers_b = request_headers(header or [], api_key_b or api_key)
    except ValueError as exc:
        raise fail(str(exc)) from None
    _reachable(url_a, headers_a)
    _reachable(url_b, headers_b)
    if scenario is not None:
        raise typer.Exit(_diff_scenario(url_a, url_b, scenario, assistant, (headers_a, headers_b), json_path))
    names = list(conversation or FLOWS)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("conversations", total=2 * len(names))

        def step(what: str) -> None:
            progress.update(task, advance=1, description=what)

        report = run_diff(url_a, url_b, names, headers_a=headers_a, headers_b=headers_b, ignore=ignore or [], progress=step)
    if json_path:
        json_path.write_text(report.to_json())
    print_diff(report, console)
    raise typer.Exit(EXIT_FAILED if report.differences else 0)


def _diff_scenario(url_a: str, url_b: str, scenario: Path, assistant: str | None, headers: tuple[dict[str, str], dict[str, str]], json_path: Path | None) -> int:
    """`diff --scenario`: verify's conversations and comparison, with server A in the scenario's place."""
    from .scenario_model import ScenarioError, load
    from .verify_run import VerifyError, print_verify, run_verify

    try:
        model = load(scenario)
        target = assistant or model.graph_id
        report = run_verify(model, url_a, url_b, target, headers[1], first_side=(target, headers[0]))
    except (ScenarioError, VerifyError) as exc:
        raise fail(str(exc)) from None
    if json_path:
        json_path.write_text(report.to_json())
    print_verify(report, console)
    return EXIT_FAILED if report.differences else 0
