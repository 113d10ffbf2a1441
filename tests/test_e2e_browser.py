"""End to end in a real browser: a React page (Vite 7) using `useStream` from the official SDK, 1.15.0 and
2.0.0, against the mock, in headless Chromium driven by playwright-core (tests/e2e/drive.mjs): a message
streams in token by token, the interrupt shows, approve or reject finishes it; a reload mid-stream rejoins
the run (reconnectOnMount); stop() cancels it on the server."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mock_server.testing import MockServer

E2E = Path(__file__).resolve().parent / "e2e"
CHROMIUM = "/usr/bin/chromium"
SDKS = ["sdk-1.15.0", "sdk-2.0.0"]


@pytest.fixture(scope="module")
def pages() -> Path:
    """tests/e2e installed from its lockfile when stale, and the page built once per SDK version.

    `npm install` rather than `npm ci`: npm 11 here records only this platform's optional rollup/esbuild
    binaries in the lockfile, and `npm ci` then refuses it as out of sync; `npm install` installs the
    locked versions (the lockfile stays byte-identical, checked)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `python3 dev.py test` installs Debian's chromium (apt-get install chromium)")
    npm = shutil.which("npm")
    if not npm:
        pytest.fail("npm is needed for the browser tests (Node 20 is on these machines)")
    stamp = E2E / "node_modules" / ".hitl-lock-sha256"
    wanted = hashlib.sha256((E2E / "package-lock.json").read_bytes()).hexdigest()
    if not stamp.is_file() or stamp.read_text() != wanted:
        proc = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=E2E, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"npm install failed:\n{proc.stdout}\n{proc.stderr}"
        stamp.write_text(wanted)
    for sdk in SDKS:
        proc = subprocess.run([str(E2E / "node_modules" / ".bin" / "vite"), "build"], cwd=E2E, env={**os.environ, "SDK": sdk}, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"vite build ({sdk}) failed:\n{proc.stdout}\n{proc.stderr}"
    return E2E / "dist"


@pytest.mark.parametrize("sdk", SDKS)
def test_use_stream_in_a_real_browser(sdk, pages):
    with MockServer() as server:
        proc = subprocess.run(["node", "drive.mjs", sdk, server.url], cwd=E2E, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{sdk}:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary == {"sdk": sdk, "ok": True, "scenarios": ["approve", "reject", "reload-rejoin", "stop"]}
