// A study's files: list, upload with a progress bar, download, delete (the
// uploader or OWNER/ADMIN; the server decides).

import { formatSize } from "../chat";
import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { formatTime, t } from "../i18n";
import { canManage } from "../roles";
import type { FileMeta, Id, Study } from "../types";
import { confirmIn } from "../ui";

export function filesTab(ctx: Ctx, root: HTMLElement, studyId: Id, study: () => Study | null): void {
  const me = ctx.session.user.id;
  const list = h("ul", { class: "plain files", id: "files" });
  const picker = h("input", { type: "file", id: "file-input" });
  const progress = h("progress", { id: "file-progress", max: 1, value: 0, "aria-label": t("uploading") });
  const progressText = h("span", { class: "muted small", id: "file-progress-text" });
  const progressRow = h("div", { class: "row", hidden: true }, progress, progressText);

  const row = (f: FileMeta): HTMLElement => {
    const li = h(
      "li",
      { class: "card row wrap", "data-file": f.id },
      h("strong", {}, f.name),
      h("span", { class: "muted small" }, `${formatSize(f.size)} · ${formatTime(f.createdAt)} · ${t("downloads", { n: f.downloadCount })}`),
    );
    const download = h("button", { "aria-label": `${t("download")}: ${f.name}`, "data-action": "download" }, t("download"));
    download.addEventListener("click", () => {
      ctx.backend
        .downloadFile(studyId, f)
        .then((path) => ctx.say(path ? t("savedTo", { path }) : t("downloadStarted", { name: f.name })))
        .catch((e: unknown) => ctx.fail(e));
    });
    li.append(download);
    if (f.uploaderId === me || canManage(study()?.myRole)) {
      const del = h("button", { class: "link danger", "aria-label": `${t("delete")}: ${f.name}` }, t("delete"));
      del.addEventListener("click", () => confirmIn(li, t("confirmDeleteFile", { name: f.name }), () => ctx.backend.deleteFile(studyId, f.id).then(load).catch((e: unknown) => ctx.fail(e))));
      li.append(del);
    }
    return li;
  };

  const load = (): void => {
    ctx.backend
      .files(studyId)
      .then((files) => replace(list, files.length === 0 ? h("li", { class: "muted" }, t("noFiles")) : files.map(row)))
      .catch((e: unknown) => ctx.fail(e));
  };
  picker.addEventListener("change", () => {
    const file = picker.files?.[0];
    if (!file) return;
    progressRow.hidden = false;
    progress.max = Math.max(file.size, 1);
    progress.value = 0;
    progressText.textContent = `0 / ${formatSize(file.size)}`;
    picker.disabled = true;
    ctx.backend
      .uploadFile(studyId, file, (p) => {
        progress.max = Math.max(p.total, 1);
        progress.value = p.sent;
        progressText.textContent = `${formatSize(p.sent)} / ${formatSize(p.total)}`;
      })
      .then((meta) => {
        ctx.say(t("uploaded", { name: meta.name }));
        load();
      })
      .catch((e: unknown) => ctx.fail(e))
      .finally(() => {
        picker.value = "";
        picker.disabled = false;
        progressRow.hidden = true;
      });
  });
  replace(
    root,
    h("div", { class: "field" }, h("label", { for: "file-input" }, t("uploadFile")), picker),
    progressRow,
    list,
  );
  load();
}
