"""`/assistants`: each served graph as its system assistant."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError, invalid_uuid
from ..views import assistant_view
from ..wire import is_uuid
from .common import contains, json_response, page, read_body, services


async def search_assistants(request: Request) -> Response:
    body = await read_body(request)
    engine = services(request).engine
    found = [assistant_view(a) for a in reversed(engine.assistants.values())]
    graph_id = body.get("graph_id")
    if graph_id is not None:
        if graph_id not in engine.assistants:
            raise ApiError(404, f"Graph '{graph_id}' not found. Expected one of: {list(engine.assistants)}")
        found = [a for a in found if a["graph_id"] == graph_id]
    if body.get("name"):
        found = [a for a in found if a["name"] == body["name"]]
    if body.get("metadata"):
        found = [a for a in found if contains(a["metadata"], body["metadata"])]
    return page(found, int(body.get("limit", 10)), int(body.get("offset", 0)))


async def get_assistant(request: Request) -> Response:
    assistant_id = request.path_params["assistant_id"]
    if not is_uuid(assistant_id):
        raise invalid_uuid("assistant")
    assistant = services(request).engine.resolve(assistant_id)
    if assistant is None:
        raise ApiError(404, "Not Found")
    return json_response(assistant_view(assistant))


routes = [
    Route("/assistants/search", search_assistants, methods=["POST"]),
    Route("/assistants/{assistant_id}", get_assistant, methods=["GET"]),
]
