// My studies (from the cache at once, then unread counts and stats from the server).

import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { formatTime, t } from "../i18n";
import type { Dashboard, Id, Study } from "../types";

export function dashboardScreen(ctx: Ctx, root: HTMLElement): void {
  const unread = new Map<Id, number>();
  let studies: Study[] = [];
  let dash: Dashboard | null = null;
  const list = h("ul", { class: "studies", "aria-label": t("myStudies") });
  const stats = h("p", { class: "muted", id: "stats" });
  const upcoming = h("section", { "aria-label": t("upcoming") });

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
    }
  };

  const loadCache = (): void => {
    ctx.backend
      .studies()
      .then((s) => {
        studies = s;
        render();
        // For the launch-time benchmark: the cached dashboard is on screen.
        if (performance.getEntriesByName("coup:dashboard").length === 0) performance.mark("coup:dashboard");
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
    ),
  );
  render();
  loadCache();
  loadServer();
}
