"""Deviation profiles of thread streams (protocol v2): what a buggy server's stream carries, and how it takes
`input.respond`."""

from __future__ import annotations

import uuid
from typing import Any

from .base import Deviation, Hook

ProtocolEvent = tuple[str, dict[str, Any]]  # (method, params)
Entries = list[tuple[str, list[str], Any]]  # input.respond's (interrupt_id, namespace, response)


def _own_ids(event: ProtocolEvent, **_: Any) -> ProtocolEvent:
    """input.requested names an id of its own (the server mints one per event) instead of the interrupt's."""
    method, params = event
    if method != "input.requested" or not isinstance(params.get("data"), dict):
        return event
    return method, {**params, "data": {**params["data"], "interrupt_id": uuid.uuid4().hex}}


def _completed_at_interrupt(event: ProtocolEvent, **_: Any) -> ProtocolEvent:
    method, params = event
    data = params.get("data")
    if method != "lifecycle" or not isinstance(data, dict) or data.get("event") != "interrupted":
        return event
    return method, {**params, "data": {**data, "event": "completed"}}


def _unknown_resumes_first(entries: Entries, *, pending: set[str] | None, **_: Any) -> Entries:
    if not pending:
        return entries
    first = sorted(pending)[0]
    return [(i if i in pending else first, ns, response) for i, ns, response in entries]


def _answers_all(entries: Entries, *, pending: set[str] | None, **_: Any) -> Entries:
    if not pending or len(entries) != 1 or entries[0][0] not in pending:
        return entries
    ns, response = entries[0][1], entries[0][2]
    return [(i, ns, response) for i in sorted(pending)]


PROTOCOL_PROFILES: tuple[Deviation, ...] = (
    Deviation("input-requested-own-ids", "thread streams: `input.requested` carries an id of its own, not the interrupt's", Hook.PROTOCOL_EVENT, _own_ids),
    Deviation("lifecycle-completed-at-interrupt", "thread streams: a run that stops at an interrupt ends with lifecycle `completed`", Hook.PROTOCOL_EVENT, _completed_at_interrupt),
    Deviation("respond-unknown-id-resumes", "thread streams: `input.respond` to an unknown id answers the first pending interrupt", Hook.RESPOND, _unknown_resumes_first),
    Deviation("respond-answers-all", "thread streams: `input.respond` to one interrupt answers every pending one with its response", Hook.RESPOND, _answers_all),
)
