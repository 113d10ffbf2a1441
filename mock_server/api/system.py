"""`/ok`, `/info` and `/openapi.json`."""

from __future__ import annotations

from langgraph.version import __version__ as langgraph_version
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import hitl_spec

from .. import __version__
from .common import json_response

INFO = {
    "version": f"hitl-mock-{__version__}",
    "langgraph_py_version": langgraph_version,
    "flags": {"assistants": True, "crons": False, "langsmith": False},
    "host": {"kind": "hitl-mock", "project_id": None, "host_revision_id": None, "revision_id": None, "tenant_id": None},
}


async def ok(request: Request) -> Response:
    return json_response({"ok": True, "services": {}})


async def info(request: Request) -> Response:
    return json_response(INFO)


async def openapi(request: Request) -> Response:
    return Response(hitl_spec.spec_json(), media_type="application/json")


routes = [
    Route("/ok", ok, methods=["GET"]),
    Route("/info", info, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
]
