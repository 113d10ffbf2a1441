"""The hook points and what a deviation profile is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Hook(StrEnum):
    """The points where a deviation can change what the mock does; each says what value it is given."""

    # the HTTP layer
    THREAD_BODY = "thread_body"  # a Thread as answered (dict); context: load (only when a profile changes it)
    STATE_BODY = "state_body"  # GET .../state (dict); context: parent_next (`next` of the checkpoint before)
    HISTORY_BODY = "history_body"  # a history answer (list of states)
    STATE_AT = "state_at"  # the checkpoint a state-at-checkpoint request names (dict; {} reads the thread's head)
    RUN_BODY = "run_body"  # a Run as answered (dict); context: result (the run's wait body, bytes or None)
    RUN_LIST = "run_list"  # GET .../runs (list of Run dicts, newest first)
    WAIT_RESULT = "wait_result"  # the body of a wait or join (bytes); context: run, join (bool)
    WAIT_HEADERS = "wait_headers"  # the headers of a wait (dict)
    STREAM_HEADERS = "stream_headers"  # the headers of POST .../runs/stream (dict)
    STREAM_EVENT = "stream_event"  # one SSE event as (name, data bytes), or None to drop it; context: run
    SSE_FRAME = "sse_frame"  # one SSE frame as bytes
    LAST_EVENT_ID = "last_event_id"  # the Last-Event-ID of a join stream (str or None)
    ERROR = "error"  # an error answer (Starlette Response); context: status, detail
    CANCEL = "cancel"  # a cancel's action (CancelAction), or None to answer without cancelling
    RESPONSE_JSON = "response_json"  # every JSON value the mock answers with (bodies and SSE data)
    # what a run does
    RUN_PAYLOAD = "run_payload"  # a run create body (dict); context: stateless (bool)
    MULTITASK = "multitask"  # a run's multitask strategy (MultitaskStrategy)
    BREAKPOINTS = "breakpoints"  # a run's (interrupt_before, interrupt_after)
    RUN_COPIES = "run_copies"  # how many times a run create is carried out (int, 1); context: payload, load
    GRAPH_INPUT = "graph_input"  # a run's (input, command); context: pending (the thread's pending interrupt ids)
    # thread streams (protocol v2)
    PROTOCOL_EVENT = "protocol_event"  # one thread-stream event as (method, params), as it is logged
    RESPOND = "respond"  # input.respond's [(interrupt_id, namespace, response)]; context: pending (the thread's pending ids, or None)


Transform = Callable[..., Any]


@dataclass(frozen=True)
class Deviation:
    name: str
    description: str
    hook: Hook
    transform: Transform  # (value, *, memory, **context) -> value
