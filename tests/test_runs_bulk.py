"""Runs by id alone and in bulk: a stateless run's `Content-Location` is served, `POST /runs/cancel` cancels by
thread and ids or by status, `POST /runs/batch` creates several, and cancel's `action` is checked against the spec."""

from __future__ import annotations

import uuid

import pytest

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_a_stateless_runs_content_location_is_served(mock):
    with mock.http() as http:
        created = http.post("/runs", json={"assistant_id": "agent", "input": {"some_text": "x"}, "on_completion": "keep"})
        location = created.headers["content-location"]
        assert location == f"/runs/{created.json()['run_id']}"
        http.get(f"/threads/{created.json()['thread_id']}/runs/{created.json()['run_id']}/join")
        shown = http.get(location)
        assert shown.status_code == 200, shown.text
        assert shown.json() == http.get(f"/threads/{created.json()['thread_id']}/runs/{created.json()['run_id']}").json()
        assert http.get(f"/runs/{UNKNOWN}").json() == {"detail": "Run not found"}
        assert http.get("/runs/nope").status_code == 422


@pytest.mark.parametrize("path", ["/threads/{tid}/runs/{rid}/cancel", "/runs/cancel"])
def test_cancel_action_is_checked_against_the_spec(mock, path):
    with mock.http() as http:
        tid = http.post("/threads", json={}).json()["thread_id"]
        rid = http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {"some_text": "x"}, "after_seconds": 30}).json()["run_id"]
        body = {"thread_id": tid, "run_ids": [rid]}
        refused = http.post(path.format(tid=tid, rid=rid) + "?action=bogus", json=body)
        assert refused.status_code == 422 and "interrupt" in refused.json()["detail"], refused.text
        assert http.get(f"/threads/{tid}/runs/{rid}").json()["status"] == "pending", "a refused cancel cancelled"
        assert http.post(path.format(tid=tid, rid=rid) + "?action=interrupt", json=body).status_code in (202, 204)
        assert http.get(f"/threads/{tid}/runs/{rid}").json()["status"] == "interrupted"


def test_bulk_cancel_by_ids_and_by_status(mock):
    with mock.http() as http:
        tid = http.post("/threads", json={}).json()["thread_id"]
        first = http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {"some_text": "x"}, "after_seconds": 30}).json()["run_id"]
        second = http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {"some_text": "y"}}).json()["run_id"]
        assert http.post("/runs/cancel", json={"thread_id": tid, "run_ids": [second]}).status_code == 204
        assert http.get(f"/threads/{tid}/runs/{first}").json()["status"] == "pending"
        assert http.get(f"/threads/{tid}/runs/{second}").json()["status"] == "interrupted"
        assert http.post("/runs/cancel", json={"status": "all"}).status_code == 204
        assert http.get(f"/threads/{tid}/runs/{first}").json()["status"] == "interrupted"
        assert http.post("/runs/cancel", json={"status": "all"}).json() == {"detail": "No runs found to cancel."}
        assert http.post("/runs/cancel", json={"thread_id": str(uuid.uuid4()), "run_ids": [first]}).status_code == 404
        assert http.post("/runs/cancel", json={}).status_code == 422


def test_batch_creates_runs_that_can_be_joined(mock):
    with mock.http() as http:
        created = http.post("/runs/batch", json=[{"assistant_id": "agent", "input": {"some_text": t}, "on_completion": "keep"} for t in "ab"])
        assert created.status_code == 200, created.text
        runs = created.json()
        assert len({r["thread_id"] for r in runs}) == 2
        results = [http.get(f"/threads/{r['thread_id']}/runs/{r['run_id']}/join").json() for r in runs]
        assert [r["__interrupt__"][0]["value"] for r in results] == [{"text_to_revise": "a"}, {"text_to_revise": "b"}]
        before = http.post("/threads/count", json={}).json()
        bad = http.post("/runs/batch", json=[{"assistant_id": "agent", "input": {}}, {"assistant_id": "nope", "input": {}}])
        assert bad.status_code == 422 and "Invalid assistant" in bad.json()["detail"]
        assert http.post("/threads/count", json={}).json() == before, "a refused batch created runs"
