"""Shared fixtures: the mock as a real uvicorn server on an ephemeral port, twice — serving the bundled
scenario files and serving the same behaviours as Python graphs from fixtures/graphs/langgraph.json — each
wrapped so that every response any test receives is checked against openapi/openapi.yaml."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import hitl_spec
from mock_server.testing import MockServer

from .official import official_server

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "fixtures" / "scenarios"
GRAPHS = ROOT / "fixtures" / "graphs" / "langgraph.json"


class SpecRecorder:
    """ASGI wrapper: checks each finished HTTP response against the spec and keeps what disagrees."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.problems: list[str] = []
        self.checked = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status, content_type, chunks, checked = 0, "", [], False

        async def recording_send(message: Any) -> None:
            nonlocal status, content_type, checked
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = dict(message.get("headers") or []).get(b"content-type", b"").decode()
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    checked = True
                    self._check(scope, status, content_type, b"".join(chunks))
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            if not checked and content_type.startswith("text/event-stream"):
                # A stream the client left (a thread stream never ends by itself): its complete frames are checked.
                body = b"".join(chunks).replace(b"\r\n", b"\n")
                end = body.rfind(b"\n\n")
                self._check(scope, status, content_type, body[: end + 2] if end >= 0 else b"")

    def _check(self, scope: Any, status: int, content_type: str, body: bytes) -> None:
        if scope["method"] == "OPTIONS":
            return  # CORS preflights are answered by the middleware, not by an operation of the spec
        if (status == 404 and hitl_spec.match_path(scope["path"]) is None) or status == 405:
            return  # unknown routes and methods are not operations of the spec; they are tested on their own
        problems = hitl_spec.check_response(scope["method"], scope["path"], status, content_type, body)
        with self._lock:
            self.checked += 1
            self.problems.extend(problems)

    def take(self) -> list[str]:
        with self._lock:
            problems, self.problems = self.problems, []
        return problems


class Served:
    def __init__(self, server: MockServer, recorder: SpecRecorder, source: str) -> None:
        self.server, self.recorder, self.source = server, recorder, source
        self.url = server.url

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


def _serve(**kwargs: Any) -> Iterator[Served]:
    holder: dict[str, SpecRecorder] = {}

    def wrap(app: Any) -> SpecRecorder:
        holder["r"] = SpecRecorder(app)
        return holder["r"]

    with MockServer(wrap=wrap, **kwargs) as server:
        yield Served(server, holder["r"], "scenarios" if "scenarios" in kwargs else "graphs")


@pytest.fixture(scope="session")
def mock() -> Iterator[Served]:
    """The mock serving the bundled scenario files (what `hitl-mock serve` serves by default)."""
    yield from _serve(scenarios=[SCENARIOS])


@pytest.fixture(scope="session")
def mock_graphs() -> Iterator[Served]:
    """The mock serving fixtures/graphs/langgraph.json: the same behaviours written as LangGraph code."""
    yield from _serve(graphs=GRAPHS)


@pytest.fixture(params=["scenarios", "graphs"])
def served(request: pytest.FixtureRequest) -> Served:
    """Both sources in turn: a behaviour test must pass for the scenario file and for the Python graph."""
    return request.getfixturevalue("mock" if request.param == "scenarios" else "mock_graphs")


@pytest.fixture(autouse=True)
def responses_conform_to_spec(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every mock response received during a test must validate against the spec."""
    used = {id(s): s for s in (request.getfixturevalue(n) for n in ("mock", "mock_graphs", "served") if n in request.fixturenames)}
    for server in used.values():
        server.recorder.take()
    yield
    problems = [p for server in used.values() for p in server.recorder.take()]
    assert not problems, "responses that disagree with openapi/openapi.yaml:\n" + "\n".join(problems)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-official",
        action="store_true",
        help="skip the tests that need the official LangGraph server (langgraph dev); CI runs them",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "official: needs the official LangGraph server (skipped with --no-official)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--no-official"):
        skip = pytest.mark.skip(reason="--no-official")
        for item in items:
            if "official" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def official() -> Iterator[str]:
    """The URL of the official server (langgraph dev on fixtures/graphs), started once per session and always stopped."""
    with official_server() as url:
        yield url
