"""The mock's HTTP layer answers as Starlette's would, on its faster paths: the indexed router picks the route
Starlette's scan picks, and CORS without `Origin` sets the headers Starlette's CORS sets."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from mock_server.api.middleware import CORS, CORS_OPTIONS
from mock_server.api.routing import IndexedRouter
from mock_server.app import create_app
from mock_server.scenarios import load_scenarios

from .conftest import SCENARIOS
from .helpers import run

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY", "BREW"]
UUID = "0193f1c2-3b4a-7c5d-8e6f-0123456789ab"


def _paths(routes: list[Route]) -> set[str]:
    """Every route's path with its parameters filled, with a trailing slash, one segment more and one less, and
    some that no route serves."""
    paths = {"/", "/nope", "/threads/x/y/z/w/v/u/t", "//threads", "/threads//runs"}
    for route in routes:
        filled = route.path.replace("{thread_id}", UUID).replace("{run_id}", UUID).replace("{assistant_id}", "agent")
        filled = "".join(part.split("}", 1)[1] if "}" in part else part for part in filled.split("{"))
        paths |= {filled, filled + "/", filled + "/extra", filled.rsplit("/", 1)[0] or "/"}
    return paths


def _starlette_pick(routes: list[Route], scope: dict[str, Any]) -> Route | None:
    return next((r for r in routes if r.matches(scope)[0] is Match.FULL), None)


def test_the_indexed_router_picks_the_route_starlette_picks() -> None:
    app = create_app(load_scenarios([Path(SCENARIOS)]))
    router = app.router
    assert isinstance(router, IndexedRouter)
    routes = [r for r in router.routes if isinstance(r, Route)]
    checked = 0
    for method, path in itertools.product(METHODS, sorted(_paths(routes))):
        scope = {"type": "http", "method": method, "path": path, "root_path": ""}
        candidates = router._candidates(method, path) or ()
        indexed = next((r for r in candidates if r.matches(scope)[0] is Match.FULL), None)
        assert indexed is _starlette_pick(routes, scope), f"{method} {path}"
        checked += indexed is not None
    assert checked > len(routes)  # most routes were found, several times over


@pytest.mark.parametrize(("method", "path", "status"), [("DELETE", "/ok", 405), ("POST", "/threads/", 307), ("GET", "/nope", 404)])
def test_what_no_route_serves_is_answered_by_starlettes_scan(method: str, path: str, status: int) -> None:
    app = create_app(load_scenarios([Path(SCENARIOS)]))

    async def call() -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as http:
            return (await http.request(method, path, follow_redirects=False)).status_code

    assert run(call()) == status


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    vary = [(b"vary", b"Accept-Encoding")] if scope["path"] == "/varies" else []
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json"), *vary]})
    await send({"type": "http.response.body", "body": b"{}"})


@pytest.mark.parametrize("path", ["/plain", "/varies"])
@pytest.mark.parametrize("origin", [None, "http://localhost:3000", "https://elsewhere.example"])
def test_cors_answers_as_starlettes(path: str, origin: str | None) -> None:
    async def headers(app: Any) -> list[tuple[str, str]]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as http:
            answer = await http.post(path, headers={"origin": origin} if origin else {})
            return list(answer.headers.multi_items())

    ours = run(headers(CORS(_answer, allow_origins=["*"], **CORS_OPTIONS)))
    theirs = run(headers(CORSMiddleware(_answer, allow_origins=["*"], **CORS_OPTIONS)))
    assert ours == theirs
    assert ("vary", "Accept-Encoding, Origin" if path == "/varies" else "Origin") in ours or origin is not None


def test_ids_and_timestamps_have_the_forms_of_the_standard_library_formatters(monkeypatch: pytest.MonkeyPatch) -> None:
    """uuid7 and now_iso format by hand (faster); their text is what `uuid.UUID` and `datetime.isoformat` give."""
    import datetime
    import time
    import uuid

    from mock_server import wire

    ids = [wire.uuid7() for _ in range(2000)]
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (7, uuid.RFC_4122, text)
    assert len(set(ids)) == len(ids)
    assert {text[19] for text in ids} == set("89ab")  # the variant's two free bits are random
    for ns in (1_765_000_000_000_000_000, 1_765_000_000_123_456_000, 1_765_000_001_000_001_000, 1_765_000_001_999_999_000):
        monkeypatch.setattr(time, "time_ns", lambda ns=ns: ns)
        expected = (datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(microseconds=ns // 1000)).isoformat()
        assert wire.now_iso() == expected
        assert int(wire.uuid7().replace("-", "")[:12], 16) == ns // 1_000_000
