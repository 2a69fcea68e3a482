// The live connection: one WebSocket to `/ws` (docs/PROTOCOL.md) that says
// `hello`, subscribes to every followed study resuming after its cursor, and
// reconnects by itself with backoff — at once when the browser says it is back
// online. The server's heartbeat pings are answered by the browser itself.
//
// Frames of one study are handled one after the other (a promise chain per
// study), so a gap fill from the REST change feed finishes before the frame
// that revealed the gap, and later frames wait for both.

import { BackendError } from "../../backend";
import type { ChatMessage, ConnectionState, Id } from "../../types";
import { reasonOf } from "./rest";
import { backoff, decide, type Change, type Cursor } from "./sequence";

/** What the server sends (the fields this client reads). */
export type ServerFrame = { type: string; requestId?: string | null; studyId?: Id; change?: number } & Record<string, unknown>;

export interface LiveHooks {
  /** The cursor a study resumes from (null: never seen). */
  cursor(studyId: Id): Cursor | undefined;
  /** Applies one change of a study's chat (called once per change, in order). */
  apply(studyId: Id, change: Change): Promise<void>;
  /** Fills the changes after the cursor up to now from the REST feed. */
  fill(studyId: Id): Promise<void>;
  /** Everything else the server says (presence, typing, notifications, …). */
  frame(frame: ServerFrame): void;
  state(state: ConnectionState): void;
}

/** Close codes after which reconnecting cannot help (PROTOCOL.md). */
const SESSION_REFUSED = 4001;
const SESSION_ENDED = 4003;
const VERSION = 1;
const MIN_BACKOFF = 250;
const MAX_BACKOFF = 30_000;
const ANSWER_TIMEOUT = 10_000;

export class Live {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private welcomed = false;
  private readonly followed = new Set<Id>();
  private readonly replaying = new Set<Id>();
  private readonly chains = new Map<Id, Promise<void>>();
  private readonly waiting = new Map<string, { resolve(f: ServerFrame): void; reject(e: Error): void }>();
  private nextRequest = 1;
  private current: ConnectionState = { state: "CONNECTING" };
  private readonly onOnline = (): void => this.reconnectNow();

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly hooks: LiveHooks,
  ) {
    window.addEventListener("online", this.onOnline);
  }

  get state(): ConnectionState {
    return this.current;
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000);
    this.socket = null;
    this.failWaiting("stopped");
  }

  /** The server refused the session over REST: the same end as a 4003. */
  signedOut(message: string, reason: string | null): void {
    if (this.stopped) return;
    this.stop();
    this.setState({ state: "SIGNED_OUT", code: "UNAUTHORIZED", message, reason: reasonOf(reason) });
  }

  /** Connect now instead of after the backoff. */
  reconnectNow(): void {
    if (this.stopped || (this.socket && this.socket.readyState <= WebSocket.OPEN)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    this.connect();
  }

  follow(studyId: Id): void {
    if (this.followed.has(studyId)) return;
    this.followed.add(studyId);
    if (this.welcomed) this.subscribe(studyId);
  }

  unfollow(studyId: Id): void {
    this.followed.delete(studyId);
  }

  /** Fire and forget (typing): dropped while offline. */
  send(frame: Record<string, unknown>): void {
    if (this.welcomed && this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  /** A frame answered by `ack` (or another frame repeating its `requestId`). */
  request(frame: Record<string, unknown>): Promise<ServerFrame> {
    const socket = this.socket;
    if (!this.welcomed || socket?.readyState !== WebSocket.OPEN) {
      return Promise.reject(new BackendError({ code: "UNAVAILABLE", message: "not connected" }));
    }
    const requestId = `b${this.nextRequest++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(new BackendError({ code: "UNAVAILABLE", message: "no answer" }));
      }, ANSWER_TIMEOUT);
      this.waiting.set(requestId, {
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      socket.send(JSON.stringify({ ...frame, requestId }));
    });
  }

  private setState(state: ConnectionState): void {
    this.current = state;
    this.hooks.state(state);
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState({ state: "CONNECTING" });
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch (e) {
      this.retry(e instanceof Error ? e.message : String(e));
      return;
    }
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "hello", version: VERSION, token: this.token }));
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(event.data) as ServerFrame;
      } catch {
        return;
      }
      this.receive(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.welcomed = false;
      this.replaying.clear();
      this.failWaiting("connection closed");
      if (this.stopped) return;
      if (event.code === SESSION_REFUSED || event.code === SESSION_ENDED) {
        this.stopped = true;
        // A 4003's reason says why (ACCOUNT_SUSPENDED, SESSION_EXPIRED).
        this.setState({ state: "SIGNED_OUT", code: "UNAUTHORIZED", message: "the session ended", reason: reasonOf(event.reason) });
        return;
      }
      this.retry(event.reason || (this.attempt === 0 ? "connection lost" : "server unreachable"));
    };
  }

  private retry(reason: string): void {
    const wait = backoff(this.attempt++, MIN_BACKOFF, MAX_BACKOFF);
    this.setState({ state: "OFFLINE", reason, retryInMs: wait });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, wait);
  }

  private failWaiting(why: string): void {
    for (const w of this.waiting.values()) w.reject(new BackendError({ code: "UNAVAILABLE", message: why }));
    this.waiting.clear();
  }

  private subscribe(studyId: Id): void {
    const cursor = this.hooks.cursor(studyId);
    this.replaying.add(studyId);
    this.send({
      type: "subscribe",
      requestId: `s:${studyId}`,
      studyId,
      ...(cursor ? { lastChange: cursor.lastChange, lastSeq: cursor.lastSeq } : {}),
    });
  }

  /** Runs `work` after everything queued for the study. */
  private inOrder(studyId: Id, work: () => Promise<void>): void {
    const before = this.chains.get(studyId) ?? Promise.resolve();
    const next = before.then(work).catch((e: unknown) => console.warn("coup: live", studyId, e));
    this.chains.set(studyId, next);
  }

  private receive(frame: ServerFrame): void {
    const studyId = frame.studyId;
    switch (frame.type) {
      case "welcome":
        this.welcomed = true;
        this.attempt = 0;
        // Subscriptions first: what the state's listeners send (a call joined
        // again) reaches the server after them.
        for (const id of this.followed) this.subscribe(id);
        this.setState({ state: "ONLINE" });
        return;
      case "subscribed":
        if (!studyId) return;
        this.inOrder(studyId, () => {
          this.replaying.delete(studyId);
          this.hooks.frame(frame);
          return Promise.resolve();
        });
        return;
      case "resyncRequired":
        if (studyId) this.inOrder(studyId, () => this.hooks.fill(studyId));
        return;
      case "message":
      case "messageDeleted":
      case "readReceipt": {
        const change = toChange(frame);
        const id = change?.type === "message" ? change.message.studyId : studyId;
        if (!change || !id) return;
        this.inOrder(id, async () => {
          const decision = decide(this.hooks.cursor(id), this.replaying.has(id), change.change);
          if (decision === "drop") return;
          if (decision === "gap") {
            await this.hooks.fill(id);
            if (decide(this.hooks.cursor(id), true, change.change) === "drop") return;
          }
          await this.hooks.apply(id, change);
        });
        return;
      }
      case "unsubscribed":
        if (studyId) this.followed.delete(studyId);
        this.hooks.frame(frame);
        return;
      default: {
        const answer = frame.requestId ? this.waiting.get(frame.requestId) : undefined;
        if (answer && frame.requestId) {
          this.waiting.delete(frame.requestId);
          if (frame.type === "error") answer.reject(BackendError.from(frame));
          else answer.resolve(frame);
          return;
        }
        this.hooks.frame(frame);
      }
    }
  }
}

function toChange(frame: ServerFrame): Change | null {
  if (typeof frame.change !== "number") return null;
  if (frame.type === "message" && typeof frame.message === "object" && frame.message !== null) {
    return { type: "message", change: frame.change, message: frame.message as ChatMessage };
  }
  if (frame.type === "messageDeleted" && typeof frame.messageId === "string" && typeof frame.seq === "number") {
    return { type: "messageDeleted", change: frame.change, messageId: frame.messageId, seq: frame.seq };
  }
  if (frame.type === "readReceipt" && typeof frame.userId === "string" && typeof frame.lastReadSeq === "number") {
    return { type: "readReceipt", change: frame.change, userId: frame.userId, lastReadSeq: frame.lastReadSeq };
  }
  return null;
}
