"""The server layer around LangGraph: statuses, the run queue and multitask strategies, cancel, join,
thread CRUD and search, state updates, breakpoints, CORS."""

from __future__ import annotations

import time

import httpx

from .helpers import interrupt_ids, new_thread, pending_ids, wait

SLOW = {"assistant_id": "nointerrupt", "input": {"sleep": 0.6}}


def _until(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def test_statuses_while_a_run_runs(mock):
    with mock.http() as http:
        tid = new_thread(http)
        created = http.post(f"/threads/{tid}/runs", json=SLOW)
        run_obj = created.json()
        assert run_obj["status"] == "pending"  # as created; it starts at once (no queue latency)
        assert created.headers["content-location"] == f"/threads/{tid}/runs/{run_obj['run_id']}" and "location" not in created.headers
        path = f"/threads/{tid}/runs/{run_obj['run_id']}"
        _until(lambda: http.get(path).json()["status"] == "running")
        thread = http.get(f"/threads/{tid}").json()
        assert thread["status"] == "busy" and "interrupts" not in thread  # no run has finished yet
        assert http.get(path + "/join").json()["steps"] == ["step1", "step2"]
        assert http.get(path).json()["status"] == "success" and http.get(f"/threads/{tid}").json()["status"] == "idle"


def test_enqueue_is_the_default_and_runs_in_order(mock):
    with mock.http() as http:
        tid = new_thread(http)
        first = http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {"some_text": "q"}}).json()
        # a resume enqueued while the interrupt-producing run is still pending resumes it once it has run
        assert wait(http, tid, "agent", command={"resume": "queued"}) == {"some_text": "queued"}
        assert http.get(f"/threads/{tid}/runs/{first['run_id']}").json()["status"] == "success"
        runs = http.get(f"/threads/{tid}/runs").json()
        assert [r["multitask_strategy"] for r in runs] == ["enqueue", "enqueue"]


def test_multitask_interrupt_keeps_the_first_runs_checkpoints(mock):
    with mock.http() as http:
        tid = new_thread(http)
        first = http.post(f"/threads/{tid}/runs", json={"assistant_id": "nointerrupt", "input": {"sleep": 2}}).json()
        _until(lambda: http.get(f"/threads/{tid}/runs/{first['run_id']}").json()["status"] == "running")
        second = wait(http, tid, "nointerrupt", input={}, multitask_strategy="interrupt")
        assert second["steps"] == ["step1", "step2"]
        assert http.get(f"/threads/{tid}/runs/{first['run_id']}").json()["status"] == "interrupted"


def test_multitask_rollback_deletes_the_first_run_and_its_checkpoints(mock):
    with mock.http() as http:
        tid = new_thread(http)
        wait(http, tid, "agent", input={"some_text": "keep"})
        before = http.post(f"/threads/{tid}/history", json={"limit": 50}).json()
        first = http.post(f"/threads/{tid}/runs", json={"assistant_id": "nointerrupt", "input": {"sleep": 2}}).json()
        _until(lambda: http.get(f"/threads/{tid}/runs/{first['run_id']}").json()["status"] == "running")
        second = wait(http, tid, "agent", input={"some_text": "after"}, multitask_strategy="rollback")
        assert second["__interrupt__"][0]["value"] == {"text_to_revise": "after"}
        assert http.get(f"/threads/{tid}/runs/{first['run_id']}").status_code == 404
        after = http.post(f"/threads/{tid}/history", json={"limit": 50}).json()
        # the rolled-back run left no checkpoint: history is what it was, plus the second run's
        assert [h["checkpoint_id"] for h in after[-len(before):]] == [h["checkpoint_id"] for h in before]
        assert all("sleep" not in (h["values"] or {}) for h in after)


def _running(http: httpx.Client, tid: str) -> str:
    """Start a slow background run on the thread and wait until it runs; the run's path."""
    run_obj = http.post(f"/threads/{tid}/runs", json={"assistant_id": "nointerrupt", "input": {"sleep": 2}}).json()
    path = f"/threads/{tid}/runs/{run_obj['run_id']}"
    _until(lambda: http.get(path).json()["status"] == "running")
    return path


def test_cancel_interrupt_and_wait(mock):
    with mock.http() as http:
        tid = new_thread(http)
        path = _running(http, tid)
        run_id = path.rsplit("/", 1)[1]
        r = http.post(path + "/cancel")
        assert r.status_code == 202 and r.content == b""
        _until(lambda: http.get(path).json()["status"] == "interrupted")
        thread = http.get(f"/threads/{tid}").json()
        assert thread["status"] == "interrupted"  # the checkpoint still has `next`: step1 never finished
        assert thread["error"] == {"error": "UserInterrupt", "message": f"interrupt requested via POST /threads/{tid}/runs/{run_id}/cancel"}
        # with wait=true, the answer comes once the run has stopped
        path2 = _running(http, tid)
        r = http.post(path2 + "/cancel", params={"wait": "true"})
        assert r.status_code == 200 and r.json() == {} and r.headers["location"] == path2 + "/join"
        assert http.get(path2).json()["status"] == "interrupted"


def test_cancel_rollback(mock):
    with mock.http() as http:
        tid = new_thread(http)
        path = _running(http, tid)
        assert http.post(path + "/cancel", params={"action": "rollback", "wait": "true"}).status_code == 200
        assert http.get(path).status_code == 404
        thread = http.get(f"/threads/{tid}").json()
        assert thread["status"] == "idle" and thread["values"] is None and thread["error"]["error"] == "UserRollback"
        assert http.post(f"/threads/{tid}/history", json={}).json() == []


def test_cancel_a_queued_run(mock):
    with mock.http() as http:
        tid = new_thread(http)
        http.post(f"/threads/{tid}/runs", json={"assistant_id": "nointerrupt", "input": {"sleep": 0.5}})
        queued = http.post(f"/threads/{tid}/runs", json={"assistant_id": "nointerrupt", "input": {}}).json()
        path = f"/threads/{tid}/runs/{queued['run_id']}"
        assert http.post(path + "/cancel").status_code == 202
        assert http.get(path).json()["status"] == "interrupted"
        _until(lambda: http.get(f"/threads/{tid}").json()["status"] == "idle")


def test_on_disconnect_cancel(mock):
    with mock.http() as http:
        tid = new_thread(http)
        body = {"assistant_id": "nointerrupt", "input": {"sleep": 2}, "on_disconnect": "cancel", "stream_mode": "updates"}
        with http.stream("POST", f"/threads/{tid}/runs/stream", json=body) as r:
            run_path = r.headers["content-location"]
            next(r.iter_raw())  # the metadata event: the run is running
        _until(lambda: http.get(run_path).json()["status"] == "interrupted")


def test_a_wait_notices_its_client_leaving(mock):
    """A wait's client leaving cancels the run with `on_disconnect: cancel`, and only then; either way the wait's
    handler is gone once the run ends (the client leaving is watched for once a wait lasts: api/sse.py)."""
    with mock.http() as http:
        before = http.get("/__mock__/stats").json()["tasks"]
        paths = {}
        for action in ("cancel", "continue"):
            tid = new_thread(http)
            body = {"assistant_id": "nointerrupt", "input": {"sleep": 1.0}, "on_disconnect": action}
            with http.stream("POST", f"/threads/{tid}/runs/wait", json=body) as r:
                paths[action] = r.headers["content-location"]
                time.sleep(0.3)  # past the wait's first moments, while the run sleeps
        _until(lambda: http.get(paths["cancel"]).json()["status"] == "interrupted", timeout=0.6)
        _until(lambda: http.get(paths["continue"]).json()["status"] == "success")
        _until(lambda: http.get("/__mock__/stats").json()["tasks"] <= before)


def test_runs_beyond_the_job_slots_wait_pending_in_order():
    """`--n-jobs-per-worker`: runs beyond it wait, pending, and start as slots free up, first come first; a cancel
    reaches one that waits (and frees nothing it did not hold)."""
    from mock_server.settings import Settings
    from mock_server.testing import MockServer

    with MockServer(settings=Settings(n_jobs_per_worker=1)) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        paths = []
        for _ in range(3):
            run = http.post(f"/threads/{new_thread(http)}/runs", json={"assistant_id": "nointerrupt", "input": {"sleep": 0.4}}).json()
            paths.append(f"/threads/{run['thread_id']}/runs/{run['run_id']}")
        _until(lambda: http.get(paths[0]).json()["status"] == "running")
        assert [http.get(p).json()["status"] for p in paths[1:]] == ["pending", "pending"]
        assert http.post(paths[1] + "/cancel").status_code == 202
        _until(lambda: http.get(paths[1]).json()["status"] == "interrupted")
        _until(lambda: http.get(paths[2]).json()["status"] == "running")
        assert http.get(paths[0]).json()["status"] == "success"  # the third started only once the first was done
        _until(lambda: http.get(paths[2]).json()["status"] == "success")
        later = http.post(f"/threads/{new_thread(http)}/runs", json={"assistant_id": "agent", "input": {"some_text": "x"}, "after_seconds": 30})
        assert later.json()["status"] == "pending"  # a delayed run holds no slot while it waits:
        started = time.monotonic()
        assert wait(http, new_thread(http), "agent", input={"some_text": "y"})["__interrupt__"]
        assert time.monotonic() - started < 5
    with MockServer() as server, httpx.Client(base_url=server.url, timeout=30) as http:
        runs = [http.post(f"/threads/{new_thread(http)}/runs", json={"assistant_id": "nointerrupt", "input": {"sleep": 0.4}}).json() for _ in range(11)]
        statuses = lambda: [http.get(f"/threads/{r['thread_id']}/runs/{r['run_id']}").json()["status"] for r in runs]  # noqa: E731
        _until(lambda: statuses().count("running") == 10)
        assert statuses().count("pending") == 1  # 10 by default, as the official server's workers


def test_join_a_finished_run_answers_from_the_thread(mock):
    with mock.http() as http:
        tid = new_thread(http)
        r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "j"}})
        [interrupt] = r.json()["__interrupt__"]
        joined = http.get(r.headers["location"])
        assert joined.json() == {"__interrupt__": [{"id": interrupt["id"], "value": interrupt["value"]}]}
        wait(http, tid, "agent", command={"resume": "done"})
        assert http.get(r.headers["location"]).json() == {"some_text": "done"}  # the thread's values now


def test_thread_crud_search_count(mock):
    with mock.http() as http:
        marker = str(time.time_ns())
        a = http.post("/threads", json={"metadata": {"marker": marker, "n": 1}}).json()
        b = http.post("/threads", json={"metadata": {"marker": marker, "n": 2}}).json()
        wait(http, b["thread_id"], "agent", input={"some_text": "s"})
        found = http.post("/threads/search", json={"metadata": {"marker": marker}})
        assert [t["thread_id"] for t in found.json()] == [b["thread_id"], a["thread_id"]]  # newest first
        assert found.headers["x-pagination-total"] == "2"
        page = http.post("/threads/search", json={"metadata": {"marker": marker}, "limit": 1})
        assert page.headers["x-pagination-next"] == "1" and len(page.json()) == 1
        inter = http.post("/threads/search", json={"metadata": {"marker": marker}, "status": "interrupted", "select": ["thread_id", "status"]}).json()
        assert inter == [{"thread_id": b["thread_id"], "status": "interrupted"}]
        assert http.post("/threads/count", json={"metadata": {"marker": marker}}).json() == 2
        patched = http.patch(f"/threads/{a['thread_id']}", json={"metadata": {"extra": True}}).json()
        assert patched["metadata"] == {"marker": marker, "n": 1, "extra": True} and patched["updated_at"] > patched["state_updated_at"]
        assert http.delete(f"/threads/{b['thread_id']}").status_code == 204
        assert http.get(f"/threads/{b['thread_id']}").status_code == 404
        assert http.post("/threads/count", json={"metadata": {"marker": marker}}).json() == 1


def test_update_state_and_resume(mock):
    with mock.http() as http:
        tid = new_thread(http)
        [iid] = interrupt_ids(wait(http, tid, "agent", input={"some_text": "q"}))
        r = http.post(f"/threads/{tid}/state", json={"values": {"some_text": "upd"}})
        assert r.status_code == 200 and set(r.json()) == {"checkpoint", "configurable", "checkpoint_id"}
        thread = http.get(f"/threads/{tid}").json()
        # the node is still next but its interrupt is gone from the new checkpoint; the status stays interrupted
        assert thread["status"] == "interrupted" and thread["interrupts"] == {} and thread["values"] == {"some_text": "upd"}
        assert wait(http, tid, "agent", command={"resume": "after update"}) == {"some_text": "after update"}
        assert http.post(f"/threads/{tid}/state", json={"values": {}, "as_node": "nope"}).json() == {"detail": "Node nope does not exist"}
        assert iid


def test_odd_resumes_behave_as_the_official_server(mock):
    with mock.http() as http:
        tid = new_thread(http)
        [iid] = interrupt_ids(wait(http, tid, "agent", input={"some_text": "q"}))
        assert wait(http, tid, "agent", command={"resume": None})["__error__"]["error"] == "UnboundLocalError"
        assert http.get(f"/threads/{tid}").json()["status"] == "error"
        assert pending_ids(http, tid) == [iid]  # still resumable
        assert interrupt_ids(wait(http, tid, "agent", command={})) == [iid]  # an empty command re-runs the node
        fresh = new_thread(http)
        err = wait(http, fresh, "agent", command={"resume": "x"})
        assert err == {"__error__": {"error": "TypeError", "message": "'NoneType' object is not iterable"}}


def test_static_breakpoints(mock):
    with mock.http() as http:
        tid = new_thread(http)
        paused = wait(http, tid, "nointerrupt", input={}, interrupt_before=["step2"])
        assert "__interrupt__" not in paused and paused["steps"] == ["step1"]
        thread = http.get(f"/threads/{tid}").json()
        assert thread["status"] == "interrupted" and thread["interrupts"] == {}
        assert http.get(f"/threads/{tid}/state").json()["next"] == ["step2"]
        assert wait(http, tid, "nointerrupt", input=None)["steps"] == ["step1", "step2"]


def test_cors_preflight_as_the_official_server_answers(mock):
    with mock.http() as http:
        r = http.options("/threads/x/runs/stream", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-api-key"})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "*"
        assert r.headers["access-control-allow-headers"] == "content-type,x-api-key"
        assert r.headers["access-control-allow-methods"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, QUERY"
        assert r.headers["access-control-max-age"] == "600" and r.headers["access-control-allow-private-network"] == "true"
        simple = http.post("/threads", json={}, headers={"Origin": "http://localhost:5173"})
        assert simple.headers["access-control-allow-origin"] == "*"
        assert "content-location" in simple.headers["access-control-expose-headers"]


def test_concurrent_requests_keep_state_consistent(mock):
    """Many threads interrupted and resumed concurrently: every one ends with its own answer."""
    import concurrent.futures

    def cycle(i: int) -> bool:
        with httpx.Client(base_url=mock.url, timeout=30) as http:
            tid = new_thread(http)
            wait(http, tid, "agent", input={"some_text": f"t{i}"})
            return wait(http, tid, "agent", command={"resume": f"r{i}"}) == {"some_text": f"r{i}"}

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert all(pool.map(cycle, range(40)))
