"""`load.py disconnect`: clients that leave a stream mid-way, many times; the mock must keep nothing of them.

Each drop: create a thread, `POST /threads/{id}/runs/stream` on the `chat` graph (it streams a plan token by
token, 20 ms apart, then stops at an interrupt: about 0.3 s), read the headers and the first event, and leave.
Half the drops close the connection (FIN), half reset it (RST: SO_LINGER 0); half the runs ask
`on_disconnect: cancel` (the run is cancelled), half do not (the run goes on to its interrupt without a reader).
Then `GET /__mock__/stats` is read: the subscriber queues must be gone while runs are still going (the server
noticed each client leaving; it did not wait for the run's end to let go of its queue); once no run is active,
no subscriber queue, buffered event or run task may be left, and the server's asyncio tasks must be as many as
before the first drop. The runs that asked for `cancel` must have ended `interrupted` (not one ran on to its
interrupt), unless the server could not have seen the client leave before the run ended.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import struct
import time
from typing import Any

from lean import AsyncClient, Client, request_bytes

ASK = {"messages": [{"role": "human", "content": "Please send an email to Bob"}]}


async def _drop_one(api: AsyncClient, i: int) -> tuple[bool, str, bool]:
    """One stream, left after its first event: whether it was as expected (a 200 whose first event is `metadata`),
    its thread, and whether its run asked to be cancelled on disconnect."""
    tid = (await api.request("POST", "/threads", {}))["thread_id"]
    body: dict[str, Any] = {"assistant_id": "chat", "input": ASK, "stream_mode": ["messages-tuple", "values"]}
    if i % 2:
        body["on_disconnect"] = "cancel"
    reader, writer = await asyncio.open_connection(api.host, api.port)
    writer.write(request_bytes("POST", f"/threads/{tid}/runs/stream", body, api.authority))
    seen = b""
    while seen.count(b"\r\n\r\n") < 2:  # the headers, then the first event (`metadata`)
        data = await reader.read(65536)
        if not data:
            break
        seen += data
    if i % 4 >= 2:  # reset rather than close
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()
    return seen.startswith(b"HTTP/1.1 200") and b"event: metadata" in seen, tid, bool(i % 2)


async def drop_streams(url: str, times: int, in_flight: int) -> list[tuple[bool, str, bool]]:
    """`times` streams left mid-way, `in_flight` at a time."""
    queue = iter(range(times))
    out: list[tuple[bool, str, bool]] = []

    async def worker() -> None:
        api = AsyncClient(url)
        for i in queue:
            out.append(await _drop_one(api, i))
        api.close()

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return out


def until(stats: Any, done: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        now: dict[str, Any] = stats()
        if done(now) or time.monotonic() > deadline:
            return now
        time.sleep(0.02)


def settle(stats: Any, timeout: float = 60) -> dict[str, Any]:
    """The stats once no run is active any more (runs without `cancel` finish by themselves)."""
    until(stats, lambda now: now["active_runs"] == 0 and now["subscribers"] == 0, timeout)
    time.sleep(0.2)  # the tasks of the last streams end just after their runs
    settled: dict[str, Any] = stats()
    return settled


def run_statuses(url: str, drops: list[tuple[bool, str, bool]]) -> dict[str, int]:
    """How the runs that asked for `cancel` ended, by status."""
    client, counts = Client(url), {}
    for _, tid, cancel in drops:
        if cancel:
            for run in client.request("GET", f"/threads/{tid}/runs"):
                counts[run["status"]] = counts.get(run["status"], 0) + 1
    client.close()
    return counts


def leftovers(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    found = [f"{key}: {after[key]}" for key in ("active_runs", "run_tasks", "subscribers", "buffered_events") if after[key]]
    if after["tasks"] > before["tasks"]:
        found.append(f"asyncio tasks: {after['tasks']} (before the drops: {before['tasks']})")
    return found


def check(args: argparse.Namespace) -> int:
    """`load.py disconnect`: `args.times` drops, `args.in_flight` at a time, on a fresh mock; 1 when anything is left."""
    from bench import console, server
    from load import rss_mb, stats

    with server("mock") as (url, _, pid):
        asyncio.run(drop_streams(url, 5, 5))  # warm-up: imports and first-run caches
        before = settle(lambda: stats(url))
        rss_before = rss_mb(pid)
        started = time.monotonic()
        drops = asyncio.run(drop_streams(url, args.times, args.in_flight))
        elapsed = time.monotonic() - started
        let_go = until(lambda: stats(url), lambda now: now["subscribers"] == 0, 5)
        after = settle(lambda: stats(url))
        rss_after = rss_mb(pid)
        ended = run_statuses(url, drops)
    bad = sum(not ok for ok, _, _ in drops)
    left = leftovers(before, after)
    if let_go["subscribers"] or not let_go["active_runs"]:  # held until the runs ended: the leaving went unnoticed
        left.append(f"subscriber queues let go only once the runs had ended ({let_go})")
    left += [f"{n} 'cancel' runs ended {status}" for status, n in ended.items() if status not in ("interrupted", "success")]
    console.print(
        f"{args.times:,} streams dropped mid-way in {elapsed:.1f} s ({args.in_flight} at a time); every subscriber queue let go while "
        f"{let_go['active_runs']} runs were still going; the runs asking for cancel ended {ended}; {bad} streams not as expected"
    )
    console.print(f"before the drops: {before}\nafter them, once no run was active: {after}")
    console.print(f"RSS {rss_before:.1f} -> {rss_after:.1f} MB (the {args.times + 5:,} threads and their runs stay in the store, as threads do)")
    console.print("nothing left behind ✓" if not left and not bad else f"[red]left behind: {', '.join(left) or '-'}; streams not as expected: {bad}[/]")
    return 1 if left or bad else 0
