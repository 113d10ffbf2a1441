"""Auth like a deployment (`hitl-mock serve --auth`, mock_server/auth.py), through the official Python and JS SDKs:
API-key auth answered as LangGraph Platform answers it, and custom auth where each user sees only their own threads
and runs; plus one run of `langgraph dev` with the custom auth module the mock emulates, answering the same."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from langgraph_sdk.schema import Command

from hitl_spec import parse_sse
from mock_server.auth import UsersAuth, parse_auth
from mock_server.testing import MockServer, free_port

from .helpers import run
from .official import GRAPHS, LANGGRAPH, dev_server
from .test_cli import one_line_error, serving
from .test_js_client import JS, node_modules  # noqa: F401  (the fixture, used below)

KEY = "hitl-test-key"
USERS: dict[str, Any] = {"users": {"token-alice": {"identity": "alice", "permissions": ["threads:write"]}, "token-bob": "bob"}}
ALICE, BOB = {"Authorization": "Bearer token-alice"}, {"Authorization": "Bearer token-bob"}
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def keyed() -> Iterator[MockServer]:
    with MockServer(auth=f"api-key:{KEY}") as server:
        yield server


@pytest.fixture(scope="module")
def users() -> Iterator[MockServer]:
    with MockServer(auth=USERS) as server:
        yield server


async def hitl(client: Any) -> dict[str, Any]:
    """The seed flow through the Python SDK: a thread, a run to the interrupt, the resume; the thread."""
    thread = await client.threads.create()
    first = await client.runs.wait(thread["thread_id"], "agent", input={"some_text": "original"})
    assert first["__interrupt__"][0]["value"] == {"text_to_revise": "original"}
    assert await client.runs.wait(thread["thread_id"], "agent", command=Command(resume="edited")) == {"some_text": "edited"}
    done: dict[str, Any] = await client.threads.get(thread["thread_id"])
    assert done["status"] == "idle"
    return done


# -- api-key:KEY -----------------------------------------------------------------------------------------------

REFUSED_ROUTES = [("POST", "/threads"), ("POST", "/threads/search"), ("GET", f"/threads/{MISSING}/state"), ("GET", "/assistants/agent"), ("GET", "/nowhere"), ("POST", "/ok"), ("OPTIONS", "/threads")]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Missing authentication headers"),
        ({"x-api-key": "wrong"}, "Invalid token"),
        ({"Authorization": f"Bearer {KEY}"}, "Invalid token"),  # the platform takes the key in x-api-key only
        ({"Cookie": "session=1"}, "Invalid token"),
    ],
)
def test_a_missing_or_wrong_key_is_403_on_every_protected_route(keyed, headers, detail):
    for method, path in REFUSED_ROUTES:  # unknown routes and wrong methods too: auth comes before routing
        r = httpx.request(method, keyed.url + path, headers=headers, json={} if method == "POST" else None)
        assert (r.status_code, r.json(), r.headers["content-type"]) == (403, {"detail": detail}, "application/json"), (method, path)
        assert "www-authenticate" not in r.headers


def test_meta_routes_preflights_and_the_admin_api_need_no_key(keyed):
    for path in ("/ok", "/info", "/openapi.json"):
        assert httpx.get(keyed.url + path).status_code == 200, path
    origin = {"Origin": "https://app.example"}
    preflight = httpx.options(keyed.url + "/threads", headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"
    refused = httpx.post(keyed.url + "/threads", json={}, headers={**origin, "x-api-key": "wrong"})
    assert refused.status_code == 403 and refused.headers["access-control-allow-origin"] == "*"  # a page can read why
    entry = keyed.requests("POST", "^/threads$")[-1]  # /__mock__/ answers without the key (it has --admin-token)
    assert entry["status"] == 403 and "x-api-key" not in entry["headers"]


def test_python_sdk_with_the_key_runs_the_hitl_flow(keyed):
    async def scenario() -> None:
        for api_key, detail in ((None, "Missing authentication headers"), ("wrong", "Invalid token")):
            with pytest.raises(PermissionDeniedError) as caught:
                await get_client(url=keyed.url, api_key=api_key).threads.create()
            assert caught.value.response.json() == {"detail": detail}
        await hitl(get_client(url=keyed.url, api_key=KEY))

    run(scenario())


# -- users.yaml --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Missing bearer token"),
        ({"Authorization": "Bearer nobody"}, "Invalid token"),
        ({"Authorization": "Basic token-alice"}, "Missing bearer token"),
        ({"x-api-key": "token-alice"}, "Missing bearer token"),
    ],
)
def test_users_mode_needs_a_known_bearer_token(users, headers, detail):
    for method, path in REFUSED_ROUTES:
        r = httpx.request(method, users.url + path, headers=headers, json={} if method == "POST" else None)
        assert (r.status_code, r.json()) == (401, {"detail": detail}), (method, path)
    assert httpx.get(users.url + "/ok", headers=headers).status_code == 200


def test_python_sdk_users_see_only_their_own_threads_and_runs(users):
    async def scenario() -> None:
        alice = get_client(url=users.url, api_key=None, headers=ALICE)
        bob = get_client(url=users.url, api_key=None, headers=BOB)
        with pytest.raises(AuthenticationError):
            await get_client(url=users.url, api_key=None).threads.search()
        mine = await hitl(alice)
        tid = mine["thread_id"]
        assert mine["metadata"]["owner"] == "alice"
        for attempt in (bob.threads.get(tid), bob.threads.get_state(tid), bob.threads.get_history(tid), bob.runs.list(tid), bob.threads.delete(tid)):
            with pytest.raises(NotFoundError) as caught:
                await attempt
            assert caught.value.response.json() == {"detail": f"Thread with ID {tid} not found"}
        with pytest.raises(httpx.HTTPStatusError) as waited:  # runs.wait raises the plain httpx error (langgraph-sdk 0.4.14)
            await bob.runs.wait(tid, "agent", input={"some_text": "mine now"})
        assert (waited.value.response.status_code, waited.value.response.json()) == (404, {"detail": "Thread or assistant not found."})
        theirs = await hitl(bob)
        assert {t["thread_id"] for t in await alice.threads.search(limit=100)} >= {tid}
        assert tid not in {t["thread_id"] for t in await bob.threads.search(limit=100)}
        assert theirs["thread_id"] not in {t["thread_id"] for t in await alice.threads.search(limit=100)}
        assert await bob.threads.count() == len(await bob.threads.search(limit=100))
        assert [r["metadata"]["owner"] for r in await alice.runs.list(tid)] == ["alice", "alice"]

    run(scenario())


def test_what_users_cannot_change_or_reach(users):
    with httpx.Client(base_url=users.url, timeout=30) as http:
        thread = http.post("/threads", json={"metadata": {"owner": "mallory", "k": 1}}, headers=ALICE).json()
        tid = thread["thread_id"]
        assert thread["metadata"] == {"owner": "alice", "k": 1}  # stamped, whatever the body says
        assert http.patch(f"/threads/{tid}", json={"metadata": {"owner": "bob"}}, headers=ALICE).json()["metadata"]["owner"] == "alice"
        for if_exists in ("raise", "do_nothing"):  # a taken id stays taken, and is not handed over
            r = http.post("/threads", json={"thread_id": tid, "if_exists": if_exists}, headers=BOB)
            assert (r.status_code, r.json()) == (409, {"detail": f"Thread with ID {tid} already exists"})
        body = {"assistant_id": "agent", "input": {"some_text": "x"}, "if_not_exists": "create"}
        assert http.post(f"/threads/{tid}/runs/wait", json=body, headers=BOB).json() == {"detail": "Thread or assistant not found."}
        run_id = http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {"some_text": "y"}}, headers=ALICE).json()["run_id"]
        base = f"/threads/{tid}/runs/{run_id}"
        assert (http.get(base + "/join", headers=BOB).status_code, http.get(base + "/join", headers=BOB).json()) == (404, {"detail": "Thread not found"})
        assert parse_sse(http.get(base + "/stream", headers=BOB).content) == [{"event": "error", "data": {"error": "HTTPException", "message": "404: Thread not found"}}]
        assert http.post(base + "/cancel", headers=BOB).json() == {"detail": "No runs found to cancel."}
        assert http.delete(base, headers=BOB).json() == {"detail": "Not Found"}
        assert http.get(base + "/join", headers=ALICE).json()["__interrupt__"][0]["value"] == {"text_to_revise": "y"}
        created = str(uuid.uuid4())  # a thread a run creates belongs to the caller
        assert http.post(f"/threads/{created}/runs/wait", json={**body, "assistant_id": "nointerrupt", "input": {}}, headers=BOB).status_code == 200
        assert http.get(f"/threads/{created}", headers=BOB).json()["metadata"]["owner"] == "bob"
        assert http.get(f"/threads/{created}", headers=ALICE).status_code == 404


# -- the users file and the CLI ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("users: {}", "expected users: a mapping of bearer tokens to users"),
        ("tokens: {a: alice}", "expected one top-level key, users"),
        ("users: {a: {name: alice}}", "users.a: unknown key name (a user has identity and, optionally, permissions)"),
        ("users: {a: {identity: ''}}", "users.a.identity must be a non-empty string"),
        ("users: {a: {identity: alice, permissions: read}}", "users.a.permissions must be a list of strings"),
        ("users: {'a b': alice}", "the token 'a b' must be a string without spaces"),
        ("users: [alice]", "expected users: a mapping of bearer tokens to users"),
        ("users: {a: [", "not valid YAML"),
    ],
)
def test_a_bad_users_file_says_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "users.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match="^" + str(path)) as caught:
        parse_auth(str(path))
    assert message in str(caught.value)


def test_serve_auth_from_the_command_line(tmp_path):
    assert "api-key: needs the key" in one_line_error("serve", "--port", str(free_port()), "--auth", "api-key:")
    assert "is neither api-key:KEY nor an existing users file" in one_line_error("serve", "--port", str(free_port()), "--auth", str(tmp_path / "nope.yaml"))
    users_file = tmp_path / "users.yaml"
    users_file.write_text("users:\n  token-alice: alice\n  token-bob: {identity: bob}\n")
    with serving("--auth", str(users_file)) as (proc, url):
        assert httpx.post(url + "/threads", json={}).status_code == 401
        assert httpx.post(url + "/threads", json={}, headers=ALICE).json()["metadata"] == {"owner": "alice"}
    assert proc.stdout is not None and "auth: bearer tokens of 2 users (alice, bob)" in proc.stdout.read()


# -- the JS SDK ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("node_modules")
@pytest.mark.parametrize("sdk", ["sdk-1.15.0", "sdk-2.0.0"])
def test_js_sdk_in_both_modes(sdk, keyed, users):
    for mode, url, secrets in (("api-key", keyed.url, [KEY]), ("users", users.url, ["token-alice", "token-bob"])):
        proc = subprocess.run(["node", "auth.mjs", sdk, mode, url, *secrets], cwd=JS, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{sdk} {mode}:\n{proc.stdout}\n{proc.stderr}"
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        assert summary == {"sdk": sdk, "mode": mode, "checks": 4 if mode == "api-key" else 10, "ok": True}


# -- parity: `langgraph dev` with the custom auth module the mock emulates ---------------------------------------

REFERENCE_AUTH = '''
from langgraph_sdk import Auth

USERS = __USERS__
auth = Auth()


@auth.authenticate
async def authenticate(authorization: str | None):
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Auth.exceptions.HTTPException(status_code=401, detail="Missing bearer token")
    user = USERS.get(token.strip())
    if user is None:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid token")
    return {"identity": user["identity"], "permissions": user.get("permissions", [])}


@auth.on.threads
async def owner_only(ctx: Auth.types.AuthContext, value: dict):
    if value.get("metadata") is None:
        value["metadata"] = {}
    value["metadata"]["owner"] = ctx.user.identity
    return {"owner": ctx.user.identity}
'''


@contextmanager
def official_with_custom_auth(tmp: Path) -> Iterator[str]:
    """`langgraph dev` on a copy of fixtures/graphs with REFERENCE_AUTH (the users of USERS) as its auth."""
    if not LANGGRAPH.exists():
        raise RuntimeError("the official server is missing: run the tests with `python3 dev.py test`, or pass --no-official")
    workdir = tmp / "graphs"
    shutil.copytree(GRAPHS, workdir, ignore=shutil.ignore_patterns("__pycache__", ".langgraph_api"))
    mode = parse_auth(USERS)
    assert isinstance(mode, UsersAuth)
    users = {token: {"identity": user.identity, "permissions": list(user.permissions)} for token, user in mode.users}
    (workdir / "auth.py").write_text(REFERENCE_AUTH.replace("__USERS__", json.dumps(users)))
    config = json.loads((workdir / "langgraph.json").read_text())
    (workdir / "langgraph.json").write_text(json.dumps({**config, "auth": {"path": "./auth.py:auth"}}))
    env = {**os.environ, "LANGGRAPH_NO_BROWSER": "1", "NO_COLOR": "1"}

    def command(port: int) -> list[str]:
        return [str(LANGGRAPH), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)]

    with dev_server("langgraph dev (custom auth)", command, workdir, env, tmp / "server.log", 120) as url:
        yield url


def _answer(r: httpx.Response, ids: dict[str, str]) -> tuple[Any, ...]:
    """Status, the body (SSE as events) with ids named, and whether the refusal is readable cross-origin."""
    text = r.text
    for value, name in ids.items():
        text = text.replace(value, name)
    body = parse_sse(text.encode()) if r.headers.get("content-type", "").startswith("text/event-stream") else (json.loads(text) if text else None)
    return r.status_code, body, r.headers.get("access-control-allow-origin"), r.headers.get("www-authenticate")


def _exchange(url: str) -> dict[str, Any]:
    """What a server answers to the users-mode requests that matter, keyed by a label."""
    seen: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=60) as http:
        for label, headers in (("none", {}), ("unknown", {"Authorization": "Bearer nobody"}), ("basic", {"Authorization": "Basic token-alice"}), ("api-key", {"x-api-key": "k"})):
            seen[f"refused {label}"] = _answer(http.post("/threads/search", json={}, headers={**headers, "Origin": "https://app.example"}), {})
        seen["refused unknown route"] = _answer(http.get("/nowhere"), {})
        seen["refused OPTIONS"] = _answer(http.options("/threads"), {})
        thread = http.post("/threads", json={"metadata": {"owner": "mallory", "k": 1}}, headers=ALICE).json()
        tid = thread["thread_id"]
        seen["stamped"] = thread["metadata"]
        run_id = http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {"some_text": "a"}}, headers=ALICE).json()["run_id"]
        seen["alice joins"] = http.get(f"/threads/{tid}/runs/{run_id}/join", headers=ALICE).json()["__interrupt__"][0]["value"]
        ids = {tid: "<thread>", run_id: "<run>"}
        base, wait = f"/threads/{tid}", {"assistant_id": "agent", "input": {"some_text": "b"}}
        for label, method, path, body in (
            ("get", "GET", base, None), ("patch", "PATCH", base, {"metadata": {"x": 1}}), ("state", "GET", base + "/state", None),
            ("update state", "POST", base + "/state", {"values": {"some_text": "c"}}), ("history", "GET", base + "/history", None),
            ("post history", "POST", base + "/history", {}), ("runs", "GET", base + "/runs", None), ("run", "POST", base + "/runs", wait),
            ("wait", "POST", base + "/runs/wait", wait), ("stream", "POST", base + "/runs/stream", wait),
            ("create if missing", "POST", base + "/runs/wait", {**wait, "if_not_exists": "create"}), ("run get", "GET", f"{base}/runs/{run_id}", None),
            ("join", "GET", f"{base}/runs/{run_id}/join", None), ("join stream", "GET", f"{base}/runs/{run_id}/stream", None),
            ("cancel", "POST", f"{base}/runs/{run_id}/cancel", None), ("run delete", "DELETE", f"{base}/runs/{run_id}", None),
            ("same id", "POST", "/threads", {"thread_id": tid}), ("same id, do_nothing", "POST", "/threads", {"thread_id": tid, "if_exists": "do_nothing"}),
            ("delete", "DELETE", base, None),
        ):
            seen[f"bob: {label}"] = _answer(http.request(method, path, json=body, headers=BOB), ids)
        seen["bob searches"] = [t["metadata"]["owner"] for t in http.post("/threads/search", json={"limit": 100}, headers=BOB).json()]
        seen["alice searches"] = [(t["thread_id"] == tid, t["metadata"]["owner"]) for t in http.post("/threads/search", json={}, headers=ALICE).json()]
        seen["counts"] = [http.post("/threads/count", json={}, headers=who).json() for who in (ALICE, BOB)]
        seen["alice patches the owner"] = http.patch(base, json={"metadata": {"owner": "bob"}}, headers=ALICE).json()["metadata"]
    return seen


@pytest.mark.official
def test_users_mode_answers_as_the_official_server_with_custom_auth(tmp_path):
    with official_with_custom_auth(tmp_path) as url:
        official = _exchange(url)
    with MockServer(auth=USERS) as mock:
        mine = _exchange(mock.url)
    assert official["refused none"] == (401, {"detail": "Missing bearer token"}, "*", None)  # what the official server says
    assert official["bob: get"][:2] == (404, {"detail": "Thread with ID <thread> not found"})
    assert mine == official
