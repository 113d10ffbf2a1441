// The seed HITL flows through the official JS client, unchanged:
//   node flow.mjs <sdk package: sdk-1.15.0 | sdk-2.0.0> <server url>
// Exits non-zero on the first failed check; prints one JSON summary line on success.
import assert from "node:assert/strict";

const [pkg, apiUrl] = process.argv.slice(2);
if (!pkg || !apiUrl) {
  console.error("usage: node flow.mjs <sdk-1.15.0|sdk-2.0.0> <url>");
  process.exit(2);
}
const { Client } = await import(pkg);
const client = new Client({ apiUrl });
const ID = /^[0-9a-f]{32}$/;
let checks = 0;
const check = (label, fn) => {
  try {
    fn();
    checks += 1;
  } catch (err) {
    err.message = `[${pkg}] ${label}: ${err.message}`;
    throw err;
  }
};
const collect = async (iterable) => {
  const parts = [];
  for await (const part of iterable) parts.push(part);
  return parts;
};
const names = (parts) => parts.map((p) => p.event);

// 1. The seed flow: wait -> __interrupt__ -> wait with command.resume.
{
  const thread = await client.threads.create();
  const result = await client.runs.wait(thread.thread_id, "agent", { input: { some_text: "original text" } });
  check("wait returns the interrupt", () => {
    assert.equal(result.some_text, "original text");
    assert.equal(result.__interrupt__.length, 1);
    assert.deepEqual(result.__interrupt__[0].value, { text_to_revise: "original text" });
    assert.match(result.__interrupt__[0].id, ID);
  });
  const state = await client.threads.getState(thread.thread_id);
  check("state shows the same interrupt", () => {
    assert.deepEqual(state.next, ["human_node"]);
    assert.equal(state.tasks[0].interrupts[0].id, result.__interrupt__[0].id);
  });
  const final = await client.runs.wait(thread.thread_id, "agent", { command: { resume: "Edited text" } });
  check("resume completes", () => assert.deepEqual(final, { some_text: "Edited text" }));
  const after = await client.threads.get(thread.thread_id);
  check("thread is idle", () => {
    assert.equal(after.status, "idle");
    assert.deepEqual(after.interrupts, {});
  });
}

// 2. Streaming: values + updates, then resuming through a stream.
{
  const thread = await client.threads.create();
  let created;
  const first = await collect(
    client.runs.stream(thread.thread_id, "agent", {
      input: { some_text: "orig" },
      streamMode: ["values", "updates"],
      onRunCreated: (meta) => (created = meta),
    }),
  );
  check("stream events", () => assert.deepEqual(names(first), ["metadata", "values", "updates", "values"]));
  check("stream interrupt", () => {
    assert.deepEqual(first[2].data.__interrupt__[0].value, { text_to_revise: "orig" });
    assert.equal(first[3].data.__interrupt__[0].id, first[2].data.__interrupt__[0].id);
  });
  check("run id from Content-Location", () => assert.equal(created?.run_id, first[0].data.run_id));
  const resumed = await collect(
    client.runs.stream(thread.thread_id, "agent", { command: { resume: "new" }, streamMode: ["values", "updates"] }),
  );
  check("resume stream", () => {
    assert.deepEqual(names(resumed), ["metadata", "values", "updates", "values"]);
    assert.deepEqual(resumed[2].data, { human_node: { some_text: "new" } });
    assert.deepEqual(resumed[3].data, { some_text: "new" });
  });
  const chat = await collect(
    client.runs.stream(thread.thread_id, "nointerrupt", { input: {}, streamMode: ["messages-tuple", "values", "custom"] }),
  );
  check("messages-tuple arrives as messages", () => {
    const messages = chat.filter((p) => p.event === "messages");
    assert.equal(messages.length, 1);
    assert.equal(messages[0].data[0].id, "msg-step1");
    assert.equal(chat.find((p) => p.event === "custom").data.custom_event, "hello from step1");
  });
}

// 3. Background run, then join and joinStream.
{
  const thread = await client.threads.create();
  const run = await client.runs.create(thread.thread_id, "agent", { input: { some_text: "bg" }, streamResumable: true });
  check("background run is pending", () => assert.equal(run.status, "pending"));
  const replay = await collect(client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1" }));
  check("joinStream replays the resumable run", () => {
    const events = names(replay).filter((e) => e);
    assert.deepEqual(events, ["metadata", "values", "values"]);
    assert.deepEqual(replay.at(-1).data.__interrupt__[0].value, { text_to_revise: "bg" });
  });
  const resume = await client.runs.create(thread.thread_id, "agent", { command: { resume: "joined" } });
  const joined = await client.runs.join(thread.thread_id, resume.run_id);
  check("join returns the result", () => assert.deepEqual(joined, { some_text: "joined" }));
  const live = await client.runs.create(thread.thread_id, "nointerrupt", { input: { sleep: 0.2 }, streamMode: ["updates"] });
  const streamed = await collect(client.runs.joinStream(thread.thread_id, live.run_id, { streamMode: ["updates"] }));
  check("joinStream follows a background run", () => {
    assert.deepEqual(names(streamed).filter((e) => e && e !== "metadata"), ["updates", "updates"]);
  });
  const runs = await client.runs.list(thread.thread_id);
  check("runs are listed, and a run stopped at an interrupt reports success", () => {
    assert.equal(runs.length, 3);
    assert.ok(runs.every((r) => r.status === "success"));
  });
}

// 4. Errors are HTTP errors with the server's detail.
{
  await assert.rejects(client.threads.get("00000000-0000-4000-8000-000000000000"), /404/);
  checks += 1;
  const thread = await client.threads.create();
  await assert.rejects(client.runs.wait(thread.thread_id, "nope", { input: {} }), /422/);
  checks += 1;
}

console.log(JSON.stringify({ sdk: pkg, url: apiUrl, checks, ok: true }));
