"""`MockServer`: the mock as a real uvicorn server on a free 127.0.0.1 port, in a background thread,
for tests (yours and ours). Use it as a context manager; it always stops on exit.

    with MockServer() as server:               # the bundled scenarios
        client = get_client(url=server.url)
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import uvicorn
from starlette.types import ASGIApp

from .app import create_app
from .auth import AuthMode, parse_auth
from .scenarios import LoadedGraph, bundled_scenarios, load_langgraph_json, load_scenarios
from .settings import Settings


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (for servers started as separate processes)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_ok(url: str, proc: subprocess.Popen[Any] | None = None, timeout: float = 60) -> float:
    """Poll `url`/ok until it answers 200; the seconds it took. Fails early if `proc` exits."""
    import httpx

    started = time.monotonic()
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering /ok")
        try:
            if httpx.get(url + "/ok", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{url}/ok did not answer within {timeout:.0f} s")
        time.sleep(0.005)


class ServerThread:
    """Any ASGI app as a real uvicorn server on a free port, in a background thread; always stopped on exit."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1") -> None:
        self.app, self.host, self.port = app, host, 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        config = uvicorn.Config(self.app, host=self.host, port=0, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
        server = uvicorn.Server(config)
        self._server = server
        started = threading.Event()

        def run() -> None:
            async def serve() -> None:
                task = asyncio.create_task(server.serve())
                while not server.started and not task.done():
                    await asyncio.sleep(0.005)
                if server.started:
                    self.port = server.servers[0].sockets[0].getsockname()[1]
                started.set()
                await task

            asyncio.run(serve())
            started.set()

        self._thread = threading.Thread(target=run, name="hitl-server", daemon=True)
        self._thread.start()
        started.wait(timeout=30)
        if not self.port:
            self.stop()
            raise RuntimeError("the server did not start")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MockServer:
    """The mock on a free port: the bundled scenarios unless `scenarios` or `graphs` are given; `settings` as
    for `create_app` (`deviations=` and `auth=` are shortcuts for `Settings(deviations=...)`, `Settings(auth=...)`;
    `auth` takes what `--auth` does, `"api-key:KEY"` or a users file, or a users document such as
    `{"users": {"token-alice": "alice"}}`); `wrap` wraps the ASGI app."""

    def __init__(
        self,
        scenarios: list[Path] | None = None,
        graphs: Path | None = None,
        *,
        host: str = "127.0.0.1",
        wrap: Callable[[ASGIApp], ASGIApp] | None = None,
        deviations: set[str] | None = None,
        settings: Settings | None = None,
        auth: str | Path | Mapping[str, Any] | AuthMode | None = None,
    ) -> None:
        if scenarios is None and graphs is None:
            scenarios = [bundled_scenarios()]
        loaded: list[LoadedGraph] = load_scenarios(scenarios or [])
        if graphs is not None:
            loaded += load_langgraph_json(graphs)
        settings = settings or Settings()
        if deviations:
            settings = dataclasses.replace(settings, deviations=frozenset(deviations))
        if auth is not None:
            settings = dataclasses.replace(settings, auth=parse_auth(auth))
        self.app_settings = settings
        self.app = create_app(loaded, settings)
        self._thread = ServerThread(wrap(self.app) if wrap else self.app, host)

    @property
    def url(self) -> str:
        return self._thread.url

    @property
    def port(self) -> int:
        return self._thread.port

    def start(self) -> MockServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._thread.stop()

    # -- the admin controls, through the same /__mock__/ API a non-Python client uses ---------------------

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        if self.app_settings.admin_token:
            kwargs["headers"] = {**kwargs.get("headers", {}), "x-admin-token": self.app_settings.admin_token}
        r = httpx.request(method, f"{self.url}/__mock__/{path}", timeout=30, **kwargs)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} /__mock__/{path}: {r.status_code} {r.text}")
        return r.json() if r.content else None

    def requests(self, method: str | None = None, path: str | None = None, since: int | None = None) -> list[dict[str, Any]]:
        """The journal: requests received (filter by exact method, path regex, sequence number)."""
        params = {k: v for k, v in {"method": method, "path": path, "since": since}.items() if v is not None}
        return cast("list[dict[str, Any]]", self._admin("GET", "requests", params=params))

    def clear_requests(self) -> None:
        self._admin("DELETE", "requests")

    def load_scenario(self, scenario: str | dict[str, Any]) -> dict[str, Any]:
        """Serve a scenario (its YAML/JSON text, or the parsed document) from now on."""
        if isinstance(scenario, dict):
            return cast("dict[str, Any]", self._admin("POST", "scenarios", json=scenario))
        return cast("dict[str, Any]", self._admin("POST", "scenarios", content=scenario.encode(), headers={"content-type": "application/yaml"}))

    def remove_scenario(self, graph_id: str) -> None:
        self._admin("DELETE", f"scenarios/{graph_id}")

    def scenarios(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", self._admin("GET", "scenarios"))

    def reset(self) -> None:
        """Forget all threads, runs, checkpoints and journal entries."""
        self._admin("POST", "reset")

    def set_faults(self, *faults: dict[str, Any]) -> list[dict[str, Any]]:
        """Replace the faults in force (see mock_server/faults.py); no argument clears them."""
        return cast("list[dict[str, Any]]", self._admin("PUT", "faults", json={"faults": list(faults)})["faults"])

    def set_interrupt_format(self, fmt: str) -> str:
        """`legacy` (value, resumable, ns, when, as older servers sent) or `current`."""
        return cast("str", self._admin("PUT", "interrupt-format", json={"format": fmt})["format"])

    def set_deviations(self, *names: str) -> list[str]:
        return cast("list[str]", self._admin("PUT", "deviations", json={"active": list(names)})["active"])

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
