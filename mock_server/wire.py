"""The wire format: JSON encoding and LangGraph runtime objects as the official server puts them on the wire."""

from __future__ import annotations

import builtins
import dataclasses
import datetime
import os
import time
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any

import orjson
from langgraph.errors import EmptyInputError, GraphBubbleUp, InvalidUpdateError, TaskNotFound
from langgraph.types import Interrupt, Send, StateSnapshot

# Exceptions whose message the official server shows; any other exception is reported as
# "An internal error occurred" (so a graph's internals are not leaked), keeping the class name.
_PUBLIC_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    RuntimeError,
    RecursionError,
    TimeoutError,
    InvalidUpdateError,
    GraphBubbleUp,
    EmptyInputError,
    TaskNotFound,
)


def error_body(exc: BaseException) -> dict[str, str]:
    """`{"error": <class>, "message": <text>}`, the body of an SSE `error` event and of `__error__`."""
    message = str(exc) if isinstance(exc, _PUBLIC_ERRORS) else "An internal error occurred"
    return {"error": type(exc).__name__, "message": message}


def _default(obj: Any) -> Any:
    if isinstance(obj, Send):
        return {"node": obj.node, "args": obj.arg}
    if hasattr(obj, "model_dump") and not isinstance(obj, type):
        return obj.model_dump()
    if hasattr(obj, "_asdict") and not isinstance(obj, type):
        return obj._asdict()
    if isinstance(obj, BaseException):
        return error_body(obj)
    if isinstance(obj, (set, frozenset, deque)):
        return list(obj)
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def exception_named(name: str, message: str) -> Exception:
    """An exception of the builtin class `name` when there is one (ValueError, TimeoutError, ...), else of a new
    class by that name, so the run's error event reports it (scenario `raise:` steps, injected faults)."""
    found = getattr(builtins, name, None)
    cls: type[Exception] = found if isinstance(found, type) and issubclass(found, Exception) else type(name, (Exception,), {})
    return cls(message)


def dumps(obj: Any) -> bytes:
    """Compact JSON, as orjson writes it (the official server's encoder)."""
    return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS)


def compact(data: bytes) -> bytes:
    """An exact-size copy of `data`, for bytes kept in memory: orjson's output keeps a 4 KiB buffer
    (measured), which would make each stored wait result cost 4 KiB."""
    return bytes(memoryview(data))


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def now_iso() -> str:
    """Now in UTC, as `datetime.now(UTC).isoformat()` writes it (microseconds left out when they are 0), in a third
    of its time: the seconds are formatted once per second. Called several times per run."""
    seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
    if seconds != _second[0]:
        _second[:] = [seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))]
    return f"{_second[1]}.{micros:06d}+00:00" if micros else f"{_second[1]}+00:00"


def uuid7() -> str:
    """A UUIDv7 (time-ordered) string, the form of the official server's thread and run ids: 48 bits of Unix
    milliseconds, the version, 74 random bits with the RFC 4122 variant. Formatted from hex directly (half the
    time of going through `uuid.UUID`)."""
    ms = f"{time.time_ns() // 1_000_000 & 0xFFFFFFFFFFFF:012x}"
    rand = os.urandom(10).hex()
    variant = "89ab"[int(rand[3], 16) & 3]
    return f"{ms[:8]}-{ms[8:]}-7{rand[:3]}-{variant}{rand[4:7]}-{rand[8:]}"


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def interrupt_for_state(interrupt: Interrupt | dict[str, Any]) -> dict[str, Any]:
    """An interrupt as thread and state objects show it: `id`, `value`, and `response_schema` only when set.
    (LangGraph gives `Interrupt` objects in snapshots and plain dicts in debug events.)"""
    if isinstance(interrupt, dict):
        interrupt = Interrupt(value=interrupt.get("value"), id=interrupt["id"], response_schema=interrupt.get("response_schema"))
    item: dict[str, Any] = {"id": interrupt.id, "value": interrupt.value}
    schema = getattr(interrupt, "response_schema", None)
    if schema is not None:
        item["response_schema"] = schema
    return item


def legacy_interrupt(item: dict[str, Any], ns: list[str]) -> dict[str, Any]:
    """An interrupt in the shape older servers returned (langgraph < 0.6, LangGraph's HITL docs of the time)."""
    return {"id": item["id"], "value": item["value"], "resumable": True, "ns": ns, "when": "during"}


def interrupt_ns(interrupt_id: str, tasks: dict[str, str]) -> list[str]:
    """The namespace (`["<node>:<task id>"]`) of the task that raised an interrupt, found the way LangGraph
    derives interrupt ids: xxh3_128 of the task's namespace, with `|<n>` for its n-th later answer slot."""
    from xxhash import xxh3_128_hexdigest

    for task_id, name in tasks.items():
        ns = f"{name}:{task_id}"
        for answered in range(64):
            if xxh3_128_hexdigest((f"{ns}|{answered}" if answered else ns).encode()) == interrupt_id:
                return [ns]
    return []


def _checkpoint_ref(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    configurable = (config or {}).get("configurable") or {}
    if not configurable.get("thread_id") or not configurable.get("checkpoint_id"):
        return None
    ref: dict[str, Any] = {"checkpoint_id": configurable["checkpoint_id"], "thread_id": configurable["thread_id"]}
    if "checkpoint_ns" in configurable:
        ref["checkpoint_ns"] = configurable["checkpoint_ns"] or ""
    if "checkpoint_map" in configurable:
        ref["checkpoint_map"] = configurable["checkpoint_map"]
    return ref


def thread_state(snapshot: StateSnapshot, legacy: bool = False) -> dict[str, Any]:
    """A `StateSnapshot` as a `ThreadState` body (GET state, history entries); `legacy` for the old interrupt shape."""
    tasks = []

    def shown(i: Any, ns: list[str]) -> dict[str, Any]:
        return legacy_interrupt(interrupt_for_state(i), ns) if legacy else interrupt_for_state(i)

    by_id: dict[str, list[str]] = {}
    for task in snapshot.tasks:
        nested = task.state if isinstance(task.state, StateSnapshot) else None
        config = task.state if not isinstance(task.state, StateSnapshot) else None
        error = task.error
        ns = [f"{task.name}:{task.id}"]
        by_id.update({i.id: ns for i in task.interrupts})
        tasks.append(
            {
                "id": task.id,
                "name": task.name,
                "path": list(task.path),
                "error": repr(error) if isinstance(error, BaseException) else error,
                "interrupts": [shown(i, ns) for i in task.interrupts],
                "checkpoint": config["configurable"] if config is not None else None,
                "state": thread_state(nested, legacy) if nested is not None else None,
                "result": getattr(task, "result", None),
            }
        )
    return {
        "values": snapshot.values,
        "next": list(snapshot.next),
        "tasks": tasks,
        "metadata": snapshot.metadata,
        "created_at": snapshot.created_at,
        "checkpoint": _checkpoint_ref(snapshot.config),
        "parent_checkpoint": _checkpoint_ref(snapshot.parent_config),
        "interrupts": [shown(i, by_id.get(i.id, [])) for i in snapshot.interrupts],
        "checkpoint_id": (snapshot.config or {}).get("configurable", {}).get("checkpoint_id"),
        "parent_checkpoint_id": (snapshot.parent_config or {}).get("configurable", {}).get("checkpoint_id"),
    }


EMPTY_STATE: dict[str, Any] = {
    "values": {},
    "next": [],
    "tasks": [],
    "metadata": None,
    "created_at": None,
    "checkpoint": None,
    "parent_checkpoint": None,
    "interrupts": [],
    "checkpoint_id": None,
    "parent_checkpoint_id": None,
}


def thread_interrupts(snapshot: StateSnapshot, legacy: bool = False) -> dict[str, list[dict[str, Any]]]:
    """`Thread.interrupts`: pending interrupts keyed by the id of the task that raised them."""
    state = thread_state(snapshot, legacy)  # one conversion, so the thread shows interrupts as the state does
    return {t["id"]: t["interrupts"] for t in state["tasks"] if t["interrupts"]}
