"""What `GET /assistants/{id}/graph`, `/schemas` and `/subgraphs` answer, read from the compiled LangGraph graph
exactly as langgraph-api 0.16.7 reads it (langgraph_api/api/assistants.py: `get_assistant_graph`, `_graph_schemas`,
`_state_jsonschema`, `_get_configurable_jsonschema`), for Python graphs and compiled scenario files alike.

A schema LangGraph cannot build is `null`, as there: on Python < 3.12, pydantic builds no input or output schema from
a `typing.TypedDict` state, so both are `null` for such graphs on either server.
"""

from __future__ import annotations

import warnings
from typing import Any, cast

from langchain_core.utils.pydantic import create_model  # what langchain_core.runnables.utils re-exports
from pydantic import TypeAdapter

from .errors import ApiError
from .scenarios.base import Graph

EXCLUDED_CONFIG_SCHEMA = ("__pregel_checkpointer", "__pregel_store", "checkpoint_id", "checkpoint_ns", "thread_id")
NOT_DRAWABLE = "The graph does not support visualization"


def served(graph: Graph, graph_id: str) -> Graph:
    """The graph as the official server hands it out (`get_graph`): named after its graph id unless it has a name."""
    return graph.copy(update={"name": graph_id}) if graph.name == "LangGraph" else graph


def parse_xray(value: str | None) -> bool | int:
    """`?xray=`: true/false, or a positive depth; anything else is 422 `Invalid xray value`."""
    if not value or value in ("false", "False"):
        return False
    if value in ("true", "True"):
        return True
    try:
        depth = int(value)
    except ValueError:
        raise ApiError(422, "Invalid xray value") from None
    if depth <= 0:
        raise ApiError(422, "Invalid xray value")
    return depth


async def graph_json(graph: Graph, xray: bool | int) -> dict[str, Any]:
    """The drawable graph as JSON, without the nodes' runnable class paths (`data.id`)."""
    try:
        drawable = await graph.aget_graph(xray=xray)
    except NotImplementedError:
        raise ApiError(422, NOT_DRAWABLE) from None
    json_graph: dict[str, Any] = drawable.to_json()
    for node in json_graph.get("nodes", []):
        if (data := node.get("data")) and isinstance(data, dict):
            data.pop("id", None)
    return json_graph


async def subgraph_schemas(graph: Graph, namespace: str | None, recurse: bool) -> dict[str, Any]:
    """Each subgraph's schemas, by namespace (`parent|child` when recursing)."""
    try:
        return {ns: graph_schemas(cast(Graph, sub)) async for ns, sub in graph.aget_subgraphs(namespace=namespace, recurse=recurse)}
    except NotImplementedError:
        raise ApiError(422, NOT_DRAWABLE) from None


def graph_schemas(graph: Graph) -> dict[str, Any]:
    """Input, output, state, config and context JSON schemas; each `None` when it cannot be built."""
    return {
        "input_schema": _attempt(graph.get_input_jsonschema),
        "output_schema": _attempt(graph.get_output_jsonschema),
        "state_schema": _attempt(lambda: _state_jsonschema(graph)),
        "config_schema": _attempt(lambda: _configurable_jsonschema(graph)),
        "context_schema": _attempt(graph.get_context_jsonschema),
    }


def _attempt(build: Any) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return build()
    except Exception:  # as the official server: a schema that fails to build is left out (null)
        return None


def _state_jsonschema(graph: Graph) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in graph.stream_channels_list:
        channel: Any = graph.channels[key]
        try:
            create_model(key, __root__=(channel.UpdateType, None)).model_json_schema()
            fields[key] = (channel.UpdateType, None)
        except Exception:
            fields[key] = (Any, None)
    schema: dict[str, Any] = create_model(graph.get_name("State"), **fields).model_json_schema()
    return schema


def _configurable_jsonschema(graph: Graph) -> dict[str, Any]:
    """Only the `configurable` part of the config schema, without the server's own keys."""
    config_schema = graph.config_schema()
    model_fields = getattr(config_schema, "model_fields", None) or getattr(config_schema, "__fields__", None)
    if model_fields is None or "configurable" not in model_fields:
        return {}
    annotation: Any = model_fields["configurable"].annotation
    json_schema: dict[str, Any] = TypeAdapter(annotation).json_schema()
    if json_schema:
        for key in EXCLUDED_CONFIG_SCHEMA:
            json_schema["properties"].pop(key, None)
    config_type = getattr(graph, "config_type", None)
    if config_type is not None and hasattr(config_type, "__name__"):
        json_schema["title"] = config_type.__name__
    return json_schema
