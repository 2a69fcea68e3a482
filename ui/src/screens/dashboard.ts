// My studies (from the cache at once, then unread counts and stats from the
// server), upcoming events, and recent activity: new notices and tasks due.

import type { Ctx, Route } from "../context";
import { h, replace } from "../dom";
import { formatTime, t } from "../i18n";
import type { Dashboard, Id, Study } from "../types";

/** One line of recent activity. */
export interface Activity {
  kind: "notice" | "task";
  title: string;
  /** The study's name, where the item belongs to one. */
  study: string | null;
  /** When: a notice's creation, a task's due time (RFC 3339). */
  at: string;
  route: Route;
}

/** Recent notices (newest first) then tasks due (soonest first), at most
 * `limit`, named by the studies they belong to. */
export function recentActivity(dash: Dashboard, studies: Study[], limit = 8): Activity[] {
  const names = new Map<Id, string>([...studies, ...dash.myStudies].map((s) => [s.id, s.name]));
  const notices: Activity[] = [...dash.recentNotices]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((n) => ({ kind: "notice", title: n.title, study: names.get(n.studyId) ?? null, at: n.createdAt, route: { name: "study", studyId: n.studyId, tab: "notices" } }));
  const tasks: Activity[] = dash.dueTasks
    .filter((x) => !x.isDone && x.dueAt)
    .sort((a, b) => (a.dueAt ?? "").localeCompare(b.dueAt ?? ""))
    .map((x) => ({ kind: "task", title: x.title, study: x.studyId ? (names.get(x.studyId) ?? null) : null, at: x.dueAt ?? "", route: { name: "myTasks" } }));
  return [...notices, ...tasks].slice(0, limit);
}

export function dashboardScreen(ctx: Ctx, root: HTMLElement): void {
  const unread = new Map<Id, number>();
  let studies: Study[] = [];
  let dash: Dashboard | null = null;
  const list = h("ul", { class: "studies", "aria-label": t("myStudies") });
  const stats = h("p", { class: "muted", id: "stats" });
  const upcoming = h("section", { "aria-label": t("upcoming") });
  const activity = h("section", { "aria-label": t("recentActivity"), id: "activity" });

  const render = (): void => {
    if (studies.length === 0) {
      replace(list, h("li", { class: "muted empty" }, t("noStudies")));
    } else {
      replace(
        list,
        studies.map((s) => {
          const n = unread.get(s.id) ?? 0;
          return h(
            "li",
            {},
            h(
              "button",
              {
                class: "study-card",
                "data-study": s.id,
                onclick: () => ctx.go({ name: "study", studyId: s.id, tab: "chat" }),
              },
              h("span", { class: "study-name" }, s.name),
              n > 0 ? h("span", { class: "badge", "aria-label": t("unread", { n }) }, String(n)) : null,
              h("span", { class: "muted small" }, `${s.category} · ${t("members", { n: s.memberCount, max: s.maxMembers })}`),
              h("span", { class: "small desc" }, s.description),
            ),
          );
        }),
      );
    }
    if (dash) {
      stats.textContent = t("stats", {
        studies: dash.stats.studyCount,
        tasks: dash.stats.openTaskCount,
        unread: dash.stats.unreadMessageCount,
      });
      replace(
        upcoming,
        dash.upcomingEvents.length > 0 ? h("h2", {}, t("upcoming")) : null,
        h(
          "ul",
          { class: "plain" },
          dash.upcomingEvents.slice(0, 5).map((e) => h("li", {}, h("strong", {}, e.title), " ", h("span", { class: "muted" }, formatTime(e.startAt)))),
        ),
      );
      const items = recentActivity(dash, studies);
      replace(
        activity,
        items.length > 0 ? h("h2", {}, t("recentActivity")) : null,
        h(
          "ul",
          { class: "plain" },
          items.map((a) =>
            h(
              "li",
              {},
              h(
                "button",
                { class: "link", "data-activity": a.kind, onclick: () => ctx.go(a.route) },
                h("strong", {}, a.title),
                " ",
                h(
                  "span",
                  { class: "muted small" },
                  (a.kind === "notice"
                    ? [a.study ? t("noticeIn", { study: a.study }) : null, formatTime(a.at)]
                    : [t("dueTask", { when: formatTime(a.at) }), a.study]
                  )
                    .filter(Boolean)
                    .join(" · "),
                ),
              ),
            ),
          ),
        ),
      );
    }
  };

  const loadCache = (): void => {
    ctx.backend
      .studies()
      .then((s) => {
        studies = s;
        render();
        // For the launch-time benchmark: the cached dashboard is in the DOM
        // (mark `coup:dashboard`), then painted (the frame after it): the
        // shell's time since it started goes in mark `coup:launched`'s detail.
        if (performance.getEntriesByName("coup:dashboard").length === 0) {
          performance.mark("coup:dashboard");
          requestAnimationFrame(() =>
            setTimeout(() => {
              ctx.backend
                .launched()
                .then((ms) => performance.mark("coup:launched", { detail: ms }))
                .catch(() => undefined);
            }),
          );
        }
      })
      .catch((e: unknown) => ctx.fail(e));
  };
  const loadServer = (): void => {
    ctx.backend
      .dashboard()
      .then((d) => {
        dash = d;
        for (const u of d.unreadByStudy) unread.set(u.studyId, u.unread);
        render();
      })
      // Offline: the cached list stays; no counts.
      .catch(() => undefined);
  };
  ctx.on((event) => {
    if (event.type === "cacheRefreshed" || event.type === "studyGone") {
      loadCache();
      loadServer();
    } else if (event.type === "messageReceived" && event.message.authorId !== ctx.session.user.id) {
      unread.set(event.message.studyId, (unread.get(event.message.studyId) ?? 0) + 1);
      render();
    }
  });

  replace(
    root,
    h(
      "main",
      { class: "page", id: "dashboard" },
      h("div", { class: "row between" }, h("h1", {}, t("myStudies")), h("button", { onclick: () => ctx.go({ name: "find" }) }, t("findStudies"))),
      stats,
      list,
      upcoming,
      activity,
    ),
  );
  render();
  loadCache();
  loadServer();
}
