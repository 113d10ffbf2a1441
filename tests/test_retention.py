"""Bounded memory for a mock left running: thread `ttl`, `--max-threads`, the journal's byte cap, and the event
broker's backlog, slow-subscriber cut-off and replay grace."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from mock_server.cli import app as cli_app
from mock_server.journal import Journal
from mock_server.runs.broker import EventBroker
from mock_server.settings import Settings
from mock_server.testing import MockServer

from .helpers import new_thread, run, wait


def _saved(server: MockServer, thread_id: str) -> int:
    """How many checkpoints the mock holds for a thread."""
    saver = server.app.state.services.engine.checkpointer
    return sum(len(cps) for cps in saver.storage.get(thread_id, {}).values())


def test_a_thread_is_swept_when_its_ttl_runs_out() -> None:
    with MockServer(settings=Settings(sweep_seconds=0.1)) as server, httpx.Client(base_url=server.url) as http:
        doomed = http.post("/threads", json={"ttl": {"strategy": "delete", "ttl": 0.005}}).json()["thread_id"]  # 0.3 s
        wait(http, doomed, "agent", input={"some_text": "x"})
        patched = new_thread(http)
        assert http.patch(f"/threads/{patched}", json={"ttl": {"ttl": 0.005}}).status_code == 200
        kept = http.post("/threads", json={"ttl": {"strategy": "delete", "ttl": 60}}).json()["thread_id"]
        plain = new_thread(http)
        assert http.get(f"/threads/{doomed}").status_code == 200
        time.sleep(0.8)
        assert http.get(f"/threads/{doomed}").status_code == 404
        assert http.get(f"/threads/{patched}").status_code == 404
        assert http.get(f"/threads/{kept}").status_code == 200
        assert http.get(f"/threads/{plain}").status_code == 200
        assert _saved(server, doomed) == 0


def test_keep_latest_prunes_history_to_the_latest_checkpoint() -> None:
    with MockServer() as server, httpx.Client(base_url=server.url) as http:
        tid = http.post("/threads", json={"ttl": {"strategy": "keep_latest", "ttl": 0}}).json()["thread_id"]
        wait(http, tid, "agent", input={"some_text": "x"})
        before = http.get(f"/threads/{tid}/state").json()
        assert len(http.get(f"/threads/{tid}/history").json()) > 1
        assert server.app.state.services.sweeper.sweep() == 1
        assert len(http.get(f"/threads/{tid}/history").json()) == 1
        after = http.get(f"/threads/{tid}/state").json()
        assert (after["values"], after["next"], after["interrupts"]) == (before["values"], before["next"], before["interrupts"])
        resumed = wait(http, tid, "agent", command={"resume": "yes"})
        assert "__interrupt__" not in resumed, resumed


def test_a_thread_with_a_run_under_way_is_swept_once_idle() -> None:
    with MockServer() as server, httpx.Client(base_url=server.url) as http:
        server.set_faults({"hang": True, "graph": "agent"})
        tid = http.post("/threads", json={"ttl": {"ttl": 0}}).json()["thread_id"]
        run_id = http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {"some_text": "x"}}).json()["run_id"]
        sweeper = server.app.state.services.sweeper
        assert sweeper.sweep() == 0
        assert http.get(f"/threads/{tid}").json()["status"] == "busy"
        assert http.post(f"/threads/{tid}/runs/{run_id}/cancel?wait=true").status_code in (200, 202, 204)
        assert sweeper.sweep() == 1
        assert http.get(f"/threads/{tid}").status_code == 404


def test_max_threads_evicts_the_least_recently_used_idle_threads() -> None:
    with MockServer(settings=Settings(max_threads=3)) as server, httpx.Client(base_url=server.url) as http:
        server.set_faults({"hang": True, "graph": "nointerrupt"})
        busy = new_thread(http)
        http.post(f"/threads/{busy}/runs", json={"assistant_id": "nointerrupt", "input": {}})
        used = new_thread(http)
        wait(http, used, "agent", input={"some_text": "x"})
        old = new_thread(http)
        wait(http, old, "agent", input={"some_text": "x"})
        assert http.get(f"/threads/{used}").status_code == 200  # used after `old`: `old` is now the least recent
        newest = new_thread(http)
        assert http.get(f"/threads/{old}").status_code == 404
        assert _saved(server, old) == 0, "an evicted thread's checkpoints were kept"
        for tid in (busy, used, newest):
            assert http.get(f"/threads/{tid}").status_code == 200, tid
        assert wait(http, used, "agent", command={"resume": "yes"})  # the survivors still work
        assert server.app.state.services.store.evictions == 1


def test_max_threads_from_the_command_line() -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--max-threads", "0"])
    assert result.exit_code == 2 and "--max-threads" in result.output
    result = CliRunner().invoke(cli_app, ["serve", "--journal-size", "lots"])
    assert result.exit_code == 2 and "--journal-size must be a positive size" in result.output


def _scope(path: str) -> dict[str, Any]:
    return {"method": "POST", "path": path, "query_string": b"", "headers": []}


def test_the_journal_is_capped_by_bytes() -> None:
    journal = Journal(limit=1_000, max_bytes=20_000)
    for i in range(100):
        journal.add(_scope(f"/threads/{i}"), b"x" * 1000)
    assert journal.bytes <= 20_000
    assert 10 <= len(journal.entries) < 20
    assert journal.entries[-1].path == "/threads/99"  # the newest are kept
    journal.add(_scope("/big"), b"y" * 100_000)  # one entry larger than the cap is still recorded, alone
    assert [e.path for e in journal.entries] == ["/big"]


def test_a_run_keeps_its_newest_events_for_replay_and_drops_them_after_the_grace_period() -> None:
    async def flow() -> tuple[list[str], list[str], bool]:
        broker = EventBroker(resumable=True)
        broker.bound(3, grace=0.05)
        for i in range(5):
            broker.publish("values", b'{"i":%d}' % i)
        kept = [e.data.decode() for e in broker._replay("-1")]
        broker.close()
        again = [e.data.decode() for e in broker._replay("-1")]
        await asyncio.sleep(0.1)
        return kept, again, broker._buffer is None

    kept, again, released = run(flow())
    assert kept == ['{"i":2}', '{"i":3}', '{"i":4}']
    assert again == kept  # within the grace period a reconnecting client still gets them
    assert released


def test_a_subscriber_that_falls_too_far_behind_is_cut_off() -> None:
    async def flow() -> list[Any]:
        broker = EventBroker()
        broker.bound(5, grace=None)
        queue = broker.subscribe()
        for i in range(50):
            broker.publish("values", b'{"i":%d}' % i)
        assert queue.qsize() == 2  # the error and the end: nothing else is held for it
        items = [queue.get_nowait(), queue.get_nowait()]
        broker.publish("values", b"{}")
        assert queue.empty()
        return items

    error, end = run(flow())
    assert error.event == "error" and b"SlowConsumer" in error.data
    assert end is None


@pytest.mark.parametrize("field", ["journal_bytes", "sweep_seconds", "stream_backlog"])
def test_bounds_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Settings(**{field: 0})  # type: ignore[arg-type]  # each field takes a number
