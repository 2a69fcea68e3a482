// Find studies (search, category, tag, recruiting, sort, pages), join, create.

import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { t } from "../i18n";
import type { JoinPolicy, Study, StudyQuery } from "../types";
import { errorView, field } from "../ui";
import { parseTags } from "./about";

const LIMIT = 10;

export function findScreen(ctx: Ctx, root: HTMLElement): void {
  const keyword = h("input", { type: "search", id: "search-keyword" });
  const category = h("input", { type: "text" });
  const tag = h("input", { type: "text", id: "search-tag" });
  const recruiting = h("input", { type: "checkbox", id: "recruiting" });
  const sort = h("select", {}, (["NEWEST", "NAME", "MEMBERS"] as const).map((s) => h("option", { value: s }, t(s))));
  const results = h("div", { id: "results", "aria-live": "polite" });
  let page = 1;

  const search = (): void => {
    const query: StudyQuery = {
      keyword: keyword.value.trim() || undefined,
      category: category.value.trim() || undefined,
      tag: tag.value.trim().replace(/^#/, "") || undefined,
      recruiting: recruiting.checked ? true : undefined,
      sort: sort.value as StudyQuery["sort"],
      page,
      limit: LIMIT,
    };
    ctx.backend
      .searchStudies(query)
      .then((found) => {
        const pages = Math.max(1, Math.ceil(found.total / LIMIT));
        replace(
          results,
          found.items.length === 0 ? h("p", { class: "muted" }, t("noResults")) : h("ul", { class: "plain" }, found.items.map((s) => row(s))),
          h(
            "div",
            { class: "row" },
            h("button", { disabled: page <= 1, onclick: () => { page -= 1; search(); } }, t("previous")),
            h("span", { class: "muted" }, t("pageOf", { p: page, n: pages })),
            h("button", { disabled: page >= pages, onclick: () => { page += 1; search(); } }, t("next")),
          ),
        );
      })
      .catch((e: unknown) => replace(results, errorView(e)));
  };

  const row = (s: Study): HTMLElement => {
    const status = h("div", { "aria-live": "polite" });
    const message = h("input", { type: "text", maxlength: 500 });
    const mine = s.myStatus === "ACTIVE";
    const join = (): void => {
      ctx.backend
        .joinStudy(s.id, { message: message.value.trim() || null })
        .then((m) => {
          replace(status, h("p", { role: "status" }, m.status === "ACTIVE" ? t("joined", { name: s.name }) : t("requested", { name: s.name })));
        })
        .catch((e: unknown) => replace(status, errorView(e)));
    };
    return h(
      "li",
      { class: "card" },
      h("h2", {}, s.name),
      h("p", { class: "muted small" }, `${s.category} · ${t("members", { n: s.memberCount, max: s.maxMembers })} · ${s.ownerName}`),
      h("p", {}, s.description),
      s.tags.length > 0
        ? h(
            "ul",
            { class: "tags plain row wrap", "aria-label": t("tags") },
            s.tags.map((x) =>
              h(
                "li",
                {},
                h("button", { class: "tag", "data-tag": x, "aria-label": `${t("tag")}: ${x}`, onclick: () => { tag.value = x; page = 1; search(); } }, `#${x}`),
              ),
            ),
          )
        : null,
      mine
        ? h("button", { onclick: () => ctx.go({ name: "study", studyId: s.id, tab: "chat" }) }, t("open"))
        : h(
            "div",
            { class: "row wrap" },
            s.joinPolicy === "APPROVAL" ? field(t("joinMessage"), message) : null,
            h("button", { class: "primary", onclick: join, "aria-label": `${s.joinPolicy === "APPROVAL" ? t("askToJoin") : t("join")}: ${s.name}` }, s.joinPolicy === "APPROVAL" ? t("askToJoin") : t("join")),
          ),
      status,
    );
  };

  const form = h(
    "form",
    { class: "row wrap", role: "search" },
    field(t("keyword"), keyword),
    field(t("category"), category),
    field(t("tag"), tag),
    h("div", { class: "field check" }, recruiting, h("label", { for: "recruiting" }, t("recruitingOnly"))),
    field(t("sort"), sort),
    h("button", { type: "submit", class: "primary" }, t("search")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    page = 1;
    search();
  });

  replace(root, h("main", { class: "page", id: "find" }, h("h1", {}, t("findStudies")), form, results, createForm(ctx)));
  search();
}

function createForm(ctx: Ctx): HTMLElement {
  const name = h("input", { type: "text", required: true, maxlength: 50 });
  const description = h("textarea", { rows: 3 });
  const category = h("input", { type: "text", required: true });
  const tags = h("input", { type: "text" });
  const max = h("input", { type: "number", min: 2, max: 1000, value: "8" });
  const isPublic = h("input", { type: "checkbox", checked: true, id: "new-public" });
  const approval = h("input", { type: "checkbox", id: "new-approval" });
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "create-title" },
    h("h2", { id: "create-title" }, t("createStudy")),
    field(t("name"), name),
    field(t("description"), description),
    field(t("category"), category),
    field(t("tags"), tags),
    field(t("maxMembers"), max),
    h("div", { class: "field check" }, isPublic, h("label", { for: "new-public" }, t("public"))),
    h("div", { class: "field check" }, approval, h("label", { for: "new-approval" }, t("approval"))),
    status,
    h("button", { type: "submit", class: "primary" }, t("create")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const joinPolicy: JoinPolicy = approval.checked ? "APPROVAL" : "AUTO";
    ctx.backend
      .createStudy({
        name: name.value.trim(),
        description: description.value,
        category: category.value.trim(),
        tags: parseTags(tags.value),
        maxMembers: Number(max.value),
        isPublic: isPublic.checked,
        joinPolicy,
      })
      .then((s) => ctx.go({ name: "study", studyId: s.id, tab: "chat" }))
      .catch((err: unknown) => replace(status, errorView(err)));
  });
  return form;
}
