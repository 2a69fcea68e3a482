import { describe, expect, it } from "vitest";

import type { ChatMessage } from "../../types";
import { advance, applyToMessages, backoff, decide, KEEP } from "./sequence";

const msg = (seq: number, content = `m${seq}`): ChatMessage => ({
  id: `id-${seq}`,
  studyId: "s",
  seq,
  authorId: "a",
  authorName: "A",
  content,
  isDeleted: false,
  createdAt: "2026-12-01T00:00:00Z",
});

describe("change feed decisions", () => {
  it("drops what was applied, applies the next, reports gaps live", () => {
    const cursor = { lastChange: 10, lastSeq: 7 };
    expect(decide(cursor, false, 9)).toBe("drop");
    expect(decide(cursor, false, 10)).toBe("drop");
    expect(decide(cursor, false, 11)).toBe("apply");
    expect(decide(cursor, false, 13)).toBe("gap");
  });

  it("accepts skipped numbers while a resume replays", () => {
    const cursor = { lastChange: 10, lastSeq: 7 };
    expect(decide(cursor, true, 15)).toBe("apply");
    expect(decide(cursor, true, 10)).toBe("drop");
  });

  it("starts from nothing for a study never seen", () => {
    expect(decide(undefined, false, 1)).toBe("apply");
    expect(decide(undefined, false, 2)).toBe("gap");
  });

  it("advances the cursor by change, the sequence by messages only", () => {
    const c1 = advance(undefined, { type: "message", change: 3, message: msg(2) });
    expect(c1).toEqual({ lastChange: 3, lastSeq: 2 });
    const c2 = advance(c1, { type: "readReceipt", change: 4, userId: "u", lastReadSeq: 2 });
    expect(c2).toEqual({ lastChange: 4, lastSeq: 2 });
    // Never backwards.
    expect(advance(c2, { type: "messageDeleted", change: 1, messageId: "x", seq: 1 })).toEqual(c2);
  });
});

describe("cached messages", () => {
  it("merges by sequence once, replaces with a newer copy, tombstones deletions", () => {
    let held: ChatMessage[] = [];
    held = applyToMessages(held, { type: "message", change: 2, message: msg(2) });
    held = applyToMessages(held, { type: "message", change: 1, message: msg(1) });
    held = applyToMessages(held, { type: "message", change: 2, message: msg(2) });
    expect(held.map((m) => m.seq)).toEqual([1, 2]);
    held = applyToMessages(held, { type: "messageDeleted", change: 3, messageId: "id-1", seq: 1 });
    expect(held[0]).toMatchObject({ isDeleted: true, content: "" });
    expect(applyToMessages(held, { type: "readReceipt", change: 4, userId: "u", lastReadSeq: 2 })).toBe(held);
  });

  it("keeps the newest KEEP messages", () => {
    let held: ChatMessage[] = [];
    for (let seq = 1; seq <= KEEP + 5; seq++) held = applyToMessages(held, { type: "message", change: seq, message: msg(seq) });
    expect(held).toHaveLength(KEEP);
    expect(held[0]?.seq).toBe(6);
  });
});

describe("reconnect backoff", () => {
  it("doubles up to the ceiling, jittered within it", () => {
    expect(backoff(0, 250, 30_000, () => 1)).toBe(250);
    expect(backoff(3, 250, 30_000, () => 1)).toBe(2000);
    expect(backoff(50, 250, 30_000, () => 1)).toBe(30_000);
    expect(backoff(50, 250, 30_000, () => 0)).toBe(250);
  });
});
