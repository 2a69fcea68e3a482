import { describe, expect, it } from "vitest";

import { eventsOn, gridRange, monthGrid } from "./calendar";
import { formatSize, insertMention, mentionAt, mentionCandidates, mentionable, overflow, readBy } from "./chat";
import { canChangeRole, canEditEvent, canKick, canManage } from "./roles";
import type { CalendarEvent, Dashboard, Notice, Study, Task } from "./types";
import { parseTags, studyChanges } from "./screens/about";
import { recentActivity } from "./screens/dashboard";
import { noticeOrder } from "./screens/notices";
import { localToUtc, taskOrder, utcToLocal } from "./screens/tasks";

describe("the chat window", () => {
  it("drops the oldest at the live end and the newest while reading history", () => {
    expect(overflow(10, 20, "newest")).toBeNull();
    expect(overflow(25, 20, "newest")).toEqual({ from: 0, to: 5 });
    expect(overflow(25, 20, "oldest")).toEqual({ from: 20, to: 25 });
  });

  it("counts the others whose read position reaches a message", () => {
    const read = new Map([["me", 9], ["a", 5], ["b", 3], ["c", 7]]);
    expect(readBy(read, 5, "me")).toBe(2);
    expect(readBy(read, 8, "me")).toBe(0);
    expect(readBy(read, 1, "me")).toBe(3);
  });
});

describe("mentions", () => {
  const members = [
    { userId: "1", name: "minsu" },
    { userId: "2", name: "Mina" },
    { userId: "3", name: "Alice Kim" },
    { userId: "4", name: "jimin" },
    { userId: "me", name: "mine" },
  ];

  it("finds the @word before the caret, not an email address", () => {
    expect(mentionAt("hi @mi", 6)).toEqual({ start: 3, query: "mi" });
    expect(mentionAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionAt("kim@exa", 7)).toBeNull();
    expect(mentionAt("hi @mi there", 12)).toBeNull();
  });

  it("offers mentionable names, prefix matches first, never me", () => {
    expect(mentionCandidates(members, "mi", "me").map((m) => m.name)).toEqual(["minsu", "Mina", "jimin"]);
    expect(mentionable("Alice Kim")).toBe(false);
    expect(mentionable("김민수")).toBe(true);
  });

  it("replaces the typed part with the name and a space", () => {
    expect(insertMention("hi @mi!", 3, 6, "minsu")).toEqual({ text: "hi @minsu !", caret: 10 });
  });

  it("words sizes", () => {
    expect(formatSize(512)).toBe("512 B");
    expect(formatSize(2048)).toBe("2.0 KB");
    expect(formatSize(5 * 1024 * 1024)).toBe("5.0 MB");
  });
});

describe("the month view", () => {
  it("covers whole weeks from Monday", () => {
    const grid = monthGrid(2026, 11); // December 2026 starts on a Tuesday
    expect(grid.length % 7).toBe(0);
    expect(grid[0]?.getDay()).toBe(1);
    expect(grid[1]?.getDate()).toBe(1);
    const range = gridRange(2026, 11);
    expect(new Date(range.from).getTime()).toBe(grid[0]?.getTime());
  });

  it("puts an event on each day it overlaps", () => {
    const e: CalendarEvent = {
      id: "e", studyId: "s", creatorId: "u", title: "camp", allDay: false, createdAt: "", updatedAt: "",
      startAt: new Date(2026, 11, 3, 22).toISOString(), endAt: new Date(2026, 11, 4, 2).toISOString(),
    };
    expect(eventsOn([e], new Date(2026, 11, 3))).toHaveLength(1);
    expect(eventsOn([e], new Date(2026, 11, 4))).toHaveLength(1);
    expect(eventsOn([e], new Date(2026, 11, 5))).toHaveLength(0);
  });
});

describe("who is offered what", () => {
  it("mirrors the membership rules", () => {
    expect(canManage("ADMIN")).toBe(true);
    expect(canManage("MEMBER")).toBe(false);
    expect(canKick("OWNER", "me", { userId: "a", role: "ADMIN" })).toBe(true);
    expect(canKick("OWNER", "me", { userId: "me", role: "OWNER" })).toBe(false);
    expect(canKick("ADMIN", "me", { userId: "a", role: "ADMIN" })).toBe(false);
    expect(canKick("ADMIN", "me", { userId: "a", role: "MEMBER" })).toBe(true);
    expect(canChangeRole("ADMIN", "me", { userId: "a" })).toBe(false);
    expect(canChangeRole("OWNER", "me", { userId: "a" })).toBe(true);
    const e = { creatorId: "a" } as CalendarEvent;
    expect(canEditEvent(e, "a", "MEMBER")).toBe(true);
    expect(canEditEvent(e, "b", "MEMBER")).toBe(false);
    expect(canEditEvent(e, "b", "OWNER")).toBe(true);
  });
});

describe("lists", () => {
  it("puts pinned notices first, then the newest", () => {
    const n = (id: string, isPinned: boolean, createdAt: string): Notice =>
      ({ id, isPinned, createdAt } as Notice);
    const order = noticeOrder([n("a", false, "2026-01-02"), n("b", true, "2026-01-01"), n("c", false, "2026-01-03")]);
    expect(order.map((x) => x.id)).toEqual(["b", "c", "a"]);
  });

  it("puts open tasks first, by due date then priority", () => {
    const k = (id: string, isDone: boolean, dueAt: string | null, priority: Task["priority"]): Task =>
      ({ id, isDone, dueAt, priority, title: id, userId: "u", createdAt: "", updatedAt: "" });
    const order = taskOrder([k("done", true, "2026-01-01", "HIGH"), k("late", false, null, "HIGH"), k("soon", false, "2026-01-02", "LOW"), k("soonHigh", false, "2026-01-02", "HIGH")]);
    expect(order.map((x) => x.id)).toEqual(["soonHigh", "soon", "late", "done"]);
  });

  it("converts local date-times both ways", () => {
    expect(localToUtc("")).toBeNull();
    const utc = localToUtc("2026-12-01T09:30");
    expect(utc).not.toBeNull();
    expect(utcToLocal(utc)).toBe("2026-12-01T09:30");
  });
});

describe("study settings and recent activity", () => {
  const study: Study = {
    id: "s1", name: "Go", description: "d", category: "lang", tags: ["go", "backend"], maxMembers: 8, memberCount: 2,
    isPublic: true, joinPolicy: "AUTO", isRecruiting: true, ownerId: "u1", ownerName: "Kim", lastSeq: 0, myRole: "OWNER", createdAt: "", updatedAt: "",
  };
  const same = { name: "Go", description: "d", category: "lang", tags: ["go", "backend"], maxMembers: 8, isPublic: true, joinPolicy: "AUTO" as const, isRecruiting: true };

  it("sends only the fields that changed", () => {
    expect(studyChanges(study, same)).toEqual({});
    expect(studyChanges(study, { ...same, name: "Go 2", tags: ["go"], isRecruiting: false })).toEqual({ name: "Go 2", tags: ["go"], isRecruiting: false });
    // Tags are a set: another order or case is no change.
    expect(studyChanges(study, { ...same, tags: ["backend", "Go"] })).toEqual({});
    expect(studyChanges(study, { ...same, tags: ["backend", "go", "web"] })).toEqual({ tags: ["backend", "go", "web"] });
  });

  it("reads tags as typed: trimmed, no empties, no repeats", () => {
    expect(parseTags(" go, ,backend ,Go,")).toEqual(["go", "backend"]);
    expect(parseTags("")).toEqual([]);
  });

  it("lists new notices first, then open tasks by due date, named by study", () => {
    const notice = (id: string, createdAt: string) => ({ id, studyId: "s1", authorId: "u1", authorName: "Kim", title: id, content: "", isPinned: false, viewCount: 0, createdAt, updatedAt: createdAt });
    const task = (id: string, dueAt: string | null, isDone = false): Task => ({ id, studyId: null, title: id, dueAt, priority: "MEDIUM", isDone, userId: "u", createdAt: "", updatedAt: "" });
    const dash = {
      stats: { studyCount: 1, ownedStudyCount: 1, pendingRequestCount: 0, openTaskCount: 2, doneTaskCount: 0, unreadNotificationCount: 0, unreadMessageCount: 0 },
      myStudies: [study],
      upcomingEvents: [],
      recentNotices: [notice("old", "2026-11-01T00:00:00Z"), notice("new", "2026-11-20T00:00:00Z")],
      dueTasks: [task("later", "2026-12-09T00:00:00Z"), task("done", "2026-12-02T00:00:00Z", true), task("sooner", "2026-12-03T00:00:00Z"), task("undated", null)],
      unreadByStudy: [],
    } satisfies Dashboard;
    const items = recentActivity(dash, []);
    expect(items.map((a) => a.title)).toEqual(["new", "old", "sooner", "later"]);
    expect(items[0]?.study).toBe("Go");
    expect(items[0]?.route).toEqual({ name: "study", studyId: "s1", tab: "notices" });
    expect(items[2]?.route).toEqual({ name: "myTasks" });
    expect(recentActivity(dash, [], 1)).toHaveLength(1);
  });
});
