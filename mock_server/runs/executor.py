"""`Executor`: drives the engine for one run, from start to outcome.

It publishes the run's events to its broker, assembles its wait result, writes the outcome back to the thread
(values, interrupts, status, error), and gives cancels their meaning: `interrupt` keeps the checkpoints the run
made, `rollback` restores the ones it found. Faults and deviations reach it only through their hook points.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ..controls import Controls
from ..deviations import Hook
from ..engine import CheckpointSnapshot, Engine, to_command
from ..protocol.runner import ProtocolMapper, is_protocol_run, protocol_chunks
from ..store import Run, Store, Thread
from ..streams import CheckpointTracker, EventMapper, langgraph_modes
from ..threads import Threads
from ..types import CancelAction, RunStatus
from ..views import execution_config, run_kwargs
from ..wire import compact, dumps, error_body
from .result import RunResult, thread_fallback

logger = logging.getLogger("hitl_mock")
FINISH_FAILED = {"__error__": {"error": "InternalError", "message": "the mock failed to finish this run"}}


@dataclass
class Outcome:
    result: RunResult = field(default_factory=RunResult)
    tracker: CheckpointTracker = field(default_factory=CheckpointTracker)
    error: dict[str, Any] | None = None


class Executor:
    def __init__(self, engine: Engine, store: Store, threads: Threads, controls: Controls, *, jobs: int = 10) -> None:
        self.engine = engine
        self.store = store
        self.threads = threads
        self.controls = controls
        self.jobs = asyncio.Semaphore(jobs)  # runs executing at once (Settings.n_jobs_per_worker); first come, first in

    async def execute(self, run: Run) -> None:
        """Run `run` to its end. Its outcome is in `run.result`, its status and its thread; nothing raises."""
        thread = self.store.threads[run.thread_id]
        snapshot: CheckpointSnapshot | None = None
        outcome = Outcome()
        try:
            if run.payload.get("after_seconds"):  # a delayed run waits, pending, holding no job slot and no lock
                await asyncio.sleep(run.payload["after_seconds"])
            async with self.jobs, thread.lock():  # a free job slot, then after any state update under way (api/state.py)
                snapshot = self.engine.take_snapshot(run.thread_id)
                await self._run(run, thread, outcome)
            run.set_status(RunStatus.SUCCESS)
        except asyncio.CancelledError:
            if not run.discarded:
                outcome.error = self._cancelled(run, snapshot)
        except Exception as exc:  # a graph error is the run's outcome, reported on the wire
            outcome.error = error_body(exc)
            data = dumps(outcome.error)
            run.events.publish("error", data)
            outcome.result.absorb("error", data)
            run.set_status(RunStatus.ERROR)
        finally:
            try:
                if not run.discarded:
                    await self._write_back(run, thread, outcome)
            except Exception:  # a bug here must not leave the run (and everyone waiting on it) hanging
                logger.exception("hitl-mock: finishing run %s failed", run.run_id)
                run.result = run.result or dumps(FINISH_FAILED)
            finally:
                run.events.close()

    async def _run(self, run: Run, thread: Thread, outcome: Outcome) -> None:
        run.set_status(RunStatus.RUNNING)
        kwargs = run_kwargs(run)  # built once the run runs: its config then carries the attempt and host keys
        run.events.publish("metadata", dumps({"run_id": run.run_id, "attempt": 1}))
        assistant = self.engine.assistants.get(run.graph_id)
        if assistant is None:
            raise RuntimeError(f"graph {run.graph_id!r} is no longer loaded")
        faults = self.controls.faults.for_run(run.graph_id, assistant.faults)
        faulty = bool(faults)
        await faults.before_start()
        graph_input = await self._graph_input(thread, kwargs["command"], kwargs["input"])
        before, after = self.controls.deviations.apply(Hook.BREAKPOINTS, (kwargs["interrupt_before"], kwargs["interrupt_after"]))
        mapper: EventMapper | ProtocolMapper = EventMapper(kwargs["stream_mode"], self.controls.legacy_interrupts)
        subgraphs = kwargs["subgraphs"]
        chunks: AsyncIterator[Any]
        if is_protocol_run(kwargs["config"]):  # run.start / input.respond: LangGraph's v3 events (protocol/runner.py)
            mapper, subgraphs = ProtocolMapper(), True
            chunks = protocol_chunks(assistant.graph, graph_input, execution_config(run, kwargs), before=before, after=after, context=kwargs["context"])
        else:
            chunks = self.engine.astream(
                assistant,
                graph_input,
                execution_config(run, kwargs),
                modes=langgraph_modes(kwargs["stream_mode"], debug=faulty or self.controls.legacy_interrupts),
                subgraphs=subgraphs,
                interrupt_before=before,
                interrupt_after=after,
                context=kwargs["context"],
                durability=kwargs["durability"],
            )
        async for item in chunks:
            ns, mode, chunk = item if subgraphs else ((), *item)
            if faulty:
                await faults.on_chunk(ns, mode, chunk)
            outcome.tracker.observe(ns, mode, chunk)
            for event, data in mapper.map(ns, mode, chunk):
                encoded = dumps(data)
                run.events.publish(event, encoded)
                outcome.result.absorb(event, encoded)

    async def _graph_input(self, thread: Thread, command: dict[str, Any] | None, graph_input: Any) -> Any:
        """The run's input, or its command as a LangGraph `Command`."""
        deviations = self.controls.deviations
        if deviations.at(Hook.GRAPH_INPUT):
            pending = [i["id"] for items in (thread.interrupts or {}).values() for i in items]
            graph_input, command = deviations.apply(Hook.GRAPH_INPUT, (graph_input, command), pending=pending)
        if not command:
            return graph_input
        if "resume" in command and not self.threads.has_checkpoint(thread):
            # The official server fails a resume on a thread that never ran, before the graph runs.
            raise TypeError("'NoneType' object is not iterable")
        return to_command(command)

    def _cancelled(self, run: Run, snapshot: CheckpointSnapshot | None) -> dict[str, Any]:
        """A cancel's effect on the run and its checkpoints (no snapshot: cancelled before it began); the error the
        thread then shows."""
        where = f"via POST /threads/{run.thread_id}/runs/{run.run_id}/cancel"
        run.set_status(RunStatus.INTERRUPTED)
        if run.cancel_action == CancelAction.ROLLBACK:
            if snapshot is not None:
                self.engine.restore(snapshot)
            self.store.remove_run(run)
            return {"error": "UserRollback", "message": f"rollback requested {where}"}
        return {"error": "UserInterrupt", "message": f"interrupt requested {where}"}

    async def _write_back(self, run: Run, thread: Thread, outcome: Outcome) -> None:
        rollback = run.cancel_action == CancelAction.ROLLBACK
        # A protocol run streams no checkpoint events: when it fails or is cancelled, the official server has no
        # checkpoint to take values and interrupts from and keeps the thread's (on success it reads the head).
        kept = (thread.values, thread.interrupts) if outcome.error and not rollback and is_protocol_run(run.payload.get("config")) else None
        await self.threads.refresh(thread, error=outcome.error, checkpoint=None if rollback else outcome.tracker.latest)
        if rollback:
            thread.interrupts = None
        if kept is not None:
            thread.values, thread.interrupts = kept
        run.result = compact(outcome.result.body() or thread_fallback(thread))
