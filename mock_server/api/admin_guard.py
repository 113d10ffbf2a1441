"""`AdminGuard`: the outermost middleware; it keeps `/__mock__/` out of reach of web pages on other origins.

A page on another origin could otherwise reset the mock with a CORS "simple" request (`POST` with `text/plain`,
no preflight). For paths under `/__mock__/` it refuses, with 403 JSON:
- a request whose `Sec-Fetch-Site` is `cross-site` or `same-site`, or whose `Origin` is not the mock's own;
- every preflight (`OPTIONS`): the admin routes grant no CORS at all;
- a state change (`POST`, `PUT`, `PATCH`, `DELETE`) sent with a form or `text/plain` body, which a browser
  sends cross-origin without asking (415);
- with `--admin-token`, any request without `Authorization: Bearer <token>` or `x-admin-token: <token>` (401).
Contract routes keep CORS as the official server answers it.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ..journal import ADMIN_PREFIX
from .common import error_response

SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
CHANGES = ("POST", "PUT", "PATCH", "DELETE")


class AdminGuard:
    def __init__(self, app: ASGIApp, token: str | None = None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refusal(scope["method"], headers)
        if refusal is not None:
            status, detail = refusal
            await error_response(status, detail)(scope, receive, send)
            return
        # Same origin (or no browser at all): pass it on without `Origin`, so that no CORS header is added.
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"origin"]}
        await self.app(scope, receive, send)

    def refusal(self, method: str, headers: Headers) -> tuple[int, str] | None:
        if self.token is not None and not self._authorized(headers):
            return 401, "the admin API needs the admin token: Authorization: Bearer <token> or x-admin-token: <token>"
        if method == "OPTIONS":
            return 403, "the admin API (/__mock__/) does not answer cross-origin requests"
        if headers.get("sec-fetch-site", "none") not in ("none", "same-origin") or not _same_origin(headers):
            return 403, "the admin API (/__mock__/) refuses requests from web pages on other origins"
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if method in CHANGES and content_type in SIMPLE_TYPES:
            return 415, f"the admin API does not accept {content_type} bodies (a browser sends them cross-origin without asking)"
        return None

    def _authorized(self, headers: Headers) -> bool:
        assert self.token is not None
        bearer = headers.get("authorization", "")
        given = bearer[7:] if bearer.lower().startswith("bearer ") else headers.get("x-admin-token", "")
        return hmac.compare_digest(given.encode(), self.token.encode())


def _same_origin(headers: Headers) -> bool:
    origin = headers.get("origin")
    if origin is None:
        return True  # not sent by a browser on another origin (browsers send Origin on every cross-origin POST)
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()
