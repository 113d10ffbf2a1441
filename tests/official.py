"""The official LangGraph server (`langgraph dev`) on fixtures/graphs, as the reference for parity tests.

It comes from `.venv-reference` (made by `python3 dev.py test` from tests/reference/requirements.txt).
Nothing is installed here: if the server is missing, the tests that need it fail and say how to get it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mock_server.testing import free_port, wait_for_ok

ROOT = Path(__file__).resolve().parent.parent
LANGGRAPH = ROOT / ".venv-reference" / "bin" / "langgraph"
GRAPHS = ROOT / "fixtures" / "graphs"
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colour codes, stripped from a log tail


@contextmanager
def official_server(timeout: float = 120, edit: Callable[[Path], None] | None = None) -> Iterator[str]:
    """Start `langgraph dev` on a fresh copy of fixtures/graphs (changed by `edit`, given the copy's folder, when
    a test serves graphs of its own); yield its URL; always stop it."""
    if edit is None and (url := os.environ.get("HITL_OFFICIAL_URL")):
        yield url.rstrip("/")
        return
    if not LANGGRAPH.exists():
        raise RuntimeError(f"{LANGGRAPH.relative_to(ROOT)} is missing: run the tests with `python3 dev.py test` (it installs the official server), or pass --no-official")
    with tempfile.TemporaryDirectory(prefix="hitl-official-") as tmp:
        workdir = Path(tmp) / "graphs"
        shutil.copytree(GRAPHS, workdir, ignore=shutil.ignore_patterns("__pycache__", ".langgraph_api"))
        if edit is not None:
            edit(workdir)
        env = {**os.environ, "LANGGRAPH_NO_BROWSER": "1", "NO_COLOR": "1"}

        def command(port: int) -> list[str]:
            return [str(LANGGRAPH), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)]

        with dev_server("langgraph dev", command, workdir, env, Path(tmp) / "server.log", timeout) as url:
            yield url


@contextmanager
def dev_server(name: str, command: Callable[[int], list[str]], cwd: Path, env: dict[str, str], log_path: Path, timeout: float) -> Iterator[str]:
    """Run `command(port)` in its own process group on a free port, its output in `log_path`; yield the URL once
    /ok answers; always stop the whole group. A server that does not come up raises with the log's tail."""
    port = free_port()
    with open(log_path, "w+") as log:
        proc = subprocess.Popen(command(port), cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_for_ok(url, proc, timeout)
            except RuntimeError as exc:
                log.seek(0)
                raise RuntimeError(f"{name}: {exc}\n{ANSI.sub('', log.read())[-3000:]}") from None
            yield url
        finally:
            stop_group(proc)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(proc: subprocess.Popen[Any], grace: float = 10) -> None:
    """SIGTERM the whole process group of a dev server (the CLI and every child it started), give it `grace` seconds
    to go (the servers flush their state on SIGTERM), then SIGKILL whatever is left."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
