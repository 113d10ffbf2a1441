// Auth through the official JS client, unchanged (driven by tests/test_auth.py):
//   node auth.mjs <sdk package: sdk-1.15.0 | sdk-2.0.0> api-key <server url> <key>
//   node auth.mjs <sdk package> users <server url> <alice's token> <bob's token>
// Exits non-zero on the first failed check; prints one JSON summary line on success.
import assert from "node:assert/strict";

const [pkg, mode, apiUrl, ...secrets] = process.argv.slice(2);
if (!pkg || !["api-key", "users"].includes(mode) || !apiUrl || !secrets.length) {
  console.error("usage: node auth.mjs <sdk> api-key <url> <key> | node auth.mjs <sdk> users <url> <alice token> <bob token>");
  process.exit(2);
}
const { Client } = await import(pkg);
let checks = 0;
const check = async (label, fn) => {
  try {
    await fn();
    checks += 1;
  } catch (err) {
    err.message = `[${pkg} ${mode}] ${label}: ${err.message}`;
    throw err;
  }
};
// An HTTPError from the SDK: its status and the server's JSON body.
const refused = async (promise, status, detail) => {
  const err = await promise.then(
    () => assert.fail(`expected HTTP ${status}, got a success`),
    (e) => e,
  );
  assert.equal(err.status, status, err.message);
  if (detail !== undefined) assert.deepEqual(JSON.parse(err.text), { detail });
};
// Create a thread, run the agent to its interrupt, resume it: the seed HITL flow.
const hitl = async (client) => {
  const thread = await client.threads.create();
  const first = await client.runs.wait(thread.thread_id, "agent", { input: { some_text: "original" } });
  assert.deepEqual(first.__interrupt__[0].value, { text_to_revise: "original" });
  const final = await client.runs.wait(thread.thread_id, "agent", { command: { resume: "edited" } });
  assert.deepEqual(final, { some_text: "edited" });
  assert.equal((await client.threads.get(thread.thread_id)).status, "idle");
  return thread;
};

if (mode === "api-key") {
  const [key] = secrets;
  const anonymous = new Client({ apiUrl, apiKey: null });
  await check("no key: 403", () => refused(anonymous.threads.create(), 403, "Missing authentication headers"));
  const wrong = new Client({ apiUrl, apiKey: `${key}-wrong` });
  await check("wrong key: 403", () => refused(wrong.threads.create(), 403, "Invalid token"));
  await check("wrong key, searching: 403", () => refused(wrong.threads.search(), 403, "Invalid token"));
  await check("the right key runs the HITL flow", () => hitl(new Client({ apiUrl, apiKey: key })));
} else {
  const [aliceToken, bobToken] = secrets;
  const as = (token) => new Client({ apiUrl, apiKey: null, defaultHeaders: token ? { Authorization: `Bearer ${token}` } : {} });
  const alice = as(aliceToken);
  const bob = as(bobToken);
  await check("no token: 401", () => refused(as(null).threads.create(), 401, "Missing bearer token"));
  await check("unknown token: 401", () => refused(as("nobody").threads.create(), 401, "Invalid token"));
  let mine;
  await check("alice runs the HITL flow", async () => {
    mine = await hitl(alice);
  });
  const tid = mine.thread_id;
  await check("the thread is stamped with its owner", async () => assert.equal((await alice.threads.get(tid)).metadata.owner, "alice"));
  await check("bob cannot get it", () => refused(bob.threads.get(tid), 404, `Thread with ID ${tid} not found`));
  await check("nor its state", () => refused(bob.threads.getState(tid), 404, `Thread with ID ${tid} not found`));
  await check("nor its runs", () => refused(bob.runs.list(tid), 404, `Thread with ID ${tid} not found`));
  await check("nor run on it", () => refused(bob.runs.wait(tid, "agent", { input: { some_text: "x" } }), 404, "Thread or assistant not found."));
  const theirs = await hitl(bob);
  await check("search shows each their own", async () => {
    const ids = async (client) => (await client.threads.search({ limit: 100 })).map((t) => t.thread_id);
    assert.ok((await ids(alice)).includes(tid) && !(await ids(alice)).includes(theirs.thread_id));
    assert.ok((await ids(bob)).includes(theirs.thread_id) && !(await ids(bob)).includes(tid));
  });
  await check("alice's runs are hers", async () => {
    const runs = await alice.runs.list(tid);
    assert.equal(runs.length, 2);
    assert.ok(runs.every((r) => r.metadata.owner === "alice"));
  });
}

console.log(JSON.stringify({ sdk: pkg, mode, checks, ok: true }));
