"""The agent tree of one run on a thread stream: each namespace (subgraph path) with its lifecycle status and graph
name, as the official session tracks them (langgraph_api/event_streaming/session.py, `namespace.py`); it answers
`agent.getTree` and says which lifecycle events are due."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Namespace = list[str]


def ns_key(namespace: Namespace) -> str:
    return "\0".join(namespace)


def is_prefix(namespace: Namespace, prefix: Namespace) -> bool:
    """Whether `namespace` starts with `prefix`; a prefix segment without `:` also matches `name:<task id>`."""
    if len(prefix) > len(namespace):
        return False
    for segment, candidate in zip(prefix, namespace, strict=False):
        if candidate == segment or (":" not in segment and candidate.split(":")[0] == segment):
            continue
        return False
    return True


def guess_graph_name(namespace: Namespace) -> str:
    return namespace[-1].split(":")[0] if namespace else "root"


@dataclass(slots=True)
class Node:
    namespace: Namespace
    status: str
    graph_name: str


class AgentTree:
    def __init__(self, root_graph: str) -> None:
        self.root_graph = root_graph
        self.nodes: dict[str, Node] = {}
        self.announced: set[str] = set()  # namespaces whose `lifecycle.started` went on the wire

    def graph_name(self, namespace: Namespace, given: str | None = None) -> str:
        current = self.nodes.get(ns_key(namespace))
        return given or (current.graph_name if current else None) or (self.root_graph if not namespace else guess_graph_name(namespace))

    def set(self, namespace: Namespace, status: str, graph_name: str | None = None) -> None:
        self.nodes[ns_key(namespace)] = Node(namespace, status, self.graph_name(namespace, graph_name))

    def register(self, namespace: Namespace) -> None:
        """Mark every prefix of `namespace` as started, without a wire event."""
        for length in range(1, len(namespace) + 1):
            node = self.nodes.get(ns_key(namespace[:length]))
            if node is None or node.status != "started":
                self.set(namespace[:length], "started", node.graph_name if node else None)

    def changes(self, namespace: Namespace, status: str, graph_name: str | None, extra: bool) -> str | None:
        """The graph name a lifecycle event for this transition carries, or None when it would repeat the last one."""
        if namespace and ns_key(namespace) not in self.nodes:
            self.register(namespace)
        name = self.graph_name(namespace, graph_name)
        current = self.nodes.get(ns_key(namespace))
        if current is not None and current.status == status and current.graph_name == name and not extra:
            return None
        self.set(namespace, status, name)
        return name

    def child_of(self, parent: Namespace, node_name: str) -> Node | None:
        """The oldest still-open child `[*parent, "<node>:<task>"]`, which an `updates` event from `node` closes."""
        if not node_name or node_name.startswith("__"):
            return None
        for node in self.nodes.values():
            ns = node.namespace
            under = len(ns) == len(parent) + 1 and node.status == "started" and ns[: len(parent)] == parent
            if under and (ns[-1] == node_name or ns[-1].startswith(f"{node_name}:")):
                return node
        return None

    def stale(self, current: Namespace) -> list[Node]:
        """Open namespaces execution has left (deepest first); the root is never stale."""
        found = [n for n in self.nodes.values() if n.status == "started" and n.namespace and not is_prefix(current, n.namespace)]
        return sorted(found, key=lambda n: len(n.namespace), reverse=True)

    def tree(self, namespace: Namespace | None = None) -> dict[str, Any]:
        namespace = namespace or []
        current = self.nodes.get(ns_key(namespace)) or Node(namespace, "started", self.graph_name(namespace))
        children = sorted(
            (n for n in self.nodes.values() if len(n.namespace) == len(namespace) + 1 and is_prefix(n.namespace, namespace)),
            key=lambda n: n.namespace,
        )
        out: dict[str, Any] = {"namespace": current.namespace, "status": current.status, "graph_name": current.graph_name}
        if children:
            out["children"] = [self.tree(c.namespace) for c in children]
        return out
