"""Thread streams (protocol v2): interrupts as `input.requested`, the run's lifecycle, and `input.respond`.

Each check waits for a run to end on the stream by any root lifecycle (`interrupted`, `completed` or `failed`), so
only HITL-TS-002 depends on which one it is; the interrupts each check answers are read from `GET /state`, so only
HITL-TS-001 depends on the ids the stream carries.
"""

from __future__ import annotations

import uuid

from contract_tests.client import pending
from contract_tests.plugin import clause
from contract_tests.threadstream import ThreadStream


def _asked(client, stream, graph, input, count):
    """Start a run on a fresh thread stream and wait until it ends with `count` interrupts pending on /state."""
    stream.start(graph, input)
    stream.settled(1)
    asked = pending(client, stream.thread_id)
    assert len(asked) == count, f"the {graph} run should leave {count} interrupt(s) pending on /state, it left {asked}"
    return asked


@clause("HITL-TS-001")
def test_the_stream_requests_input_with_the_state_interrupts(client, needs):
    needs(graphs=("multi",))
    with ThreadStream(client) as stream:
        asked = _asked(client, stream, "multi", {"answers": []}, 2)
        want = {i["id"]: i["value"] for i in asked}
        requested = stream.until(f"input.requested for both interrupts {sorted(want)}", lambda _: len(stream.requested()) >= 2 and stream.requested())
    got = {r.get("interrupt_id"): r.get("payload") for r in requested}
    assert got == want, f"input.requested carried {got} (interrupt_id: payload); /state lists {want} (id: value)"


@clause("HITL-TS-002")
def test_lifecycle_interrupted_then_completed_after_input_respond(client, needs):
    needs(graphs=("agent",))
    with ThreadStream(client) as stream:
        stream.start("agent", {"some_text": "original"})
        first = stream.settled(1)
        assert first == "interrupted", f"a run that stopped at interrupt() ended with lifecycle {first!r}; the stream carried {stream.outline()}"
        [asked] = pending(client, stream.thread_id)
        answer = stream.respond(asked["id"], "edited")
        assert answer.get("type") == "success", f"input.respond to the pending interrupt {asked['id']} answered {answer}"
        second = stream.settled(2)
        assert second == "completed", f"the run answered by input.respond ended with lifecycle {second!r}; the stream carried {stream.outline()}"
    values = client.state(stream.thread_id).get("values")
    assert values == {"some_text": "edited"}, f"after input.respond the state's values are {values}"


@clause("HITL-TS-003")
def test_input_respond_to_an_unknown_id_is_no_such_interrupt(client, needs):
    needs(graphs=("agent",))
    with ThreadStream(client) as stream:
        [asked] = _asked(client, stream, "agent", {"some_text": "original"}, 1)
        unknown = uuid.uuid4().hex
        answer = stream.respond(unknown, "edited")
        assert answer.get("type") == "error" and answer.get("error") == "no_such_interrupt", f"input.respond to the unknown id {unknown} answered {answer}"
        client.wait_until(lambda: client.thread(stream.thread_id).get("status") != "busy")
    left = pending(client, stream.thread_id)
    assert [i["id"] for i in left] == [asked["id"]], f"after input.respond to an unknown id, /state lists {left}; {asked['id']} was pending"
    assert client.state(stream.thread_id).get("values") == {"some_text": "original"}, "input.respond to an unknown id changed the state"


@clause("HITL-TS-004")
def test_input_respond_to_one_of_two_leaves_the_other(client, needs):
    needs(graphs=("multi",))
    with ThreadStream(client) as stream:
        asked = _asked(client, stream, "multi", {"answers": []}, 2)
        by_question = {i["value"]["q"]: i for i in asked}
        answer = stream.respond(by_question["A?"]["id"], "alpha")
        assert answer.get("type") == "success", f"input.respond to A's interrupt {by_question['A?']['id']} answered {answer}"
        stream.settled(2)
    left = pending(client, stream.thread_id)
    other = by_question["B?"]
    assert [(i["id"], i["value"]) for i in left] == [(other["id"], other["value"])], f"after answering A, /state lists {left} pending; B {other} should be, alone"
    values = client.state(stream.thread_id).get("values")
    assert values == {"answers": ["a=alpha"]}, f"after answering only A, the state's values are {values}"
