"""`Scheduler`: a queue of runs per thread, the multitask strategies, and cancel.

Runs start at once (no queue polling): a thread's next pending run starts the moment the previous one ends.
`create_run` is synchronous on purpose, so the busy check and the enqueue cannot interleave with another
request.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..assistants import Bound
from ..auth import owned
from ..controls import Controls
from ..deviations import Hook
from ..engine import Engine
from ..errors import ApiError
from ..settings import Settings
from ..store import Run, Store, Thread
from ..types import CancelAction, MultitaskStrategy, OnCompletion, RunStatus, ThreadStatus
from ..wire import is_uuid, now_iso, uuid7
from .broker import EventBroker
from .executor import Executor
from .webhook import Webhooks, check_webhook

# A thread's `config` once it has run; one shared object (it is only ever serialised, never mutated).
RUN_THREAD_CONFIG: dict[str, Any] = {"configurable": {}}
LOAD_WINDOW = 2.0  # seconds: open threads with a run this recent are the load the `*-under-load` deviations see
BUSY_DETAIL = "Thread is already running a task. Wait for it to finish or choose a different multitask strategy."
CHECKPOINT_KEYS = ("checkpoint_id", "checkpoint_ns")


class Scheduler:
    def __init__(self, engine: Engine, store: Store, executor: Executor, controls: Controls, *, api_url: str = "", settings: Settings | None = None) -> None:
        self.engine = engine
        self.store = store
        self.executor = executor
        self.controls = controls
        self.api_url = api_url
        settings = settings or Settings()
        self.backlog = settings.stream_backlog
        self.replay_grace = settings.replay_grace_seconds
        self.webhooks = Webhooks()
        self.observers: list[Callable[[Run], None]] = []  # told of each run as it is created (protocol/hub.py)
        self._recent: OrderedDict[str, float] = OrderedDict()  # thread id -> when its newest run was created

    def load_on_others(self, thread_id: str) -> int:
        """How many other threads are open (busy, or waiting for an answer) and had a run created in the last
        LOAD_WINDOW seconds: the load the `*-under-load` deviations react to. One client working one thread at a
        time keeps this at 0, since the threads it is done with are idle."""
        self._forget(time.monotonic())
        threads = self.store.threads
        return sum(1 for t in self._recent if t != thread_id and (other := threads.get(t)) is not None and other.status != ThreadStatus.IDLE)

    def _forget(self, now: float) -> None:
        while self._recent and next(iter(self._recent.values())) < now - LOAD_WINDOW:
            self._recent.popitem(last=False)

    def resolve_assistant(self, assistant_id: str) -> Bound:
        """The assistant a run body names (by id, or by graph id for the graph's system assistant) with its graph."""
        assistant = self.engine.assistant_store.bind(assistant_id)
        if assistant is not None:
            return assistant
        if is_uuid(assistant_id) or assistant_id in self.engine.assistants:  # a deleted system assistant: 404 too
            raise ApiError(404, "Thread or assistant not found.")
        graphs = ", ".join(self.engine.assistants)
        raise ApiError(
            422,
            f"Invalid assistant: '{assistant_id}'. Must be either:\n- A valid assistant UUID, or\n- One of the registered graphs: {graphs}",
        )

    def create_run(self, thread_id: str | None, payload: dict[str, Any]) -> Run:
        """Validate and enqueue a run (stateless when `thread_id` is None). Raises `ApiError`."""
        stateless = thread_id is None
        payload = self.controls.deviations.apply(Hook.RUN_PAYLOAD, payload, stateless=stateless)
        command = payload.get("command")
        if stateless and command and "resume" in command:
            raise ApiError(400, "You must provide a thread_id when resuming.")
        checkpoint = _checkpoint(payload)
        check_webhook(payload.get("webhook"))
        thread, assistant = self._target(thread_id, payload)
        payload = assistant.apply(payload)  # the assistant's config, context and metadata under the run's
        strategy = self._apply_multitask(thread, payload)
        run = Run(
            run_id=uuid7(),
            thread_id=thread.thread_id,
            assistant_id=assistant.assistant_id,
            graph_id=assistant.graph_id,
            payload=payload,
            multitask_strategy=strategy,
            temporary=stateless,
            on_completion=OnCompletion(payload.get("on_completion") or OnCompletion.DELETE),
            checkpoint={k: v for k, v in checkpoint.items() if k in CHECKPOINT_KEYS} or None,
            api_url=self.api_url,
        )
        run.events.bound(self.backlog, self.replay_grace)
        thread.graph_id = assistant.graph_id
        if not stateless:
            thread.metadata = {**thread.metadata, "graph_id": assistant.graph_id, "assistant_id": assistant.assistant_id}
        config = assistant.thread_config(thread.config, payload.get("config"))
        thread.config = RUN_THREAD_CONFIG if config == RUN_THREAD_CONFIG else config
        thread.status = ThreadStatus.BUSY
        thread.updated_at = now_iso()
        self.store.add_run(run)
        for observe in self.observers:
            observe(run)
        now = time.monotonic()
        self._recent[thread.thread_id] = now
        self._recent.move_to_end(thread.thread_id)
        self._forget(now)
        if self.controls.deviations.at(Hook.RUN_COPIES):
            copies = self.controls.deviations.apply(Hook.RUN_COPIES, 1, payload=payload, load=self.load_on_others(thread.thread_id))
            for _ in range(copies - 1):  # the same request carried out again, after it (a duplicated delivery)
                copy = dataclasses.replace(run, run_id=uuid7(), events=EventBroker())
                copy.events.bound(self.backlog, self.replay_grace)
                self.store.add_run(copy)
        self._pump(thread.thread_id)
        return run

    def _target(self, thread_id: str | None, payload: dict[str, Any]) -> tuple[Thread, Bound]:
        """The thread the run goes to (a new temporary one when stateless) and its assistant."""
        if thread_id is None:
            assistant = self.resolve_assistant(payload["assistant_id"])
            return self.store.add_thread(Thread(uuid7())), assistant
        try:
            thread_id = str(uuid.UUID(thread_id))
        except (ValueError, TypeError, AttributeError):
            raise ApiError(400, "badly formed hexadecimal UUID string") from None
        assistant = self.resolve_assistant(payload["assistant_id"])
        thread = self.store.threads.get(thread_id)
        if thread is not None and not owned(thread):  # another user's (auth.py): as if missing, and never created again
            raise ApiError(404, "Thread or assistant not found.")
        if thread is None:
            if payload.get("if_not_exists") != "create":
                raise ApiError(404, "Thread or assistant not found.")
            thread = self.store.add_thread(Thread(thread_id))
        self.store.touch(thread)
        return thread, assistant

    def _apply_multitask(self, thread: Thread, payload: dict[str, Any]) -> MultitaskStrategy:
        """`reject` refuses a busy thread; `interrupt` and `rollback` cancel its active runs; `enqueue` queues.
        Returns the run's strategy (as asked: what a deviation makes of it acts here only)."""
        asked = MultitaskStrategy(payload.get("multitask_strategy") or MultitaskStrategy.ENQUEUE)
        strategy = self.controls.deviations.apply(Hook.MULTITASK, asked)
        active = self.store.active_runs(thread.thread_id)
        if active and strategy == MultitaskStrategy.REJECT:
            raise ApiError(409, BUSY_DETAIL)
        if strategy in (MultitaskStrategy.INTERRUPT, MultitaskStrategy.ROLLBACK):
            for other in active:
                self.cancel(other, CancelAction(strategy.value))
        return asked

    def _pump(self, thread_id: str) -> None:
        """Start the thread's oldest pending run if nothing is running on it."""
        runs = self.store.runs_of(thread_id)
        me = asyncio.current_task()  # a run that is finishing calls this from its own task
        if any(r.running and r.task is not me for r in runs):
            return
        nxt = next((r for r in runs if r.status == RunStatus.PENDING and r.task is None), None)
        if nxt is not None:
            nxt.task = asyncio.get_running_loop().create_task(self._run(nxt), name=f"run-{nxt.run_id}")

    async def _run(self, run: Run) -> None:
        started_at = now_iso() if run.payload.get("webhook") else ""  # only a webhook's payload tells it
        try:
            await self.executor.execute(run)
        finally:
            run.task = None
            self.webhooks.send(run, self.store.threads.get(run.thread_id), started_at)
            if run.temporary and run.on_completion == OnCompletion.DELETE:
                self.store.remove_thread(run.thread_id)
                self.engine.delete_thread(run.thread_id)
            else:
                self._pump(run.thread_id)

    def cancel(self, run: Run, action: CancelAction = CancelAction.INTERRUPT) -> None:
        """Stop a pending or running run (`interrupt` keeps its checkpoints, `rollback` removes run and checkpoints)."""
        run.cancel_action = action
        if run.running:
            assert run.task is not None
            run.task.cancel()
            return
        # queued, never started
        if action == CancelAction.ROLLBACK:
            self.store.remove_run(run)
        else:
            run.set_status(RunStatus.INTERRUPTED)
        run.result = b"{}"
        run.events.close()
        thread = self.store.threads.get(run.thread_id)
        if thread is not None and not self.store.active_runs(run.thread_id) and thread.status == ThreadStatus.BUSY:
            thread.status = ThreadStatus.INTERRUPTED if thread.interrupts else ThreadStatus.IDLE

    async def stop_all(self) -> None:
        tasks = [r.task for r in self.store.runs.values() if r.task is not None and not r.task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


def _checkpoint(payload: dict[str, Any]) -> dict[str, Any]:
    given = payload.get("checkpoint") or {}
    if isinstance(given, str):  # the official server's 400: `dict("abc")` fails with this message
        raise ApiError(400, "dictionary update sequence element #0 has length 1; 2 is required")
    if not isinstance(given, dict):
        # The official server's stateless routes answer 500 here (`dict(932)`); its thread routes answer this 422.
        raise ApiError(422, f'{json.dumps(given)[:100]} is not of type "object"')
    checkpoint = dict(given)
    if payload.get("checkpoint_id"):
        checkpoint["checkpoint_id"] = payload["checkpoint_id"]
    if checkpoint.get("checkpoint_id") is not None and not is_uuid(str(checkpoint["checkpoint_id"])):
        raise ApiError(422, "Invalid checkpoint ID")
    return checkpoint

