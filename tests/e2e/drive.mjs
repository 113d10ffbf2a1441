// Drive the useStream page in headless Chromium against the mock:
//   node drive.mjs <sdk-1.15.0|sdk-2.0.0> <mock url>
// Serves dist/<sdk> itself, runs approve, reject, reload-rejoin and stop, and exits non-zero on a failure.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const [sdk, api] = process.argv.slice(2);
const root = join(import.meta.dirname, "dist", sdk);
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const site = createServer(async (req, res) => {
  const path = normalize(new URL(req.url, "http://x").pathname).replace(/^\/+/, "") || "index.html";
  try {
    const body = await readFile(join(root, path));
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => site.listen(0, "127.0.0.1", ok));
const page_url = `http://127.0.0.1:${site.address().port}/index.html?api=${encodeURIComponent(api)}`;

const admin = async (method, path, body) => {
  const r = await fetch(`${api}/__mock__/${path}`, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
  return r.status === 204 ? null : r.json();
};
const slow = (tokenDelay) => admin("PUT", "faults", { faults: tokenDelay ? [{ token_delay: tokenDelay, graph: "chat" }] : [] });
const aiTexts = (page) => page.$$eval(".msg-ai", (els) => els.map((e) => e.textContent));
const PLAN = "I plan to send the email to Bob now. Shall I proceed?";

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_FLAGS });
const results = [];
async function scenario(name, body) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    await page.goto(page_url);
    await body(page);
    results.push(name);
  } catch (err) {
    err.message = `[${sdk}] ${name}: ${err.message}\npage errors: ${errors.join(" | ")}`;
    throw err;
  } finally {
    await slow(0);
    await context.close();
  }
}

async function ask(page) {
  await page.fill("#input", "Please send an email to Bob");
  await page.click("#send");
}

async function seesTokensStream(page) {
  // Streamed token by token: the AI message is seen part-written before it is whole.
  const seen = new Set();
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    const [text] = await aiTexts(page);
    if (text) seen.add(text);
    if (text === PLAN) break;
    await page.waitForTimeout(15);
  }
  assert.ok([...seen].some((t) => t.length < PLAN.length && PLAN.startsWith(t)), `no partial message seen: ${[...seen]}`);
  assert.ok(seen.has(PLAN), "the plan never completed");
}

for (const [name, button, final] of [
  ["approve", "#approve", "Done: the email to Bob has been sent."],
  ["reject", "#reject", "Cancelled: the email was not sent."],
]) {
  await scenario(name, async (page) => {
    await slow(0.03);
    await ask(page);
    await seesTokensStream(page);
    await page.waitForSelector("#interrupt", { timeout: 15000 });
    assert.equal(await page.textContent("#question"), "Approve sending the email?");
    await page.click(button);
    await page.waitForFunction((t) => [...document.querySelectorAll(".msg-ai")].some((e) => e.textContent === t), final, { timeout: 15000 });
    await page.waitForSelector("#interrupt", { state: "detached", timeout: 15000 });
    assert.deepEqual(await aiTexts(page), [PLAN, final]);
  });
}

await scenario("reload-rejoin", async (page) => {
  await slow(0.25); // ~3 s of streaming: time to reload in the middle
  await admin("DELETE", "requests");
  await ask(page);
  await page.waitForFunction(() => document.querySelector(".msg-ai")?.textContent.length > 0, null, { timeout: 15000 });
  const before = (await aiTexts(page))[0];
  assert.ok(before.length < PLAN.length, "the stream finished before the reload");
  await page.reload();
  await page.waitForSelector("#interrupt", { timeout: 30000 });
  assert.equal((await aiTexts(page))[0], PLAN);
  const all = await admin("GET", "requests");
  if (process.env.E2E_DEBUG) console.error(JSON.stringify(all.map((r) => [r.method, r.path, r.query, r.headers["last-event-id"]])));
  const joins = all.filter((r) => r.method === "GET" && /\/runs\/[^/]+\/stream$/.test(r.path) && r.headers["last-event-id"] !== undefined);
  assert.ok(joins.length >= 1, "the page did not rejoin the run's stream");
});

await scenario("stop", async (page) => {
  await slow(0.25);
  await admin("DELETE", "requests");
  await ask(page);
  await page.waitForFunction(() => document.querySelector(".msg-ai")?.textContent.length > 0, null, { timeout: 15000 });
  await page.click("#stop");
  await page.waitForFunction(() => document.querySelector("#status").textContent === "idle", null, { timeout: 15000 });
  const [create] = await admin("GET", "requests?method=POST&path=/runs/stream$");
  const runs = await (await fetch(`${api}/threads/${create.path.split("/")[2]}/runs`)).json();
  const deadline = Date.now() + 10000;
  let status = runs[0].status;
  while (status !== "interrupted" && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 100));
    status = (await (await fetch(`${api}/threads/${create.path.split("/")[2]}/runs/${runs[0].run_id}`)).json()).status;
  }
  assert.equal(status, "interrupted", "stop() did not cancel the run on the server");
});

await browser.close();
site.close();
console.log(JSON.stringify({ sdk, ok: true, scenarios: results }));
