"""Where graphs come from: scenario files (YAML/JSON) compiled into real LangGraph `StateGraph`s, and
Python graphs listed in a `langgraph.json` (the file `langgraph dev` reads).

A scenario node is a list of steps run in order. Values are templates: `"{state.some_text}"` alone is
the value itself (any JSON type); inside a longer string it is formatted with `str()`, as an f-string
would; `{{` and `}}` are literal braces. Names bound with `as:` / `set:` are in scope for later steps, and
`last_human` is the content of the last human message in `state.messages`.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import inspect
import json
import operator
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict

import jsonschema
import yaml
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGenerationChunk
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.pregel import Pregel
from langgraph.types import Command, interrupt

from .faults import parse_faults
from .wire import exception_named

SCHEMA_PATH = Path(__file__).with_name("scenario.schema.json")
STEP_KINDS = ("interrupt", "set", "update", "say", "message", "emit", "sleep", "raise", "if", "goto")
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


class ScenarioError(Exception):
    """A scenario file or langgraph.json that cannot be loaded; the message names the file and the place."""


@dataclass
class LoadedGraph:
    graph_id: str
    graph: Pregel
    source: str
    description: str | None = None
    faults: list[Any] = field(default_factory=list)


# -- templates ------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\}")
_SINGLE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\}$")


def lookup(path: str, scope: dict[str, Any]) -> Any:
    """`a.b.0.c` in scope; a missing key or index gives None (so conditions can test for absence)."""
    head, *rest = path.split(".")
    value = scope.get(head)
    for part in rest:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, (list, tuple)) and re.fullmatch(r"-?\d+", part):
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else None
        else:
            value = getattr(value, part, None) if hasattr(value, "model_fields") else None
    return value


def render(template: Any, scope: dict[str, Any]) -> Any:
    if isinstance(template, str):
        single = _SINGLE.match(template)
        if single:
            return lookup(single.group(1), scope)

        def sub(m: re.Match[str]) -> str:
            if m.group(0) == "{{":
                return "{"
            if m.group(0) == "}}":
                return "}"
            return str(lookup(m.group(1), scope))

        return _TOKEN.sub(sub, template)
    if isinstance(template, dict):
        return {key: render(value, scope) for key, value in template.items()}
    if isinstance(template, list):
        return [render(item, scope) for item in template]
    return template


def check(condition: Any, scope: dict[str, Any]) -> bool:
    if not isinstance(condition, dict):
        return bool(render(condition, scope))
    if "all" in condition:
        return all(check(c, scope) for c in condition["all"])
    if "any" in condition:
        return any(check(c, scope) for c in condition["any"])
    if "not" in condition:
        return not check(condition["not"], scope)
    value = render(condition.get("value"), scope)
    if "equals" in condition:
        return bool(value == render(condition["equals"], scope))
    if "in" in condition:
        return value in render(condition["in"], scope)
    if "contains" in condition:
        needle = render(condition["contains"], scope)
        return isinstance(value, (str, list, dict)) and (needle in value if not isinstance(value, str) else str(needle) in value)
    if "matches" in condition:
        return isinstance(value, str) and re.search(condition["matches"], value) is not None
    if "schema" in condition:
        return _satisfies(value, condition["schema"])
    if "exists" in condition:
        return (value is not None) == condition["exists"]
    return bool(value)


def _satisfies(value: Any, schema: Any) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(value)


# -- steps ----------------------------------------------------------------------------------------------

_MESSAGE_TYPES = {"ai": AIMessage, "human": HumanMessage, "system": SystemMessage, "tool": ToolMessage}


class ScriptedChatModel(GenericFakeChatModel):
    """LangChain's fake chat model, streaming its scripted message token by token (with a pause per token)
    and its tool calls as tool-call chunks. Invoked inside a node, LangGraph streams the tokens as
    `messages` events exactly as it does for a real model."""

    token_delay: float = 0.0

    async def _astream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        message = next(self.messages)
        tokens = [t for t in re.split(r"(\s)", message.content if isinstance(message.content, str) else "") if t]
        calls = message.tool_calls if isinstance(message, AIMessage) else []
        for i, token in enumerate(tokens):
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            last = i == len(tokens) - 1 and not calls
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token, chunk_position="last" if last else None))
            if run_manager:
                await run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        if calls:
            call_chunks = [{"name": c["name"], "args": json.dumps(c["args"]), "id": c.get("id"), "index": i} for i, c in enumerate(calls)]
            chunk = ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=call_chunks, chunk_position="last"))
            if run_manager:
                await run_manager.on_llm_new_token("", chunk=chunk)
            yield chunk


async def _say(step: dict[str, Any], scope: dict[str, Any], out: _Output) -> None:
    text = render(step["say"], scope)
    calls = [{**c, "id": c.get("id") or f"call_{i}"} for i, c in enumerate(render(step.get("tool_calls") or [], scope))]
    model = ScriptedChatModel(messages=iter([AIMessage(content=str(text), tool_calls=calls)]), token_delay=scope.get("__token_delay__", 0.0))
    state_messages = (scope.get("state") or {}).get(step.get("to", "messages")) or []
    message = await model.ainvoke(list(state_messages))
    out.update.setdefault(step.get("to", "messages"), []).append(message)


@dataclass
class _Output:
    update: dict[str, Any] = field(default_factory=dict)
    goto: Any = None


def _exception(spec: Any, scope: dict[str, Any]) -> Exception:
    if isinstance(spec, str):
        return ValueError(render(spec, scope))
    return exception_named(spec.get("type", "ValueError"), render(spec["message"], scope))


async def _run_steps(steps: list[dict[str, Any]], scope: dict[str, Any], out: _Output) -> bool:
    """Run steps in order; True when a `goto` ended the node."""
    for step in steps:
        if "interrupt" in step:
            kwargs = {"response_schema": step["response_schema"]} if "response_schema" in step else {}
            answer = interrupt(render(step["interrupt"], scope), **kwargs)
            if "until" in step:
                while not _satisfies(answer, step["until"]):
                    retry_scope = {**scope, step.get("as", "answer"): answer}
                    answer = interrupt(render(step.get("retry", step["interrupt"]), retry_scope), **kwargs)
            if "as" in step:
                scope[step["as"]] = answer
        elif "set" in step:
            for name, value in step["set"].items():
                scope[name] = render(value, scope)
        elif "update" in step:
            out.update.update(render(step["update"], scope))
        elif "say" in step:
            await _say(step, scope, out)
        elif "message" in step:
            spec = render(step["message"], scope)
            cls = _MESSAGE_TYPES[spec.pop("type", "ai")]
            out.update.setdefault(step.get("to", "messages"), []).append(cls(**spec))
        elif "emit" in step:
            get_stream_writer()(render(step["emit"], scope))
        elif "sleep" in step:
            seconds = render(step["sleep"], scope)
            if seconds:
                await asyncio.sleep(float(seconds))
        elif "raise" in step:
            raise _exception(step["raise"], scope)
        elif "if" in step:
            branch = step.get("then", []) if check(step["if"], scope) else step.get("else", [])
            if await _run_steps(branch, scope, out):
                return True
        elif "goto" in step:
            out.goto = render(step["goto"], scope)
            return True
    return False


def _last_human(state: dict[str, Any]) -> Any:
    for message in reversed(state.get("messages") or []):
        kind = message.get("type", message.get("role")) if isinstance(message, dict) else getattr(message, "type", None)
        if kind in ("human", "user"):
            return message.get("content") if isinstance(message, dict) else message.content
    return None


def _make_node(name: str, steps: list[dict[str, Any]], pacing: dict[str, float]) -> Callable[..., Any]:
    async def node(state: dict[str, Any]) -> Any:
        if pacing.get("step_delay"):
            await asyncio.sleep(pacing["step_delay"])
        out = _Output()
        scope = {"state": state, "last_human": _last_human(state), "__token_delay__": pacing.get("token_delay", 0.0)}
        await _run_steps(steps, scope, out)
        if out.goto is not None:
            return Command(goto=out.goto, update=out.update or None)
        return out.update or None

    node.__name__ = name
    return node


def _gotos(steps: Iterable[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for step in steps:
        if "goto" in step:
            found += [step["goto"]] if isinstance(step["goto"], str) else list(step["goto"])
        found += _gotos(step.get("then", [])) + _gotos(step.get("else", []))
    return found


# -- compiling a scenario -------------------------------------------------------------------------------

_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "object": dict, "array": list, "any": Any}
_REDUCERS: dict[str, Callable[[Any, Any], Any]] = {
    "append": operator.add,
    "messages": add_messages,
    "merge": lambda left, right: {**(left or {}), **(right or {})},
}


@functools.cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _where(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _check_steps(steps: Any, where: str) -> None:
    """Name an unknown or ambiguous step plainly (the schema's oneOf alone would say 'not valid under any')."""
    if not isinstance(steps, list):
        return
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ScenarioError(f"{where}[{i}]: a step must be a mapping such as {{update: {{...}}}}")
        kinds = [k for k in STEP_KINDS if k in step]
        if len(kinds) != 1:
            keys = ", ".join(map(str, step)) or "nothing"
            raise ScenarioError(f"{where}[{i}]: a step needs exactly one of {', '.join(STEP_KINDS)}; it has {keys}")
        _check_steps(step.get("then"), f"{where}[{i}].then")
        _check_steps(step.get("else"), f"{where}[{i}].else")


def compile_scenario(doc: Any, source: str = "<scenario>") -> LoadedGraph:
    """Validate a scenario document and compile it into a LangGraph graph. Raises `ScenarioError`."""
    try:
        if isinstance(doc, dict) and isinstance(doc.get("nodes"), dict):
            for name, steps in doc["nodes"].items():
                _check_steps(steps, f"nodes.{name}")
        error = jsonschema.exceptions.best_match(_schema_validator().iter_errors(doc))
        if error is not None:
            raise ScenarioError(f"{_where(error.absolute_path)}: {error.message}")
        nodes: dict[str, list[dict[str, Any]]] = doc["nodes"]
        known = set(nodes) | {"START", "END"}
        for i, (sources, target) in enumerate(doc["edges"]):
            for name in [*(sources if isinstance(sources, list) else [sources]), target]:
                if name not in known:
                    raise ScenarioError(f"edges[{i}]: unknown node {name!r} (nodes: {', '.join(nodes)}, START, END)")
        for name, steps in nodes.items():
            for target in _gotos(steps):
                if target not in nodes and target != "END":
                    raise ScenarioError(f"nodes.{name}: goto {target!r} is not a node")
        if not any((s == "START" or s == ["START"]) for s, _ in doc["edges"]):
            raise ScenarioError("edges: no edge leaves START")
        try:
            faults = parse_faults(doc.get("faults") or [], graph=doc["graph_id"])
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None
        return LoadedGraph(doc["graph_id"], _build(doc), source, doc.get("description"), faults)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def _build(doc: dict[str, Any]) -> Pregel:
    fields: dict[str, Any] = {}
    for key, spec in (doc.get("state") or {}).items():
        spec = {"type": spec} if not isinstance(spec, dict) else spec
        annotation = _TYPES[spec.get("type") or "any"] if spec.get("type") else Any
        if spec.get("reducer"):
            container = dict if spec["reducer"] == "merge" else list
            annotation = Annotated[container, _REDUCERS[spec["reducer"]]]
        fields[key] = annotation
    state = TypedDict(f"{doc['graph_id']}_state", fields, total=False)  # type: ignore[operator]
    builder = StateGraph(state)
    for name, steps in doc["nodes"].items():
        targets = tuple(dict.fromkeys(END if t == "END" else t for t in _gotos(steps)))
        builder.add_node(name, _make_node(name, steps, doc.get("pacing") or {}), destinations=targets or None)
    ends = {"START": START, "END": END}
    for sources, target in doc["edges"]:
        if isinstance(sources, list):
            builder.add_edge([ends.get(s, s) for s in sources], ends.get(target, target))
        else:
            builder.add_edge(ends.get(sources, sources), ends.get(target, target))
    return builder.compile()


# -- loading files --------------------------------------------------------------------------------------


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


def _import_graph(base: Path, ref: str, where: str) -> Pregel:
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
