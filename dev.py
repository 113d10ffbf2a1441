#!/usr/bin/env python3
"""The project's entry points, for a fresh machine with only python3:

    python3 dev.py serve [hitl-mock serve options]   # start the mock on 127.0.0.1:8123 with the bundled scenarios
    python3 dev.py test [pytest options]             # lint and type-check, then run the whole test suite
    python3 dev.py lint                              # only ruff and mypy (strict on hitl_spec, mock_server, contract_tests)

Both first make sure `.venv` exists with this project and its dev dependencies installed (again whenever
pyproject.toml changes); `test` also makes `.venv-reference` with the official LangGraph server that the
parity tests compare the mock with, and installs Debian's chromium (as root, with apt-get) for the browser
tests when it is missing. Standard library only: this runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
# The official server, for the parity tests: its own venv (see tests/reference/requirements.txt for why).
REFERENCE_VENV = ROOT / ".venv-reference"
REFERENCE_REQUIREMENTS = ROOT / "tests" / "reference" / "requirements.txt"
CHROMIUM = "/usr/bin/chromium"


def say(message: str) -> None:
    print(f"[dev.py] {message}", file=sys.stderr, flush=True)


def ensure_venv(path: Path, source: Path, install: list[str], what: str) -> None:
    """Create `path` and pip-install `install` into it, again whenever `source` changes."""
    stamp = path / ".hitl-kit-installed"
    wanted = hashlib.sha256(source.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == wanted:
        return
    python = path / BIN.name / "python"
    if not python.exists():
        say(f"creating {path.relative_to(ROOT)} ...")
        venv.EnvBuilder(with_pip=True).create(path)
    say(f"installing {what} into {path.relative_to(ROOT)} (first run only) ...")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *install], check=True)
    stamp.write_text(wanted)


def ensure_chromium() -> None:
    """Debian's Chromium for the browser tests (tests/e2e), installed with apt-get when missing and we are root."""
    if os.path.exists(CHROMIUM) or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    say("installing Debian's chromium for the browser tests (first run only) ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, stdout=subprocess.DEVNULL)


def lint() -> int:
    """ruff, then mypy (configured in pyproject.toml); non-zero when either finds a problem."""
    for tool, args in (("ruff", ["check", "."]), ("mypy", [])):
        say(f"{tool} {' '.join(args)}".rstrip())
        code = subprocess.call([str(BIN / tool), *args], cwd=ROOT)
        if code:
            say(f"{tool} found problems (exit {code})")
            return code
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("serve", "test", "lint"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        ensure_venv(VENV, ROOT / "pyproject.toml", ["-e", f"{ROOT}[dev]"], "the project and its dev dependencies")
        if argv[0] == "test":
            ensure_venv(REFERENCE_VENV, REFERENCE_REQUIREMENTS, ["-r", str(REFERENCE_REQUIREMENTS)], "the official LangGraph server")
            ensure_chromium()
    except subprocess.CalledProcessError as exc:
        say(f"installing dependencies failed (exit {exc.returncode}); see the pip output above")
        return 1
    command, rest = argv[0], argv[1:]
    if command in ("lint", "test"):
        code = lint()
        if command == "lint" or code:
            return code
    if command == "serve":
        args = [str(BIN / "hitl-mock"), "serve", *rest]
    else:
        args = [str(BIN / "python"), "-m", "pytest", *rest]
    os.chdir(ROOT)
    try:
        return subprocess.call(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
