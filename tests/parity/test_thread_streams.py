"""Parity for thread streams (protocol v2): raw HTTP and WebSocket flows (thread_flows.py) and the Python SDK's
`client.threads.stream` over SSE and the WebSocket (tests/thread_sdk.py), recorded on the official server and on the
mock (on the Python graphs and on the scenario files), equal once `normalize.thread_stream` and the usual
`Normaliser` are applied. The JS SDK's `client.threads.stream` is compared in tests/test_js_client.py."""

from __future__ import annotations

import pytest

from ..thread_sdk import flows as sdk_flows
from .normalize import Normaliser, thread_stream
from .test_parity import _first_difference, _paths
from .thread_flows import FLOWS, record

pytestmark = pytest.mark.official


def _normalised(log):
    return Normaliser()(thread_stream(log))


@pytest.fixture(scope="module")
def reference(official):
    cache: dict[str, object] = {}

    def get(name: str, make):
        if name not in cache:
            try:
                cache[name] = _normalised(make(official))
            except AssertionError:
                # Seen in full test runs under load (once confirmed on the official side), never when the flows run alone (0 of 30): the
                # official dev server's thread stream did not deliver a run's end within 30 s after input.respond.
                # That is its race, not the mock's, so the reference is recorded once more on a fresh thread; the
                # mock's recordings are never retried.
                cache[name] = _normalised(make(official))
        return cache[name]

    return get


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_thread_streams_answer_like_the_official_server(flow, reference, mock, mock_graphs):
    expected = reference(flow, lambda url: record(url, FLOWS[flow]))
    for served in (mock_graphs, mock):
        actual = _normalised(record(served.url, FLOWS[flow]))
        assert actual == expected, f"[mock on {served.source}] " + _first_difference(expected, actual)


@pytest.mark.parametrize("transport", ["sse", "websocket"])
def test_the_python_sdk_sees_the_same_thread_streams(transport, reference, mock, mock_graphs):
    expected = reference(f"sdk-{transport}", lambda url: sdk_flows(url, transport))
    for served in (mock_graphs, mock):
        actual = _normalised(sdk_flows(served.url, transport))
        assert actual == expected, f"[mock on {served.source}, {transport}]\n  " + "\n  ".join(_paths(expected, actual)[:12])


def test_the_recordings_are_compared_as_recorded():
    """The normaliser hides only what it names: a changed interrupt payload or event order still differs."""
    log = [{"label": "live stream", "body": [{"event": "input.requested", "id": "3", "data": {"seq": 3, "event_id": "1795602524811-0", "params": {"timestamp": 1, "data": {"payload": {"q": "A?"}}}}}]}]
    changed = [{**log[0], "body": [{**log[0]["body"][0], "data": {**log[0]["body"][0]["data"], "params": {"timestamp": 2, "data": {"payload": {"q": "B?"}}}}}]}]
    assert _normalised(log) != _normalised(changed)
    same_but_clock = [{**log[0], "body": [{**log[0]["body"][0], "data": {**log[0]["body"][0]["data"], "event_id": "1795602524999-0.1", "params": {"timestamp": 5, "data": {"payload": {"q": "A?"}}}}}]}]
    assert _normalised(log) == _normalised(same_but_clock)


@pytest.mark.parametrize("kind", ["protocol run (v3)", "v1 run"])
def test_a_runs_events_become_the_same_protocol_events(kind, tmp_path):
    """Beyond the fixture graphs: a subgraph with a custom event and an interrupt inside it (namespaces, subgraph
    lifecycle, `tasks`, `custom`). The same broker events, fed to the official `EventStreamingSession` (run in
    .venv-reference) and to the mock's `RunSession`, give the same events, ids included (timestamps aside)."""
    import asyncio
    import json
    import subprocess

    from mock_server.protocol.runner import ProtocolMapper, protocol_chunks
    from mock_server.protocol.session import RunSession
    from mock_server.runs.broker import StreamEvent
    from mock_server.streams import EventMapper, langgraph_modes
    from mock_server.wire import dumps

    from ..official import ROOT
    from .session_graphs import OFFICIAL, build

    async def source() -> list[list[str]]:
        graph, config, found = build(), {"configurable": {"thread_id": "t"}}, []
        if kind == "v1 run":
            modes = ["values", "updates", "custom", "messages-tuple", "tasks"]
            mapper, items = EventMapper(modes), graph.astream({"x": []}, config, stream_mode=sorted(langgraph_modes(modes)), subgraphs=True)
        else:
            mapper, items = ProtocolMapper(), protocol_chunks(graph, {"x": []}, config, before=None, after=None, context=None)
        async for ns, mode, chunk in items:
            found += [[name, dumps(data).decode(), f"17000000000{len(found):02d}-0"] for name, data in mapper.map(ns, mode, chunk)]
        return found

    events = asyncio.run(source())
    mine: list[dict] = []
    session = RunSession("R", "g", lambda event_id, method, params: mine.append({"event_id": event_id, "method": method, "params": params}), lambda: "completed")
    session.start()
    for name, data, entry in events:
        session.ingest(StreamEvent(name, data.encode(), entry))
    session.finish()
    (tmp_path / "events.json").write_text(json.dumps(events))
    proc = subprocess.run([str(ROOT / ".venv-reference" / "bin" / "python"), "-c", OFFICIAL, str(tmp_path / "events.json")], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads(proc.stdout)

    def comparable(event):
        params = {k: v for k, v in event["params"].items() if k != "timestamp"}
        return event["event_id"], event["method"], params

    assert [comparable(e) for e in mine] == [comparable(e) for e in theirs]
    if kind == "v1 run":
        assert {"input.requested", "custom", "tasks", "updates"} <= {e["method"] for e in mine}
    else:
        assert any(e["method"] == "lifecycle" and e["params"]["namespace"] for e in mine)  # a subgraph's own lifecycle
