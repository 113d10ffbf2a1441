"""Where graphs come from: scenario files (YAML/JSON, a file or a folder of them), the bundled fixture scenarios,
and the Python graphs a `langgraph.json` lists (the file `langgraph dev` reads)."""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from .base import Graph, LoadedGraph, ScenarioError
from .compiler import compile_scenario

SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
_PACKAGE = Path(__file__).resolve().parent.parent
_REPO_FIXTURES = _PACKAGE.parent / "fixtures" / "scenarios"
_PACKAGED_FIXTURES = _PACKAGE / "_bundled" / "scenarios"


def bundled_scenarios() -> Path:
    """The bundled fixture scenarios: the repo's `fixtures/scenarios`, or the copy packaged in the wheel."""
    return _REPO_FIXTURES if _REPO_FIXTURES.is_dir() else _PACKAGED_FIXTURES



def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {' '.join(str(exc).split())}") from None


def scenario_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in SCENARIO_SUFFIXES and p.is_file())
    if not path.exists():
        raise ScenarioError(f"{path}: no such file or directory")
    return [path]


def load_scenarios(paths: Iterable[Path]) -> list[LoadedGraph]:
    return [compile_scenario(_read(f), str(f)) for p in paths for f in scenario_files(Path(p))]


def load_langgraph_json(path: Path) -> list[LoadedGraph]:
    """The graphs of a `langgraph.json` (`"graphs": {"id": "./file.py:attr"}`), imported as `langgraph dev` would."""
    path = Path(path)
    conf = _read(path) if path.suffix == ".json" else None
    if not isinstance(conf, dict) or not isinstance(conf.get("graphs"), dict):
        raise ScenarioError(f"{path}: expected a langgraph.json with a \"graphs\" mapping")
    base = path.resolve().parent
    for dep in conf.get("dependencies", []):
        if isinstance(dep, str) and dep.startswith("."):
            dep_path = str((base / dep).resolve())
            if dep_path not in sys.path:
                sys.path.insert(0, dep_path)
    loaded = []
    for graph_id, ref in conf["graphs"].items():
        description = None
        if isinstance(ref, dict):
            ref, description = ref.get("path", ""), ref.get("description")
        loaded.append(LoadedGraph(graph_id, _import_graph(base, str(ref), f"{path}: graph {graph_id!r}"), str(path), description))
    return loaded


def _import_graph(base: Path, ref: str, where: str) -> Graph:
    file_part, _, attr = ref.rpartition(":")
    if not file_part or not attr:
        raise ScenarioError(f"{where}: expected './file.py:variable', got {ref!r}")
    file = (base / file_part).resolve()
    if not file.is_file():
        raise ScenarioError(f"{where}: no such file {file_part}")
    module_name = f"hitl_mock_graph_{abs(hash(str(file)))}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ScenarioError(f"{where}: importing {file_part} failed: {type(exc).__name__}: {exc}") from None
    obj = getattr(module, attr, None)
    if obj is None:
        raise ScenarioError(f"{where}: {file_part} has no {attr!r}")
    if isinstance(obj, StateGraph):
        obj = obj.compile()
    elif not isinstance(obj, Pregel) and callable(obj):
        params = inspect.signature(obj).parameters
        obj = obj({"configurable": {}}) if params else obj()
        if inspect.isawaitable(obj):
            raise ScenarioError(f"{where}: async graph factories are not supported; export the compiled graph")
        if isinstance(obj, StateGraph):
            obj = obj.compile()
    if not isinstance(obj, Pregel):
        raise ScenarioError(f"{where}: {attr!r} is a {type(obj).__name__}, not a LangGraph graph")
    return obj
