"""`hitl-mock`: serve scenario files and langgraph.json graphs as a LangGraph Server API."""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from . import __version__
from .types import InterruptFormat

if TYPE_CHECKING:
    from .auth import AuthMode
    from .scenarios import LoadedGraph
    from .settings import Settings

KEEP_ALIVE_SECONDS = 75
GC_THRESHOLDS = (10_000, 50, 10)
app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)
AUTH_HELP = (
    "Auth as a deployment answers it. With api-key:KEY every request needs x-api-key: KEY (403 otherwise, as on LangGraph Platform). "
    "With a users YAML file (users: {TOKEN: IDENTITY, ...}) it is custom auth, Authorization: Bearer TOKEN (401 otherwise), "
    "and each user sees only their own threads and runs. /ok, /info, /openapi.json and /__mock__/ stay open."
)

def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]hitl-mock:[/] {message}")
    return typer.Exit(code)


def _read_faults(path: Path) -> object:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML or JSON: {' '.join(str(exc).split())}") from None


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise fail(f"port {port} on {host} is already in use; pick another with --port") from None
            raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8123,
    scenarios: Annotated[
        list[Path] | None, typer.Option("--scenarios", help="Scenario file or folder (repeatable). Default: the bundled fixtures.")
    ] = None,
    graphs: Annotated[Path | None, typer.Option("--graphs", help="A langgraph.json whose Python graphs to serve.")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level (info shows each request).")] = "warning",
    faults_file: Annotated[Path | None, typer.Option("--faults", help="A YAML/JSON list of faults to inject (see mock_server/faults.py).")] = None,
    interrupt_format: Annotated[str, typer.Option(help="current, or legacy: interrupts as older servers sent them (value, resumable, ns, when).")] = "current",
    admin: Annotated[bool, typer.Option("--admin/--no-admin", help="Serve /__mock__/ (journal, scenarios, reset, faults, deviations).")] = True,
    admin_token: Annotated[
        str | None, typer.Option("--admin-token", envvar="HITL_MOCK_ADMIN_TOKEN", help="Require this token on /__mock__/ (Authorization: Bearer or x-admin-token).")
    ] = None,
    max_body: Annotated[str, typer.Option("--max-body", help="Largest request body accepted, in bytes or with K, M or G (413 beyond).")] = "16M",
    max_threads: Annotated[int | None, typer.Option("--max-threads", min=1, help="Keep at most this many threads (least recently used idle ones evicted).")] = None,
    n_jobs_per_worker: Annotated[int, typer.Option("--n-jobs-per-worker", min=1, help="Runs executing at once; the rest wait, pending (as the official server's).")] = 10,
    journal_size: Annotated[str, typer.Option("--journal-size", help="Bytes of requests the journal keeps (oldest dropped first), with K, M or G.")] = "64M",
    deviate: Annotated[list[str] | None, typer.Option("--deviate", help="Misbehave like a buggy server (repeatable); `hitl-mock deviations` lists them.")] = None,
    auth: Annotated[str | None, typer.Option("--auth", envvar="HITL_MOCK_AUTH", help=AUTH_HELP)] = None,
    replay_speed: Annotated[float, typer.Option("--replay-speed", min=0.0, help="Pace of recorded token streams and `say` delays: 1 as recorded, 2 twice as fast, 0 instant.")] = 1.0,
) -> None:
    """Start the mock server."""
    from .scenarios.replay import set_speed

    set_speed(replay_speed)
    deviations, faults = _misbehaviour(deviate, faults_file)
    limit = _size(max_body, "--max-body")
    journal_bytes = _size(journal_size, "--journal-size")
    loaded = _load_graphs(scenarios, graphs)
    if interrupt_format not in tuple(InterruptFormat):
        raise fail(f"--interrupt-format must be current or legacy, not {interrupt_format!r}")
    _check_port(host, port)
    from .settings import Settings

    settings = Settings(
        api_url=f"http://{host}:{port}",
        deviations=frozenset(deviations),
        admin=admin,
        admin_token=admin_token or None,
        max_body=limit,
        max_threads=max_threads,
        n_jobs_per_worker=n_jobs_per_worker,
        journal_bytes=journal_bytes,
        faults=tuple(faults),
        interrupt_format=InterruptFormat(interrupt_format),
        auth=_auth(auth),
    )
    _run(loaded, settings, host, port, log_level)


def _misbehaviour(deviate: list[str] | None, faults_file: Path | None) -> tuple[set[str], list[Any]]:
    """`--deviate` and `--faults`, checked; a one-line error otherwise."""
    from .deviations import check_names
    from .faults import parse_faults

    try:
        return check_names(deviate or []), (parse_faults(_read_faults(faults_file)) if faults_file else [])
    except ValueError as exc:
        raise fail(f"{faults_file}: {exc}" if faults_file and "deviation" not in str(exc) else str(exc)) from None


def _auth(value: str | None) -> AuthMode | None:
    """`--auth`: api-key:KEY or a users file (mock_server/auth.py); a one-line error otherwise."""
    from rich.markup import escape

    from .auth import parse_auth

    try:
        return parse_auth(value) if value else None
    except ValueError as exc:
        raise fail(escape(f"--auth {exc}")) from None  # the file's own text may look like markup


def _run(loaded: list[LoadedGraph], settings: Settings, host: str, port: int, log_level: str) -> None:
    """Say what is served (and warn about what is open or deviating), then serve it until stopped."""
    import uvicorn

    from .app import create_app

    application = create_app(loaded, settings)
    url = settings.api_url
    out.print(f"hitl-mock {__version__} serving {len(loaded)} graphs ({', '.join(g.graph_id for g in loaded)}) on [bold]{url}[/]")
    if settings.admin and not settings.admin_token and host not in ("127.0.0.1", "localhost", "::1"):
        out.print(f"[yellow]warning:[/] the admin API (/__mock__/: reset, scenarios, faults) is open to anyone who can reach {host}; set --admin-token or --no-admin")
    if settings.auth:
        from .auth import describe

        out.print(f"auth: {describe(settings.auth)}")
    if settings.deviations:
        out.print(f"[yellow]deviating from the contract on purpose:[/] {', '.join(sorted(settings.deviations))}")
    import gc

    # Young collections every 10,000 allocations instead of 700. A cycle leaves about 180 objects of cyclic garbage
    # (LangGraph's interrupt exceptions with their tracebacks, runtimes, callback managers). With many cycles in
    # flight, a collection every 700 allocations found them still in use and promoted them, so they were freed only
    # by full collections: 25 to 45% of the server's CPU at 100 to 500 cycles in flight. Collected young, they cost
    # a fraction of that (benchmarks/load.py: 30 to 50% more cycles/s). Only this process: not the tests' in-process
    # servers.
    gc.set_threshold(*GC_THRESHOLDS)
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=2,
        # Idle keep-alive connections close after this long. uvicorn's default, 5 s, is as long as httpx's pool lets
        # a connection idle: under load (500 cycles in flight, benchmarks/load.py) a client's next request could
        # arrive as the timer fired, and the socket was closed with that request unread (a reset: httpx's ReadError).
        # 75 s (nginx's default) is above the idle timeouts of common clients (undici 4 s, httpx 5 s, aiohttp 15 s,
        # load balancers 60 s), so they let a connection go before the mock does.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        access_log=log_level.lower() in ("info", "debug", "trace"),  # off unless shown: it costs on every request
    )


def _size(text: str, option: str) -> int:
    """`16M`, `512K`, `1G` or a plain byte count; a one-line error otherwise."""
    units = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
    number, unit = text.strip().upper().rstrip("IB"), ""
    if number and number[-1] in units:
        number, unit = number[:-1], number[-1]
    if not number.isdigit() or int(number) == 0:
        raise fail(f"{option} must be a positive size such as 16M, 512K or 1048576, not {text!r}")
    return int(number) * units[unit]


def _load_graphs(scenarios: list[Path] | None, graphs: Path | None) -> list[LoadedGraph]:
    """The graphs to serve (the bundled scenarios by default); a clear error for a bad file, a duplicate or none."""
    from .scenarios import ScenarioError, bundled_scenarios, load_langgraph_json, load_scenarios

    if scenarios is None and graphs is None:
        scenarios = [bundled_scenarios()]
    try:
        loaded = load_scenarios(scenarios or [])
        if graphs is not None:
            loaded += load_langgraph_json(graphs)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    ids = [g.graph_id for g in loaded]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise fail(f"graph id {', '.join(map(repr, dupes))} is defined more than once")
    if not loaded:
        raise fail("no graphs to serve: the given scenario folders are empty")
    return loaded


@app.command()
def record(
    upstream: Annotated[str, typer.Option("--upstream", help="The deployment to record, e.g. http://127.0.0.1:2024")],
    out_file: Annotated[Path, typer.Option("--out", help="The scenario file to write (one per graph: <name>.<graph_id>.yaml when several).")],
    host: Annotated[str, typer.Option(help="Interface the proxy listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the proxy listens on; point your client here.", min=0, max=65535)] = 8123,
    redact: Annotated[list[str] | None, typer.Option("--redact", help="Replace matches of this regex, or values at this $.path ($..key: any depth), with [redacted] (repeatable).")] = None,
) -> None:
    """Proxy a real deployment while a client uses it, and write scenarios that replay what was seen (merged into
    the file when it exists). Request headers (credentials among them) are never written."""
    import httpx

    from .record import Recorder, create_proxy

    try:
        httpx.get(upstream.rstrip("/") + "/ok", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        raise fail(f"cannot reach the upstream {upstream}: {exc}") from None
    if not out_file.parent.exists():
        raise fail(f"{out_file.parent}: no such directory")
    _check_port(host, port)
    import re

    import uvicorn
    import yaml

    try:
        recorder = Recorder(upstream, out_file, redact=list(redact or []))
    except (re.error, yaml.YAMLError, OSError) as exc:
        raise fail(f"cannot record into {out_file}: {exc}") from None
    out.print(f"hitl-mock recording {upstream} through [bold]http://{host}:{port}[/]; the scenario goes to {out_file} (Ctrl-C to stop)")
    uvicorn.run(create_proxy(upstream, recorder), host=host, port=port, log_level="warning")
    out.print(f"recorded: {', '.join(map(str, recorder.written)) or 'nothing (no runs were seen)'}")


@app.command()
def deviations() -> None:
    """List the deviation profiles (`serve --deviate NAME`)."""
    from .deviations import DEVIATIONS

    for name, meaning in DEVIATIONS.items():
        out.print(f"[bold]{name}[/]: {meaning}")


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
