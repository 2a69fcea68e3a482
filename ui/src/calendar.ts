// Calendar logic without the DOM: the weeks of a month view and which events
// fall on a day.

import type { CalendarEvent } from "./types";

/** The days a month view shows: whole weeks (Monday first) covering the month. */
export function monthGrid(year: number, month: number): Date[] {
  const first = new Date(year, month, 1);
  const offset = (first.getDay() + 6) % 7;
  const start = new Date(year, month, 1 - offset);
  const last = new Date(year, month + 1, 0);
  const days = offset + last.getDate();
  const cells = Math.ceil(days / 7) * 7;
  return Array.from({ length: cells }, (_, i) => new Date(start.getFullYear(), start.getMonth(), start.getDate() + i));
}

/** Events that overlap a local day, by start time. */
export function eventsOn(events: CalendarEvent[], day: Date): CalendarEvent[] {
  const from = new Date(day.getFullYear(), day.getMonth(), day.getDate()).getTime();
  const to = from + 24 * 3600 * 1000;
  return events
    .filter((e) => new Date(e.startAt).getTime() < to && new Date(e.endAt).getTime() > from)
    .sort((a, b) => a.startAt.localeCompare(b.startAt));
}

/** The [from, to) range of a month view, as RFC 3339. */
export function gridRange(year: number, month: number): { from: string; to: string } {
  const grid = monthGrid(year, month);
  const first = grid[0] ?? new Date(year, month, 1);
  const last = grid[grid.length - 1] ?? new Date(year, month + 1, 0);
  const end = new Date(last.getFullYear(), last.getMonth(), last.getDate() + 1);
  return { from: first.toISOString(), to: end.toISOString() };
}
