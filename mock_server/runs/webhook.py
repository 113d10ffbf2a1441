"""`webhook`: a finished run POSTed to the URL its create body named, with the official server's payload.

The payload is the run as `GET .../runs/{run_id}` shows it, with its final `status`, `run_started_at`,
`run_ended_at`, `webhook_sent_at`, the thread's `values` at the end, and `error` for a failed run (langgraph-api
0.16.7, `webhook.py:call_webhook`). A failed delivery is logged, never retried, and never changes the run.

One deliberate difference: the official server refuses loopback webhooks (`localhost`, `127.0.0.1`) unless
configured otherwise, for SSRF safety; the mock accepts them, because a test's receiver runs on loopback. Relative
URLs are refused with the official 422, as they would call the server's own routes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import httpx

from ..errors import ApiError
from ..views import run_view
from ..wire import dumps, now_iso

if TYPE_CHECKING:
    from ..store import Run, Thread

logger = logging.getLogger("hitl_mock")
RELATIVE = (
    "Loopback webhooks (relative URLs and localhost) are disabled by default. They bypass authentication via the "
    "in-process ASGI transport and can be abused to invoke internal routes as an unauthenticated caller. Set "
    "webhooks.url.disable_loopback to false (in langgraph.json or via LANGGRAPH_WEBHOOKS) to opt back in — only do so "
    "when you control the mounted routes."
)
TIMEOUT = 10.0


def check_webhook(url: Any) -> None:
    """Refuse, at run creation, a webhook the mock cannot call (422, as the official server does)."""
    if not url:
        return
    url = str(url)
    if url.startswith("/"):
        raise ApiError(422, RELATIVE)
    if not urlparse(url).hostname:
        raise ApiError(422, f"Invalid webhook hostname '{urlparse(url).hostname or ''}'")


class Webhooks:
    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self.sent = 0

    def send(self, run: Run, thread: Thread | None, started_at: str) -> None:
        """POST the finished run to its webhook in the background (the payload is taken now)."""
        url = run.payload.get("webhook")
        if not url:
            return
        payload = {
            **run_view(run),
            "status": run.status,
            "run_started_at": started_at,
            "run_ended_at": now_iso(),
            "values": thread.values if thread is not None else None,
        }
        if run.status == "error" and thread is not None and thread.error is not None:
            payload["error"] = thread.error
        task = asyncio.get_running_loop().create_task(self._post(str(url), payload), name=f"webhook-{run.run_id}")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _post(self, url: str, payload: dict[str, Any]) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT)
        body = dumps({**payload, "webhook_sent_at": now_iso()})
        try:
            response = await self._client.post(url, content=body, headers={"content-type": "application/json"})
            response.raise_for_status()
            self.sent += 1
        except httpx.HTTPError as exc:
            logger.warning("hitl-mock: webhook %s for run %s failed: %s", url, payload["run_id"], exc)

    async def close(self) -> None:
        if self._sending:
            await asyncio.wait(self._sending, timeout=TIMEOUT)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
