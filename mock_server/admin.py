"""The mock's own controls, under the reserved prefix `/__mock__/` (documented in the spec, tag `admin`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .deviations import DEVIATIONS, check_names
from .wire import dumps, loads


def _json(body: object, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


def _state(request: Request) -> Response:
    active = sorted(request.app.state.manager.deviations)
    return _json({"active": active, "available": DEVIATIONS})


async def get_deviations(request: Request) -> Response:
    return _state(request)


async def set_deviations(request: Request) -> Response:
    """Replace the active deviation profiles: `{"active": ["plain-text-404", ...]}` (`[]` switches all off)."""
    try:
        body = loads(await request.body())
        names = body["active"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise TypeError
        request.app.state.manager.deviations = check_names(names)
    except (ValueError, KeyError, TypeError) as exc:
        detail = str(exc) if isinstance(exc, ValueError) and "deviation" in str(exc) else 'expected {"active": [<profile name>, ...]}'
        return _json({"detail": detail}, 422)
    return _state(request)


ADMIN_ROUTES = [
    Route("/__mock__/deviations", get_deviations, methods=["GET"]),
    Route("/__mock__/deviations", set_deviations, methods=["PUT"]),
]
