// A browser call with the native engine: Chromium (fake camera and microphone)
// and examples/call_peer (the test pattern and a tone) in one study's call on
// the real server. The peer decodes Chromium's video (its JSON report); the
// page shows the peer's pattern, read back from the <video>'s pixels.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { FAKE_MEDIA, launch } from "../lib/browser.mjs";
import { readStamp } from "../lib/pattern.mjs";
import { recordPeerConnections, rtcReport } from "../lib/rtc.mjs";
import { Server } from "../lib/server.mjs";

const OUT = fileURLToPath(new URL("../out/", import.meta.url));
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const PASSWORD = "study-together-42";
const WAIT = 20_000;

function peerBinary() {
  if (process.env.COUP_E2E_CALL_PEER_BIN) return process.env.COUP_E2E_CALL_PEER_BIN;
  return join(process.env.CARGO_TARGET_DIR ?? join(ROOT, "target"), "debug", "examples", "call_peer");
}

let server;
let browser;
let scratch;
let peer;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), "coup-e2e-peer-"));
  server = await Server.start();
  browser = await launch(FAKE_MEDIA);
});

after(async () => {
  if (peer && peer.exitCode === null) peer.kill("SIGKILL");
  await browser?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function account(name) {
  const email = `${name}-${Date.now()}@example.com`;
  const r = await server.api("POST", "/api/auth/signup", { body: { email, password: PASSWORD, name } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { email, token: r.body.token, id: r.body.user.id };
}

/** Starts call_peer; resolves once it is in the call, with its reports. */
function startPeer(args) {
  const child = spawn(peerBinary(), args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn,coup_core=info" } });
  peer = child;
  const reports = [];
  // Its log's last lines, for a failure's message.
  const log = [];
  createInterface({ input: child.stdout }).on("line", (line) => reports.push(JSON.parse(line)));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const joined = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("call_peer did not join in 30 s")), 30_000);
    child.once("exit", (code) => reject(new Error(`call_peer exited with ${code}`)));
    createInterface({ input: child.stderr }).on("line", (line) => {
      log.push(line);
      if (log.length > 40) log.shift();
      if (/joined the call/.test(line)) {
        clearTimeout(timer);
        resolve();
      } else if (process.env.COUP_E2E_SERVER_LOGS) process.stderr.write(`call_peer: ${line}\n`);
    });
  });
  return { child, reports, log, exited, joined };
}

/** A call between a page and call_peer; `nativeFirst`: the peer is in the
 * call first and the page offers to it, else the peer joins and offers. */
async function interop(nativeFirst, screenshot) {
  const web = await account("web");
  const native = await account("native");
  const created = await server.api("POST", "/api/studies", {
    token: web.token,
    body: { name: `Interop ${Date.now()}`, category: "web", maxMembers: 10, isPublic: true, joinPolicy: "AUTO" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const studyId = created.body.id;
  const joinedStudy = await server.api("POST", `/api/studies/${studyId}/join`, { token: native.token, body: {} });
  assert.ok(joinedStudy.status < 300, JSON.stringify(joinedStudy.body));
  const peerArgs = [
    "--server", server.url, "--email", native.email, "--password", PASSWORD, "--study", studyId,
    "--loopback", "--width", "320", "--height", "240", "--fps", "15", "--kbps", "400",
    "--seconds", "40", "--every", "2", "--cache", join(scratch, `peer-cache-${nativeFirst}.db`),
  ];
  let run = null;
  if (nativeFirst) {
    run = startPeer(peerArgs);
    await run.joined;
  }

  const context = await browser.newContext({ locale: "en-US", viewport: { width: 1100, height: 760 } });
  await context.addInitScript(recordPeerConnections);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(server.url);
  await page.getByLabel("Email").fill(web.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.click("#submit");
  await page.waitForSelector("#dashboard", { timeout: WAIT });
  await page.getByRole("button", { name: /Interop/ }).first().click();
  await page.click("#tab-call");
  await page.click("#call-join");
  await page.waitForSelector("#call-leave", { timeout: WAIT });
  if (!run) {
    run = startPeer(peerArgs);
    await run.joined;
  }

  // The peer's camera in the page: its pattern's frame numbers, increasing.
  const video = `#call-videos figure[data-participant="${native.id}"] video[data-track="camera"]`;
  // What the page's WebRTC and the peer saw, for a failure's message.
  const seen = async () => `the page's WebRTC: ${JSON.stringify(await page.evaluate(rtcReport))}; call_peer's last report: ${JSON.stringify(run.reports.at(-1))}; its ${run.reports.length} reports; its log: ${JSON.stringify(run.log)}`;
  try {
    await page.waitForSelector(video, { timeout: WAIT });
  } catch (e) {
    assert.fail(`${e.message.split("\n")[0]}; ${await seen()}`);
  }
  const frames = [];
  let size = null;
  const deadline = Date.now() + 25_000;
  while (frames.length < 5 && Date.now() < deadline) {
    const stamp = await page.evaluate(readStamp, video);
    if (stamp && (frames.length === 0 || stamp.frame > frames.at(-1))) {
      frames.push(stamp.frame);
      size = `${stamp.width}x${stamp.height}`;
    }
    await page.waitForTimeout(300);
  }
  if (frames.length < 5) assert.fail(`pattern frames read from the page: ${JSON.stringify(frames)}; ${await seen()}`);
  assert.equal(size, "320x240");
  if (screenshot) await page.screenshot({ path: `${OUT}${screenshot}.png`, fullPage: true });

  // The peer decodes Chromium's camera (VP8) and receives its microphone.
  const received = () => {
    const tracks = run.reports.at(-1)?.tracks ?? [];
    return {
      camera: tracks.find((t) => t.userId === web.id && t.track === "camera")?.frames ?? 0,
      mic: tracks.find((t) => t.userId === web.id && t.track === "mic"),
    };
  };
  const until = Date.now() + WAIT;
  while (received().camera < 30 && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
  if (received().camera < 30) assert.fail(`call_peer decoded ${received().camera} frames of the page's camera; ${await seen()}`);
  assert.ok(received().mic, "the peer receives the microphone");

  await page.click("#call-leave");
  run.child.kill("SIGINT");
  await run.exited;
  assert.deepEqual(errors, []);
  await context.close();
}

test("Chromium joins a call the native engine is in (the page offers): video both ways, the pattern read back", async () => {
  await interop(true, "call-native");
});

test("the native engine joins a call Chromium is in (the peer offers, the page answers): video both ways", async () => {
  await interop(false, null);
});
