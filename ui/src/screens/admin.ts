// Platform administration: stats, users (search, suspend with a reason and an
// optional end, restore), studies (search, delete), reports (process with one
// of the four actions) and the audit log.

import type { Ctx, Route } from "../context";
import { h, replace } from "../dom";
import { formatTime, t } from "../i18n";
import type { Report, ReportAction, Study, User } from "../types";
import { confirmIn, errorView, field } from "../ui";
import { localToUtc } from "./tasks";

type Section = Extract<Route, { name: "admin" }>["section"];
const SECTIONS: Section[] = ["stats", "users", "studies", "reports", "audit"];
const ACTIONS: ReportAction[] = ["DISMISS", "WARN", "SUSPEND_USER", "DELETE_CONTENT"];
const LIMIT = 20;

export function adminScreen(ctx: Ctx, root: HTMLElement, section: Section): void {
  const body = h("div", { id: `admin-${section}` });
  const nav = h(
    "nav",
    { class: "tabs", "aria-label": t("admin") },
    SECTIONS.map((s) =>
      h("button", { id: `admin-tab-${s}`, "aria-current": s === section ? "page" : false, class: s === section ? "current" : "", onclick: () => ctx.go({ name: "admin", section: s }) }, t(`admin_${s}`)),
    ),
  );
  replace(root, h("main", { class: "page", id: "admin" }, h("h1", {}, t("admin")), nav, body));
  if (section === "stats") stats(ctx, body);
  else if (section === "users") users(ctx, body);
  else if (section === "studies") studies(ctx, body);
  else if (section === "reports") reports(ctx, body);
  else audit(ctx, body);
}

function stats(ctx: Ctx, root: HTMLElement): void {
  ctx.backend
    .adminStats()
    .then((s) =>
      replace(
        root,
        h(
          "dl",
          { class: "stats" },
          ([
            ["statUsers", s.userCount],
            ["statSuspended", s.suspendedUserCount],
            ["statStudies", s.studyCount],
            ["statDeletedStudies", s.deletedStudyCount],
            ["statMessages", s.messageCount],
            ["statFiles", s.fileCount],
            ["statPendingReports", s.pendingReportCount],
          ] as const).map(([k, v]) => h("div", {}, h("dt", {}, t(k)), h("dd", {}, String(v)))),
        ),
      ),
    )
    .catch((e: unknown) => replace(root, errorView(e)));
}

function users(ctx: Ctx, root: HTMLElement): void {
  const keyword = h("input", { type: "search", id: "admin-user-search" });
  const results = h("ul", { class: "plain", id: "admin-users" });
  const search = (): void => {
    ctx.backend
      .adminUsers({ keyword: keyword.value.trim() || undefined, limit: LIMIT })
      .then((page) => replace(results, page.items.length === 0 ? h("li", { class: "muted" }, t("noResults")) : page.items.map((u) => userRow(ctx, u, search))))
      .catch((e: unknown) => replace(results, errorView(e)));
  };
  const form = h("form", { class: "row wrap", role: "search" }, field(t("searchUsers"), keyword), h("button", { type: "submit", class: "primary" }, t("search")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    search();
  });
  replace(root, form, results);
  search();
}

function userRow(ctx: Ctx, u: User, changed: () => void): HTMLElement {
  const li = h(
    "li",
    { class: "card", "data-user": u.id },
    h("div", { class: "row wrap" }, h("strong", {}, u.name), h("span", { class: "muted" }, u.email), h("span", { class: "tag" }, u.role), h("span", { class: `tag ${u.status === "SUSPENDED" ? "warn" : ""}` }, t(`status_${u.status}`))),
    u.status === "SUSPENDED"
      ? h("p", { class: "small" }, t("suspendedBecause", { reason: u.suspendedReason ?? "" }), u.suspendedUntil ? ` ${t("until", { date: formatTime(u.suspendedUntil) })}` : "")
      : null,
  );
  if (u.status === "SUSPENDED") {
    li.append(h("button", { onclick: () => ctx.backend.restoreUser(u.id).then(changed).catch((e: unknown) => ctx.fail(e)), "aria-label": `${t("restore")}: ${u.name}` }, t("restore")));
  } else if (u.id !== ctx.session.user.id) {
    const reason = h("input", { type: "text", required: true, maxlength: 500, id: `suspend-reason-${u.id}` });
    const until = h("input", { type: "datetime-local", id: `suspend-until-${u.id}` });
    const form = h(
      "form",
      { class: "row wrap", "aria-label": `${t("suspend")}: ${u.name}` },
      field(t("suspendReason"), reason),
      field(t("suspendUntil"), until),
      h("button", { type: "submit", class: "danger" }, t("suspend")),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      ctx.backend
        .suspendUser(u.id, { reason: reason.value.trim(), until: localToUtc(until.value) })
        .then(() => {
          ctx.say(t("suspendedName", { name: u.name }));
          changed();
        })
        .catch((err: unknown) => ctx.fail(err));
    });
    li.append(form);
  }
  return li;
}

function studies(ctx: Ctx, root: HTMLElement): void {
  const keyword = h("input", { type: "search", id: "admin-study-search" });
  const deleted = h("input", { type: "checkbox", id: "admin-include-deleted" });
  const results = h("ul", { class: "plain", id: "admin-studies" });
  const row = (s: Study): HTMLElement => {
    const li = h("li", { class: "card row wrap", "data-study": s.id }, h("strong", {}, s.name), h("span", { class: "muted small" }, `${s.category} · ${t("members", { n: s.memberCount, max: s.maxMembers })} · ${s.ownerName} · ${s.isPublic ? t("public") : t("private")}`));
    const del = h("button", { class: "link danger", "aria-label": `${t("delete")}: ${s.name}` }, t("delete"));
    del.addEventListener("click", () => confirmIn(li, t("confirmDeleteStudy", { name: s.name }), () => ctx.backend.adminDeleteStudy(s.id, null).then(search).catch((e: unknown) => ctx.fail(e))));
    li.append(del);
    return li;
  };
  const search = (): void => {
    ctx.backend
      .adminStudies({ keyword: keyword.value.trim() || undefined, includeDeleted: deleted.checked, limit: LIMIT })
      .then((page) => replace(results, page.items.length === 0 ? h("li", { class: "muted" }, t("noResults")) : page.items.map(row)))
      .catch((e: unknown) => replace(results, errorView(e)));
  };
  const form = h("form", { class: "row wrap", role: "search" }, field(t("keyword"), keyword), h("div", { class: "field check" }, deleted, h("label", { for: deleted.id }, t("includeDeleted"))), h("button", { type: "submit", class: "primary" }, t("search")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    search();
  });
  replace(root, form, results);
  search();
}

function reports(ctx: Ctx, root: HTMLElement): void {
  const pendingOnly = h("input", { type: "checkbox", checked: true, id: "admin-pending-only" });
  const results = h("ul", { class: "plain", id: "admin-reports" });
  const row = (r: Report): HTMLElement => {
    const li = h(
      "li",
      { class: "card", "data-report": r.id },
      h("div", { class: "row wrap" }, h("span", { class: "tag" }, t(`target_${r.targetType}`)), h("code", {}, r.targetId), h("span", { class: "muted small" }, formatTime(r.createdAt))),
      h("p", {}, r.reason),
      r.status === "PROCESSED" ? h("p", { class: "muted small" }, t("processedAs", { action: t(`action_${r.action ?? "DISMISS"}`) }), r.note ? ` — ${r.note}` : "") : null,
    );
    if (r.status === "PENDING") {
      const action = h("select", { id: `report-action-${r.id}` }, ACTIONS.map((a) => h("option", { value: a }, t(`action_${a}`))));
      const note = h("input", { type: "text", maxlength: 500, id: `report-note-${r.id}` });
      const form = h("form", { class: "row wrap", "aria-label": t("processReport") }, field(t("reportAction"), action), field(t("note"), note), h("button", { type: "submit", class: "primary" }, t("processReport")));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        ctx.backend
          .processReport(r.id, { action: action.value as ReportAction, note: note.value.trim() || null })
          .then(load)
          .catch((err: unknown) => ctx.fail(err));
      });
      li.append(form);
    }
    return li;
  };
  const load = (): void => {
    ctx.backend
      .adminReports({ status: pendingOnly.checked ? "PENDING" : undefined, limit: LIMIT })
      .then((page) => replace(results, page.items.length === 0 ? h("li", { class: "muted" }, t("noReports")) : page.items.map(row)))
      .catch((e: unknown) => replace(results, errorView(e)));
  };
  pendingOnly.addEventListener("change", load);
  replace(root, h("div", { class: "field check" }, pendingOnly, h("label", { for: pendingOnly.id }, t("pendingOnly"))), results);
  load();
}

function audit(ctx: Ctx, root: HTMLElement): void {
  let page = 1;
  const table = h("div", { id: "audit-log" });
  const load = (): void => {
    ctx.backend
      .auditLog(page, LIMIT)
      .then((p) => {
        const pages = Math.max(1, Math.ceil(p.total / LIMIT));
        replace(
          table,
          h(
            "table",
            { class: "audit" },
            h("thead", {}, h("tr", {}, [t("when"), t("auditAction"), t("target"), t("detail")].map((x) => h("th", { scope: "col" }, x)))),
            h("tbody", {}, p.items.map((e) => h("tr", {}, h("td", {}, formatTime(e.createdAt)), h("td", {}, e.action), h("td", {}, `${e.targetType} ${e.targetId}`), h("td", {}, e.detail)))),
          ),
          h(
            "div",
            { class: "row" },
            h("button", { disabled: page <= 1, onclick: () => { page -= 1; load(); } }, t("previous")),
            h("span", { class: "muted" }, t("pageOf", { p: page, n: pages })),
            h("button", { disabled: page >= pages, onclick: () => { page += 1; load(); } }, t("next")),
          ),
        );
      })
      .catch((e: unknown) => replace(table, errorView(e)));
  };
  replace(root, table);
  load();
}
