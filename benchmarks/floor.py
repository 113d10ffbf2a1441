"""The physical floor the benchmarks divide by: the seed HITL cycle on LangGraph alone.

The `agent` graph of fixtures/graphs with LangGraph's in-memory checkpointer, driven with `ainvoke` in one
process: no HTTP, no server layer, nothing the mock adds. One cycle is `ainvoke(input)` -> the interrupt, then
`ainvoke(Command(resume=...))` -> the final values, each on a new thread id, each checked. The figures:

- p50/p95: cycles one after another;
- cycles/s with 1 in flight, and with 10 in flight (10 workers on one event loop, `asyncio.gather`; on one
  process, as the mock is one process);
- start: from process start to the graph compiled with its checkpointer, ready for a first cycle (a fresh
  process: `python floor.py _start`);
- RSS: a fresh process after N interrupted threads (`python floor.py _rss N`).

The event loop is the one the mock's uvicorn picks (`loop="auto"`): uvloop when it is installed, asyncio's
otherwise, so that a faster loop under the mock raises the floor too rather than flattering the ratios.
"""

from __future__ import annotations

import asyncio
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def graph() -> Any:
    from langgraph.checkpoint.memory import InMemorySaver

    spec = importlib.util.spec_from_file_location("bench_agent", ROOT / "fixtures" / "graphs" / "agent.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.graph.copy(update={"checkpointer": InMemorySaver()})


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


async def _one(g: Any, tag: str, resume: bool = True) -> None:
    from langgraph.types import Command

    config = {"configurable": {"thread_id": tag}}
    first = await g.ainvoke({"some_text": tag}, config)
    assert first["__interrupt__"][0].value == {"text_to_revise": tag}, first
    if resume:
        assert await g.ainvoke(Command(resume=tag + "!"), config) == {"some_text": tag + "!"}


async def _cycles(g: Any, sequential: int, throughput: int) -> dict[str, float]:
    await _one(g, "warm-up")
    lat = []
    for i in range(sequential):
        started = time.perf_counter()
        await _one(g, f"s{i}")
        lat.append((time.perf_counter() - started) * 1000)
    queue = iter(range(throughput))

    async def worker() -> None:
        for i in queue:
            await _one(g, f"c{i}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(10)))
    c10 = throughput / (time.perf_counter() - started)
    return {"p50": percentile(lat, 50), "p95": percentile(lat, 95), "c1": 1000 / statistics.mean(lat), "c10": c10}


def loop_name() -> str:
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio's loop"


def run(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def cycles(sequential: int, throughput: int) -> dict[str, float]:
    """p50/p95 over `sequential` cycles; cycles/s with 1 in flight (from those), and with 10 (`throughput` cycles)."""
    result: dict[str, float] = run(_cycles(graph(), sequential, throughput))
    return result


def measure(sequential: int, throughput: int, threads: int = 0) -> dict[str, float | None]:
    """Every floor figure, keyed as bench.py keys the mock's (`rss` only when `threads`)."""
    figures: dict[str, float | None] = dict(cycles(sequential, throughput))
    figures["start"] = start_seconds()
    figures["rss"] = rss_mb(threads) if threads else None
    return figures


def start_seconds() -> float:
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "_start"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    ready = time.perf_counter() - started
    proc.wait()
    return ready


def rss_mb(threads: int) -> float:
    out = subprocess.run([sys.executable, __file__, "_rss", str(threads)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def _own_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    if sys.argv[1] == "_start":
        graph()
        print("ready", flush=True)
    elif sys.argv[1] == "_rss":
        g = graph()

        async def interrupted(n: int) -> None:
            for i in range(n):
                await _one(g, f"t{i}", resume=False)

        run(interrupted(int(sys.argv[2])))
        print(f"{_own_rss_mb():.1f}")
