"""The chat scenario: token streaming (`messages-tuple`), branching on the human message and on the resume
value — through the official Python SDK, on the scenario file and on the Python graph."""

from __future__ import annotations

from langgraph_sdk import get_client
from langgraph_sdk.schema import Command

from .helpers import run


async def _chat(url: str, text: str, decision=None):
    client = get_client(url=url)
    thread = await client.threads.create()
    modes = ["messages-tuple", "values"]
    first = [p async for p in client.runs.stream(thread["thread_id"], "chat", input={"messages": [{"type": "human", "content": text}]}, stream_mode=modes)]
    second = []
    if decision is not None:
        second = [p async for p in client.runs.stream(thread["thread_id"], "chat", command=Command(resume=decision), stream_mode=modes)]
    return first, second, await client.threads.get(thread["thread_id"])


def _streamed_text(parts) -> tuple[str, set[str]]:
    chunks = [p.data[0] for p in parts if p.event == "messages"]
    assert chunks and all(c["type"] == "AIMessageChunk" and c["id"] for c in chunks), chunks[:2]
    return "".join(c["content"] for c in chunks), {c["id"] for c in chunks}


def test_email_request_streams_a_plan_then_asks(served):
    first, _, thread = run(_chat(served.url, "Please send an email to Bob"))
    text, ids = _streamed_text(first)
    assert text == "I plan to send the email to Bob now. Shall I proceed?"
    assert len(ids) == 1 and next(iter(ids)).startswith("lc_run--")  # one message, streamed as many chunks
    assert sum(p.event == "messages" for p in first) > 5
    assert first[-1].event == "values" and first[-1].data["__interrupt__"][0]["value"]["question"] == "Approve sending the email?"
    assert thread["status"] == "interrupted"


def test_approve_streams_a_confirmation(served):
    _, second, thread = run(_chat(served.url, "send an email to Bob", "approve"))
    assert _streamed_text(second)[0] == "Done: the email to Bob has been sent."
    assert thread["status"] == "idle"
    assert [m["content"] for m in thread["values"]["messages"]][-1] == "Done: the email to Bob has been sent."


def test_reject_streams_a_cancellation(served):
    _, second, _ = run(_chat(served.url, "send an email to Bob", {"action": "reject"}))
    assert _streamed_text(second)[0] == "Cancelled: the email was not sent."


def test_other_messages_get_a_short_answer(served):
    first, _, thread = run(_chat(served.url, "hello there"))
    assert _streamed_text(first)[0] == "I can send emails for you. Tell me what to send."
    assert thread["status"] == "idle"


def test_say_streams_tool_calls(tmp_path):
    from mock_server.testing import MockServer

    scenario = {
        "graph_id": "tools",
        "state": {"messages": {"reducer": "messages"}},
        "edges": [["START", "a"]],
        "nodes": {"a": [{"say": "Looking that up.", "tool_calls": [{"name": "search", "args": {"q": "{last_human}"}}]}]},
    }
    with MockServer() as server:
        server.load_scenario(scenario)

        async def flow():
            client = get_client(url=server.url)
            thread = await client.threads.create()
            return await client.runs.wait(thread["thread_id"], "tools", input={"messages": [{"type": "human", "content": "weather in Paris"}]})

        final = run(flow())
    message = final["messages"][-1]
    assert message["content"] == "Looking that up."
    assert message["tool_calls"] == [{"name": "search", "args": {"q": "weather in Paris"}, "id": "call_0", "type": "tool_call"}]
