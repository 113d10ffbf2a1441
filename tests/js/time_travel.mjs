// Time travel through the official JS client, unchanged: read past checkpoints, fork a run and a state update
// from them, copy the thread. Prints one JSON line: what the client got at each step, for tests/test_time_travel.py
// to compare between servers (under the parity normaliser).
//   node time_travel.mjs <sdk-1.15.0|sdk-2.0.0> <server url>
const [pkg, apiUrl] = process.argv.slice(2);
if (!pkg || !apiUrl) {
  console.error("usage: node time_travel.mjs <sdk-1.15.0|sdk-2.0.0> <url>");
  process.exit(2);
}
const { Client } = await import(pkg);
const client = new Client({ apiUrl });
const log = [];
const step = async (label, promise) => {
  const body = await promise;
  log.push({ label, status: 200, headers: {}, body: body ?? null });
  return body;
};

const thread = await step("create", client.threads.create());
const tid = thread.thread_id;
await step("ask", client.runs.wait(tid, "agent", { input: { some_text: "original" } }));
const history = await step("history", client.threads.getHistory(tid, { limit: 10 }));
const asked = history[0].checkpoint.checkpoint_id;
const older = history[history.length - 1].checkpoint.checkpoint_id;
await step("state at the interrupt (id)", client.threads.getState(tid, asked));
await step("state at the input (checkpoint object)", client.threads.getState(tid, { checkpoint_id: older, checkpoint_ns: "" }));
await step("resume", client.runs.wait(tid, "agent", { command: { resume: "first answer" } }));
await step("history before the interrupt", client.threads.getHistory(tid, { limit: 10, before: { configurable: { checkpoint_id: asked } } }));
await step("fork a run from the interrupt", client.runs.wait(tid, "agent", { input: null, checkpointId: asked }));
await step("answer the fork", client.runs.wait(tid, "agent", { command: { resume: "second answer" } }));
await step("edit the past", client.threads.updateState(tid, { values: { some_text: "edited" }, checkpointId: older }));
await step("thread after the edit", client.threads.get(tid));
await step("state after the edit", client.threads.getState(tid));
await step("run from the edit", client.runs.wait(tid, "agent", { input: null }));
const copy = await step("copy", client.threads.copy(tid));
await step("the copy's state", client.threads.getState(copy.thread_id));
await step("resume the copy", client.runs.wait(copy.thread_id, "agent", { command: { resume: "on the copy" } }));
await step("the source is untouched", client.threads.getState(tid));
console.log(JSON.stringify(log));
