// The delivery rules of the chat change feed (docs/PROTOCOL.md, "The change
// feed"), as pure functions: every post, deletion and read receipt of a study
// has a change number; the client keeps the last it applied and applies each
// change once, in order.
//
// - A change at or below the cursor was applied already (a replay after a
//   resume, or a frame that crossed a gap fill): dropped.
// - While a subscription replays (between `subscribe` and `subscribed`) numbers
//   may skip, because superseded changes have no frame: applied.
// - Live, the next change is the cursor plus one; anything past it means frames
//   were lost, and the hole is filled from `GET …/chat/changes?after=cursor`
//   before the change itself.

import type { ChatChange, ChatMessage } from "../../types";

export interface Cursor {
  /** The last change applied. */
  lastChange: number;
  /** The highest message sequence number held. */
  lastSeq: number;
}

/** One change of the feed: the server's `ChatChange` (REST and live frames). */
export type Change = ChatChange;

export type Decision = "apply" | "drop" | "gap";

export function decide(cursor: Cursor | undefined, replaying: boolean, change: number): Decision {
  const last = cursor?.lastChange ?? 0;
  if (change <= last) return "drop";
  if (replaying || change === last + 1) return "apply";
  return "gap";
}

/** The cursor after applying `change`. */
export function advance(cursor: Cursor | undefined, change: Change): Cursor {
  const lastSeq = Math.max(cursor?.lastSeq ?? 0, change.type === "message" ? change.message.seq : 0);
  return { lastChange: Math.max(cursor?.lastChange ?? 0, change.change), lastSeq };
}

/** Reconnect delays: doubling from `min` to `max`, with full jitter so a
 * server restart is not met by every tab at the same instant. */
export function backoff(attempt: number, min: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 20));
  return Math.round(min + (ceiling - min) * random());
}

/** Messages kept per study in the cache (the newest; older pages come from the
 * server on scroll). */
export const KEEP = 500;

/** `held` with `change` applied: messages merged by sequence (a newer copy
 * replaces an older one, e.g. a tombstone), deletions as tombstones. */
export function applyToMessages(held: ChatMessage[], change: Change): ChatMessage[] {
  if (change.type === "readReceipt") return held;
  if (change.type === "messageDeleted") {
    return held.map((m) => (m.id === change.messageId ? { ...m, isDeleted: true, content: "" } : m));
  }
  const next = held.filter((m) => m.seq !== change.message.seq);
  next.push(change.message);
  next.sort((a, b) => a.seq - b.seq);
  return next.length > KEEP ? next.slice(next.length - KEEP) : next;
}
