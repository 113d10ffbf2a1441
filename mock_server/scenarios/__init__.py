"""Where graphs come from: scenario files (YAML/JSON) compiled into real LangGraph `StateGraph`s, and
Python graphs listed in a `langgraph.json` (the file `langgraph dev` reads).

A scenario node is a list of steps run in order. Values are templates: `"{state.some_text}"` alone is
the value itself (any JSON type); inside a longer string it is formatted with `str()`, as an f-string
would; `{{` and `}}` are literal braces. Names bound with `as:` / `set:` are in scope for later steps, and
`last_human` is the content of the last human message in `state.messages`.
"""

from __future__ import annotations

from .base import LoadedGraph, ScenarioError
from .compiler import SCHEMA_PATH, compile_scenario
from .loading import bundled_scenarios, load_langgraph_json, load_scenarios, scenario_files
from .templates import check, render

__all__ = [
    "SCHEMA_PATH",
    "LoadedGraph",
    "ScenarioError",
    "bundled_scenarios",
    "check",
    "compile_scenario",
    "load_langgraph_json",
    "load_scenarios",
    "render",
    "scenario_files",
]
