"""Auth as a deployment does it: `--auth api-key:KEY` or `--auth users.yaml` (`Settings.auth`).

What the official server (langgraph-api 0.16.7, read in .venv-reference) answers, and so what this module answers:

- Auth runs only on the protected routes: `api/__init__.py:145-153` keeps `/`, `/info`, `/ok`, `/metrics`, `/docs`
  and `/openapi.json` (GET, and so HEAD) outside the protected mount, and `auth/middleware.py:55` lets `GET /ui...`
  through. Every other request, unknown paths and wrong methods included (`server.py:178`: the protected mount is
  `Mount("")`, it matches any path), is refused before routing. CORS is global middleware (`server.py:77-96`), outside
  auth: a preflight is answered without credentials, and a refusal carries the CORS headers. An `OPTIONS` that is not a
  preflight is refused like any request. The mock's `/__mock__/` admin routes are not the contract's: they keep their
  own `--admin-token` (api/admin_guard.py).
- A refusal is `auth/middleware.py:37-41` (`on_error`): `{"detail": str(exc)}` as JSON, status 401 only when the
  exception carries `status_code == 401`, else 403; no `WWW-Authenticate` header.
- `api-key:KEY` is LangGraph Platform's own auth (`LANGGRAPH_AUTH_TYPE=langsmith`, `auth/langsmith/backend.py`): none of
  Authorization, X-Tenant-Id, X-Api-Key, X-Service-Key, Cookie, X-User-Id sent -> 403 "Missing authentication
  headers" (line 59); otherwise LangSmith checks them and a key it rejects (its 401) -> 403 "Invalid token" (line 81).
  Starlette's AuthenticationError has no status code, so it is always 403. Here the one valid credential is
  `x-api-key: KEY`; nothing is scoped (every key holder sees everything, as on the platform).
- `users.yaml` is custom auth (`auth/custom.py`) with the handler below: an `Auth.exceptions.HTTPException(401)` raised
  by `@auth.authenticate` keeps its 401 and detail (custom.py:236-238, errors.py `AuthError`). Then the docs' resource
  authorization pattern, registered for threads (`@auth.on.threads`: it stamps `metadata["owner"] = identity` on what
  is created or updated and returns the filter `{"owner": identity}`): what another user owns looks missing. Verified
  against `langgraph dev` with that module (tests/test_auth.py); the answers are the missing-thread ones, as
  `langgraph_runtime_inmem/ops.py` filters: 404 "Thread with ID .. not found" (get, delete, state, history, runs,
  run get), "Not Found" (patch, run delete), "Thread or assistant not found." (run create, even with
  if_not_exists=create), "No runs found to cancel." (cancel), "Thread not found" (join: 404, join stream: an SSE
  error, ops.py:3244-3261), 409 "already exists" for a thread id another user has (if_exists=do_nothing too), and
  search and count see only the caller's threads. A thread without an owner belongs to nobody.

    @auth.authenticate
    async def authenticate(authorization: str | None):
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Auth.exceptions.HTTPException(status_code=401, detail="Missing bearer token")
        user = USERS.get(token.strip())  # users.yaml
        if user is None:
            raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid token")
        return {"identity": user["identity"], "permissions": user.get("permissions", [])}

    @auth.on.threads
    async def owner_only(ctx, value):
        metadata = value.setdefault("metadata", {})  # changed in place: the server keeps its own reference
        metadata["owner"] = ctx.user.identity
        return {"owner": ctx.user.identity}

The caller of the request being handled is `CALLER` (a context variable, None unless users mode); `owned`, `stamp`,
`claim` and `hidden` are the owner scoping that thread lookups, creation and search use.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .journal import ADMIN_PREFIX
from .wire import dumps, is_uuid

if TYPE_CHECKING:
    from .store import Store, Thread

OPEN_PATHS = frozenset({"/", "/ok", "/info", "/metrics", "/docs", "/openapi.json"})  # GET and HEAD only
LANGSMITH_HEADERS = ("authorization", "x-tenant-id", "x-api-key", "x-service-key", "cookie", "x-user-id")
USERS_FORMAT = "users: a mapping of bearer tokens to users, each an identity or {identity: NAME, permissions: [...]}"

CALLER: ContextVar[str | None] = ContextVar("hitl_mock_caller", default=None)


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    detail: str


@dataclass(frozen=True, slots=True)
class ApiKeyAuth:
    """LangGraph Platform's API-key auth: `x-api-key: <key>` on every protected route."""

    key: str = field(repr=False)  # kept out of reprs (Settings is printed in test failures)

    def authenticate(self, headers: Headers) -> Refusal | None:
        if not any(headers.get(name) for name in LANGSMITH_HEADERS):
            return Refusal(403, "Missing authentication headers")
        if not hmac.compare_digest(headers.get("x-api-key", "").encode(), self.key.encode()):
            return Refusal(403, "Invalid token")
        return None


@dataclass(frozen=True, slots=True)
class User:
    identity: str
    permissions: tuple[str, ...] = ()  # what `@auth.authenticate` would return; the owner scoping does not use them


@dataclass(frozen=True, slots=True)
class UsersAuth:
    """Custom auth: `Authorization: Bearer <token>`, each token one user; threads and runs scoped to their owner."""

    users: tuple[tuple[str, User], ...] = field(repr=False)  # (bearer token, user)

    def authenticate(self, headers: Headers) -> Refusal | User:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Refusal(401, "Missing bearer token")
        given = token.strip().encode()
        found = [user for known, user in self.users if hmac.compare_digest(given, known.encode())]
        return found[0] if found else Refusal(401, "Invalid token")


AuthMode = ApiKeyAuth | UsersAuth


class AuthMiddleware:
    """Refuses what the official server refuses (see the module docstring); in users mode, sets `CALLER`."""

    def __init__(self, app: ASGIApp, mode: AuthMode) -> None:
        self.app = app
        self.mode = mode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _open(scope["method"], scope["path"]):
            return await self.app(scope, receive, send)
        outcome = self.mode.authenticate(Headers(scope=scope))
        if isinstance(outcome, Refusal):
            response = Response(dumps({"detail": outcome.detail}), status_code=outcome.status, media_type="application/json")
            return await response(scope, receive, send)
        token = CALLER.set(outcome.identity if outcome is not None else None)
        try:
            await self.app(scope, receive, send)
        finally:
            CALLER.reset(token)


def _open(method: str, path: str) -> bool:
    """The routes the official server serves without auth (and the mock's admin routes)."""
    if path.startswith(ADMIN_PREFIX):
        return True
    return (method in ("GET", "HEAD") and path in OPEN_PATHS) or (method == "GET" and path.startswith("/ui"))


# -- owner scoping (users mode): what `@auth.on.threads` does with {"owner": identity} --------------------------


def owned(thread: Thread) -> bool:
    """Whether the caller may see `thread` (always, unless users mode)."""
    caller = CALLER.get()
    return caller is None or thread.metadata.get("owner") == caller


def stamp(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    """Metadata being created or updated, with `owner` set to the caller (unchanged unless users mode)."""
    caller = CALLER.get()
    return metadata if caller is None else {**(metadata or {}), "owner": caller}


def claim(thread: Thread | None) -> None:
    """A thread a run just created (stateless, or `if_not_exists=create`) belongs to the caller, as on the official
    server, where the run's stamped metadata becomes the new thread's."""
    caller = CALLER.get()
    if caller is not None and thread is not None and "owner" not in thread.metadata:
        thread.metadata = {**thread.metadata, "owner": caller}


def hidden(store: Store, thread_id: str) -> bool:
    """Users mode: whether a (well-formed) thread id names no thread the caller owns. Joins, cancel and run delete
    answer that before looking for the run, as the official server does once auth filters apply."""
    if CALLER.get() is None or not is_uuid(thread_id):
        return False
    thread = store.threads.get(str(uuid.UUID(thread_id)))
    return thread is None or not owned(thread)


# -- configuration ---------------------------------------------------------------------------------------------


def parse_auth(value: str | Path | Mapping[str, Any] | AuthMode) -> AuthMode:
    """`api-key:KEY`, a users YAML file, or a users document already parsed; ValueError with a one-line reason."""
    if isinstance(value, ApiKeyAuth | UsersAuth):
        return value
    if isinstance(value, Mapping):
        return users_from(value)
    if isinstance(value, str) and value.startswith("api-key:"):
        key = value.removeprefix("api-key:")
        if not key.strip():
            raise ValueError("api-key: needs the key, e.g. --auth api-key:my-secret")
        return ApiKeyAuth(key)
    path = Path(value)
    if not path.is_file():
        raise ValueError(f"{str(value)!r} is neither api-key:KEY nor an existing users file")
    return load_users(path)


def load_users(path: Path) -> UsersAuth:
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    try:
        return users_from(document)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def users_from(document: object) -> UsersAuth:
    """A users document (`{"users": {token: identity | {identity, permissions}}}`) as `UsersAuth`."""
    if not isinstance(document, Mapping) or set(document) != {"users"}:
        raise ValueError(f"expected one top-level key, {USERS_FORMAT}")
    users = document["users"]
    if not isinstance(users, Mapping) or not users:
        raise ValueError(f"expected {USERS_FORMAT} (at least one)")
    return UsersAuth(tuple((_token(token), _user(token, value)) for token, value in users.items()))


def _token(token: object) -> str:
    if not isinstance(token, str) or not token or any(c.isspace() for c in token):
        raise ValueError(f"users: the token {token!r} must be a string without spaces")
    return token


def _user(token: str, value: object) -> User:
    where = f"users.{token}"
    if isinstance(value, str):
        value = {"identity": value}
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be an identity or {{identity: NAME, permissions: [...]}}, not {value!r}")
    unknown = sorted(str(k) for k in value if k not in ("identity", "permissions"))
    if unknown:
        raise ValueError(f"{where}: unknown key {', '.join(unknown)} (a user has identity and, optionally, permissions)")
    identity = value.get("identity")
    if not isinstance(identity, str) or not identity.strip():
        raise ValueError(f"{where}.identity must be a non-empty string")
    permissions = value.get("permissions", [])
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise ValueError(f"{where}.permissions must be a list of strings")
    return User(identity, tuple(permissions))


def describe(mode: AuthMode) -> str:
    """One line for the CLI's start-up message."""
    if isinstance(mode, ApiKeyAuth):
        return "an x-api-key is required (403 without the right one), as on LangGraph Platform"
    names = sorted({user.identity for _, user in mode.users})
    return f"bearer tokens of {len(names)} users ({', '.join(names)}); each sees only their own threads and runs"
