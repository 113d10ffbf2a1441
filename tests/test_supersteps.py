"""`POST /threads` with `supersteps`: the thread is created and its state set through LangGraph's bulk update, as
on the official server (measured on langgraph-api 0.16.7: a thread with no graph gets 201 and a `detail`; an
update naming an unknown node gets 400, and the thread exists all the same)."""

from __future__ import annotations

import uuid

import httpx
import pytest

STEP_A = {"updates": [{"values": {"some_text": "a"}, "as_node": "human_node"}]}
STEP_B = {"updates": [{"values": {"some_text": "b"}, "as_node": "human_node"}]}


def _observe(url: str) -> list[dict]:
    seen = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for body in (
            {"metadata": {"graph_id": "agent"}, "supersteps": [STEP_A, STEP_B]},
            {"supersteps": [STEP_A]},
            {"metadata": {"graph_id": "agent"}, "supersteps": [{"updates": [{"values": {"some_text": "x"}, "as_node": "nope"}]}]},
        ):
            tid = str(uuid.uuid4())
            r = http.post("/threads", json={"thread_id": tid, **body})
            row = {"status": r.status_code, "detail": r.json().get("detail", "").replace(tid, "<tid>"), "exists": http.get(f"/threads/{tid}").status_code}
            if r.status_code == 200:
                thread = r.json()
                row |= {"thread": {k: thread[k] for k in ("status", "values", "config", "interrupts", "error")}}
                row |= {"state": http.get(f"/threads/{tid}/state").json()["values"]}
            seen.append(row)
    return seen


EXPECTED = [
    {"status": 200, "detail": "", "exists": 200, "state": {"some_text": "b"},
     "thread": {"status": "idle", "values": {"some_text": "b"}, "config": {}, "interrupts": {}, "error": None}},
    {
        "status": 201,
        "detail": "Thread <tid> was created, but there were problems updating the state: Thread '<tid>' has no assigned graph ID. "
        "This usually occurs when no runs have been made on this particular thread. This operation requires a graph ID. Please ensure "
        "a run has been made for the thread or manually update the thread metadata (by setting the 'graph_id' field) before running this operation.",
        "exists": 200,
    },
    {"status": 400, "detail": "Node nope does not exist", "exists": 200},
]


def test_supersteps_on_the_mock(mock_graphs):
    assert _observe(mock_graphs.url) == EXPECTED


@pytest.mark.official
def test_supersteps_on_the_official_server(official):
    assert _observe(official) == EXPECTED
