"""Request parsing and JSON answers shared by the routers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import ApiError
from ..services import Services, services
from ..validation import BodyError, operation_for
from ..wire import dumps, loads

__all__ = ["Services", "contains", "error_response", "json_response", "page", "query_bool", "query_int", "read_body", "services", "stream_modes"]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


def error_response(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"detail": detail}, status, headers)


async def read_body(request: Request) -> Any:
    """The JSON body, validated against the operation's request schema in the spec (422 otherwise)."""
    raw = await request.body()
    try:
        body = loads(raw)
    except ValueError:
        raise ApiError(422, "Invalid JSON in request body") from None
    op = operation_for(request.method, request.scope["route"].path)
    try:
        op.validate(body)
    except BodyError as exc:
        raise ApiError(422, str(exc)) from None
    return body


def query_int(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    try:
        return int(value) if value is not None else default
    except ValueError:
        raise ApiError(422, f"Invalid {name}: must be an integer") from None


def query_bool(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


def stream_modes(request: Request) -> set[str] | None:
    """`?stream_mode=` in the encodings the JS SDKs send: repeated keys (1.15) or one JSON array (2.0)."""
    modes: list[str] = []
    for value in request.query_params.getlist("stream_mode"):
        if value.startswith("["):
            try:
                parsed = loads(value)
            except ValueError:
                raise ApiError(422, f"Invalid stream_mode: {value}") from None
            modes += [m for m in parsed if isinstance(m, str)] if isinstance(parsed, list) else []
        elif value:
            modes.append(value)
    return {"messages" if m == "messages-tuple" else m for m in modes} or None


def contains(have: Any, want: Any) -> bool:
    """Subset match, as the search filters use (`{"a": {"b": 1}}` matches `{"a": {"b": 1, "c": 2}}`)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and contains(have[k], v) for k, v in want.items())
    return bool(have == want)


def page(items: list[Any], limit: int, offset: int) -> Response:
    """One page of a search, with the official server's pagination headers."""
    shown = items[offset : offset + limit]
    headers = {}
    if offset + limit < len(items):
        # The official server reports offset + returned + 1 (not the total) when there is a next page.
        headers["x-pagination-next"] = str(offset + limit)
        headers["x-pagination-total"] = str(offset + len(shown) + 1)
    else:
        headers["x-pagination-total"] = str(offset + len(shown))
    return json_response(shown, headers=headers)
