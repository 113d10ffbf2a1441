"""How records look on the wire: `Thread` and `Run` (with the official server's `kwargs` shape); assistants are
stored in their wire shape (assistants.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langgraph.version import __version__ as LANGGRAPH_VERSION

from . import __version__

if TYPE_CHECKING:
    from .store import Run, Thread


def thread_view(thread: Thread) -> dict[str, Any]:
    body: dict[str, Any] = {
        "thread_id": thread.thread_id,
        "created_at": thread.created_at,
        "updated_at": thread.updated_at,
        "state_updated_at": thread.state_updated_at,
        "metadata": thread.metadata,
        "status": thread.status,
        "config": thread.config,
    }
    if thread.has_run or not thread.copied:  # a copy shows no `values` until it runs, as on the official server
        body["values"] = thread.values
    if thread.has_run:
        body["error"] = thread.error
        body["interrupts"] = thread.interrupts if thread.interrupts is not None else {}
    return body


def run_metadata(run: Run) -> dict[str, Any]:
    """The run's metadata: its ids, then its assistant's metadata (`created_by: system` for a graph's system assistant)
    and the body's, as the scheduler folded them into `payload["metadata"]` (assistants.py `Bound.apply`)."""
    ids = {"assistant_id": run.assistant_id} if run.temporary else {"graph_id": run.graph_id, "assistant_id": run.assistant_id}
    return {**ids, **(run.payload.get("metadata") or {})}


def run_view(run: Run) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "thread_id": run.thread_id,
        "assistant_id": run.assistant_id,
        "metadata": run_metadata(run),
        "status": run.status,
        "kwargs": run_kwargs(run),
        "multitask_strategy": run.multitask_strategy,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "langsmith_session_name": None,
    }


def _configurable(run: Run, user: dict[str, Any]) -> dict[str, Any]:
    return {
        **user,
        "langgraph_auth_user": None,
        "langgraph_auth_user_id": "",
        "langgraph_auth_permissions": [],
        "langgraph_request_id": run.request_id,
        "run_id": run.run_id,
        "thread_id": run.thread_id,
        "graph_id": run.graph_id,
        "assistant_id": run.assistant_id,
        "user_id": "",
        **(run.checkpoint or {}),
    }


def _config_metadata(run: Run) -> dict[str, Any]:
    # As on the official server: a stateless run's metadata names no graph, and the attempt and host keys
    # are added when the run starts.
    ids = {"assistant_id": run.assistant_id} if run.temporary else {"graph_id": run.graph_id, "assistant_id": run.assistant_id}
    metadata: dict[str, Any] = dict(ids)
    if run.started:
        metadata |= {
            "run_attempt": 1,
            "langgraph_version": LANGGRAPH_VERSION,
            "langgraph_api_version": f"hitl-mock-{__version__}",
            "langgraph_plan": "developer",
            "langgraph_host": "hitl-mock",
            "langgraph_api_url": run.api_url,
        }
    return metadata | (run.payload.get("metadata") or {})


def run_kwargs(run: Run) -> dict[str, Any]:
    """What the run executes with, in the shape of the official server's `Run.kwargs` (built on demand: most
    runs are never read back, and thousands of stored config dicts would dominate memory)."""
    p = run.payload
    stream_mode = p.get("stream_mode") or ["values"]
    user_config = dict(p.get("config") or {})
    configurable = _configurable(run, user_config.pop("configurable", None) or {})
    return {
        "input": p.get("input"),
        "command": p.get("command"),
        "config": {**user_config, "configurable": configurable, "metadata": _config_metadata(run)},
        "context": p.get("context") or {},
        "stream_mode": [stream_mode] if isinstance(stream_mode, str) else list(stream_mode),
        "interrupt_before": p.get("interrupt_before"),
        "interrupt_after": p.get("interrupt_after"),
        "webhook": p.get("webhook"),
        "feedback_keys": p.get("feedback_keys"),
        "temporary": run.temporary,
        "subgraphs": bool(p.get("stream_subgraphs")),
        "resumable": bool(p.get("stream_resumable")),
        "checkpoint_during": p.get("checkpoint_during", True),
        "durability": durability(p),
    }


def durability(payload: dict[str, Any]) -> str:
    """When the run writes checkpoints (what LangGraph runs it with), as measured on the official server: its
    `durability`, else `exit` for `checkpoint_during: false` (checkpoints only when the run stops), else `async`."""
    if payload.get("durability"):
        return str(payload["durability"])
    return "exit" if payload.get("checkpoint_during") is False else "async"


def execution_config(run: Run, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The config the graph runs with: the stored one, with the run and thread in its metadata (from there they
    reach checkpoint metadata and `messages` stream metadata, as on the official server)."""
    config: dict[str, Any] = kwargs["config"]
    config["metadata"] = {**config["metadata"], "run_id": run.run_id, "thread_id": run.thread_id}
    return config

