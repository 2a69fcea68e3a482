// CoUp in the browser, end to end: Debian's Chromium (playwright-core) against
// the real coup-server (temp data dir, 127.0.0.1, ephemeral port, demo data for
// the administrator). Two browser contexts are two people on two machines.
// Screenshots of the main screens go to out/.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { FAKE_MEDIA, launch } from "../lib/browser.mjs";
import { Server } from "../lib/server.mjs";

const OUT = fileURLToPath(new URL("../out/", import.meta.url));
const PASSWORD = "study-together-42";
const WAIT = 15_000;

let server;
let browser;
const people = {};

before(async () => {
  mkdirSync(OUT, { recursive: true });
  server = await Server.start(["--demo"]);
  browser = await launch(FAKE_MEDIA);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function shot(page, name) {
  await page.screenshot({ path: `${OUT}${name}.png`, fullPage: true });
}

/** A person with their own browser (context: storage, service worker, cache). */
async function person(name, locale = "en-US") {
  const context = await browser.newContext({ locale, viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.on("console", (m) => {
    // A policy violation is a bug of the page or of the server's policy.
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(new Error(m.text()));
  });
  return { name, context, page, errors, email: `${name}-${Date.now()}@example.com` };
}

async function signUp(p) {
  await p.page.goto(server.url);
  await p.page.click("#toggle-mode");
  await p.page.getByLabel("Name", { exact: true }).fill(p.name);
  await p.page.getByLabel("Email").fill(p.email);
  await p.page.getByLabel("Password").fill(PASSWORD);
  await p.page.click("#submit");
  await p.page.waitForSelector("#dashboard", { timeout: WAIT });
  const session = await p.page.evaluate(() => JSON.parse(localStorage.getItem("coup.session") ?? "null"));
  assert.ok(session?.token, "the token is kept in the browser");
  p.token = session.token;
  p.id = session.user.id;
}

async function openStudy(p, name) {
  await p.page.click("#nav-dashboard");
  await p.page.getByRole("button", { name: new RegExp(name) }).first().click();
  await p.page.waitForSelector("#message-input", { timeout: WAIT });
}

const studyName = `Browser study ${Date.now()}`;
let studyId;

test("sign up, create and join a study, chat with typing, unread counts and read receipts", async () => {
  people.alice = await person("alice");
  people.bob = await person("bob");
  const { alice, bob } = people;
  await shot(alice.page, "login");
  await signUp(alice);
  await signUp(bob);

  // Alice creates a study in the browser.
  await alice.page.click("#nav-find");
  const create = alice.page.locator("form[aria-labelledby=create-title]");
  await create.getByLabel("Name", { exact: true }).fill(studyName);
  await create.getByLabel("Category").fill("web");
  await create.getByRole("button", { name: "Create" }).click();
  await alice.page.waitForSelector("#message-input", { timeout: WAIT });
  const mine = await server.api("GET", "/api/my-studies", { token: alice.token });
  studyId = mine.body.items.find((s) => s.name === studyName).id;

  // Bob finds it and joins (automatic policy).
  await bob.page.click("#nav-find");
  await bob.page.fill("#search-keyword", studyName);
  await bob.page.keyboard.press("Enter");
  await bob.page.getByRole("button", { name: `Join: ${studyName}` }).click();
  await bob.page.getByText(`You joined ${studyName}.`).waitFor({ timeout: WAIT });
  await shot(bob.page, "find");

  // Bob is on his dashboard when Alice writes: the unread count comes live.
  await bob.page.click("#nav-dashboard");
  await bob.page.getByRole("button", { name: new RegExp(studyName) }).waitFor({ timeout: WAIT });
  await alice.page.fill("#message-input", "안녕하세요 bob, welcome!");
  await alice.page.click("#send");
  await bob.page.locator("#dashboard .badge[aria-label]").filter({ hasText: "1" }).first().waitFor({ timeout: WAIT });
  await shot(bob.page, "dashboard");

  // Bob opens the chat: the message is there; his typing shows on Alice's side.
  await openStudy(bob, studyName);
  await bob.page.locator("#messages").getByText("안녕하세요 bob, welcome!").waitFor({ timeout: WAIT });
  await bob.page.focus("#message-input");
  await bob.page.keyboard.type("typing…", { delay: 30 });
  // Named: Alice's open chat learned of Bob joining.
  await alice.page.locator("#typing").getByText(/bob/).waitFor({ timeout: WAIT });
  await bob.page.fill("#message-input", "hi alice");
  await bob.page.click("#send");
  await alice.page.locator("#messages").getByText("hi alice").waitFor({ timeout: WAIT });
  // The typing line ends with the message.
  await alice.page.waitForFunction(() => !/\S/.test(document.querySelector("#typing")?.textContent ?? ""), null, { timeout: WAIT });
  await shot(alice.page, "chat");

  // Read receipts: each side marked the other's message read on the server.
  const deadline = Date.now() + WAIT;
  let members;
  for (;;) {
    members = (await server.api("GET", `/api/studies/${studyId}/members?page=1&limit=100`, { token: alice.token })).body.items;
    const page = (await server.api("GET", `/api/studies/${studyId}/chat?limit=10`, { token: alice.token })).body.items;
    const aliceMsg = page.find((m) => m.authorId === alice.id);
    const bobMsg = page.find((m) => m.authorId === bob.id);
    const read = (who) => members.find((m) => m.userId === who)?.lastReadSeq ?? 0;
    if (aliceMsg && bobMsg && read(bob.id) >= aliceMsg.seq && read(alice.id) >= bobMsg.seq) break;
    assert.ok(Date.now() < deadline, `read receipts did not arrive: ${JSON.stringify(members)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // Alice's page shows it live on her message.
  await alice.page.locator("#messages").getByText("Read by 1").first().waitFor({ timeout: WAIT });
  // And Bob's unread count for the study is back to zero on the server.
  const dash = (await server.api("GET", "/api/dashboard", { token: bob.token })).body;
  assert.equal(dash.unreadByStudy.find((u) => u.studyId === studyId)?.unread ?? 0, 0);
  assert.deepEqual([...alice.errors, ...bob.errors], []);
});

test("a file uploaded in one browser is downloaded in the other, byte for byte", async () => {
  const { alice, bob } = people;
  const bytes = Buffer.from(`CoUp 노트 ${Date.now()}\n`.repeat(2000));
  await alice.page.click("#tab-files");
  await alice.page.setInputFiles("#file-input", { name: "노트 notes.txt", mimeType: "text/plain", buffer: bytes });
  await alice.page.locator("#files").getByText("노트 notes.txt").waitFor({ timeout: WAIT });
  await shot(alice.page, "files");

  await openStudy(bob, studyName);
  await bob.page.click("#tab-files");
  const [download] = await Promise.all([
    bob.page.waitForEvent("download", { timeout: WAIT }),
    bob.page.getByRole("button", { name: "Download: 노트 notes.txt" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), "노트 notes.txt");
  const path = await download.path();
  const { readFileSync } = await import("node:fs");
  assert.deepEqual(readFileSync(path), bytes);
  // The server counted it.
  const files = (await server.api("GET", `/api/studies/${studyId}/files?page=1&limit=10`, { token: bob.token })).body.items;
  assert.equal(files.find((f) => f.name === "노트 notes.txt").downloadCount, 1);
  await alice.page.click("#tab-chat");
});

test("sign out clears the token and the cache; sign in again", async () => {
  const { alice } = people;
  await alice.page.click("#sign-out");
  await alice.page.waitForSelector("#login-title", { timeout: WAIT });
  const left = await alice.page.evaluate(async () => {
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open("coup", 1);
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const keys = await new Promise((res) => {
      const r = db.transaction("kv").objectStore("kv").getAllKeys();
      r.onsuccess = () => res(r.result);
    });
    return { session: localStorage.getItem("coup.session"), keys };
  });
  assert.equal(left.session, null, "the token is gone");
  assert.deepEqual(left.keys.filter((k) => String(k).startsWith(`${alice.id}/`)), [], "the account's cache is gone");
  // The old token no longer works.
  assert.equal((await server.api("GET", "/api/users/me", { token: alice.token })).status, 401);

  await alice.page.getByLabel("Email").fill(alice.email);
  await alice.page.getByLabel("Password").fill(PASSWORD);
  await alice.page.click("#submit");
  await alice.page.getByRole("button", { name: new RegExp(studyName) }).waitFor({ timeout: WAIT });
  alice.token = (await alice.page.evaluate(() => JSON.parse(localStorage.getItem("coup.session")))).token;
  // A wrong password is refused in words, on the page.
  const stranger = await person("stranger");
  await stranger.page.goto(server.url);
  await stranger.page.getByLabel("Email").fill(alice.email);
  await stranger.page.getByLabel("Password").fill("not-the-password-1");
  await stranger.page.click("#submit");
  await stranger.page.getByRole("alert").waitFor({ timeout: WAIT });
  await stranger.context.close();
});

test("a join request notifies the owner live; approval notifies the member live", async () => {
  const { alice, bob } = people;
  const name = `Approval study ${Date.now()}`;
  const created = await server.api("POST", "/api/studies", {
    token: alice.token,
    body: { name, description: "", category: "web", tags: [], maxMembers: 8, isPublic: true, joinPolicy: "APPROVAL" },
  });
  assert.equal(created.status, 201);
  const aliceBadge = Number((await alice.page.locator("#notif-badge").textContent()) || "0");

  await bob.page.click("#nav-find");
  await bob.page.fill("#search-keyword", name);
  await bob.page.keyboard.press("Enter");
  await bob.page.getByRole("button", { name: `Ask to join: ${name}` }).click();
  await bob.page.getByText(`Your request to join ${name} was sent.`).waitFor({ timeout: WAIT });
  await alice.page.waitForFunction(
    (before) => Number(document.querySelector("#notif-badge")?.textContent || "0") > before,
    aliceBadge,
    { timeout: WAIT },
  );
  await alice.page.click("#nav-notifications");
  await alice.page.getByText(new RegExp(name)).first().waitFor({ timeout: WAIT });
  await shot(alice.page, "notifications");

  const bobBadge = Number((await bob.page.locator("#notif-badge").textContent()) || "0");
  // Alice approves in the members tab of the study.
  await openStudy(alice, name);
  await alice.page.click("#tab-members");
  await alice.page.getByRole("button", { name: "Approve bob" }).click();
  await alice.page.locator("#members").getByText("bob").waitFor({ timeout: WAIT });
  await shot(alice.page, "members");
  await bob.page.waitForFunction(
    (before) => Number(document.querySelector("#notif-badge")?.textContent || "0") > before,
    bobBadge,
    { timeout: WAIT },
  );
  // The approved study appears on Bob's dashboard without a reload.
  await bob.page.click("#nav-dashboard");
  await bob.page.getByRole("button", { name: new RegExp(name) }).waitFor({ timeout: WAIT });
});

test("with the server down a reload shows the last state; a message typed offline arrives once", async () => {
  const { alice, bob } = people;
  await openStudy(alice, studyName);
  await openStudy(bob, studyName);
  await bob.page.locator("#messages").getByText("hi alice").waitFor({ timeout: WAIT });
  // The service worker controls the page before the server goes away.
  await bob.page.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: WAIT });

  await server.kill();
  await bob.page.locator("#banner .banner").waitFor({ timeout: WAIT });
  await bob.page.reload();
  // The shell from the service worker, the data from IndexedDB.
  await bob.page.getByRole("button", { name: new RegExp(studyName) }).waitFor({ timeout: WAIT });
  await openStudy(bob, studyName);
  await bob.page.locator("#messages").getByText("안녕하세요 bob, welcome!").waitFor({ timeout: WAIT });
  await bob.page.locator("#banner .banner").waitFor({ timeout: WAIT });

  const text = `written offline ${Date.now()}`;
  await bob.page.fill("#message-input", text);
  await bob.page.click("#send");
  await bob.page.getByText("Sending…").waitFor({ timeout: WAIT });
  await shot(bob.page, "offline");
  // A reload while offline keeps the queued message.
  await bob.page.reload();
  await openStudy(bob, studyName);
  await bob.page.getByText(text).waitFor({ timeout: WAIT });

  await server.restart();
  // Reconnected by itself (backoff), the queue is sent: the message is in the
  // chat once, on both sides.
  await bob.page.waitForFunction(() => !document.querySelector("#banner .banner"), null, { timeout: 40_000 });
  await alice.page.locator("#messages").getByText(text).waitFor({ timeout: 40_000 });
  await bob.page.waitForFunction(() => !/Sending…/.test(document.querySelector("#messages")?.textContent ?? ""), null, { timeout: WAIT });
  const page = (await server.api("GET", `/api/studies/${studyId}/chat?limit=50`, { token: alice.token })).body.items;
  assert.equal(page.filter((m) => m.content === text).length, 1, "sent exactly once");
  assert.equal(await alice.page.locator("#messages").getByText(text).count(), 1, "shown once");
  assert.equal(await bob.page.locator("#messages").getByText(text).count(), 1, "shown once");
});

test("messages posted while a tab is disconnected arrive once, in order, on resume", async () => {
  const { alice, bob } = people;
  await openStudy(bob, studyName);
  // The server restarts; before Bob's tab is back (it waits out its backoff),
  // Alice posts over REST.
  await server.kill();
  await bob.page.locator("#banner .banner").waitFor({ timeout: WAIT });
  await server.restart();
  alice.token = (await server.login(alice.email, PASSWORD)).token;
  const sent = [];
  for (let i = 1; i <= 3; i++) {
    const content = `missed ${i} ${Date.now()}`;
    const r = await server.api("POST", `/api/studies/${studyId}/chat`, { token: alice.token, body: { content, clientId: `e2e-missed-${i}-${Date.now()}` } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    sent.push(content);
  }
  // One is deleted before Bob is back: the replay brings its tombstone.
  const page = (await server.api("GET", `/api/studies/${studyId}/chat?limit=5`, { token: alice.token })).body.items;
  const first = page.find((m) => m.content === sent[0]);
  assert.equal((await server.api("DELETE", `/api/studies/${studyId}/chat/${first.id}`, { token: alice.token })).status, 204);
  for (const content of sent.slice(1)) await bob.page.locator("#messages").getByText(content).waitFor({ timeout: 40_000 });
  const texts = await bob.page.locator("#messages").innerText();
  assert.ok(!texts.includes(sent[0]), "the deleted one is not shown");
  assert.equal(texts.split(sent[1]).length - 1, 1, "once");
  assert.equal(texts.split(sent[2]).length - 1, 1, "once");
  assert.ok(texts.indexOf(sent[1]) < texts.indexOf(sent[2]), "in order");
});

/** Whether the page's video of `from` plays: decoded frames keep coming. */
async function videoPlays(page, from) {
  const selector = `#call-videos figure[data-participant="${from}"] video`;
  await page.waitForSelector(selector, { timeout: WAIT });
  const decoded = () => page.evaluate((s) => document.querySelector(s)?.getVideoPlaybackQuality().totalVideoFrames ?? 0, selector);
  await page.waitForFunction((s) => (document.querySelector(s)?.videoWidth ?? 0) > 0, selector, { timeout: WAIT });
  const first = await decoded();
  await page.waitForTimeout(1000);
  return (await decoded()) > first;
}

test("a call between two browsers: video both ways, media state, screen share, leave", async () => {
  const { alice, bob } = people;
  for (const p of [alice, bob]) {
    await openStudy(p, studyName);
    await p.page.click("#tab-call");
    await p.page.click("#call-join");
    await p.page.waitForSelector("#call-leave", { timeout: WAIT });
  }
  const aliceList = alice.page.locator("#call-participants");
  await aliceList.getByText("bob").waitFor({ timeout: WAIT });
  await bob.page.locator("#call-participants").getByText("alice").waitFor({ timeout: WAIT });
  // Camera and microphone (Chromium's fake devices) flow both ways.
  assert.ok(await videoPlays(alice.page, bob.id), "alice sees bob");
  assert.ok(await videoPlays(bob.page, alice.id), "bob sees alice");
  await aliceList.locator("li", { hasText: "bob" }).getByText(/camera on/i).waitFor({ timeout: WAIT });
  await bob.page.click("#call-camera");
  await aliceList.locator("li", { hasText: "bob" }).getByText(/camera off/i).waitFor({ timeout: WAIT });
  await bob.page.waitForSelector('#call-camera[aria-pressed="false"]', { timeout: WAIT });
  // A screen share renegotiates: a second video of bob's on alice's side.
  await bob.page.click("#call-screen");
  await alice.page.locator(`#call-videos figure[data-participant="${bob.id}"][data-kind="screen"]`).waitFor({ timeout: WAIT });
  await aliceList.locator("li", { hasText: "bob" }).getByText(/sharing screen/i).waitFor({ timeout: WAIT });
  await shot(alice.page, "call");
  await bob.page.click("#call-screen");
  await alice.page.locator(`#call-videos figure[data-participant="${bob.id}"][data-kind="screen"]`).waitFor({ state: "detached", timeout: WAIT });
  await bob.page.click("#call-leave");
  await alice.page.waitForFunction(() => !/bob/.test(document.querySelector("#call-participants")?.textContent ?? ""), null, { timeout: WAIT });
  assert.equal(await alice.page.locator(`#call-videos figure[data-participant="${bob.id}"]`).count(), 0, "bob's video is gone");
  await alice.page.click("#call-leave");
});

test("the owner edits a study's settings; a member finds it by tag and reports a message; deleting it ends it for both", async () => {
  const { alice, bob } = people;
  const tag = `tag${Date.now()}`;
  const created = await server.api("POST", "/api/studies", {
    token: alice.token,
    body: { name: `Settings ${tag}`, description: "to be renamed", category: "web", tags: [], maxMembers: 8, isPublic: true, joinPolicy: "AUTO" },
  });
  assert.equal(created.status, 201);
  const id = created.body.id;
  assert.equal((await server.api("POST", `/api/studies/${id}/join`, { token: bob.token, body: {} })).status, 201);
  await server.api("POST", `/api/studies/${id}/chat`, { token: alice.token, body: { content: "buy answers at example.com", clientId: `r-${tag}` } });

  // The owner renames it and gives it a tag, in the page.
  await alice.page.click("#nav-dashboard");
  await alice.page.locator(`[data-study='${id}']`).click();
  await alice.page.click("#tab-about");
  await alice.page.fill("#study-name", `Renamed ${tag}`);
  await alice.page.fill("#study-tags", `${tag}, css`);
  await alice.page.click("#save-study");
  await alice.page.waitForFunction((name) => document.querySelector("#study h1")?.textContent === name, `Renamed ${tag}`, { timeout: WAIT });
  const seen = (await server.api("GET", `/api/studies/${id}`, { token: bob.token })).body;
  assert.deepEqual([seen.name, [...seen.tags].sort()], [`Renamed ${tag}`, ["css", tag]]);
  await shot(alice.page, "study-settings");
  // Saving again with nothing changed sends nothing and says so.
  await alice.page.click("#save-study");
  await alice.page.getByText("Nothing changed.").waitFor({ timeout: WAIT });

  // Bob finds it by the tag alone, and reports Alice's message from the chat.
  await bob.page.click("#nav-find");
  await bob.page.fill("#search-tag", tag);
  await bob.page.keyboard.press("Enter");
  await bob.page.waitForFunction((name) => {
    const titles = [...document.querySelectorAll("#results h2")];
    return titles.length === 1 && titles[0].textContent === name;
  }, `Renamed ${tag}`, { timeout: WAIT });
  await bob.page.getByRole("button", { name: "Open" }).click();
  await bob.page.getByRole("button", { name: "Report: buy answers at example.com" }).click();
  await bob.page.getByLabel("Why are you reporting this?").fill("selling answers");
  await bob.page.getByRole("button", { name: "Send report" }).click();
  await bob.page.locator("#chat-report form").waitFor({ state: "detached", timeout: WAIT });
  const admin = await server.login("admin@example.com", PASSWORD);
  const reports = (await server.api("GET", "/api/admin/reports?targetType=MESSAGE&limit=100", { token: admin.token })).body.items;
  assert.ok(reports.some((r) => r.reason === "selling answers"), "the report reached the admins");
  // The same report twice is refused in words.
  await bob.page.getByRole("button", { name: "Report: buy answers at example.com" }).click();
  await bob.page.getByLabel("Why are you reporting this?").fill("again");
  await bob.page.getByRole("button", { name: "Send report" }).click();
  await bob.page.locator("#chat-report [role=alert]").waitFor({ timeout: WAIT });

  // The owner deletes it: gone from both dashboards.
  await alice.page.click("#tab-about");
  await alice.page.click("#delete-study");
  await alice.page.click("[data-confirm=yes]");
  await alice.page.waitForSelector("#dashboard", { timeout: WAIT });
  await alice.page.locator(`[data-study='${id}']`).waitFor({ state: "detached", timeout: WAIT });
  assert.equal((await server.api("GET", `/api/studies/${id}`, { token: bob.token })).status, 404);
  await bob.page.click("#nav-dashboard");
  await bob.page.locator(`[data-study='${id}']`).waitFor({ state: "detached", timeout: WAIT });
  assert.deepEqual([...alice.errors, ...bob.errors], []);
});

test("an administrator suspends a user whose tab is open: signed out at once", async () => {
  const { bob } = people;
  await bob.page.click("#nav-dashboard");
  // The administrator works in a browser of their own.
  const admin = await person("admin");
  await admin.page.goto(server.url);
  await admin.page.getByLabel("Email").fill("admin@example.com");
  await admin.page.getByLabel("Password").fill(PASSWORD);
  await admin.page.click("#submit");
  await admin.page.click("#nav-admin");
  await admin.page.click("#admin-tab-users");
  await admin.page.fill("#admin-user-search", bob.email);
  await admin.page.keyboard.press("Enter");
  // The search's answer replaces the unfiltered list (bob among the rest): a
  // reason typed before it lands would be wiped.
  await admin.page.waitForFunction(() => document.querySelectorAll("[id^=suspend-reason-]").length === 1, null, { timeout: WAIT });
  await admin.page.fill(`#suspend-reason-${bob.id}`, "e2e: spam");
  await admin.page.locator(`form:has(#suspend-reason-${bob.id})`).getByRole("button", { name: "Suspend" }).click();
  await admin.page.getByText(/suspended/i).first().waitFor({ timeout: WAIT });
  await shot(admin.page, "admin");
  const detail = (await server.api("GET", `/api/admin/users/${bob.id}`, { token: (await server.login("admin@example.com", PASSWORD)).token })).body;
  assert.equal(detail.user.status, "SUSPENDED");
  await admin.context.close();
  await bob.page.waitForSelector("#login-title", { timeout: WAIT });
  await bob.page.getByRole("alert").filter({ hasText: "You were signed out: This account is suspended." }).waitFor({ timeout: WAIT });
  await shot(bob.page, "suspended");
  assert.equal(await bob.page.evaluate(() => localStorage.getItem("coup.session")), null);
  // And the page says so after a reload too (no session to restore).
  await bob.page.reload();
  await bob.page.waitForSelector("#login-title", { timeout: WAIT });
});

test("a session ended while the WebSocket is down is noticed over REST: signed out", async () => {
  const carol = await person("carol");
  // Carol's tab never gets a live connection (a proxy that drops WebSockets).
  await carol.page.routeWebSocket(/\/ws$/, (ws) => ws.close({ code: 1011, reason: "proxy" }));
  await signUp(carol);
  await carol.page.locator("#banner .banner").waitFor({ timeout: WAIT });
  assert.equal((await server.api("POST", "/api/auth/logout", { token: carol.token })).status, 204);
  await carol.page.click("#nav-notifications");
  await carol.page.waitForSelector("#login-title", { timeout: WAIT });
  assert.equal(await carol.page.evaluate(() => localStorage.getItem("coup.session")), null);
  await carol.context.close();
});

test("the same screens in Korean", async () => {
  const kim = await person("kim", "ko-KR");
  await kim.page.goto(server.url);
  await kim.page.getByLabel("이메일").fill("kim@example.com");
  await kim.page.getByLabel("비밀번호").fill(PASSWORD);
  await kim.page.getByRole("button", { name: "로그인" }).click();
  await kim.page.waitForSelector("#dashboard", { timeout: WAIT });
  await kim.page.locator("#dashboard li").first().waitFor({ timeout: WAIT });
  await shot(kim.page, "dashboard-ko");
  await kim.page.locator("#dashboard li button").first().click();
  await kim.page.waitForSelector("#message-input", { timeout: WAIT });
  await kim.page.locator("#messages li").nth(1).waitFor({ timeout: WAIT });
  await shot(kim.page, "chat-ko");
  assert.deepEqual(kim.errors, []);
  await kim.context.close();
});
