"""The server layer the official server adds around LangGraph: a run queue per thread, multitask
strategies, thread and run statuses, join, cancel, and the body `/runs/wait` answers with.

Runs start at once (no queue polling): a thread's next pending run starts the moment the previous
one ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from langgraph.errors import InvalidUpdateError

from .engine import Assistant, CheckpointEvent, Engine, to_command
from .faults import Faults, InjectedError
from .store import Run, Store, Thread
from .wire import compact, dumps, error_body, exception_named, is_uuid, loads, now_iso, thread_interrupts, uuid7

logger = logging.getLogger("hitl_mock")

INTERRUPT_KEY = "__interrupt__"
# A thread's `config` once it has run; one shared object (it is only ever serialised, never mutated).
RUN_THREAD_CONFIG: dict[str, Any] = {"configurable": {}}
BUSY_DETAIL = "Thread is already running a task. Wait for it to finish or choose a different multitask strategy."


@dataclass
class ApiError(Exception):
    """An error answered as `{"detail": ...}` with this HTTP status."""

    status: int
    detail: str


class RunResult:
    """Assembles the `/runs/wait` body from a run's events, as the official server does: the last
    `values`; or, when the run stopped at interrupts, the chunk that carried them (several such
    chunks merge into `{"__interrupt__": [all of them]}`); or `{"__error__": ...}`."""

    def __init__(self) -> None:
        self.errored = False
        self.interrupt_chunks: list[bytes] = []
        self.latest: bytes | None = None

    def absorb(self, event: str, data: bytes) -> None:
        if event == "error":
            self.latest = b'{"__error__":' + data + b"}"
            self.errored = True
        elif event in ("values", "updates"):
            if _interrupts_in(data):
                self.interrupt_chunks.append(data)
                self.latest = data
            elif event == "values":
                self.latest = data

    def body(self) -> bytes | None:
        if not self.errored and self.interrupt_chunks:
            if len(self.interrupt_chunks) == 1:
                return self.interrupt_chunks[0]
            return dumps({INTERRUPT_KEY: [i for c in self.interrupt_chunks for i in _interrupts_in(c)]})
        return self.latest


def _interrupts_in(data: bytes) -> list[Any]:
    if INTERRUPT_KEY.encode() not in data:
        return []
    payload = loads(data)
    found = payload.get(INTERRUPT_KEY) if isinstance(payload, dict) else None
    return found if isinstance(found, list) else []


def _checkpointed(snapshot: Any) -> bool:
    """Whether a head `StateSnapshot` is a real checkpoint (a thread that never ran has none)."""
    return snapshot is not None and bool((snapshot.config or {}).get("configurable", {}).get("checkpoint_id"))


def _is_resume_map(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(k, str) and len(k) == 32 for k in value)


def thread_fallback(thread: Thread) -> bytes:
    """What a join on a finished run answers: the thread's current state (not that run's result)."""
    if thread.status == "error" and thread.error:
        return dumps({"__error__": thread.error})
    if thread.status == "interrupted":
        pending = [i for items in (thread.interrupts or {}).values() for i in items]
        if pending:
            return dumps({INTERRUPT_KEY: pending})
    return dumps(thread.values) if thread.values else b"{}"


class RunManager:
    def __init__(self, engine: Engine, store: Store, *, api_url: str = "") -> None:
        self.engine = engine
        self.store = store
        self.api_url = api_url
        self.deviations: set[str] = set()  # see deviations.py
        self.faults = Faults()  # see faults.py
        self.legacy_interrupts = False  # interrupts in the pre-0.6 shape (value, resumable, ns, when)

    # -- threads --------------------------------------------------------------------------------------

    def create_thread(self, thread_id: str | None = None, metadata: dict[str, Any] | None = None, if_exists: str = "raise") -> Thread:
        if thread_id is not None:
            if not is_uuid(thread_id):
                raise ApiError(422, "Invalid thread ID: must be a UUID")
            thread_id = str(uuid.UUID(thread_id))
            if thread_id in self.store.threads:
                if if_exists == "do_nothing":
                    return self.store.threads[thread_id]
                raise ApiError(409, f"Thread with ID {thread_id} already exists")
        return self.store.add_thread(Thread(thread_id or uuid7(), metadata=dict(metadata or {})))

    def get_thread(self, thread_id: str, *, detail: str | None = None) -> Thread:
        if not is_uuid(thread_id):
            raise ApiError(422, "Invalid thread ID: must be a UUID")
        thread = self.store.threads.get(str(uuid.UUID(thread_id)))
        if thread is None:
            raise ApiError(404, detail or f"Thread with ID {thread_id} not found")
        return thread

    def assistant_of(self, thread: Thread) -> Assistant | None:
        """The thread's graph: the one it last ran, else the one its `metadata.graph_id` names."""
        graph_id = thread.graph_id or thread.metadata.get("graph_id")
        return self.engine.assistants.get(graph_id) if isinstance(graph_id, str) else None

    def graph_of(self, thread: Thread) -> Assistant:
        """`assistant_of`, or the official server's 400 for a thread with no graph yet."""
        assistant = self.assistant_of(thread)
        if assistant is None:
            raise ApiError(
                400,
                f"Thread '{thread.thread_id}' has no assigned graph ID. This usually occurs when no runs have been made "
                "on this particular thread. This operation requires a graph ID. Please ensure a run has been made for the "
                "thread or manually update the thread metadata (by setting the 'graph_id' field) before running this operation.",
            )
        return assistant

    async def apply_supersteps(self, thread: Thread, supersteps: list[dict[str, Any]]) -> None:
        """`ThreadCreate.supersteps`: each superstep's updates applied as one step, with LangGraph's bulk update."""
        assistant = self.graph_of(thread)
        try:
            await self.engine.bulk_update_state(assistant, thread.thread_id, supersteps)
        except (InvalidUpdateError, ValueError) as exc:
            raise ApiError(400, str(exc).split("\n")[0]) from None
        await self.refresh_thread(thread)
        thread.config = {}

    async def delete_thread(self, thread: Thread) -> None:
        for run in self.store.remove_thread(thread.thread_id):
            if run.task is not None and not run.task.done():
                run.cancel_action = "delete"
                run.task.cancel()
        self.engine.delete_thread(thread.thread_id)

    async def refresh_thread(self, thread: Thread, *, error: dict[str, Any] | None = None, checkpoint: CheckpointEvent | None = None) -> None:
        """Set a thread's values, interrupts and status after a run or a state update.

        After a run that checkpointed, they come from the run's last checkpoint event (with its task results
        merged in), as the official server derives them; otherwise from the head of the thread's checkpoints.
        """
        now = now_iso()
        thread.has_run = True
        thread.error = error
        thread.updated_at = thread.state_updated_at = now
        failed = error is not None and error.get("error") not in ("UserInterrupt", "UserRollback")
        if checkpoint is not None:
            thread.values = checkpoint.values
            thread.interrupts = checkpoint.interrupts(self.legacy_interrupts)
            thread.status = "error" if failed else ("interrupted" if checkpoint.next else "idle")
            if self.store.active_runs(thread.thread_id):
                thread.status = "busy"
            return
        snapshot = await self.engine.snapshot(self.assistant_of(thread), thread.thread_id)
        if not _checkpointed(snapshot):
            thread.values = {} if failed else None
            thread.interrupts = {}
            thread.status = "error" if failed else "idle"
        else:
            thread.values = snapshot.values
            thread.interrupts = thread_interrupts(snapshot, self.legacy_interrupts)
            thread.status = "error" if failed else ("interrupted" if snapshot.next else "idle")
        if self.store.active_runs(thread.thread_id):
            thread.status = "busy"

    # -- runs -----------------------------------------------------------------------------------------

    def resolve_assistant(self, assistant_id: str) -> Assistant:
        assistant = self.engine.resolve(assistant_id)
        if assistant is not None:
            return assistant
        if is_uuid(assistant_id):
            raise ApiError(404, "Thread or assistant not found.")
        graphs = ", ".join(self.engine.assistants)
        raise ApiError(
            422,
            f"Invalid assistant: '{assistant_id}'. Must be either:\n- A valid assistant UUID, or\n"
            f"- One of the registered graphs: {graphs}",
        )

    def create_run(self, thread_id: str | None, payload: dict[str, Any]) -> Run:
        """Validate and enqueue a run (stateless when `thread_id` is None). Raises `ApiError`.

        Synchronous on purpose: the busy check and the enqueue cannot interleave with another request.
        """
        stateless = thread_id is None
        command = payload.get("command")
        if stateless and command and "resume" in command:
            raise ApiError(400, "You must provide a thread_id when resuming.")
        checkpoint = dict(payload.get("checkpoint") or {})
        if payload.get("checkpoint_id"):
            checkpoint["checkpoint_id"] = payload["checkpoint_id"]
        if checkpoint.get("checkpoint_id") is not None and not is_uuid(str(checkpoint["checkpoint_id"])):
            raise ApiError(422, "Invalid checkpoint ID")
        if stateless:
            assistant = self.resolve_assistant(payload["assistant_id"])
            thread = self.store.add_thread(Thread(uuid7()))
        else:
            if not is_uuid(thread_id):
                raise ApiError(400, "badly formed hexadecimal UUID string")
            thread_id = str(uuid.UUID(thread_id))
            assistant = self.resolve_assistant(payload["assistant_id"])
            thread = self.store.threads.get(thread_id)
            if thread is None:
                if payload.get("if_not_exists") != "create":
                    raise ApiError(404, "Thread or assistant not found.")
                thread = self.store.add_thread(Thread(thread_id))
        strategy = payload.get("multitask_strategy") or "enqueue"
        if "ignore-multitask" in self.deviations:
            strategy = "enqueue"
        active = self.store.active_runs(thread.thread_id)
        if active and strategy == "reject":
            raise ApiError(409, BUSY_DETAIL)
        for other in active if strategy in ("interrupt", "rollback") else ():
            self.cancel(other, strategy)

        run = self._new_run(thread, assistant, payload, checkpoint, stateless)
        thread.graph_id = assistant.graph_id
        if not stateless:
            thread.metadata = {**thread.metadata, "graph_id": assistant.graph_id, "assistant_id": assistant.assistant_id}
        thread.config = RUN_THREAD_CONFIG
        thread.status = "busy"
        thread.updated_at = now_iso()
        self.store.add_run(run)
        self._pump(thread.thread_id)
        return run

    def _new_run(self, thread: Thread, assistant: Assistant, payload: dict[str, Any], checkpoint: dict[str, Any], stateless: bool) -> Run:
        return Run(
            run_id=uuid7(),
            thread_id=thread.thread_id,
            assistant_id=assistant.assistant_id,
            graph_id=assistant.graph_id,
            payload=payload,
            multitask_strategy=payload.get("multitask_strategy") or "enqueue",
            temporary=stateless,
            on_completion=payload.get("on_completion") or "delete",
            checkpoint={k: v for k, v in checkpoint.items() if k in ("checkpoint_id", "checkpoint_ns")} or None,
            api_url=self.api_url,
        )

    def _pump(self, thread_id: str) -> None:
        """Start the thread's oldest pending run if nothing is running on it."""
        runs = self.store.runs_of(thread_id)
        me = asyncio.current_task()  # a run that is finishing calls this from its own task
        if any(r.task is not None and not r.task.done() and r.task is not me for r in runs):
            return
        nxt = next((r for r in runs if r.status == "pending" and r.task is None), None)
        if nxt is not None:
            nxt.task = asyncio.get_running_loop().create_task(self._execute(nxt), name=f"run-{nxt.run_id}")

    async def _execute(self, run: Run) -> None:
        thread = self.store.threads[run.thread_id]
        assistant = self.engine.assistants.get(run.graph_id)
        snapshot = self.engine.take_snapshot(run.thread_id)
        result = RunResult()
        error: dict[str, Any] | None = None
        checkpoint: CheckpointEvent | None = None

        def on_checkpoint(event: CheckpointEvent) -> None:
            nonlocal checkpoint
            checkpoint = event
        try:
            if run.payload.get("after_seconds"):
                await asyncio.sleep(run.payload["after_seconds"])
            run.set_status("running")
            kw = run.kwargs  # built once the run runs: its config then carries the attempt and host keys
            run.publish("metadata", dumps({"run_id": run.run_id, "attempt": 1}))
            if assistant is None:
                raise RuntimeError(f"graph {run.graph_id!r} is no longer loaded")
            faults = self.faults.for_run(run.graph_id, assistant.faults)
            if any(f.hang for f in faults):
                await asyncio.Event().wait()  # an injected fault: this run never finishes (cancel ends it)
            failing = next((f for f in faults if f.error_at_step is not None), None)
            fail_at_step = None
            if failing is not None:
                spec = failing.error or InjectedError()
                fail_at_step = (failing.error_at_step, exception_named(spec.type, spec.message))
            token_delay = max((f.token_delay or 0.0 for f in faults), default=0.0)
            command = kw["command"]
            if command and "resume" in command and not await self._has_checkpoint(thread):
                # The official server fails a resume on a thread that never ran, before the graph runs.
                raise TypeError("'NoneType' object is not iterable")
            if command and "ignore-resume-map" in self.deviations and _is_resume_map(command.get("resume")):
                command = {k: v for k, v in command.items() if k != "resume"} or {"update": None}
            graph_input = to_command(command) if command else kw["input"]
            breakpoints = "ignore-interrupt-before" not in self.deviations
            async for event, chunk in self.engine.stream(
                assistant,
                graph_input,
                run.execution_config(kw),
                stream_mode=kw["stream_mode"],
                subgraphs=kw["subgraphs"],
                interrupt_before=kw["interrupt_before"] if breakpoints else None,
                interrupt_after=kw["interrupt_after"] if breakpoints else None,
                context=kw["context"],
                on_checkpoint=on_checkpoint,
                fail_at_step=fail_at_step,
                token_delay=token_delay,
                legacy_interrupts=self.legacy_interrupts,
            ):
                data = dumps(chunk)
                run.publish(event, data)
                result.absorb(event, data)
            run.set_status("success")
        except asyncio.CancelledError:
            action = run.cancel_action or "interrupt"
            if action == "delete":
                return
            if action == "rollback":
                self.engine.restore(snapshot)
                self.store.remove_run(run)
                error = {"error": "UserRollback", "message": f"rollback requested via POST /threads/{run.thread_id}/runs/{run.run_id}/cancel"}
            else:
                error = {"error": "UserInterrupt", "message": f"interrupt requested via POST /threads/{run.thread_id}/runs/{run.run_id}/cancel"}
            run.set_status("interrupted")
        except Exception as exc:  # a graph error is the run's outcome, reported on the wire
            body = error_body(exc)
            data = dumps(body)
            run.publish("error", data)
            result.absorb("error", data)
            error = body
            run.set_status("error")
        finally:
            try:
                if run.cancel_action != "delete":
                    await self.refresh_thread(thread, error=error, checkpoint=None if run.cancel_action == "rollback" else checkpoint)
                    if run.cancel_action == "rollback":
                        thread.interrupts = None
                    run.result = compact(result.body() or thread_fallback(thread))
            except Exception:  # a bug here must not leave the run (and everyone waiting on it) hanging
                logger.exception("hitl-mock: finishing run %s failed", run.run_id)
                run.result = run.result or dumps({"__error__": {"error": "InternalError", "message": "the mock failed to finish this run"}})
            finally:
                run.mark_finished()
                run.close_stream()
                run.task = None
                if run.temporary and run.on_completion == "delete":
                    self.store.remove_thread(run.thread_id)
                    self.engine.delete_thread(run.thread_id)
                else:
                    self._pump(run.thread_id)

    async def _has_checkpoint(self, thread: Thread) -> bool:
        return _checkpointed(await self.engine.snapshot(self.assistant_of(thread), thread.thread_id))

    def cancel(self, run: Run, action: str = "interrupt") -> None:
        """Stop a pending or running run (`interrupt` keeps its checkpoints, `rollback` removes run and checkpoints)."""
        run.cancel_action = action
        if run.task is not None and not run.task.done():
            run.task.cancel()
            return
        # queued, never started
        if action == "rollback":
            self.store.remove_run(run)
        else:
            run.set_status("interrupted")
        run.result = b"{}"
        run.mark_finished()
        run.close_stream()
        thread = self.store.threads.get(run.thread_id)
        if thread is not None and not self.store.active_runs(run.thread_id) and thread.status == "busy":
            thread.status = "interrupted" if thread.interrupts else "idle"

    async def wait(self, run: Run) -> bytes:
        await run.wait_finished()
        return run.result or b"{}"

    async def stop_all(self) -> None:
        tasks = [r.task for r in self.store.runs.values() if r.task is not None and not r.task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
