// A study's "about" tab: what it is, and for its OWNER the settings (name,
// description, category, tags, size, visibility, join policy, recruiting) and
// deleting it; everyone else can report it. The server decides who may.

import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { t } from "../i18n";
import { reportIn } from "../report";
import type { Id, JoinPolicy, Study, StudyPatch } from "../types";
import { confirmIn, errorView, field } from "../ui";

/** Every setting of a study, as the form holds them. */
export type StudySettings = { [K in keyof StudyPatch]-?: NonNullable<StudyPatch[K]> };

/** The fields of `edited` that differ from `study` (nothing sent unchanged). */
export function studyChanges(study: Study, edited: StudySettings): StudyPatch {
  const patch: StudyPatch = {};
  if (edited.name !== study.name) patch.name = edited.name;
  if (edited.description !== study.description) patch.description = edited.description;
  if (edited.category !== study.category) patch.category = edited.category;
  if (tagSet(edited.tags) !== tagSet(study.tags)) patch.tags = edited.tags;
  if (edited.maxMembers !== study.maxMembers) patch.maxMembers = edited.maxMembers;
  if (edited.isPublic !== study.isPublic) patch.isPublic = edited.isPublic;
  if (edited.joinPolicy !== study.joinPolicy) patch.joinPolicy = edited.joinPolicy;
  if (edited.isRecruiting !== study.isRecruiting) patch.isRecruiting = edited.isRecruiting;
  return patch;
}

/** Tags as typed: comma-separated, trimmed, lower-cased as the server keeps
 * them, empty ones and repeats dropped. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(",").map((x) => x.trim().toLowerCase()).filter(Boolean))];
}

/** Tags are a set: the server keeps them lower-cased and lists them sorted. */
function tagSet(tags: string[]): string {
  return [...new Set(tags.map((x) => x.toLowerCase()))].sort().join("\u0000");
}

export function aboutTab(ctx: Ctx, root: HTMLElement, studyId: Id, study: () => Study | null): void {
  const render = (s: Study): void => {
    const owner = s.myRole === "OWNER";
    const facts = h(
      "section",
      { class: "card", id: "study-about" },
      h("p", {}, s.description || h("span", { class: "muted" }, t("noDescription"))),
      h(
        "p",
        { class: "muted small" },
        `${s.category} · ${t("members", { n: s.memberCount, max: s.maxMembers })} · ${s.ownerName} · ${s.isPublic ? t("public") : t("private")} · ${s.joinPolicy === "APPROVAL" ? t("approval") : t("autoJoin")}${s.isRecruiting ? ` · ${t("recruiting")}` : ""}`,
      ),
      s.tags.length > 0
        ? h("ul", { class: "tags plain row wrap", "aria-label": t("tags") }, s.tags.map((tag) => h("li", { class: "tag" }, `#${tag}`)))
        : null,
    );
    const report = h("button", { id: "report-study" }, t("reportStudy"));
    report.addEventListener("click", () => reportIn(ctx, reportHost, "STUDY", s.id, s.name));
    const reportHost = h("div", { class: "row wrap" }, report);
    replace(root, facts, owner ? settings(ctx, studyId, s) : reportHost);
  };
  const s = study();
  if (s) render(s);
  else ctx.backend.study(studyId).then(render).catch((e: unknown) => ctx.fail(e));
}

function settings(ctx: Ctx, studyId: Id, s: Study): HTMLElement {
  const name = h("input", { type: "text", required: true, maxlength: 50, value: s.name, id: "study-name" });
  const description = h("textarea", { rows: 4, maxlength: 2000 });
  description.value = s.description;
  const category = h("input", { type: "text", required: true, maxlength: 30, value: s.category });
  const tags = h("input", { type: "text", value: s.tags.join(", "), id: "study-tags" });
  const max = h("input", { type: "number", min: 2, max: 1000, required: true, value: String(s.maxMembers) });
  const isPublic = h("input", { type: "checkbox", checked: s.isPublic, id: "study-public" });
  const approval = h("input", { type: "checkbox", checked: s.joinPolicy === "APPROVAL", id: "study-approval" });
  const recruiting = h("input", { type: "checkbox", checked: s.isRecruiting, id: "study-recruiting" });
  const status = h("div", { "aria-live": "polite" });
  const save = h("button", { type: "submit", class: "primary", id: "save-study" }, t("save"));
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "settings-title" },
    h("h2", { id: "settings-title" }, t("studySettings")),
    field(t("name"), name),
    field(t("description"), description),
    field(t("category"), category),
    field(t("tags"), tags),
    field(t("maxMembers"), max),
    h("div", { class: "field check" }, isPublic, h("label", { for: "study-public" }, t("public"))),
    h("div", { class: "field check" }, approval, h("label", { for: "study-approval" }, t("approval"))),
    h("div", { class: "field check" }, recruiting, h("label", { for: "study-recruiting" }, t("recruiting"))),
    status,
    save,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const joinPolicy: JoinPolicy = approval.checked ? "APPROVAL" : "AUTO";
    const patch = studyChanges(s, {
      name: name.value.trim(),
      description: description.value,
      category: category.value.trim(),
      tags: parseTags(tags.value),
      maxMembers: Number(max.value),
      isPublic: isPublic.checked,
      joinPolicy,
      isRecruiting: recruiting.checked,
    });
    if (Object.keys(patch).length === 0) {
      replace(status, h("p", { role: "status", class: "muted" }, t("nothingChanged")));
      return;
    }
    save.disabled = true;
    replace(status, h("p", { role: "status", class: "muted" }, t("saving")));
    ctx.backend
      .updateStudy(studyId, patch)
      .then(() => {
        ctx.say(t("studySaved"));
        // The whole screen again: its title shows a new name too.
        ctx.go({ name: "study", studyId, tab: "about" });
      })
      .catch((err: unknown) => {
        save.disabled = false;
        replace(status, errorView(err));
      });
  });
  const remove = h("button", { type: "button", class: "danger", id: "delete-study" }, t("deleteStudy"));
  const danger = h("section", { class: "card row wrap", "aria-label": t("deleteStudy") }, h("p", { class: "small" }, t("deleteStudyHelp")), remove);
  remove.addEventListener("click", () =>
    confirmIn(danger, t("confirmDeleteStudy", { name: s.name }), () =>
      ctx.backend
        .deleteStudy(studyId)
        .then(() => {
          ctx.say(t("studyDeleted", { name: s.name }));
          ctx.go({ name: "dashboard" });
        })
        .catch((err: unknown) => replace(status, errorView(err))),
    ),
  );
  return h("div", {}, form, danger);
}
