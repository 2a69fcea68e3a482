// The study calendar: a month view and a list view; ACTIVE members create
// events, the creator or OWNER/ADMIN edit and delete them. Online it asks the
// server for the month shown; offline it shows the cached events.

import { eventsOn, gridRange, monthGrid } from "../calendar";
import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { formatTime, lang, t } from "../i18n";
import { canEditEvent } from "../roles";
import type { CalendarEvent, Id, Study } from "../types";
import { confirmIn, field } from "../ui";
import { localToUtc, utcToLocal } from "./tasks";

export function calendarTab(ctx: Ctx, root: HTMLElement, studyId: Id, study: () => Study | null): void {
  const me = ctx.session.user.id;
  const now = new Date();
  let year = now.getFullYear();
  let month = now.getMonth();
  let view: "month" | "list" = "month";
  let events: CalendarEvent[] = [];
  const body = h("div", { id: "calendar" });
  const heading = h("h2", { id: "calendar-month", "aria-live": "polite" });
  const formHost = h("div", {});

  const editor = (event: CalendarEvent | null, day: Date | null): HTMLFormElement => {
    const start = day ? new Date(day.getFullYear(), day.getMonth(), day.getDate(), 19) : new Date();
    const title = h("input", { type: "text", required: true, maxlength: 200, value: event?.title ?? "", id: "event-title" });
    const from = h("input", { type: "datetime-local", required: true, value: utcToLocal(event?.startAt ?? start.toISOString()), id: "event-start" });
    const to = h("input", { type: "datetime-local", required: true, value: utcToLocal(event?.endAt ?? new Date(start.getTime() + 3600_000).toISOString()), id: "event-end" });
    const allDay = h("input", { type: "checkbox", checked: event?.allDay ?? false, id: "event-all-day" });
    const location = h("input", { type: "text", value: event?.location ?? "", id: "event-location" });
    const description = h("textarea", { rows: 2, value: event?.description ?? "", id: "event-description" });
    const form = h(
      "form",
      { class: "card", "aria-label": event ? t("editEvent") : t("newEvent") },
      h("h2", {}, event ? t("editEvent") : t("newEvent")),
      field(t("title"), title),
      h("div", { class: "row wrap" }, field(t("starts"), from), field(t("ends"), to)),
      h("div", { class: "field check" }, allDay, h("label", { for: allDay.id }, t("allDay"))),
      field(t("location"), location),
      field(t("description"), description),
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary", id: "event-save" }, t("save")), h("button", { type: "button", onclick: () => replace(formHost) }, t("cancel"))),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const startAt = localToUtc(from.value);
      const endAt = localToUtc(to.value);
      if (!startAt || !endAt) return;
      const input = { title: title.value.trim(), startAt, endAt, allDay: allDay.checked, location: location.value.trim() || null, description: description.value || null };
      const saved = event ? ctx.backend.updateEvent(studyId, event.id, input) : ctx.backend.createEvent(studyId, input);
      saved
        .then(() => {
          replace(formHost);
          ctx.say(t("saved"));
          load();
        })
        .catch((err: unknown) => ctx.fail(err));
    });
    return form;
  };
  const openEditor = (event: CalendarEvent | null, day: Date | null): void => {
    replace(formHost, editor(event, day));
    formHost.querySelector("input")?.focus();
  };

  const eventItem = (e: CalendarEvent): HTMLElement => {
    const li = h(
      "li",
      { class: "event", "data-event": e.id },
      h("strong", {}, e.title),
      " ",
      h("span", { class: "muted small" }, e.allDay ? t("allDay") : `${formatTime(e.startAt)} – ${formatTime(e.endAt)}`),
      e.location ? h("span", { class: "muted small" }, ` · ${e.location}`) : null,
    );
    if (canEditEvent(e, me, study()?.myRole)) {
      const edit = h("button", { class: "link small", "aria-label": `${t("edit")}: ${e.title}` }, t("edit"));
      edit.addEventListener("click", () => openEditor(e, null));
      const del = h("button", { class: "link small danger", "aria-label": `${t("delete")}: ${e.title}` }, t("delete"));
      del.addEventListener("click", () => confirmIn(li, t("confirmDeleteEvent"), () => ctx.backend.deleteEvent(studyId, e.id).then(load).catch((err: unknown) => ctx.fail(err))));
      li.append(" ", edit, del);
    }
    return li;
  };

  const render = (): void => {
    const monthName = new Date(year, month, 1).toLocaleDateString(lang() === "ko" ? "ko-KR" : "en-US", { year: "numeric", month: "long" });
    heading.textContent = monthName;
    if (view === "list") {
      const sorted = [...events].sort((a, b) => a.startAt.localeCompare(b.startAt));
      replace(body, sorted.length === 0 ? h("p", { class: "muted" }, t("noEvents")) : h("ul", { class: "plain events" }, sorted.map(eventItem)));
      return;
    }
    const weekdays = Array.from({ length: 7 }, (_, i) => new Date(2024, 0, 1 + i).toLocaleDateString(lang() === "ko" ? "ko-KR" : "en-US", { weekday: "short" }));
    const today = new Date().toDateString();
    replace(
      body,
      h(
        "table",
        { class: "month", role: "grid", "aria-label": monthName },
        h("thead", {}, h("tr", {}, weekdays.map((d) => h("th", { scope: "col" }, d)))),
        h(
          "tbody",
          {},
          chunk(monthGrid(year, month), 7).map((week) =>
            h(
              "tr",
              {},
              week.map((day) => {
                const on = eventsOn(events, day);
                const label = day.toLocaleDateString(lang() === "ko" ? "ko-KR" : "en-US", { month: "long", day: "numeric" });
                return h(
                  "td",
                  { class: `${day.getMonth() === month ? "" : "other"}${day.toDateString() === today ? " today" : ""}` },
                  h("button", { class: "day link small", "aria-label": t("addEventOn", { day: label }), onclick: () => openEditor(null, day) }, String(day.getDate())),
                  h("ul", { class: "plain" }, on.map((e) => h("li", { class: "chip small", title: e.title }, h("button", { class: "link small", "aria-label": `${e.title}, ${formatTime(e.startAt)}`, onclick: () => { view = "list"; render(); } }, e.title)))),
                );
              }),
            ),
          ),
        ),
      ),
    );
  };

  const load = (): void => {
    const range = gridRange(year, month);
    ctx.backend
      .events(studyId, range.from, range.to)
      .catch(() => ctx.backend.calendar(studyId)) // Offline: what the cache holds.
      .then((found) => {
        events = found;
        render();
      })
      .catch((e: unknown) => ctx.fail(e));
  };
  const move = (by: number): void => {
    const d = new Date(year, month + by, 1);
    year = d.getFullYear();
    month = d.getMonth();
    load();
  };
  const viewSelect = h("select", { "aria-label": t("calendarView"), id: "calendar-view" }, h("option", { value: "month" }, t("monthView")), h("option", { value: "list" }, t("listView")));
  viewSelect.addEventListener("change", () => {
    view = viewSelect.value as "month" | "list";
    render();
  });
  ctx.on((event) => {
    if (event.type === "cacheRefreshed") load();
  });
  replace(
    root,
    h(
      "div",
      { class: "row wrap" },
      h("button", { "aria-label": t("previousMonth"), onclick: () => move(-1) }, "‹"),
      heading,
      h("button", { "aria-label": t("nextMonth"), onclick: () => move(1) }, "›"),
      viewSelect,
      h("button", { class: "primary", id: "new-event", onclick: () => openEditor(null, null) }, t("newEvent")),
    ),
    formHost,
    body,
  );
  load();
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
