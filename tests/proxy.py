"""`RefusingProxy`: a real server in front of the mock that behaves like a different deployment: one that refuses a
run field by name (422), has no `/ok` (or other routes), or wants an `Authorization` header. It forwards everything else unchanged."""

from __future__ import annotations

import json
from types import TracebackType

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mock_server.testing import ServerThread

HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class RefusingProxy:
    def __init__(self, upstream: str, refused_field: str | None, *, hide_ok: bool = False, require_auth: str | None = None, hide_suffixes: tuple[str, ...] = ()) -> None:
        self.upstream, self.refused_field, self.hide_ok, self.require_auth = upstream, refused_field, hide_ok, require_auth
        self.hide_suffixes = hide_suffixes  # routes this deployment does not have (404 "Not Found")
        self._thread = ServerThread(Starlette(routes=[Route("/{path:path}", self._forward, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]))

    async def _forward(self, request: Request) -> Response:
        if self.require_auth and request.headers.get("authorization") != self.require_auth:
            return JSONResponse({"detail": "Missing authentication credentials"}, 401, headers={"www-authenticate": "Bearer"})
        if (self.hide_ok and request.url.path == "/ok") or (self.hide_suffixes and request.url.path.endswith(self.hide_suffixes)):
            return JSONResponse({"detail": "Not Found"}, 404)
        body = await request.body()
        if self.refused_field and body and self.refused_field in (json.loads(body) or {}):
            return JSONResponse({"detail": f"Unsupported field: {self.refused_field}"}, 422)
        client = httpx.AsyncClient(base_url=self.upstream, timeout=None)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        target = httpx.URL(self.upstream + request.scope["raw_path"].decode("latin-1"), query=request.scope["query_string"])  # as sent, still percent-encoded
        answer = await client.send(client.build_request(request.method, target, headers=headers, content=body), stream=True)

        async def close() -> None:
            await answer.aclose()
            await client.aclose()

        out = {k: v for k, v in answer.headers.items() if k.lower() not in HOP}
        return StreamingResponse(answer.aiter_raw(), status_code=answer.status_code, headers=out, background=BackgroundTask(close))

    def __enter__(self) -> str:
        return self._thread.start().url

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._thread.stop()
