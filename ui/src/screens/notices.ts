// Notices: pinned first; OWNER/ADMIN create, edit, pin and delete.

import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { formatTime, t } from "../i18n";
import { canManage } from "../roles";
import type { Id, Notice, Study } from "../types";
import { confirmIn, field } from "../ui";

/** Pinned first, then newest first. */
export function noticeOrder(notices: Notice[]): Notice[] {
  return [...notices].sort((a, b) => Number(b.isPinned) - Number(a.isPinned) || b.createdAt.localeCompare(a.createdAt));
}

export function noticesTab(ctx: Ctx, root: HTMLElement, studyId: Id, study: () => Study | null): void {
  const list = h("ul", { class: "plain notices", id: "notices" });
  const manage = canManage(study()?.myRole);

  const editor = (notice: Notice | null, done: () => void): HTMLFormElement => {
    const title = h("input", { type: "text", required: true, maxlength: 200, value: notice?.title ?? "", id: notice ? `notice-title-${notice.id}` : "notice-title" });
    const content = h("textarea", { rows: 4, required: true, value: notice?.content ?? "", id: notice ? `notice-content-${notice.id}` : "notice-content" });
    const pinned = h("input", { type: "checkbox", checked: notice?.isPinned ?? false, id: notice ? `notice-pin-${notice.id}` : "notice-pin" });
    const form = h(
      "form",
      { class: "card", "aria-label": notice ? t("editNotice") : t("newNotice") },
      h("h2", {}, notice ? t("editNotice") : t("newNotice")),
      field(t("title"), title),
      field(t("content"), content),
      h("div", { class: "field check" }, pinned, h("label", { for: pinned.id }, t("pinned"))),
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, notice ? t("save") : t("post")), notice ? h("button", { type: "button", onclick: done }, t("cancel")) : null),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const body = { title: title.value.trim(), content: content.value, isPinned: pinned.checked };
      const saved = notice ? ctx.backend.updateNotice(studyId, notice.id, body) : ctx.backend.createNotice(studyId, body);
      saved
        .then(() => {
          ctx.say(notice ? t("saved") : t("posted"));
          if (!notice) form.reset();
          done();
          load();
        })
        .catch((err: unknown) => ctx.fail(err));
    });
    return form;
  };

  const item = (n: Notice): HTMLElement => {
    const li = h(
      "li",
      { class: "card", "data-notice": n.id },
      h("h2", {}, n.isPinned ? h("span", { class: "tag" }, t("pinned")) : null, " ", n.title),
      h("p", { class: "muted small" }, `${n.authorName} · ${formatTime(n.createdAt)} · ${t("views", { n: n.viewCount })}`),
      h("p", { class: "pre" }, n.content),
    );
    if (manage) {
      const actions = h("div", { class: "row" });
      const edit = h("button", { class: "link", "aria-label": `${t("edit")}: ${n.title}` }, t("edit"));
      edit.addEventListener("click", () => li.replaceWith(editor(n, load)));
      const pin = h("button", { class: "link", "aria-label": `${n.isPinned ? t("unpin") : t("pin")}: ${n.title}` }, n.isPinned ? t("unpin") : t("pin"));
      pin.addEventListener("click", () => {
        ctx.backend.pinNotice(studyId, n.id, !n.isPinned).then(load).catch((e: unknown) => ctx.fail(e));
      });
      const del = h("button", { class: "link danger", "aria-label": `${t("delete")}: ${n.title}` }, t("delete"));
      del.addEventListener("click", () =>
        confirmIn(actions, t("confirmDeleteNotice"), () => ctx.backend.deleteNotice(studyId, n.id).then(load).catch((e: unknown) => ctx.fail(e))),
      );
      actions.append(edit, pin, del);
      li.append(actions);
    }
    return li;
  };

  const load = (): void => {
    ctx.backend
      .notices(studyId)
      .then((notices) => replace(list, notices.length === 0 ? h("li", { class: "muted" }, t("noNotices")) : noticeOrder(notices).map(item)))
      .catch((e: unknown) => ctx.fail(e));
  };
  ctx.on((event) => {
    if (event.type === "cacheRefreshed") load();
  });
  replace(root, manage ? editor(null, () => undefined) : null, list);
  load();
}
