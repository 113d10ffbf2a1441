"""Error answers, in one place: `ApiError` and Starlette's `HTTPException` become `{"detail": ...}` JSON with
their status (a deviation profile may change them at the `ERROR` hook). Anything else is a bug in the mock: a JSON
500, and uvicorn logs its traceback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..deviations import Hook
from ..errors import ApiError
from .common import error_response, services


def _answer(request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    response = error_response(status, detail, dict(headers) if headers else None)
    changed: Response = services(request).controls.deviations.apply(Hook.ERROR, response, status=status, detail=detail)
    return changed


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _answer(request, exc.status, exc.detail)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _answer(request, exc.status_code, exc.detail, exc.headers)


async def internal_error(request: Request, exc: Exception) -> Response:
    """A true bug (Starlette re-raises it after this answer, so the traceback is logged): JSON, never plain text."""
    return error_response(500, f"internal error in hitl-mock ({type(exc).__name__}); this is a bug, the server log has the traceback")


HANDLERS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {ApiError: api_error, HTTPException: http_error, Exception: internal_error}
