// One study, as tabs: chat, notices, calendar, tasks, files, members, call, about.

import type { Ctx, Route } from "../context";
import { h, replace } from "../dom";
import { t } from "../i18n";
import type { Id, Member, Study } from "../types";
import { spinner } from "../ui";
import { aboutTab } from "./about";
import { calendarTab } from "./calendar";
import { callTab } from "./call";
import { chatTab } from "./chat";
import { filesTab } from "./files";
import { membersTab } from "./members";
import { noticesTab } from "./notices";
import { tasksTab } from "./tasks";

type Tab = Extract<Route, { name: "study" }>["tab"];
const TABS: Tab[] = ["chat", "notices", "calendar", "tasks", "files", "members", "call", "about"];

export function studyScreen(ctx: Ctx, root: HTMLElement, studyId: Id, tab: Tab): void {
  const body = h("div", { class: "tab-body" });
  const title = h("h1", {}, "");
  const tabLabel = (x: Tab): string =>
    ({ chat: t("chat"), notices: t("notices"), calendar: t("calendar"), tasks: t("tasks"), files: t("files"), members: t("membersTab"), call: t("call"), about: t("about") })[x];
  const tabs = h(
    "div",
    { role: "tablist", class: "tabs", "aria-label": t("chat") },
    TABS.map((x) =>
      h(
        "button",
        {
          role: "tab",
          id: `tab-${x}`,
          "aria-selected": x === tab ? "true" : "false",
          tabindex: x === tab ? "0" : "-1",
          onclick: () => ctx.go({ name: "study", studyId, tab: x }),
          onkeydown: (e: KeyboardEvent) => {
            const i = TABS.indexOf(x);
            const next =
              e.key === "ArrowRight" ? TABS[(i + 1) % TABS.length]
              : e.key === "ArrowLeft" ? TABS[(i + TABS.length - 1) % TABS.length]
              : e.key === "Home" ? TABS[0]
              : e.key === "End" ? TABS[TABS.length - 1]
              : null;
            if (next) ctx.go({ name: "study", studyId, tab: next });
          },
        },
        tabLabel(x),
      ),
    ),
  );
  replace(
    root,
    h(
      "main",
      { class: "page study", id: "study" },
      h("div", { class: "row" }, h("button", { class: "link", onclick: () => ctx.go({ name: "dashboard" }) }, `← ${t("back")}`), title),
      tabs,
      h("div", { role: "tabpanel", "aria-labelledby": `tab-${tab}`, class: "panel" }, body),
    ),
  );
  void ctx.backend.follow(studyId).catch(() => undefined);
  let study: Study | null = null;
  let members: Member[] = [];
  const ready = Promise.all([
    ctx.backend.study(studyId).then((s) => {
      study = s;
      title.textContent = s.name;
    }),
    ctx.backend.members(studyId).then((m) => {
      members = m;
    }),
  ]).catch((e: unknown) => ctx.fail(e));

  // Someone who joins while the screen is open is named in chat and typing.
  ctx.on((event) => {
    if (event.type === "membership" && event.studyId === studyId) {
      ctx.backend.members(studyId).then((m) => {
        members = m;
      }).catch(() => undefined);
    }
  });
  void ready.then(() => {
    const current = (): Study | null => study;
    if (tab === "chat") chatTab(ctx, body, studyId, current, () => members);
    else if (tab === "members") membersTab(ctx, body, studyId, current, () => members);
    else if (tab === "notices") noticesTab(ctx, body, studyId, current);
    else if (tab === "calendar") calendarTab(ctx, body, studyId, current);
    else if (tab === "files") filesTab(ctx, body, studyId, current);
    else if (tab === "call") callTab(ctx, body, studyId, () => members);
    else if (tab === "about") aboutTab(ctx, body, studyId, current);
    else tasksTab(ctx, body, studyId);
  });
  // Focus follows the selected tab (keyboard navigation lands on it).
  document.getElementById(`tab-${tab}`)?.focus({ preventScroll: true });
  replace(body, spinner());
}

