"""Payload shaping on thread streams, as the official server does it (langgraph_api/event_streaming/
`event_normalizers.py` and `state_normalizers.py`): interrupts become `{interrupt_id, payload}`, `updates` name their
node, and messages inside `values` / `updates` are rewritten to the protocol's message shape."""

from __future__ import annotations

import json
from typing import Any

MESSAGE_TYPES = frozenset({"human", "user", "ai", "assistant", "system", "tool", "function", "remove"})
BLOCK_TYPES = frozenset(
    {
        "text", "reasoning", "tool_call", "tool_call_chunk", "invalid_tool_call", "server_tool_call",
        "server_tool_call_chunk", "server_tool_call_result", "image", "audio", "video", "file", "non_standard",
    }
)  # fmt: skip
AUDIO_MIME = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm16": "audio/wav", "pcm": "audio/wav", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac"}


# -- interrupts and updates ------------------------------------------------------------------------------------


def input_requests(value: Any) -> list[dict[str, Any]]:
    """`{interrupt_id, payload}` for each interrupt in a list, or in a payload's `__interrupt__`."""
    items = value if isinstance(value, list) else value.get("__interrupt__") if isinstance(value, dict) else None
    out = []
    for entry in items if isinstance(items, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            out.append({"interrupt_id": entry["id"], **({"payload": entry["value"]} if "value" in entry else {})})
    return out


def strip_interrupts(value: Any) -> tuple[list[dict[str, Any]], Any]:
    """The interrupts a values payload carries, and the payload without `__interrupt__`."""
    found = input_requests(value)
    if not isinstance(value, dict) or "__interrupt__" not in value:
        return found, value
    return found, {k: v for k, v in value.items() if k != "__interrupt__"}


def split_update(value: Any) -> tuple[str | None, Any]:
    """An `updates` payload as (node, values): a one-key dict names its node; values that are not a dict are wrapped."""
    node: str | None = None
    if isinstance(value, dict) and len(value) == 1:
        node, value = next(iter(value.items()))
    return node, value if isinstance(value, dict) else {"value": value}


def has_state(value: Any) -> bool:
    return not isinstance(value, dict) or bool(value)


# -- messages in state -----------------------------------------------------------------------------------------


def _audio_block(extra: dict[str, Any] | None) -> dict[str, Any] | None:
    audio = extra.get("audio") if extra else None
    if not isinstance(audio, dict) or not (isinstance(audio.get("data"), str) or isinstance(audio.get("url"), str)):
        return None
    block: dict[str, Any] = {"type": "audio"}
    for key in ("id", "url", "data"):
        if isinstance(audio.get(key), str):
            block[key] = audio[key]
    fmt = audio["format"].lower() if isinstance(audio.get("format"), str) else None if isinstance(audio.get("mime_type"), str) else "wav"
    if isinstance(audio.get("mime_type"), str):
        block["mime_type"] = audio["mime_type"]
    elif fmt in AUDIO_MIME:
        block["mime_type"] = AUDIO_MIME[fmt]
    if isinstance(audio.get("transcript"), str):
        block["transcript"] = audio["transcript"]
    return block


def _block(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        return None
    if value["type"] in BLOCK_TYPES:
        return value
    if value["type"] == "image_url":
        image = value.get("image_url")
        url = image if isinstance(image, str) else image.get("url") if isinstance(image, dict) else None
        return {"type": "image", "url": url} if isinstance(url, str) else None
    if value["type"] == "input_audio":
        raw = value.get("input_audio")
        if not isinstance(raw, dict):
            return None
        return {"type": "audio", **{k: raw[k] for k in ("data", "mime_type") if isinstance(raw.get(k), str)}}
    return {"type": "non_standard", "value": {**value}}


def _content(content: Any, extra: dict[str, Any] | None) -> Any:
    audio = _audio_block(extra)
    if isinstance(content, str):
        return content if audio is None else [*([{"type": "text", "text": content}] if content else []), audio]
    if not isinstance(content, list):
        return [audio] if audio is not None else content
    blocks = [{"type": "text", "text": e} if isinstance(e, str) else _block(e) for e in content]
    kept = [b for b in blocks if b is not None]
    if audio is not None and not any(b.get("type") == "audio" for b in kept):
        kept.append(audio)
    return kept or content


def _identity(raw: dict[str, Any]) -> dict[str, str]:
    """A raw tool call's `id` and `name` (also read from an OpenAI-style `function`), when they are strings."""
    fn: dict[str, Any] = raw["function"] if isinstance(raw.get("function"), dict) else {}
    name = raw.get("name") if isinstance(raw.get("name"), str) else fn.get("name")
    return {k: v for k, v in (("id", raw.get("id")), ("name", name)) if isinstance(v, str)}


def _tool_call(raw: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """A state tool call as `tool_call` (True) or `invalid_tool_call` (False)."""
    fn = raw.get("function") if isinstance(raw.get("function"), dict) else None
    ident = _identity(raw)
    args = raw["args"] if "args" in raw else fn.get("arguments") if fn else None
    ids = {"id": ident["id"]} if "id" in ident else {}
    raw_args = {"args": args} if isinstance(args, str) else {}
    if "name" not in ident:
        return {"type": "invalid_tool_call", "error": "Incomplete tool call.", **ids, **raw_args}, False
    if isinstance(args, str):
        try:
            args = json.loads(args) if args else {}
        except ValueError:
            return {"type": "invalid_tool_call", "name": ident["name"], "error": "Malformed args.", **ids, **raw_args}, False
    return {"type": "tool_call", "name": ident["name"], "args": {} if args is None else args, **ids}, True


def _invalid_calls(value: list[Any]) -> list[dict[str, Any]]:
    out = []
    for raw in value:
        if isinstance(raw, dict):
            entry: dict[str, Any] = {"type": "invalid_tool_call", **_identity(raw)}
            entry |= {"args": raw["args"]} if isinstance(raw.get("args"), str) else {}
            out.append(entry | {"error": raw["error"] if isinstance(raw.get("error"), str) else "Malformed args."})
    return out


def _ai_calls(value: dict[str, Any], extra: dict[str, Any] | None) -> dict[str, Any]:
    raw = value.get("tool_calls") if isinstance(value.get("tool_calls"), list) and value["tool_calls"] else None
    if raw is None and extra and isinstance(extra.get("tool_calls"), list):
        raw = extra["tool_calls"]
    shaped = [_tool_call(r) for r in raw or () if isinstance(r, dict)]
    calls = [c for c, ok in shaped if ok]
    invalid = [c for c, ok in shaped if not ok]
    if isinstance(value.get("invalid_tool_calls"), list) and value["invalid_tool_calls"]:
        invalid = _invalid_calls(value["invalid_tool_calls"])
    return {**({"tool_calls": calls} if calls else {}), **({"invalid_tool_calls": invalid} if invalid else {})}


def _message(value: dict[str, Any]) -> dict[str, Any]:
    kind = {"assistant": "ai", "user": "human"}.get(value["type"], value["type"])
    extra = value["additional_kwargs"] if isinstance(value.get("additional_kwargs"), dict) else None
    message: dict[str, Any] = {"type": kind, "content": _content(value.get("content", ""), extra if kind == "ai" else None)}
    for key in ("id", "name"):
        if isinstance(value.get(key), str):
            message[key] = value[key]
    if kind in ("ai", "human") and isinstance(value.get("example"), bool):
        message["example"] = value["example"]
    if isinstance(value.get("response_metadata"), dict) and value["response_metadata"]:
        message["response_metadata"] = value["response_metadata"]
    if kind == "tool":
        message |= {"tool_call_id": value["tool_call_id"]} if isinstance(value.get("tool_call_id"), str) else {}
        message |= {"status": value["status"]} if value.get("status") in ("success", "error") else {}
        message |= {"artifact": value["artifact"]} if "artifact" in value else {}
    return message | (_ai_calls(value, extra) if kind == "ai" else {})


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str) and {"assistant": "ai", "user": "human"}.get(value["type"], value["type"]) in MESSAGE_TYPES


def state_payload(value: Any) -> Any:
    """A `values` / `updates` payload with its messages in protocol shape and without `__interrupt__`."""
    if isinstance(value, list):
        return [_message(v) if _is_message(v) else state_payload(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, entry in value.items():
        if key == "__interrupt__":
            continue
        if key == "messages" and isinstance(entry, list):
            out[key] = [_message(v) if _is_message(v) else v for v in entry]
        else:
            out[key] = state_payload(entry)
    return out
