"""`hitl-contract load`: HITL journeys under load on Locust, registered on cli.py's app.

It checks the deployment serves the fixture graphs, then runs Locust on contract_tests/load/locustfile.py in a
process of its own (Locust patches the standard library with gevent when it is imported), headless, with its web
UI, or as the master or a worker of a distributed run. The process's exit code is the verdict (load/report.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from .cli import _reachable, app, fail
from .load.graphs import JOURNEYS
from .load.journeys import PROFILES
from .plugin import request_headers

LOCUSTFILE = Path(__file__).parent / "load" / "locustfile.py"
MODES = {"both": "wait,stream", "wait": "wait", "stream": "stream"}


def seconds(text: str) -> float:
    """`90`, `90s`, `5m`, `1h30m` as seconds."""
    parts = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text)
    if not text.strip() or parts is None or not any(parts.groups()):
        raise typer.BadParameter(f"{text!r} is not a duration (for example 60, 60s, 5m, 1h30m)")
    h, m, s = (float(g) if g else 0.0 for g in parts.groups())
    return h * 3600 + m * 60 + s


@app.command()
def load(
    url: Annotated[str | None, typer.Argument(help="The deployment, serving the fixture graphs (not needed with --worker).")] = None,
    users: Annotated[int, typer.Option("--users", "-u", min=1, help="Simulated reviewers at the peak.")] = 10,
    spawn_rate: Annotated[float, typer.Option("--spawn-rate", "-r", min=0.01, help="Reviewers started (or stopped) per second.")] = 10.0,
    duration: Annotated[str, typer.Option("--duration", "-t", help="How long the load lasts: 60, 60s, 5m, 1h30m.")] = "60s",
    profile: Annotated[str, typer.Option("--profile", help=f"The load over time: {', '.join(PROFILES)}.")] = "steady",
    graph: Annotated[list[str] | None, typer.Option("--graph", "-g", help=f"A fixture graph to run journeys on (repeatable; default all: {', '.join(JOURNEYS)}).")] = None,
    mode: Annotated[str, typer.Option("--mode", help="How runs are made: both, wait or stream.")] = "both",
    think: Annotated[float, typer.Option("--think", min=0.0, help="Mean seconds a reviewer thinks before answering an interrupt.")] = 0.5,
    reconnect: Annotated[float, typer.Option("--reconnect", min=0.0, max=1.0, help="Share of streams dropped mid-way and rejoined with Last-Event-ID.")] = 0.5,
    web: Annotated[bool, typer.Option("--web", help="Serve Locust's web UI instead of running headless.")] = False,
    web_port: Annotated[int, typer.Option("--web-port", help="The web UI's port.")] = 8089,
    master: Annotated[bool, typer.Option("--master", help="Be the master of a distributed run; workers connect to it.")] = False,
    worker: Annotated[bool, typer.Option("--worker", help="Be a worker: take users from the master at --master-host.")] = False,
    master_host: Annotated[str, typer.Option("--master-host", help="The master's address (workers), or the address it listens on (master).")] = "127.0.0.1",
    master_port: Annotated[int, typer.Option("--master-port", help="The master's port.")] = 5557,
    expect_workers: Annotated[int, typer.Option("--expect-workers", min=1, help="Headless master: start when this many workers are connected.")] = 1,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON here.")] = None,
    csv_prefix: Annotated[str | None, typer.Option("--csv", help="Write Locust's CSV statistics (steps, checks, failures, history) with this prefix.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No live progress line.")] = False,
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="HITL_API_KEY", help="Sent as x-api-key to the deployment.")] = None,
    header: Annotated[list[str] | None, typer.Option("--header", "-H", help="'Name: value' for every request to the deployment (repeatable).")] = None,
) -> None:
    """Run HITL journeys with many simulated reviewers, checking every step (interrupts on every surface, each
    resume applied once, no thread stuck busy, no stream event lost or repeated, exact final values). Exit 0 when
    every check held with no HTTP error, 1 when one failed, 2 when nothing could be checked."""
    try:
        sent = request_headers(header or [], api_key)
    except ValueError as exc:
        raise fail(str(exc)) from None
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING", "--stop-timeout", "120"]
    if worker:
        if master:
            raise fail("--master and --worker exclude each other")
        locust += ["--worker", "--master-host", master_host, "--master-port", str(master_port)]
    else:
        locust += _leader(url, sent, users, spawn_rate, seconds(duration), profile, graph, mode, think, reconnect)
        locust += ["--hitl-quiet"] if quiet else []
        locust += ["--hitl-json", str(json_path)] if json_path else []
        locust += ["--csv", csv_prefix] if csv_prefix else []
        locust += ["--web-host", "127.0.0.1", "--web-port", str(web_port)] if web else ["--headless"]
        if master:
            locust += ["--master", "--master-bind-host", master_host, "--master-bind-port", str(master_port), "--expect-workers", str(expect_workers), "--expect-workers-max-wait", "120"]
    environment = {**os.environ, "HITL_LOAD_HEADERS": json.dumps(sent)}
    try:
        code = subprocess.call(locust, env=environment)
    except KeyboardInterrupt:
        code = 130
    raise typer.Exit(code)


def _leader(url: str | None, sent: dict[str, str], users: int, spawn_rate: float, duration: float, profile: str, graphs: list[str] | None, mode: str, think: float, reconnect: float) -> list[str]:
    """The options of a headless run, a web UI or a master: the checks before load starts, then Locust's options."""
    if not url:
        raise fail("give the deployment's URL (only a --worker runs without one)")
    if profile not in PROFILES:
        raise fail(f"unknown --profile {profile!r}; known: {', '.join(PROFILES)}")
    if mode not in MODES:
        raise fail(f"unknown --mode {mode!r}; known: {', '.join(MODES)}")
    unknown = sorted(set(graphs or []) - set(JOURNEYS))
    if unknown:
        raise fail(f"no journey for graph(s) {', '.join(unknown)}; known: {', '.join(JOURNEYS)}")
    if duration <= 0:
        raise fail("--duration must be more than 0 s")
    chosen = list(dict.fromkeys(graphs or JOURNEYS))
    _reachable(url, sent)
    assistants = {g: _assistant(url, g, sent) for g in chosen}
    return [
        "--host", url.rstrip("/"), "--hitl-users", str(users), "--hitl-spawn-rate", str(spawn_rate),
        "--hitl-graphs", ",".join(chosen), "--hitl-assistants", json.dumps(assistants),
        "--hitl-modes", MODES[mode], "--hitl-think", str(think), "--hitl-reconnect", str(reconnect),
        "--hitl-profile", profile, "--hitl-duration", str(duration),
    ]  # fmt: skip


def _assistant(url: str, graph: str, sent: dict[str, str]) -> str:
    from .verify_run import VerifyError, resolve_assistant

    try:
        return resolve_assistant(url, graph, sent)
    except VerifyError:
        raise fail(
            f"{url} serves no graph {graph!r}. The journeys run on the fixture graphs: serve fixtures/graphs/langgraph.json "
            f"(`hitl-mock serve --graphs fixtures/graphs/langgraph.json`, or `langgraph dev` in fixtures/graphs), or pick graphs with --graph"
        ) from None
