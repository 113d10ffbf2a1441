"""`MockServer`: the mock as a real uvicorn server on a free 127.0.0.1 port, in a background thread,
for tests (yours and ours). Use it as a context manager; it always stops on exit.

    with MockServer() as server:               # the bundled scenarios
        client = get_client(url=server.url)
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from .http import create_app
from .scenarios import LoadedGraph, load_langgraph_json, load_scenarios


class MockServer:
    def __init__(
        self,
        scenarios: list[Path] | None = None,
        graphs: Path | None = None,
        *,
        host: str = "127.0.0.1",
        wrap: Any = None,
        deviations: set[str] | None = None,
    ) -> None:
        from .cli import bundled_scenarios

        if scenarios is None and graphs is None:
            scenarios = [bundled_scenarios()]
        loaded: list[LoadedGraph] = load_scenarios(scenarios or [])
        if graphs is not None:
            loaded += load_langgraph_json(graphs)
        self.host = host
        self.app = create_app(loaded, deviations=deviations)
        self._asgi: ASGIApp = wrap(self.app) if wrap else self.app
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MockServer:
        config = uvicorn.Config(self._asgi, host=self.host, port=0, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
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

        self._thread = threading.Thread(target=run, name="hitl-mock", daemon=True)
        self._thread.start()
        started.wait(timeout=30)
        if not self.port:
            self.stop()
            raise RuntimeError("hitl-mock did not start")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
