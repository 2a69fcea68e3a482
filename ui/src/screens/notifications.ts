// Notifications: list, mark read, mark all read; new ones arrive live.

import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { formatTime, t } from "../i18n";
import type { Id, Notification } from "../types";

/** Read marks made in this run: the cache learns them on its next refresh. */
export const readHere = new Set<Id>();

/** Notifications with this run's read marks applied. */
export function withReadMarks(items: Notification[]): Notification[] {
  return items.map((n) => (readHere.has(n.id) ? { ...n, isRead: true } : n));
}

export function notificationsScreen(ctx: Ctx, root: HTMLElement, changed: () => void): void {
  const list = h("ul", { class: "plain", id: "notifications" });
  const load = (): void => {
    ctx.backend
      .notifications()
      .then((loaded) => {
        const items = withReadMarks(loaded);
        replace(
          list,
          items.length === 0
            ? h("li", { class: "muted" }, t("noNotifications"))
            : items.map((n) =>
                h(
                  "li",
                  { class: `card${n.isRead ? " read" : ""}` },
                  h("strong", {}, n.title),
                  h("p", {}, n.body),
                  h("p", { class: "muted small" }, formatTime(n.createdAt)),
                  n.isRead
                    ? null
                    : h(
                        "button",
                        { class: "link", onclick: () => ctx.backend.markNotificationRead(n.id).then(() => { readHere.add(n.id); refresh(); }).catch((e: unknown) => ctx.fail(e)) },
                        t("markRead"),
                      ),
                ),
              ),
        );
      })
      .catch((e: unknown) => ctx.fail(e));
  };
  const refresh = (): void => {
    load();
    changed();
  };
  ctx.on((event) => {
    if (event.type === "notification" || event.type === "cacheRefreshed") load();
  });
  replace(
    root,
    h(
      "main",
      { class: "page" },
      h(
        "div",
        { class: "row between" },
        h("h1", {}, t("notifications")),
        h("button", { onclick: () => ctx.backend.markAllNotificationsRead().then(() => ctx.backend.notifications()).then((all) => { for (const n of all) readHere.add(n.id); refresh(); }).catch((e: unknown) => ctx.fail(e)) }, t("markAllRead")),
      ),
      list,
    ),
  );
  load();
}
