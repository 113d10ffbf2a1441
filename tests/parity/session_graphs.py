"""A graph with a subgraph that streams a custom event and interrupts inside the subgraph: the source for comparing
the mock's `RunSession` with the official `EventStreamingSession` (the fixture graphs have no subgraphs)."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.config import get_stream_writer
from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict):
    x: Annotated[list, operator.add]


def inner(state: State) -> dict[str, Any]:
    get_stream_writer()({"hello": 1})
    return {"x": ["inner"]}


def asker(state: State) -> dict[str, Any]:
    return {"x": [interrupt({"q": "sub?"})]}


def outer(state: State) -> dict[str, Any]:
    return {"x": ["outer"]}


def build() -> Any:
    sub = StateGraph(State).add_node("inner", inner).add_node("asker", asker).add_edge(START, "inner").add_edge("inner", "asker").compile()
    graph = StateGraph(State).add_node("outer", outer).add_node("sub", sub).add_edge(START, "outer").add_edge("outer", "sub")
    return graph.compile(checkpointer=InMemorySaver())


# Run in `.venv-reference`: the official session over the same source events (argv[1]: JSON [[name, data, id], ...]).
OFFICIAL = """
import asyncio, json, os, sys
for key, value in (("REDIS_URI", "redis://unused"), ("DATABASE_URI", "postgres://unused"), ("LANGGRAPH_RUNTIME_EDITION", "inmem")):
    os.environ.setdefault(key, value)
from langgraph_api.event_streaming.session import EventStreamingSession
from langgraph_api.event_streaming.types import Subscription

async def main():
    out = []
    async def send(payload): out.append(json.loads(payload))
    async def run(): return {"status": "success"}
    async def state(): return {"tasks": []}
    session = EventStreamingSession(run_id="R", thread_id="T", initial_run={"kwargs": {"config": {"configurable": {"graph_id": "g"}}}},
                                    get_run=run, get_thread_state=state, send=send)
    session.subscriptions["all"] = Subscription(id="all", channels={"values", "updates", "messages", "tools", "lifecycle", "input", "tasks", "custom", "checkpoints"}, active=True)
    await session.start()
    for name, data, entry in json.load(open(sys.argv[1])):
        await session.ingest_source_event((name.encode(), data.encode(), entry.encode()))
    await session.complete()
    print(json.dumps(out))

asyncio.run(main())
"""
