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
