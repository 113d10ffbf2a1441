"""The assistants: each registered graph's system assistant and the ones clients create, with their versions.

Kept as the official in-memory runtime keeps them (langgraph_runtime_inmem/ops.py `Assistants`, langgraph-api
0.16.7): records in the official key order, every create and patch adding a version, `latest` restoring a version's
config, metadata, name and description (not its graph or context, as there), and the same error details. A
registered graph's system assistant (id = uuid5 of the graph id, `metadata: {"created_by": "system"}`) is an
ordinary record: it can be patched, and deleted (then runs naming the graph answer 404, as on the official server).

`Bound` is what a run is created with: the assistant's record and the registered graph it runs, and the official
merge of the assistant's config, context and metadata into the run (ops.py `Runs.put`).
"""

from __future__ import annotations

import copy
import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .wire import now_iso

if TYPE_CHECKING:
    from .engine import Assistant

Record = dict[str, Any]

SYSTEM_METADATA: dict[str, Any] = {"created_by": "system"}
SORTABLE = ("assistant_id", "graph_id", "name", "created_at", "updated_at")
BOTH_DETAIL = "Cannot specify both configurable and context. Prefer setting context alone. Context was introduced in LangGraph 0.6.0 and is the long term planned replacement for configurable."


def _contained(have: Any, want: Mapping[str, Any]) -> bool:
    """Postgres' `@>` as the in-memory runtime implements it (ops.py `is_jsonb_contained`)."""
    if not isinstance(have, dict):
        return False
    for key, value in want.items():
        if key not in have:
            return False
        if isinstance(value, dict) and isinstance(have[key], dict):
            if not _contained(have[key], value):
                return False
        elif have[key] != value:
            return False
    return True


def _sync(config: dict[str, Any], context: dict[str, Any] | None) -> dict[str, Any] | None:
    """Config and context kept up to date with one another (ops.py `put`/`patch`): the new context."""
    if config.get("configurable") and context:
        raise ApiError(400, BOTH_DETAIL)
    if config.get("configurable"):
        return dict(config["configurable"])
    if context:
        config["configurable"] = context
    return context


class AssistantStore:
    def __init__(self, graphs: Mapping[str, Assistant]) -> None:
        self.graphs = graphs  # the engine's registered graphs, by graph id
        self.records: dict[str, Record] = {}
        self.versions: dict[str, list[Record]] = {}
        self._created: dict[str, int] = {}  # creation order: the tie-break of the default (newest first) order
        self._seq = itertools.count()

    # -- graphs ---------------------------------------------------------------------------------------

    def add_system(self, graph: Assistant) -> None:
        """A registered graph's system assistant, as `register_graph` makes it (name and description synced)."""
        name = graph.graph.name if graph.graph.name not in (None, "LangGraph") else graph.graph_id
        existing = self.records.get(graph.assistant_id)
        if existing is None:
            self.put(graph.assistant_id, graph_id=graph.graph_id, config={}, context={}, metadata=dict(SYSTEM_METADATA), name=name, description=graph.description)
        elif existing["name"] != name or existing["description"] != graph.description:
            self.patch(graph.assistant_id, name=name, description=graph.description)

    def drop_graph(self, graph_id: str) -> None:
        """Forget every assistant of a graph the mock no longer serves."""
        for assistant_id in [a for a, r in self.records.items() if r["graph_id"] == graph_id]:
            self._forget(assistant_id)

    def reset(self) -> None:
        """Only the system assistants, at version 1, as a freshly started server has."""
        for assistant_id in list(self.records):
            self._forget(assistant_id)
        for graph in self.graphs.values():
            self.add_system(graph)

    def assert_graph(self, graph_id: str) -> None:
        if graph_id not in self.graphs:
            raise ApiError(404, f"Graph '{graph_id}' not found. Expected one of: {sorted(self.graphs)}")

    # -- records --------------------------------------------------------------------------------------

    def get(self, assistant_id: str) -> Record | None:
        return self.records.get(str(uuid.UUID(assistant_id)))

    def resolve(self, assistant_id: str) -> Record | None:
        """The assistant a run body names: a registered graph id stands for its system assistant."""
        graph = self.graphs.get(assistant_id)
        if graph is not None:
            return self.records.get(graph.assistant_id)
        try:
            return self.get(assistant_id)
        except ValueError:
            return None

    def bind(self, assistant_id: str) -> Bound | None:
        record = self.resolve(assistant_id)
        graph = self.graphs.get(record["graph_id"]) if record is not None else None
        return Bound(record, graph) if record is not None and graph is not None else None

    def put(
        self,
        assistant_id: str,
        *,
        graph_id: str,
        config: dict[str, Any],
        context: dict[str, Any] | None,
        metadata: dict[str, Any],
        name: str,
        description: str | None,
        if_exists: str = "raise",
    ) -> Record:
        """Create an assistant (ops.py `Assistants.put`)."""
        assistant_id = str(uuid.UUID(assistant_id))
        config, context = copy.deepcopy(config), copy.deepcopy(context)
        self.assert_graph(graph_id)
        context = _sync(config, context)
        existing = self.records.get(assistant_id)
        if existing is not None:
            if if_exists == "raise":
                raise ApiError(409, f"Assistant {assistant_id} already exists")
            return existing
        now = now_iso()
        fields = {"graph_id": graph_id, "config": config, "context": context or {}, "metadata": copy.deepcopy(metadata)}
        record = {"assistant_id": assistant_id, **fields, "name": name, "created_at": now, "updated_at": now, "version": 1, "description": description}
        self.records[assistant_id] = record
        self._created[assistant_id] = next(self._seq)
        self.versions[assistant_id] = [{"assistant_id": assistant_id, "version": 1, **fields, "created_at": now, "name": name, "description": description}]
        return record

    def patch(
        self,
        assistant_id: str,
        *,
        graph_id: str | None = None,
        config: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> Record:
        """Update an assistant as a new version (ops.py `Assistants.patch`): metadata is merged, the rest replaced."""
        assistant_id = str(uuid.UUID(assistant_id))
        config, context, metadata = copy.deepcopy(config or {}), copy.deepcopy(context), metadata or {}
        if graph_id is not None:
            self.assert_graph(graph_id)
        context = _sync(config, context)
        record = self.records.get(assistant_id)
        if record is None:
            raise ApiError(404, f"Assistant {assistant_id} not found")
        now = now_iso()
        version = max(v["version"] for v in self.versions[assistant_id]) + 1
        entry = {
            "assistant_id": assistant_id,
            "version": version,
            "graph_id": graph_id if graph_id is not None else record["graph_id"],
            "config": config or record["config"],
            "context": context if context is not None else record["context"],
            "metadata": {**record["metadata"], **copy.deepcopy(metadata)},
            "created_at": now,
            "name": name if name is not None else record["name"],
            "description": description if description is not None else record["description"],
        }
        self.versions[assistant_id].append(entry)
        record.update({k: entry[k] for k in ("graph_id", "config", "context", "metadata", "name", "description")}, updated_at=now, version=version)
        return record

    def delete(self, assistant_id: str) -> None:
        assistant_id = str(uuid.UUID(assistant_id))
        if assistant_id not in self.records:
            raise ApiError(404, f"Assistant with ID {assistant_id} not found")
        self._forget(assistant_id)

    def _forget(self, assistant_id: str) -> None:
        self.records.pop(assistant_id, None)
        self.versions.pop(assistant_id, None)
        self._created.pop(assistant_id, None)

    # -- versions -------------------------------------------------------------------------------------

    def list_versions(self, assistant_id: str, metadata: dict[str, Any], limit: int, offset: int) -> list[Record]:
        """Newest first; an unknown assistant, or no version matching `metadata`, is a 404 (api/assistants.py)."""
        assistant_id = str(uuid.UUID(assistant_id))
        found = [v for v in self.versions.get(assistant_id, []) if not metadata or _contained(v["metadata"], metadata)]
        found.sort(key=lambda v: v["version"], reverse=True)
        shown = found[offset : offset + limit]
        if not shown:
            raise ApiError(404, f"Assistant {assistant_id} not found")
        return shown

    def set_latest(self, assistant_id: str, version: Any) -> Record:
        """Make a version current: its config, metadata, name and description (its graph and context stay)."""
        assistant_id = str(uuid.UUID(assistant_id))
        record = self.records.get(assistant_id)
        if record is None:
            raise ApiError(404, f"Assistant {assistant_id} not found")
        entry = next((v for v in self.versions[assistant_id] if v["version"] == version), None)
        if entry is None:
            raise ApiError(404, f"Version {version} not found for assistant {assistant_id}")
        record.update({k: entry[k] for k in ("config", "metadata", "version", "name", "description")}, updated_at=now_iso())
        return record

    # -- search ---------------------------------------------------------------------------------------

    def matching(self, graph_id: str | None, name: str | None, metadata: dict[str, Any] | None) -> list[Record]:
        if graph_id is not None:
            self.assert_graph(graph_id)
        return [
            r
            for r in self.records.values()
            if (not graph_id or r["graph_id"] == graph_id) and (not name or name.lower() in r["name"].lower()) and (not metadata or _contained(r["metadata"], metadata))
        ]

    def ordered(self, records: list[Record], sort_by: str | None, sort_order: str | None) -> list[Record]:
        """`sort_by` (strings case-insensitively), descending unless `sort_order` is `asc`; newest first by default."""
        sort_by = sort_by.lower() if sort_by else None
        if sort_by not in SORTABLE:
            return sorted(records, key=lambda r: (r["created_at"], self._created[r["assistant_id"]]), reverse=True)
        reverse = not (sort_order and sort_order.upper() == "ASC")
        if sort_by in ("name", "graph_id"):
            return sorted(records, key=lambda r: str(r[sort_by]).lower() if r[sort_by] else "", reverse=reverse)
        return sorted(records, key=lambda r: r[sort_by], reverse=reverse)


@dataclass(frozen=True)
class Bound:
    """An assistant with the registered graph it runs: what a run is created with."""

    record: Record
    graph: Assistant

    @property
    def assistant_id(self) -> str:
        return str(self.record["assistant_id"])

    @property
    def graph_id(self) -> str:
        return self.graph.graph_id

    def apply(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The run body with the assistant's config, context and metadata under the run's own (ops.py `Runs.put`)."""
        config, context = self.record["config"], self.record["context"]
        payload = {**payload, "metadata": {**self.record["metadata"], **(payload.get("metadata") or {})}}
        if config:
            run_config = payload.get("config") or {}
            configurable = {**(config.get("configurable") or {}), **(run_config.get("configurable") or {})}
            payload["config"] = {**copy.deepcopy(config), **run_config, "configurable": configurable}
        if context:
            payload["context"] = {**copy.deepcopy(context), **(payload.get("context") or {})}
        return payload

    def thread_config(self, current: dict[str, Any], run_config: dict[str, Any] | None) -> dict[str, Any]:
        """A thread's `config` once this assistant runs on it (ops.py `Runs.put`)."""
        config = self.record["config"]
        configurable = {**(config.get("configurable") or {}), **(current.get("configurable") or {})}
        return {**(copy.deepcopy(config) if config else {}), **current, **(run_config or {}), "configurable": configurable}
