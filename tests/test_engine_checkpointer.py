"""The mock's checkpointer is LangGraph's in-memory one: its write methods are InMemorySaver's own code, with their
signatures worked out once (LangGraph inspects them at every run)."""

from __future__ import annotations

import asyncio
import inspect

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.pregel._checkpoint import put_writes_accepts_task_path
from langgraph.types import Command

from mock_server.engine import ServerCheckpointer
from mock_server.scenarios import load_langgraph_json

from .conftest import ROOT


def test_the_write_methods_are_in_memory_savers_with_the_same_signatures() -> None:
    saver = ServerCheckpointer()
    for name in ("put_writes", "aput_writes"):
        ours, theirs = getattr(ServerCheckpointer, name), getattr(InMemorySaver, name)
        assert ours is not theirs and ours.__code__ is theirs.__code__
        assert inspect.signature(ours) == inspect.signature(theirs)
        assert inspect.signature(getattr(saver, name)) == inspect.signature(getattr(InMemorySaver(), name))
        assert put_writes_accepts_task_path(getattr(saver, name))


def test_an_interrupted_run_keeps_its_pending_writes_with_their_task_path() -> None:
    [agent] = [g for g in load_langgraph_json(ROOT / "fixtures" / "graphs" / "langgraph.json") if g.graph_id == "agent"]
    saver = ServerCheckpointer()
    graph = agent.graph.copy(update={"checkpointer": saver})
    config = {"configurable": {"thread_id": "t"}}

    async def cycle() -> dict:
        first = await graph.ainvoke({"some_text": "x"}, config)
        assert first["__interrupt__"][0].value == {"text_to_revise": "x"}
        return await graph.ainvoke(Command(resume="y"), config)

    assert asyncio.run(cycle()) == {"some_text": "y"}
    assert any(len(write) == 4 and write[3] for writes in saver.writes.values() for write in writes.values())
