// Thread streams (protocol v2) through the official JS client's `client.threads.stream`, unchanged:
//   node threads_stream.mjs <sdk package: sdk-1.15.0> <server url> [sse|websocket]
// Runs the seed flow (agent), parallel interrupts answered by id (multi), the validation loop (validate) and chat
// token streaming (chat). Exits non-zero on the first failed check; prints one JSON line on success: the checks
// passed and what the client observed (for comparing servers).
import assert from "node:assert/strict";

const [pkg, apiUrl, transport = "sse"] = process.argv.slice(2);
if (!pkg || !apiUrl) {
  console.error("usage: node threads_stream.mjs <sdk-1.15.0> <url> [sse|websocket]");
  process.exit(2);
}
const { Client } = await import(pkg);
const client = new Client({ apiUrl });
const ID = /^[0-9a-f]{32}$/;
const observed = {};
let checks = 0;
const check = (label, fn) => {
  try {
    fn();
    checks += 1;
  } catch (err) {
    err.message = `[${pkg} ${transport}] ${label}: ${err.message}`;
    throw err;
  }
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (label, fn, timeout = 15000) => {
  const started = Date.now();
  while (!fn()) {
    if (Date.now() - started > timeout) throw new Error(`[${pkg} ${transport}] timed out waiting for ${label}`);
    await sleep(25);
  }
};
const open = (assistantId) => {
  const thread = client.threads.stream({ assistantId, transport });
  thread.seen = [];
  thread.onEvent((event) => thread.seen.push(event));
  return thread;
};
const isDone = (e) => e.method === "lifecycle" && e.params.namespace.length === 0 && e.params.data.event === "completed";
// The run's final values: `thread.output` resolves when the first run stops (at its interrupt), so a resumed
// run's result is the last `values` event before the root `lifecycle completed`.
const finalValues = async (thread, label) => {
  await until(`${label} completed`, () => thread.seen.some(isDone));
  return thread.seen.filter((e) => e.method === "values" && e.params.namespace.length === 0).at(-1).params.data;
};
// What the client saw, without ids and timestamps: each event's method (and lifecycle phase), in seq order (the
// order of arrival depends on when each subscription was made, relative to the run).
const shape = (thread) =>
  [...thread.seen].sort((a, b) => a.seq - b.seq).map((e) => (e.method === "lifecycle" ? `lifecycle:${e.params.data.event}` : e.method));
const pending = (thread) => thread.interrupts.map((i) => ({ payload: i.payload, namespace: i.namespace }));
const withTimeout = (promise, label, ms = 15000) =>
  Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`[${pkg} ${transport}] ${label}: no answer in ${ms} ms`)))]);

// 1. The seed flow: run.start -> input.requested -> input.respond -> output.
{
  const thread = open("agent");
  await thread.run.start({ input: { some_text: "original text" } });
  await until("the interrupt", () => thread.interrupted && thread.interrupts.length === 1);
  const [interrupt] = thread.interrupts;
  check("the interrupt carries its payload and id", () => {
    assert.match(interrupt.interruptId, ID);
    assert.deepEqual(interrupt.payload, { text_to_revise: "original text" });
    assert.deepEqual(interrupt.namespace, []);
  });
  const stopped = await withTimeout(thread.output, "agent output");
  check("output at the interrupt", () => assert.deepEqual(stopped, { some_text: "original text" }));
  await thread.input.respond({ interrupt_id: interrupt.interruptId, namespace: [], response: "Edited text" });
  const output = await finalValues(thread, "agent");
  check("the resumed run's output", () => assert.deepEqual(output, { some_text: "Edited text" }));
  const state = await client.threads.getState(thread.threadId);
  check("the thread is done", () => assert.deepEqual(state.next, []));
  observed.agent = { first: { payload: interrupt.payload, namespace: interrupt.namespace }, output, events: shape(thread) };
  await thread.close();
}

// 2. Parallel interrupts, answered by id one at a time: the other stays pending.
{
  const thread = open("multi");
  await thread.run.start({ input: { answers: [] } });
  await until("two interrupts", () => thread.interrupts.length === 2);
  const byQ = Object.fromEntries(thread.interrupts.map((i) => [i.payload.q, i.interruptId]));
  const two = pending(thread);
  check("both interrupts", () => assert.deepEqual(Object.keys(byQ).sort(), ["A?", "B?"]));
  await thread.input.respond({ interrupt_id: byQ["A?"], namespace: [], response: "alpha" });
  await until("B pending again", () => thread.interrupted && thread.interrupts.some((i) => i.payload.q === "B?"));
  let state = await client.threads.getState(thread.threadId);
  check("A answered, B still pending", () => {
    assert.deepEqual(state.values.answers, ["a=alpha"]);
    assert.deepEqual(state.next, ["ask_b"]);
    assert.equal(state.tasks.flatMap((t) => t.interrupts)[0].id, byQ["B?"]);
  });
  const afterA = pending(thread);
  await thread.input.respond({ interrupt_id: byQ["B?"], namespace: [], response: "beta" });
  await until("the first of two in one node", () => thread.interrupts.some((i) => i.payload.q === "first?"));
  const first = thread.interrupts.find((i) => i.payload.q === "first?");
  await thread.input.respond({ interrupt_id: first.interruptId, namespace: [], response: "one" });
  await until("the second of two in one node", () => thread.interrupts.some((i) => i.payload.q === "second?"));
  const second = thread.interrupts.find((i) => i.payload.q === "second?");
  check("the second interrupt sees the first answer", () => assert.deepEqual(second.payload, { q: "second?", first: "one" }));
  await thread.input.respond({ interrupt_id: second.interruptId, namespace: [], response: "two" });
  const output = await finalValues(thread, "multi");
  check("all four answers", () => assert.deepEqual(output.answers, ["a=alpha", "b=beta", "first=one", "second=two"]));
  observed.multi = { two, afterA, output, events: shape(thread) };
  await thread.close();
}

// 3. The validation loop: an invalid answer asks again, a valid one ends the run.
{
  const thread = open("validate");
  await thread.run.start({ input: {} });
  await until("the question", () => thread.interrupts.length === 1);
  const asked = thread.interrupts[0];
  await thread.input.respond({ interrupt_id: asked.interruptId, namespace: [], response: "abc" });
  await until("the question again", () => thread.interrupted && thread.interrupts.length === 1);
  const again = thread.interrupts[0];
  check("asked again, with the reason", () => {
    assert.notEqual(again.interruptId, asked.interruptId);
    assert.match(again.payload.prompt, /'abc' is not a valid age/);
  });
  await thread.input.respond({ interrupt_id: again.interruptId, namespace: [], response: 42 });
  const output = await finalValues(thread, "validate");
  check("the valid age", () => assert.deepEqual(output, { age: 42 }));
  observed.validate = { asked: asked.payload, again: again.payload, output, events: shape(thread) };
  await thread.close();
}

// 4. Chat: the plan streams token by token on the messages channel, then the approval interrupt.
{
  const thread = open("chat");
  const texts = [];
  const reading = (async () => {
    for await (const message of thread.messages) {
      const deltas = [];
      for await (const delta of message.text) deltas.push(delta);
      texts.push(deltas);
      return; // the projection pauses at the interrupt
    }
  })();
  await thread.run.start({ input: { messages: [{ type: "human", content: "Send an email to Bob" }] } });
  await until("the approval question", () => thread.interrupts.length === 1);
  const question = thread.interrupts[0];
  check("the approval question", () => assert.equal(question.payload.question, "Approve sending the email?"));
  await thread.input.respond({ interrupt_id: question.interruptId, namespace: [], response: "approve" });
  await withTimeout(reading, "chat messages");
  check("the plan streamed token by token (thread.messages)", () => {
    assert.ok(texts[0].length > 10, `only ${texts[0].length} deltas`);
    assert.equal(texts[0].join(""), "I plan to send the email to Bob now. Shall I proceed?");
  });
  await finalValues(thread, "chat");
  // Both messages as the messages channel carried them: one text delta per token.
  const byMessage = [];
  for (const e of thread.seen.filter((e) => e.method === "messages")) {
    if (e.params.data.event === "message-start") byMessage.push([]);
    else if (e.params.data.event === "content-block-delta") byMessage.at(-1).push(e.params.data.delta.text);
  }
  check("the confirmation streamed too", () => {
    assert.equal(byMessage.length, 2);
    assert.deepEqual(byMessage[0], texts[0]);
    assert.equal(byMessage[1].join(""), "Done: the email to Bob has been sent.");
  });
  texts.push(byMessage[1]);
  observed.chat = { question: question.payload, texts, events: shape(thread) };
  await thread.close();
}

console.log(JSON.stringify({ ok: true, checks, observed }));
process.exit(0);
