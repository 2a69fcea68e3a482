// Tasks: a study's (in the study) or all of mine across studies; add with a due
// date and priority, toggle, edit, delete. Every change goes through the
// outbox, so it works offline.

import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { formatTime, t } from "../i18n";
import type { Id, Priority, Study, Task } from "../types";
import { confirmIn, field } from "../ui";

const PRIORITIES: Priority[] = ["LOW", "MEDIUM", "HIGH"];

/** Open before done; then by due date (none last), then priority. */
export function taskOrder(tasks: Task[]): Task[] {
  const rank: Record<Priority, number> = { HIGH: 0, MEDIUM: 1, LOW: 2 };
  return [...tasks].sort(
    (a, b) =>
      Number(a.isDone) - Number(b.isDone) ||
      (a.dueAt ?? "9999").localeCompare(b.dueAt ?? "9999") ||
      rank[a.priority] - rank[b.priority],
  );
}

/** A `datetime-local` value as RFC 3339 UTC (`null` when empty). */
export function localToUtc(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** An RFC 3339 time as a `datetime-local` value in local time. */
export function utcToLocal(value: string | null | undefined): string {
  if (!value) return "";
  const d = new Date(value);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The task list; `studyId` null: all of mine, with each task's study. */
export function tasksTab(ctx: Ctx, root: HTMLElement, studyId: Id | null, studies: Study[] = []): void {
  const list = h("ul", { class: "plain tasks", id: "tasks" });
  const titleInput = h("input", { type: "text", required: true, maxlength: 200, id: "task-title" });
  const due = h("input", { type: "datetime-local", id: "task-due" });
  const priority = h("select", { id: "task-priority" }, PRIORITIES.map((p) => h("option", { value: p, selected: p === "MEDIUM" }, t(p))));
  const studyName = (id: Id | null | undefined): string | null => (id ? studies.find((s) => s.id === id)?.name ?? null : null);

  const row = (task: Task): HTMLElement => {
    const box = h("input", { type: "checkbox", checked: task.isDone, id: `task-${task.id}` });
    box.addEventListener("change", () => {
      ctx.backend.setTaskDone(task.id, box.checked).then(load).catch((e: unknown) => ctx.fail(e));
    });
    const li = h(
      "li",
      { class: task.isDone ? "done" : "", "data-task": task.id },
      box,
      h("label", { for: box.id }, task.title),
      h("span", { class: `tag prio-${task.priority}` }, t(task.priority)),
      task.dueAt ? h("span", { class: "muted small" }, t("due", { date: formatTime(task.dueAt) })) : null,
      studyId === null && studyName(task.studyId) ? h("span", { class: "muted small" }, studyName(task.studyId)) : null,
    );
    const edit = h("button", { class: "link", "aria-label": `${t("edit")}: ${task.title}` }, t("edit"));
    edit.addEventListener("click", () => li.replaceWith(editor(task)));
    const del = h("button", { class: "link danger", "aria-label": `${t("delete")}: ${task.title}` }, t("delete"));
    del.addEventListener("click", () => confirmIn(li, t("confirmDeleteTask"), () => ctx.backend.deleteTask(task.id).then(load).catch((e: unknown) => ctx.fail(e))));
    li.append(edit, del);
    return li;
  };

  const editor = (task: Task): HTMLElement => {
    const title = h("input", { type: "text", required: true, maxlength: 200, value: task.title, id: `edit-title-${task.id}` });
    const when = h("input", { type: "datetime-local", value: utcToLocal(task.dueAt), id: `edit-due-${task.id}` });
    const prio = h("select", { id: `edit-prio-${task.id}` }, PRIORITIES.map((p) => h("option", { value: p, selected: p === task.priority }, t(p))));
    const form = h(
      "form",
      { class: "row wrap card", "aria-label": `${t("edit")}: ${task.title}` },
      field(t("title"), title),
      field(t("dueDate"), when),
      field(t("priority"), prio),
      h("button", { type: "submit", class: "primary" }, t("save")),
      h("button", { type: "button", onclick: load }, t("cancel")),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      ctx.backend
        .updateTask(task.id, { title: title.value.trim(), dueAt: localToUtc(when.value), priority: prio.value as Priority })
        .then(load)
        .catch((err: unknown) => ctx.fail(err));
    });
    return form;
  };

  const load = (): void => {
    ctx.backend
      .tasks()
      .then((tasks) => {
        const shown = taskOrder(studyId === null ? tasks : tasks.filter((x) => x.studyId === studyId));
        replace(list, shown.length === 0 ? h("li", { class: "muted" }, t("noTasks")) : shown.map(row));
      })
      .catch((e: unknown) => ctx.fail(e));
  };
  const form = h(
    "form",
    { class: "row wrap", "aria-label": t("newTask") },
    field(t("newTask"), titleInput),
    field(t("dueDate"), due),
    field(t("priority"), priority),
    h("button", { type: "submit", id: "add-task" }, t("add")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const title = titleInput.value.trim();
    if (!title) return;
    ctx.backend
      .createTask({ title, priority: priority.value as Priority, studyId, dueAt: localToUtc(due.value) })
      .then(() => {
        titleInput.value = "";
        due.value = "";
        load();
      })
      .catch((err: unknown) => ctx.fail(err));
  });
  ctx.on((event) => {
    if (event.type === "outboxSent" || event.type === "cacheRefreshed") load();
  });
  replace(root, form, list);
  load();
}

/** My tasks across studies (a screen of its own). */
export function myTasksScreen(ctx: Ctx, root: HTMLElement): void {
  const body = h("div", {});
  replace(root, h("main", { class: "page", id: "my-tasks" }, h("h1", {}, t("myTasks")), body));
  ctx.backend
    .studies()
    .then((studies) => tasksTab(ctx, body, null, studies))
    .catch((e: unknown) => ctx.fail(e));
}
