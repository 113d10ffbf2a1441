"""The Python SDK's thread streams (`client.threads.stream`, langgraph-sdk 0.4.14), driven as a new user would, over SSE
or the WebSocket: the seed flow (agent), parallel interrupts answered by id (multi), the validation loop (validate)
and chat tokens on the `messages` channel (chat). `flows` returns what the client observed, for asserting on and for
comparing servers.

SDK 0.4.14 quirks these flows work with (the official server's behaviour, kept by the mock):
- `thread.interrupts[i]["value"]` is None: the SDK reads `value`, the server sends `payload`. The values are read
  from `GET /threads/{id}/state`.
- `thread.interrupts` only empties when a run completes or fails: after answering one of two parallel interrupts,
  the one still pending is listed twice (once per run that asked), so answers name their `interrupt_id`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from langgraph_sdk import get_client

TIMEOUT = 30.0
TEXT_GRACE = 2.0


async def until(what: str, test: Callable[[], Any], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def pending(client: Any, thread_id: str, count: int = 1) -> dict[str, str]:
    """The thread's pending interrupts once it has settled with `count` of them: value's `q` or `prompt` -> id."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        thread = await client.threads.get(thread_id)
        items = [i for group in (thread.get("interrupts") or {}).values() for i in group]
        if thread["status"] == "interrupted" and len(items) == count:
            return {str(i["value"].get("q") or i["value"].get("prompt") or i["value"]): i["id"] for i in items}
        assert time.monotonic() < deadline, f"thread {thread_id} did not settle with {count} interrupts: {thread}"
        await asyncio.sleep(0.02)


async def agent(client: Any, transport: str) -> dict[str, Any]:
    async with client.threads.stream(assistant_id="agent", transport=transport) as thread:
        started = await thread.run.start(input={"some_text": "original text"})
        await until("the interrupt", lambda: thread.interrupted and thread.interrupts)
        asked = list(thread.interrupts)
        answered = await thread.run.respond("Edited text")
        output = await thread.output.with_timeout(TIMEOUT)
        state = await client.threads.get_state(thread.thread_id)
        return {"started": sorted(started), "asked": asked, "answered": answered, "output": output, "after": [thread.interrupted, thread.interrupts], "next": state["next"]}


async def multi(client: Any, transport: str) -> dict[str, Any]:
    async with client.threads.stream(assistant_id="multi", transport=transport) as thread:
        await thread.run.start(input={"answers": []})
        ids = await pending(client, thread.thread_id, 2)
        await until("two interrupts", lambda: len(thread.interrupts) == 2)
        both = list(thread.interrupts)
        await thread.run.respond("alpha", interrupt_id=ids["A?"])
        left = await pending(client, thread.thread_id, 1)
        await until("B asked again", lambda: len(thread.interrupts) == 3)
        state = await client.threads.get_state(thread.thread_id)
        after_a = {"pending": left, "listed": list(thread.interrupts), "next": state["next"], "values": state["values"]}
        await thread.run.respond("beta", interrupt_id=ids["B?"])
        first = (await pending(client, thread.thread_id))["first?"]
        await until("the first of two in one node", lambda: any(i["interrupt_id"] == first for i in thread.interrupts))
        await thread.run.respond("one", interrupt_id=first)
        second = (await pending(client, thread.thread_id))["second?"]
        await until("the second of two in one node", lambda: any(i["interrupt_id"] == second for i in thread.interrupts))
        await thread.run.respond("two", interrupt_id=second)
        output = await thread.output.with_timeout(TIMEOUT)
        return {"both": both, "ids": ids, "after_a": after_a, "first": first, "second": second, "output": output}


async def validate(client: Any, transport: str) -> dict[str, Any]:
    async with client.threads.stream(assistant_id="validate", transport=transport) as thread:
        await thread.run.start(input={})
        prompts = []
        for answer in ("abc", 0, 42):
            asked = await pending(client, thread.thread_id)
            [(prompt, interrupt_id)] = asked.items()
            prompts.append(prompt)
            await until("the question on the stream", lambda interrupt_id=interrupt_id: any(i["interrupt_id"] == interrupt_id for i in thread.interrupts))
            await thread.run.respond(answer, interrupt_id=interrupt_id)
        output = await thread.output.with_timeout(TIMEOUT)
        return {"prompts": prompts, "output": output}


async def tokens(thread: Any) -> list[list[str]]:
    """Each message's text deltas, read as they stream (a chat UI's typing effect), until the SDK ends `thread.messages`
    at the interrupt or the run's end. SDK 0.4.14 sometimes never ends a message's `text` that was still open when
    `thread.messages` ended (seen on the official server, about one run in three after other flows), so each text
    is read alongside and given `TEXT_GRACE` to end: every delta it streamed is kept, and a lost one still shows."""
    texts: list[list[str]] = []
    readers = []

    async def read(message: Any, into: list[str]) -> None:
        async for delta in message.text:
            into.append(delta)

    async for message in thread.messages:
        texts.append([])
        readers.append(asyncio.create_task(read(message, texts[-1])))
    if readers:
        _, stuck = await asyncio.wait(readers, timeout=TEXT_GRACE)
        for reader in stuck:
            reader.cancel()
    return texts


async def chat(client: Any, transport: str) -> dict[str, Any]:
    async with client.threads.stream(assistant_id="chat", transport=transport) as thread:
        await thread.run.start(input={"messages": [{"type": "human", "content": "Send an email to Bob"}]})
        plan = await tokens(thread)  # from the start (a new stream replays); ends at the interrupt
        reading = asyncio.create_task(tokens(thread))  # subscribed before the answer: live from here on
        await asyncio.sleep(0.05)
        await thread.run.respond("approve")
        done = await asyncio.wait_for(reading, TIMEOUT)
        output = await thread.output.with_timeout(TIMEOUT)
        texts = [[block["text"] for block in m["content"]] if isinstance(m["content"], list) else m["content"] for m in output["messages"]]
        return {"plan": plan, "done": done, "interrupted": thread.interrupted, "texts": texts}


FLOWS = {f.__name__: f for f in (agent, multi, validate, chat)}


def flows(url: str, transport: str, names: list[str] | None = None) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        client = get_client(url=url)
        seen = {}
        for name in names or FLOWS:  # a flow that stalls fails with its name instead of hanging the test run
            try:
                seen[name] = await asyncio.wait_for(FLOWS[name](client, transport), 4 * TIMEOUT)
            except TimeoutError:
                raise AssertionError(f"the {name} flow over {transport} did not finish in {4 * TIMEOUT:.0f} s") from None
        return seen

    return asyncio.run(main())
