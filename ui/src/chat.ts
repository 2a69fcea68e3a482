// Chat logic without the DOM: merging history and live messages, what of the
// outbox shows as pending or failed, who is typing, who may delete what. The
// chat screen is a view over these.

import { t } from "./i18n";
import type { ChatMessage, Id, OutboxItem, StudyRole } from "./types";

/** `existing` and `incoming` as one list by sequence, each message once (the
 * incoming copy wins: it may be a tombstone). */
export function mergeMessages(existing: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  const byId = new Map<Id, ChatMessage>();
  for (const m of existing) byId.set(m.id, m);
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

/** Marks a message deleted (a tombstone keeps its place). */
export function markDeleted(messages: ChatMessage[], messageId: Id): ChatMessage[] {
  return messages.map((m) => (m.id === messageId ? { ...m, isDeleted: true, content: "" } : m));
}

/** An outbox message item, for showing under the chat. */
export interface OutgoingMessage {
  item: number;
  clientId: string;
  content: string;
  failed: { code: string; reason: string | null } | null;
}

/** The outbox's messages for a study that the chat does not hold yet, oldest first. */
export function outgoing(outbox: OutboxItem[], studyId: Id, held: ChatMessage[]): OutgoingMessage[] {
  const delivered = new Set(held.map((m) => m.clientId).filter((c): c is string => !!c));
  const out: OutgoingMessage[] = [];
  for (const item of outbox) {
    const action = item.action;
    if (action.type !== "sendMessage" || action.studyId !== studyId) continue;
    if (delivered.has(item.clientId)) continue;
    out.push({
      item: item.id,
      clientId: item.clientId,
      content: action.content,
      failed:
        item.state.state === "FAILED"
          ? { code: item.state.code, reason: item.state.reason ?? null }
          : null,
    });
  }
  return out;
}

/** Replaces (or adds) one outbox item in a list, or removes it. */
export function updateOutbox(outbox: OutboxItem[], item: OutboxItem, gone = false): OutboxItem[] {
  const rest = outbox.filter((i) => i.id !== item.id);
  return gone ? rest : [...rest, item].sort((a, b) => a.id - b.id);
}

/** How long a typing indicator lasts without being renewed. */
export const TYPING_TTL_MS = 6000;

/** Who is typing, with expiry (a lost "stopped" never leaves it on). */
export class Typing {
  private until = new Map<Id, number>();

  set(userId: Id, typing: boolean, now: number): void {
    if (typing) this.until.set(userId, now + TYPING_TTL_MS);
    else this.until.delete(userId);
  }

  active(now: number): Id[] {
    const out: Id[] = [];
    for (const [id, until] of this.until) {
      if (until > now) out.push(id);
      else this.until.delete(id);
    }
    return out.sort();
  }
}

/** The line under the chat for the names of who is typing ("" for none). */
export function typingLine(names: string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return t("typing1", { a: names[0] ?? "" });
  if (names.length === 2) return t("typing2", { a: names[0] ?? "", b: names[1] ?? "" });
  return t("typingMany");
}

/** Whether the user may delete a message: their own, or any as OWNER/ADMIN. */
export function canDelete(message: ChatMessage, me: Id, myRole: StudyRole | null | undefined): boolean {
  if (message.isDeleted) return false;
  return message.authorId === me || myRole === "OWNER" || myRole === "ADMIN";
}

/** The scroll position that keeps the same message in view after content was
 * added above it (history loaded on scroll-up must not jump). */
export function keepScroll(oldTop: number, oldHeight: number, newHeight: number): number {
  return oldTop + (newHeight - oldHeight);
}

/** Throttles "typing" signals: true when one should be sent now. */
export class TypingSender {
  private lastSent = -Infinity;
  private typing = false;

  constructor(private readonly intervalMs = 3000) {}

  /** The user typed at `now`: send `true`? */
  input(now: number): boolean {
    if (!this.typing || now - this.lastSent >= this.intervalMs) {
      this.typing = true;
      this.lastSent = now;
      return true;
    }
    return false;
  }

  /** The user sent or cleared the message: send `false`? */
  stop(): boolean {
    const was = this.typing;
    this.typing = false;
    this.lastSent = -Infinity;
    return was;
  }
}

/** How many messages the chat keeps in the DOM at most: older ones are dropped
 * while live messages arrive at the bottom, newer ones while history is read
 * upwards (and reloaded from the cache on the way back down). */
export const MAX_NODES = 150;

/** Which messages of a window sorted by sequence to drop so that at most `max`
 * stay: the oldest when the reader is at the live end, else the newest. */
export function overflow(count: number, max: number, keep: "newest" | "oldest"): { from: number; to: number } | null {
  if (count <= max) return null;
  return keep === "newest" ? { from: 0, to: count - max } : { from: max, to: count };
}

/** How many other members have read a message of mine: their last read
 * sequence reaches it. */
export function readBy(lastRead: ReadonlyMap<Id, number>, seq: number, me: Id): number {
  let n = 0;
  for (const [user, last] of lastRead) if (user !== me && last >= seq) n += 1;
  return n;
}

/** Whether the server can recognise `@name` for this name (letters, digits,
 * `_`, `-`, `.`; see `coup_core::notify::mentioned_names`). */
export function mentionable(name: string): boolean {
  return /^[\p{L}\p{N}_.-]+$/u.test(name) && !name.endsWith(".");
}

/** The `@word` being typed just before the caret, if any: where it starts and
 * what was typed after the `@`. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|[^\p{L}\p{N}])@([\p{L}\p{N}_.-]*)$/u.exec(before);
  if (!match) return null;
  const query = match[2] ?? "";
  return { start: caret - query.length - 1, query };
}

/** Members to offer for a mention query: mentionable names starting with it
 * (case-insensitive), then containing it; not me; at most `limit`. */
export function mentionCandidates(names: { userId: Id; name: string }[], query: string, me: Id, limit = 6): { userId: Id; name: string }[] {
  const q = query.toLowerCase();
  const ok = names.filter((m) => m.userId !== me && mentionable(m.name));
  const starts = ok.filter((m) => m.name.toLowerCase().startsWith(q));
  const contains = ok.filter((m) => !m.name.toLowerCase().startsWith(q) && m.name.toLowerCase().includes(q));
  return [...starts, ...contains].slice(0, limit);
}

/** The text with the mention at `start` (up to `caret`) replaced by `@name `,
 * and where the caret goes. */
export function insertMention(text: string, start: number, caret: number, name: string): { text: string; caret: number } {
  const inserted = `@${name} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}

/** A file size in words (B, KB, MB). */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
