"""The middleware around the routes: CORS as the official server answers it, and the HTTP faults (faults.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import hitl_spec

from ..deviations import Deviations, Hook
from ..faults import Fault, Faults, drop_stream_after
from ..journal import ADMIN_PREFIX
from .common import error_response

CORS_OPTIONS: dict[str, Any] = {
    "allow_methods": ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY"],
    "allow_headers": ["*"],
    "expose_headers": ["x-pagination-total", "x-pagination-next", "content-location"],
    "max_age": 600,
}


class CORS(CORSMiddleware):
    """Starlette's CORS, plus the Private Network Access grant the official server adds to preflights (so a page
    on a public origin may call a mock on localhost).

    A request without `Origin` (every SDK and server-side client) takes a short path to the same answer: Starlette
    only adds `Vary: Origin` to it. Its general path cost about 20 us a request (measured), a fifth of the mock's
    whole per-request cost; browsers' requests, which carry `Origin`, still take it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            return await super().__call__(scope, receive, send)

        async def vary_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers") or []
                if any(name.lower() == b"vary" for name, _ in headers):  # merged into one, as Starlette does
                    merged = MutableHeaders(raw=list(headers))
                    merged["Vary"] = ", ".join([*merged.getlist("Vary"), "Origin"])
                    message["headers"] = merged.raw
                else:
                    message["headers"] = [*headers, (b"vary", b"Origin")]
            await send(message)

        await self.app(scope, receive, vary_origin)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        response.headers["access-control-allow-private-network"] = "true"
        return response


class ControlsMiddleware:
    """The HTTP side of faults and deviations, as one layer (one ASGI hop, nothing to do while neither is in force).

    Faults: added latency, an error status instead of the answer, and `drop_stream_after` left for the stream
    handlers (`scope["state"]["faults"]`, read by `dropped_after`). Deviations: the `RESPONSE_JSON` hook."""

    def __init__(self, app: ASGIApp, faults: Faults, deviations: Deviations) -> None:
        self.faults = faults
        self.deviations = deviations
        self.plain = app
        self.deviating = DeviationMiddleware(app, deviations)

    @property
    def app(self) -> ASGIApp:
        return self.deviating if self.deviations.at(Hook.RESPONSE_JSON) else self.plain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX) or not self.faults.faults:
            return await self.app(scope, receive, send)
        hit = self.faults.for_request(scope["method"], hitl_spec.match_path(scope["path"]))
        scope.setdefault("state", {})["faults"] = hit
        delay = sum(f.latency or 0.0 for f in hit)
        if delay:
            await asyncio.sleep(delay)
        failing = next((f for f in hit if f.status is not None), None)
        if failing is not None and failing.status is not None:
            response = error_response(failing.status, failing.detail or f"injected fault: HTTP {failing.status}")
            return await response(scope, receive, send)
        await self.app(scope, receive, send)


def dropped_after(request: Request) -> int | None:
    """How many events this request's stream may send (a `drop_stream_after` fault), or None."""
    hit: list[Fault] = getattr(request.state, "faults", None) or []
    return drop_stream_after(hit)


class DeviationMiddleware:
    """Applies the `RESPONSE_JSON` deviation hook: every JSON body, and the data of every SSE event, as the active
    profiles change it (used by `ControlsMiddleware` only while a profile uses that hook)."""

    def __init__(self, app: ASGIApp, deviations: Deviations) -> None:
        self.app = app
        self.deviations = deviations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX) or not self.deviations.at(Hook.RESPONSE_JSON):
            return await self.app(scope, receive, send)
        start: Message | None = None
        chunks: list[bytes] = []

        async def changing_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if _media(message) == "text/event-stream":
                    await send(message)
                return None
            if message["type"] != "http.response.body" or start is None:
                return await send(message)
            if _media(start) == "text/event-stream":
                return await send({**message, "body": self._sse(message.get("body", b""))})
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                await self._send_json(start, b"".join(chunks), send)

        await self.app(scope, receive, changing_send)

    def _change(self, data: bytes) -> bytes:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            return data
        return orjson.dumps(self.deviations.apply(Hook.RESPONSE_JSON, value))

    def _sse(self, body: bytes) -> bytes:
        lines = body.split(b"\r\n")
        return b"\r\n".join(b"data: " + self._change(line[6:]) if line.startswith(b"data: ") else line for line in lines)

    async def _send_json(self, start: Message, body: bytes, send: Send) -> None:
        if _media(start) == "application/json" and body.strip():
            body = self._change(body)
        headers = [(k, str(len(body)).encode() if k == b"content-length" else v) for k, v in start.get("headers", [])]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _media(start: Message) -> str:
    headers: dict[bytes, bytes] = dict(start.get("headers") or [])
    return headers.get(b"content-type", b"").decode().split(";")[0].strip()
