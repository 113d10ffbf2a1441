"""Deviation profiles of the HTTP layer: what a buggy server answers (bodies, headers, streams, errors)."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.responses import PlainTextResponse, Response

from ..types import RunStatus, ThreadStatus
from .base import Deviation, Hook

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def _replace(key: str, value: Any) -> Any:
    return lambda body, **_: {**body, key: value} if key in body else body


def _without(key: str) -> Any:
    return lambda body, **_: {k: v for k, v in body.items() if k != key}


def _json(data: bytes) -> Any:
    return orjson.loads(data)


# -- threads, state, history, runs ------------------------------------------------------------------------------


def _idle_when_interrupted(body: dict[str, Any], **_: Any) -> dict[str, Any]:
    return {**body, "status": ThreadStatus.IDLE} if body["status"] == ThreadStatus.INTERRUPTED else body


def _null_when_empty(body: dict[str, Any], **_: Any) -> dict[str, Any]:
    return {**body, "interrupts": None} if body.get("interrupts") == {} else body


def _stale_next(state: dict[str, Any], *, parent_next: list[str], **_: Any) -> dict[str, Any]:
    return state if state["next"] else {**state, "next": parent_next}


def _tasks_without_interrupts(state: dict[str, Any], **_: Any) -> dict[str, Any]:
    return {**state, "tasks": [{**t, "interrupts": []} for t in state["tasks"]]}


def _without_task_results(states: list[dict[str, Any]], **_: Any) -> list[dict[str, Any]]:
    return [{**s, "tasks": [{**t, "result": None} for t in s["tasks"]]} for s in states]


def _interrupted_status(body: dict[str, Any], *, result: bytes | None = None, **_: Any) -> dict[str, Any]:
    if body["status"] == RunStatus.SUCCESS and b'"__interrupt__"' in (result or b""):
        return {**body, "status": RunStatus.INTERRUPTED}
    return body


# -- waits and joins --------------------------------------------------------------------------------------------


def _interrupts_only(result: bytes, **_: Any) -> bytes:
    if b'"__interrupt__"' not in result:
        return result
    return orjson.dumps({"__interrupt__": _json(result).get("__interrupt__")})


def _values_only(result: bytes, **_: Any) -> bytes:
    if b'"__interrupt__"' not in result:
        return result
    return orjson.dumps({k: v for k, v in _json(result).items() if k != "__interrupt__"})


def _error_as_string(result: bytes, **_: Any) -> bytes:
    body = _json(result) if b'"__error__"' in result else None
    if not isinstance(body, dict) or not isinstance(body.get("__error__"), dict):
        return result
    return orjson.dumps({"__error__": f"{body['__error__'].get('error')}: {body['__error__'].get('message')}"})


def _stateless_values_only(result: bytes, *, run: Any, **kw: Any) -> bytes:
    return _values_only(result) if run.temporary else result


def _reuse_id(result: bytes, *, memory: dict[str, Any], run: Any, **_: Any) -> bytes:
    """A re-interrupt on a thread reports the id of the interrupt it replaced."""
    body = _json(result)
    pending = body.get("__interrupt__") if isinstance(body, dict) else None
    if not pending or len(pending) != 1:
        memory.pop(run.thread_id, None)
        return result
    first = memory.setdefault(run.thread_id, pending[0]["id"])
    return orjson.dumps({**body, "__interrupt__": [{**pending[0], "id": first}]})


def _empty_join(result: bytes, *, join: bool = False, **_: Any) -> bytes:
    return b"{}" if join else result


# -- streams ----------------------------------------------------------------------------------------------------

Event = tuple[str, bytes] | None


def _drop(name: str) -> Any:
    return lambda event, **_: None if event is not None and event[0] == name else event


def _rename_messages(event: Event, **_: Any) -> Event:
    if event is not None and event[0].split("|", 1)[0] == "messages":
        return ("messages-tuple" + event[0][len("messages") :], event[1])
    return event


def _drop_interrupt_updates(event: Event, **_: Any) -> Event:
    return None if event is not None and event[0] == "updates" and event[1].startswith(b'{"__interrupt__"') else event


def _values_without_interrupt(event: Event, **_: Any) -> Event:
    return ("values", _values_only(event[1])) if event is not None and event[0] == "values" else event


def _truncate_resumes(event: Event, *, run: Any, **_: Any) -> Event:
    return event if event is None or event[0] == "metadata" or not run.payload.get("command") else None


def _unnamed(frame: bytes, **_: Any) -> bytes:
    lines = frame.split(b"\r\n")
    if not lines[0].startswith(b"event: "):
        return frame
    name, data = lines[0][len(b"event: ") :], lines[1][len(b"data: ") :]
    wrapped = b'{"event":' + orjson.dumps(name.decode()) + b',"data":' + data + b"}"
    return b"\r\n".join([b"data: " + wrapped, *lines[2:]])


def _text_plain(headers: dict[str, str], **_: Any) -> dict[str, str]:
    return {**headers, "content-type": "text/plain; charset=utf-8"}


# -- errors -----------------------------------------------------------------------------------------------------


def _error(when: Any, new_status: int, text: str | None = None, new_detail: str | None = None) -> Any:
    """An error answer changed when `when(status, detail)`: to plain `text`, or to JSON with `new_detail`."""

    def transform(response: Response, *, status: int, detail: str, **_: Any) -> Response:
        if not when(status, detail):
            return response
        if text is not None:
            return PlainTextResponse(text, new_status)
        return Response(orjson.dumps({"detail": new_detail or detail}), new_status, media_type="application/json")

    return transform


def _schema_error(status: int, detail: str) -> bool:
    return status == 422 and "instance[" in detail


# -- every JSON value -------------------------------------------------------------------------------------------


def _walk(value: Any, leaf: Any) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return leaf([_walk(v, leaf) for v in value])
    return leaf(value)


def _upper_ids(value: Any, **_: Any) -> Any:
    return _walk(value, lambda v: v.upper() if isinstance(v, str) and HEX32.match(v) else v)


def _shared_ids(value: Any, **_: Any) -> Any:
    def leaf(v: Any) -> Any:
        if isinstance(v, list) and len(v) > 1 and all(isinstance(i, dict) and {"id", "value"} <= set(i) for i in v):
            return [{**i, "id": v[0]["id"]} for i in v]
        return v

    return _walk(value, leaf)


D = Deviation
HTTP_PROFILES: tuple[Deviation, ...] = (
    D("thread-without-interrupts", "Thread objects lack `interrupts` (seen in self-hosted servers)", Hook.THREAD_BODY, _without("interrupts")),
    D("thread-idle-when-interrupted", "a thread with a pending interrupt reports `idle`", Hook.THREAD_BODY, _idle_when_interrupted),
    D("thread-interrupts-null", "Thread.interrupts is null instead of {} when nothing is pending", Hook.THREAD_BODY, _null_when_empty),
    D("thread-values-null", "Thread.values is never filled in (null)", Hook.THREAD_BODY, _replace("values", None)),
    D("state-next-empty", "ThreadState.next is [] while interrupted (as the official server after a join edge)", Hook.STATE_BODY, _replace("next", [])),
    D("state-tasks-without-interrupts", "ThreadState.tasks[].interrupts is always []", Hook.STATE_BODY, _tasks_without_interrupts),
    D("state-without-interrupts", "ThreadState.interrupts is always []", Hook.STATE_BODY, _replace("interrupts", [])),
    D("state-stale-next", "a finished thread's state still names the node its previous checkpoint waited for", Hook.STATE_BODY, _stale_next),
    D("history-oldest-first", "history lists checkpoints oldest first", Hook.HISTORY_BODY, lambda states, **_: states[::-1]),
    D("history-without-task-results", "history tasks never show the node's result", Hook.HISTORY_BODY, _without_task_results),
    D("interrupted-run-status", "a run that stops at interrupt() reports status `interrupted` instead of `success`", Hook.RUN_BODY, _interrupted_status),
    D("runs-oldest-first", "GET .../runs lists runs oldest first", Hook.RUN_LIST, lambda runs, **_: runs[::-1]),
    D("wait-without-values", "a wait result that carries `__interrupt__` has no state values", Hook.WAIT_RESULT, _interrupts_only),
    D("wait-without-interrupt", "a wait result of an interrupted run has the values but no `__interrupt__`", Hook.WAIT_RESULT, _values_only),
    D("error-as-string", '`__error__` is a string ("ValueError: ...") instead of {error, message}', Hook.WAIT_RESULT, _error_as_string),
    D("stateless-wait-without-interrupt", "a stateless wait answers the values without `__interrupt__`", Hook.WAIT_RESULT, _stateless_values_only),
    D("reinterrupt-reuses-id", "a node that interrupts again reports the id of the interrupt it replaced", Hook.WAIT_RESULT, _reuse_id),
    D("join-returns-empty", "joining a run answers {}", Hook.WAIT_RESULT, _empty_join),
    D("wait-without-content-location", "wait responses lack Content-Location", Hook.WAIT_HEADERS, _without("Content-Location")),
    D("stream-without-content-location", "stream responses lack Content-Location (useStream cannot name the run)", Hook.STREAM_HEADERS, _without("Content-Location")),
    D("stream-as-text-plain", "streams are sent as text/plain", Hook.STREAM_HEADERS, _text_plain),
    D("stream-without-metadata", "streams do not start with a `metadata` event", Hook.STREAM_EVENT, _drop("metadata")),
    D("messages-tuple-verbatim", "`messages-tuple` events are named `messages-tuple` instead of `messages`", Hook.STREAM_EVENT, _rename_messages),
    D("updates-without-interrupt", "`updates` streams never carry the `__interrupt__` update", Hook.STREAM_EVENT, _drop_interrupt_updates),
    D("values-without-interrupt", "`values` events never carry `__interrupt__`", Hook.STREAM_EVENT, _values_without_interrupt),
    D("stream-error-dropped", "a graph error ends the stream without an `error` event", Hook.STREAM_EVENT, _drop("error")),
    D("resume-stream-truncated", "a stream that resumes a run ends after `metadata`", Hook.STREAM_EVENT, _truncate_resumes),
    D("sse-unnamed-events", "SSE frames have no `event:` line; the name travels inside `data`", Hook.SSE_FRAME, _unnamed),
    D("last-event-id-ignored", "Last-Event-ID is ignored: a join stream replays nothing", Hook.LAST_EVENT_ID, lambda _, **__: None),
    D("plain-text-404", '404s are text/plain `Not Found` instead of JSON {"detail"}', Hook.ERROR, _error(lambda s, d: s == 404, 404, text="Not Found")),
    D(
        "unknown-assistant-500",
        "an unknown assistant is a 500",
        Hook.ERROR,
        _error(lambda s, d: d.startswith(("Invalid assistant", "Thread or assistant not found")), 500, text="Internal Server Error"),
    ),
    D("malformed-json-400", "a malformed JSON body gets 400 instead of 422", Hook.ERROR, _error(lambda s, d: d == "Invalid JSON in request body", 400)),
    D("validation-detail-without-field", "a 422 for a bad field does not name the field", Hook.ERROR, _error(_schema_error, 422, new_detail="Validation error")),
    D("invalid-body-500", "a body that fails the schema is a 500 (the server does not validate)", Hook.ERROR, _error(_schema_error, 500, text="Internal Server Error")),
    D("cancel-ignored", "cancel answers 202 and the run goes on", Hook.CANCEL, lambda _, **__: None),
    D("state-at-checkpoint-is-head", "the state at a past checkpoint answers the thread's latest state", Hook.STATE_AT, lambda _, **__: {}),
    D("uppercase-interrupt-ids", "interrupt ids are sent in upper case", Hook.RESPONSE_JSON, _upper_ids),
    D("parallel-interrupts-share-id", "parallel interrupts are reported with one shared id", Hook.RESPONSE_JSON, _shared_ids),
)
