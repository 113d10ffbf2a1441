"""What loading a scenario file or a langgraph.json gives: a `LoadedGraph`, or a `ScenarioError`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langgraph.pregel import Pregel

Graph = Pregel[Any, Any, Any, Any]  # a compiled LangGraph graph, whatever its state, context, input and output types


class ScenarioError(Exception):
    """A scenario file or langgraph.json that cannot be loaded; the message names the file and the place."""


@dataclass
class LoadedGraph:
    graph_id: str
    graph: Graph
    source: str
    description: str | None = None
    faults: list[Any] = field(default_factory=list)
