"""How a protocol run executes: on LangGraph's own v3 event stream (`astream_events(version="v3")`), as the official
worker runs one (langgraph_api/stream_v2.py), its events published on the run's broker unchanged, named
`<method>|<namespace>`. The thread log reshapes them for the wire (session.py).

A run is a protocol run when its config carries `configurable.__event_streaming_v2` (set by `run.start` and
`input.respond`, shown in the run's `kwargs` as on the official server)."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from typing import Any

PROTOCOL_KEY = "__event_streaming_v2"
# The `stream_mode` every protocol run is created with (langgraph_api/event_streaming/constants.py). The v3 stream
# picks its modes itself; the list is what the run's `kwargs` show.
RUN_STREAM_MODES = ["values", "updates", "messages", "tools", "lifecycle", "custom", "tasks", "checkpoints"]


def is_protocol_run(config: Any) -> bool:
    """Whether a run's config (its body's, or its `kwargs`') makes it a protocol run."""
    configurable = config.get("configurable") if isinstance(config, dict) else None
    return isinstance(configurable, dict) and bool(configurable.get(PROTOCOL_KEY))


class ProtocolMapper:
    """`streams.EventMapper`'s counterpart for protocol runs: each v3 event is published as it is."""

    def map(self, ns: tuple[str, ...], mode: str, chunk: Any) -> list[tuple[str, Any]]:
        return [(mode + ("|" + "|".join(ns) if ns else ""), chunk)]


def _shaped(event: dict[str, Any]) -> dict[str, Any] | None:
    """The event as the official worker publishes it: `messages` carry the content-block event alone (without its
    metadata); a whole-message `messages` chunk (a node returning a message) is dropped, as protocol v2 does."""
    if event.get("method") != "messages":
        return event
    params = event.get("params") or {}
    data = params.get("data")
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], dict) and isinstance(data[0].get("event"), str):
        return {**event, "params": {**params, "data": data[0]}}
    if isinstance(data, dict) and isinstance(data.get("event"), str):
        return event
    return None


async def protocol_chunks(graph: Any, graph_input: Any, config: dict[str, Any], *, before: Any, after: Any, context: Any) -> AsyncIterator[tuple[tuple[str, ...], str, Any]]:
    """The run's v3 events as `(namespace, method, event)`."""
    with warnings.catch_warnings():  # LangGraph warns on every v3 run that the API is experimental
        warnings.filterwarnings("ignore", message="The v3 streaming protocol on Pregel is experimental")
        stream = await graph.astream_events(graph_input, config, version="v3", interrupt_before=before, interrupt_after=after, context=context or None)
    async with stream:
        async for item in stream:
            event = _shaped(dict(item))
            if event is not None:
                params = event.get("params") or {}
                yield tuple(params.get("namespace") or ()), str(event.get("method")), event
