import { beforeEach, describe, expect, it } from "vitest";

import { canDelete, keepScroll, markDeleted, mergeMessages, outgoing, Typing, TYPING_TTL_MS, typingLine, TypingSender, updateOutbox } from "./chat";
import { setLang } from "./i18n";
import type { ChatMessage, OutboxItem } from "./types";

const msg = (seq: number, over: Partial<ChatMessage> = {}): ChatMessage => ({
  id: `m${seq}`,
  studyId: "s1",
  seq,
  authorId: "u1",
  authorName: "Kim",
  content: `hello ${seq}`,
  isDeleted: false,
  createdAt: "2026-12-01T10:00:00Z",
  ...over,
});

const item = (id: number, clientId: string, content: string, failed = false, studyId = "s1"): OutboxItem => ({
  id,
  clientId,
  action: { type: "sendMessage", studyId, content },
  state: failed ? { state: "FAILED", code: "VALIDATION", serverCode: "VALIDATION", message: "too long", reason: null } : { state: "PENDING" },
  attempts: 0,
  createdAt: "2026-12-01T10:00:00Z",
});

beforeEach(() => setLang("en"));

describe("mergeMessages", () => {
  it("orders by sequence and keeps each message once, the incoming copy winning", () => {
    const merged = mergeMessages([msg(3), msg(1)], [msg(2), msg(3, { isDeleted: true })]);
    expect(merged.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(merged[2]?.isDeleted).toBe(true);
  });
  it("prepends older history without duplicating the overlap", () => {
    const merged = mergeMessages([msg(1), msg(2), msg(3)], [msg(3), msg(4)]);
    expect(merged).toHaveLength(4);
  });
  it("marks a message deleted in place", () => {
    const out = markDeleted([msg(1), msg(2)], "m2");
    expect(out[1]?.isDeleted).toBe(true);
    expect(out[1]?.content).toBe("");
    expect(out[0]?.isDeleted).toBe(false);
  });
});

describe("outgoing", () => {
  it("shows pending and failed messages of this study not yet delivered", () => {
    const outbox = [item(1, "c1", "sent already"), item(2, "c2", "waiting"), item(3, "c3", "refused", true), item(4, "c4", "elsewhere", false, "s2")];
    const held = [msg(1, { clientId: "c1" })];
    const out = outgoing(outbox, "s1", held);
    expect(out.map((o) => o.clientId)).toEqual(["c2", "c3"]);
    expect(out[0]?.failed).toBeNull();
    expect(out[1]?.failed).toEqual({ code: "VALIDATION", reason: null });
  });
  it("skips other outbox actions", () => {
    const read: OutboxItem = { ...item(5, "c5", ""), action: { type: "markRead", studyId: "s1", messageId: "m1" } };
    expect(outgoing([read], "s1", [])).toEqual([]);
  });
  it("replaces an item by id and removes a sent one", () => {
    const failed = item(2, "c2", "x", true);
    expect(updateOutbox([item(1, "c1", "a"), item(2, "c2", "x")], failed)[1]?.state.state).toBe("FAILED");
    expect(updateOutbox([item(1, "c1", "a"), item(2, "c2", "x")], failed, true)).toHaveLength(1);
  });
});

describe("typing", () => {
  it("expires an indicator whose stop was lost", () => {
    const typing = new Typing();
    typing.set("u2", true, 0);
    expect(typing.active(1000)).toEqual(["u2"]);
    expect(typing.active(TYPING_TTL_MS + 1)).toEqual([]);
  });
  it("ends at once on stop", () => {
    const typing = new Typing();
    typing.set("u2", true, 0);
    typing.set("u2", false, 10);
    expect(typing.active(20)).toEqual([]);
  });
  it("words one, two and many typists in each language", () => {
    expect(typingLine([])).toBe("");
    expect(typingLine(["Kim"])).toBe("Kim is typing…");
    expect(typingLine(["Kim", "Lee"])).toBe("Kim and Lee are typing…");
    expect(typingLine(["a", "b", "c"])).toBe("Several people are typing…");
    setLang("ko");
    expect(typingLine(["김민준"])).toBe("김민준 님이 입력 중…");
  });
  it("throttles typing signals and stops once", () => {
    const sender = new TypingSender(3000);
    expect(sender.input(0)).toBe(true);
    expect(sender.input(1000)).toBe(false);
    expect(sender.input(3500)).toBe(true);
    expect(sender.stop()).toBe(true);
    expect(sender.stop()).toBe(false);
    expect(sender.input(3600)).toBe(true);
  });
});

describe("permissions shown", () => {
  it("lets authors and OWNER/ADMIN delete, others not, tombstones never", () => {
    expect(canDelete(msg(1), "u1", "MEMBER")).toBe(true);
    expect(canDelete(msg(1), "u2", "MEMBER")).toBe(false);
    expect(canDelete(msg(1), "u2", "ADMIN")).toBe(true);
    expect(canDelete(msg(1), "u2", "OWNER")).toBe(true);
    expect(canDelete(msg(1, { isDeleted: true }), "u1", "OWNER")).toBe(false);
  });
});

describe("keepScroll", () => {
  it("keeps the same message in view when history is added above", () => {
    expect(keepScroll(10, 1000, 1600)).toBe(610);
  });
});
