// A browser call survives the live connection dropping: two browsers in one
// study's call on the real server; a proxy (the page's WebSocket route) drops
// bob's WebSocket and refuses it for a while. The server ends his place in the
// call with the connection; once it is back his page joins again (the native
// engine's rejoin) and the video flows both ways anew.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { FAKE_MEDIA, launch } from "../lib/browser.mjs";
import { Server } from "../lib/server.mjs";

const OUT = fileURLToPath(new URL("../out/", import.meta.url));
const PASSWORD = "study-together-42";
const WAIT = 20_000;

let server;
let browser;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  server = await Server.start();
  browser = await launch(FAKE_MEDIA);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function account(name) {
  const email = `${name}-${Date.now()}@example.com`;
  const r = await server.api("POST", "/api/auth/signup", { body: { email, password: PASSWORD, name } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { name, email, token: r.body.token, id: r.body.user.id };
}

/** A person's browser, signed in, in the study's call; `proxy` routes its
 * WebSocket through the test (connected while `proxy.up`). */
async function inCall(who, locale, labels, studyName, proxy) {
  const context = await browser.newContext({ locale, viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  if (proxy) {
    await page.routeWebSocket(/\/ws$/, (ws) => {
      if (!proxy.up) return ws.close({ code: 1011, reason: "proxy" });
      proxy.sockets.push({ ws, server: ws.connectToServer() });
    });
  }
  await page.goto(server.url);
  await page.getByLabel(labels.email).fill(who.email);
  await page.getByLabel(labels.password).fill(PASSWORD);
  await page.click("#submit");
  await page.waitForSelector("#dashboard", { timeout: WAIT });
  await page.getByRole("button", { name: new RegExp(studyName) }).first().click();
  await page.click("#tab-call");
  await page.click("#call-join");
  await page.waitForSelector("#call-leave", { timeout: WAIT });
  return { ...who, context, page, errors };
}

/** Whether the page's camera video of `from` plays: decoded frames keep coming. */
async function videoPlays(page, from) {
  const selector = `#call-videos figure[data-participant="${from}"] video[data-track="camera"]`;
  await page.waitForSelector(selector, { timeout: WAIT });
  await page.waitForFunction((s) => (document.querySelector(s)?.videoWidth ?? 0) > 0, selector, { timeout: WAIT });
  const decoded = () => page.evaluate((s) => document.querySelector(s)?.getVideoPlaybackQuality().totalVideoFrames ?? 0, selector);
  const first = await decoded();
  await page.waitForTimeout(1000);
  return (await decoded()) > first;
}

/** Whether the page's participant list names `name`. */
function lists(page, name) {
  return page.evaluate((n) => (document.querySelector("#call-participants")?.textContent ?? "").includes(n), name);
}

test("a call survives a dropped WebSocket: the page joins again and video flows both ways anew", async () => {
  const alice = await account("alice");
  const bob = await account("bob");
  const studyName = `Rejoin ${Date.now()}`;
  const created = await server.api("POST", "/api/studies", {
    token: alice.token,
    body: { name: studyName, category: "web", maxMembers: 10, isPublic: true, joinPolicy: "AUTO" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const joined = await server.api("POST", `/api/studies/${created.body.id}/join`, { token: bob.token, body: {} });
  assert.ok(joined.status < 300, JSON.stringify(joined.body));

  const proxy = { up: true, sockets: [] };
  const a = await inCall(alice, "en-US", { email: "Email", password: "Password" }, studyName, null);
  const b = await inCall(bob, "ko-KR", { email: "이메일", password: "비밀번호" }, studyName, proxy);
  await a.page.locator("#call-participants").getByText("bob").waitFor({ timeout: WAIT });
  await b.page.locator("#call-participants").getByText("alice").waitFor({ timeout: WAIT });
  assert.ok(await videoPlays(a.page, bob.id), "alice sees bob");
  assert.ok(await videoPlays(b.page, alice.id), "bob sees alice");

  // The proxy drops bob's WebSocket and refuses new ones: the server ends his
  // place in the call, and his page says it is reconnecting the call.
  proxy.up = false;
  for (const { ws, server: upstream } of proxy.sockets.splice(0)) {
    await upstream.close({ code: 1000, reason: "proxy" });
    await ws.close({ code: 1011, reason: "proxy" });
  }
  await a.page.waitForFunction(() => !/bob/.test(document.querySelector("#call-participants")?.textContent ?? ""), null, { timeout: WAIT });
  await b.page.locator("#call-connection").getByText("통화 다시 연결 중…").waitFor({ timeout: WAIT });
  await b.page.screenshot({ path: `${OUT}call-reconnecting-ko.png`, fullPage: true });
  await b.page.waitForTimeout(2000);

  // The connection comes back: bob's page joins the call again and offers.
  proxy.up = true;
  await b.page.waitForFunction(() => !/\S/.test(document.querySelector("#call-connection")?.textContent ?? ""), null, { timeout: 40_000 });
  await a.page.locator("#call-participants").getByText("bob").waitFor({ timeout: WAIT });
  assert.ok(await lists(b.page, "alice"), "bob's list names alice again");
  assert.ok(await lists(b.page, "bob"), "bob's list names himself");
  assert.ok(await videoPlays(a.page, bob.id), "alice sees bob again");
  assert.ok(await videoPlays(b.page, alice.id), "bob sees alice again");
  assert.equal(await a.page.locator(`#call-videos figure[data-participant="${bob.id}"][data-kind="camera"]`).count(), 1, "one video of bob's");
  assert.equal(await b.page.locator(`#call-videos figure[data-participant="${alice.id}"][data-kind="camera"]`).count(), 1, "one video of alice's");
  // Bob's own camera was kept: his preview still plays.
  assert.ok(await b.page.evaluate(() => document.querySelector("#call-preview")?.srcObject?.getVideoTracks()[0]?.readyState === "live"), "bob's camera is live");

  await b.page.click("#call-leave");
  await a.page.waitForFunction(() => !/bob/.test(document.querySelector("#call-participants")?.textContent ?? ""), null, { timeout: WAIT });
  await a.page.click("#call-leave");
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await a.context.close();
  await b.context.close();
});
