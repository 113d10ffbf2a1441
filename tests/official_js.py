"""The official LangGraph.js dev server (`langgraphjs dev` from @langchain/langgraph-cli) on fixtures/graphs-js,
the six fixture graphs written with LangGraph.js: a second reference next to tests/official.py.

fixtures/graphs-js/node_modules is installed from the lockfile with `npm ci` when missing or stale (it is
git-ignored). The server runs in a fresh temporary folder holding a copy of the graphs and a symlink to that
node_modules, so its on-disk state (`.langgraph_api/`) never lands in the checkout and never outlives a run.
Set HITL_OFFICIAL_JS_URL to use a server that is already running instead.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .official import dev_server

ROOT = Path(__file__).resolve().parent.parent
GRAPHS_JS = ROOT / "fixtures" / "graphs-js"
NODE_MODULES = GRAPHS_JS / "node_modules"
STAMP = NODE_MODULES / ".hitl-lock-sha256"
CLI = NODE_MODULES / ".bin" / "langgraphjs"

# Offline and quiet: no usage ping from the CLI (it posts to a Supabase endpoint unless this is "1"), no
# LangSmith tracing (the server asks LangSmith for the tenant id when tracing is on), no browser, no colours.
SERVER_ENV = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGSMITH_TRACING": "false",
    "LANGSMITH_TRACING_V2": "false",
    "LANGCHAIN_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "BROWSER": "none",
    "NO_COLOR": "1",
}


def ensure_node_modules(timeout: float = 600) -> Path:
    """fixtures/graphs-js/node_modules, (re)installed from package-lock.json when missing or stale.

    `npm ci` first; `npm install` only if npm refuses the lockfile as out of sync (npm 11 can do that when a
    lockfile lacks another platform's optional binaries; `npm install` then installs the locked versions)."""
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise RuntimeError("node and npm are needed for the official JS server (Node 20 is on these machines)")
    wanted = hashlib.sha256((GRAPHS_JS / "package-lock.json").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == wanted and CLI.exists():
        return NODE_MODULES
    # One installer at a time (parallel test workers share the folder).
    with open(Path(tempfile.gettempdir()) / "hitl-graphs-js-npm.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.is_file() and STAMP.read_text() == wanted and CLI.exists():
            return NODE_MODULES
        outputs = []
        for command in ("ci", "install"):
            proc = subprocess.run([npm, command, "--no-audit", "--no-fund"], cwd=GRAPHS_JS, capture_output=True, text=True, timeout=timeout)
            outputs.append(f"$ npm {command}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
            if proc.returncode == 0:
                break
        else:
            raise RuntimeError("installing fixtures/graphs-js failed:\n" + "\n".join(outputs))
        STAMP.write_text(wanted)
    return NODE_MODULES


def _stage(workdir: Path) -> None:
    """A copy of the graphs (no node_modules, no server state) with node_modules linked in."""
    shutil.copytree(GRAPHS_JS, workdir, ignore=shutil.ignore_patterns("node_modules", ".langgraph_api"))
    (workdir / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)


@contextmanager
def official_js_server(timeout: float = 120) -> Iterator[str]:
    """Start `langgraphjs dev` on a fresh copy of fixtures/graphs-js; yield its URL; always stop it."""
    if url := os.environ.get("HITL_OFFICIAL_JS_URL"):
        yield url.rstrip("/")
        return
    ensure_node_modules()
    with tempfile.TemporaryDirectory(prefix="hitl-official-js-", ignore_cleanup_errors=True) as tmp:
        workdir = Path(tmp) / "graphs-js"
        _stage(workdir)
        env = {**os.environ, **SERVER_ENV}

        def command(port: int) -> list[str]:
            return [str(CLI), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port), "--config", str(workdir / "langgraph.json")]

        with dev_server("langgraphjs dev", command, workdir, env, Path(tmp) / "server.log", timeout) as url:
            yield url
