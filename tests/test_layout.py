"""The shape of the code, as issue 8 set it: small modules and functions, and a conformance suite that stands
alone (it must not need the mock it certifies)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hitl_spec", "mock_server", "contract_tests")
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 50


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_modules_and_functions_are_small():
    too_big = []
    for path in _modules():
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        lines = source.count("\n")
        if lines > MAX_MODULE_LINES:
            too_big.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_big.append(f"{name}:{node.lineno} {node.name}(): {length} lines (at most {MAX_FUNCTION_LINES})")
    assert not too_big, "\n".join(too_big)


def _imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(("package", "forbidden"), [("contract_tests", "mock_server"), ("hitl_spec", "mock_server"), ("hitl_spec", "contract_tests")])
def test_no_import_of_the_other_package(package, forbidden):
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / package).rglob("*.py") if forbidden in _imported(p)]
    assert not offenders, f"{package} imports {forbidden}: {offenders}"


def test_the_suite_never_names_the_mock():
    """`grep -r mock_server contract_tests/` finds nothing: not even a lazy import or a string."""
    mentions = [str(p.relative_to(ROOT)) for p in (ROOT / "contract_tests").rglob("*") if p.is_file() and p.suffix != ".pyc" and b"mock_server" in p.read_bytes()]
    assert not mentions, mentions


def test_the_suite_loads_and_lists_its_clauses_without_the_mock():
    """With `mock_server` made unimportable, every suite module imports and `hitl-contract clauses` runs."""
    modules = [f"contract_tests.{p.stem}" for p in (ROOT / "contract_tests").glob("*.py") if p.stem != "__init__"]
    script = (
        "import sys; sys.modules['mock_server'] = None\n"
        f"import importlib; [importlib.import_module(m) for m in {modules!r}]\n"
        "from contract_tests.cli import main; sys.argv = ['hitl-contract', 'clauses']; main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "HITL-WAIT-001" in proc.stdout
