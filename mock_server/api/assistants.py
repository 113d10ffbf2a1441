"""`/assistants`: create, get, patch, delete, versions, latest, search and count (the store is assistants.py), and
an assistant's graph, schemas and subgraphs, read from its compiled graph (introspection.py). Status codes, error
details and the order of the checks are langgraph-api 0.16.7's (langgraph_api/api/assistants.py)."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..assistants import AssistantStore, Record
from ..auth import owned
from ..errors import ApiError, invalid_uuid
from ..introspection import graph_json, graph_schemas, parse_xray, served, subgraph_schemas
from ..scenarios.base import Graph
from ..types import CancelAction
from ..validation import BodyError, validate_config
from ..wire import is_uuid
from .common import json_response, page, read_body, services


def _store(request: Request) -> AssistantStore:
    return services(request).engine.assistant_store


def _assistant_id(request: Request) -> str:
    assistant_id: str = request.path_params["assistant_id"]
    if not is_uuid(assistant_id):
        raise invalid_uuid("assistant")
    return assistant_id


def _check_config(body: dict[str, Any]) -> None:
    if body.get("config"):
        try:
            validate_config(body["config"])
        except BodyError as exc:
            raise ApiError(422, str(exc)) from None


async def create_assistant(request: Request) -> Response:
    body = await read_body(request)
    assistant_id = body.get("assistant_id")
    if assistant_id and not is_uuid(assistant_id):
        raise invalid_uuid("assistant")
    _check_config(body)
    record = _store(request).put(
        assistant_id or str(uuid.uuid4()),
        graph_id=body["graph_id"],
        config=body.get("config") or {},
        context=body.get("context"),
        metadata=body.get("metadata") or {},
        if_exists=body.get("if_exists") or "raise",
        name=body.get("name") or "Untitled",
        description=body.get("description"),
    )
    return json_response(record)


async def get_assistant(request: Request) -> Response:
    record = _store(request).get(_assistant_id(request))
    if record is None:
        raise ApiError(404, "Not Found")
    return json_response(record)


async def patch_assistant(request: Request) -> Response:
    assistant_id = _assistant_id(request)
    body = await read_body(request)
    _check_config(body)
    keys = ("graph_id", "config", "context", "metadata", "name", "description")
    return json_response(_store(request).patch(assistant_id, **{k: body.get(k) for k in keys}))


async def delete_assistant(request: Request) -> Response:
    """Deletes the assistant and its versions, interrupts its active runs, and with `?delete_threads=true` deletes the
    (caller's) threads whose metadata names it. A graph's system assistant can be deleted too."""
    assistant_id = str(uuid.UUID(_assistant_id(request)))
    svc = services(request)
    svc.engine.assistant_store.delete(assistant_id)
    if request.query_params.get("delete_threads", "").lower() == "true":
        for thread in [t for t in svc.store.threads.values() if t.metadata.get("assistant_id") == assistant_id and owned(t)]:
            svc.threads.delete(thread)
    for run in [r for r in svc.store.runs.values() if r.assistant_id == assistant_id and r.active]:
        svc.scheduler.cancel(run, CancelAction.INTERRUPT)
    return Response(status_code=204)


async def list_versions(request: Request) -> Response:
    assistant_id = _assistant_id(request)
    body = await read_body(request)
    versions = _store(request).list_versions(assistant_id, body.get("metadata") or {}, int(body.get("limit", 10)), int(body.get("offset", 0)))
    return json_response(versions)


async def set_latest_version(request: Request) -> Response:
    body = await read_body(request)
    return json_response(_store(request).set_latest(_assistant_id(request), body.get("version")))


async def search_assistants(request: Request) -> Response:
    body = await read_body(request)
    _check_config(body)
    store = _store(request)
    found = store.ordered(store.matching(body.get("graph_id"), body.get("name"), body.get("metadata")), body.get("sort_by"), body.get("sort_order"))
    if select := body.get("select"):
        found = [{k: v for k, v in r.items() if k in select} for r in found]
    return page(found, int(body.get("limit") or 10), int(body.get("offset") or 0))


async def count_assistants(request: Request) -> Response:
    body = await read_body(request)
    return json_response(len(_store(request).matching(body.get("graph_id"), body.get("name"), body.get("metadata"))))


def _graph_of(request: Request, assistant_id: str) -> tuple[Record, Graph]:
    """An assistant and its compiled graph, as the official server hands it out; 404 `Not Found` for none."""
    svc = services(request)
    record = svc.engine.assistant_store.get(assistant_id)
    registered = svc.engine.assistants.get(record["graph_id"]) if record is not None else None
    if record is None or registered is None:
        raise ApiError(404, "Not Found")
    return record, served(registered.graph, registered.graph_id)


async def get_graph(request: Request) -> Response:
    """Accepts a graph id for its system assistant, unlike the other assistant routes."""
    assistant_id = request.path_params["assistant_id"]
    registered = services(request).engine.assistants.get(assistant_id)
    if registered is not None:
        assistant_id = registered.assistant_id
    if not is_uuid(assistant_id):
        raise invalid_uuid("assistant")
    _, graph = _graph_of(request, assistant_id)
    return json_response(await graph_json(graph, parse_xray(request.query_params.get("xray"))))


async def get_schemas(request: Request) -> Response:
    record, graph = _graph_of(request, _assistant_id(request))
    return json_response({"graph_id": record["graph_id"], **graph_schemas(graph)})


async def get_subgraphs(request: Request) -> Response:
    _, graph = _graph_of(request, _assistant_id(request))
    recurse = request.query_params.get("recurse", "False") in ("true", "True")
    return json_response(await subgraph_schemas(graph, request.path_params.get("namespace"), recurse))


routes = [
    Route("/assistants", create_assistant, methods=["POST"]),
    Route("/assistants/search", search_assistants, methods=["POST"]),
    Route("/assistants/count", count_assistants, methods=["POST"]),
    Route("/assistants/{assistant_id}/latest", set_latest_version, methods=["POST"]),
    Route("/assistants/{assistant_id}/versions", list_versions, methods=["POST"]),
    Route("/assistants/{assistant_id}", get_assistant, methods=["GET"]),
    Route("/assistants/{assistant_id}/graph", get_graph, methods=["GET"]),
    Route("/assistants/{assistant_id}/schemas", get_schemas, methods=["GET"]),
    Route("/assistants/{assistant_id}/subgraphs", get_subgraphs, methods=["GET"]),
    Route("/assistants/{assistant_id}/subgraphs/{namespace}", get_subgraphs, methods=["GET"]),
    Route("/assistants/{assistant_id}", patch_assistant, methods=["PATCH"]),
    Route("/assistants/{assistant_id}", delete_assistant, methods=["DELETE"]),
]
