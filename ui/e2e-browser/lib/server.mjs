// Starts the real coup-server binary for the browser suite: 127.0.0.1, an
// ephemeral port (or a given one, to restart where the tabs expect it), a
// temporary data directory; reads the "listening on URL" line it prints.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export function serverBinary() {
  if (process.env.COUP_E2E_SERVER_BIN) return process.env.COUP_E2E_SERVER_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(ROOT, "target");
  return join(target, "debug", "coup-server");
}

/** The server's environment: the suite's settings and no stray COUP_*
 * variables (the server refuses ones it does not know). */
function environment() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COUP_")) env[k] = v;
  env.RUST_LOG = env.RUST_LOG ?? "warn";
  return env;
}

export class Server {
  constructor(dir, args) {
    this.dir = dir;
    this.args = args;
    this.child = null;
    this.url = null;
  }

  static async start(args = []) {
    const server = new Server(mkdtempSync(join(tmpdir(), "coup-e2e-")), args);
    await server.run("127.0.0.1:0");
    return server;
  }

  async run(bind) {
    const child = spawn(serverBinary(), ["--bind", bind, "--data-dir", join(this.dir, "data"), ...this.args], {
      env: environment(),
      stdio: ["ignore", "pipe", process.env.COUP_E2E_SERVER_LOGS ? "inherit" : "ignore"],
    });
    this.child = child;
    const lines = createInterface({ input: child.stdout });
    this.url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("coup-server did not start in 30 s")), 30_000);
      child.once("exit", (code) => reject(new Error(`coup-server exited with ${code}`)));
      lines.once("line", (line) => {
        clearTimeout(timer);
        const url = line.trim().replace(/^listening on /, "");
        if (url === line.trim()) reject(new Error(`unexpected first line: ${line}`));
        else resolve(url);
      });
    });
    return this.url;
  }

  /** Kills it at once (as a crash would), keeping data and address. */
  async kill() {
    if (!this.child) return;
    const child = this.child;
    this.child = null;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  /** Starts it again on the same address over the same data. */
  async restart() {
    const bind = new URL(this.url).host;
    for (let i = 0; i < 50; i++) {
      try {
        await this.run(bind);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`could not restart coup-server on ${bind}`);
  }

  async stop() {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async api(method, path, { token, body } = {}) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(new URL(path, this.url), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async login(email, password) {
    const r = await this.api("POST", "/api/auth/login", { body: { email, password } });
    if (r.status !== 200) throw new Error(`login ${email}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}
