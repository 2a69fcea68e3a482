// One study: chat, members (presence), notices, tasks — as tabs.

import { canDelete, keepScroll, markDeleted, mergeMessages, outgoing, Typing, typingLine, TypingSender, updateOutbox } from "../chat";
import type { Ctx, Route } from "../context";
import { h, replace } from "../dom";
import { errorText, formatTime, t } from "../i18n";
import type { ChatMessage, Id, Member, OutboxItem, Priority, Study } from "../types";
import { field, spinner } from "../ui";

type Tab = Extract<Route, { name: "study" }>["tab"];
const TABS: Tab[] = ["chat", "members", "notices", "tasks"];
const PAGE = 50;

export function studyScreen(ctx: Ctx, root: HTMLElement, studyId: Id, tab: Tab): void {
  const body = h("div", { class: "tab-body" });
  const title = h("h1", {}, "");
  const tabLabel = (x: Tab): string => ({ chat: t("chat"), members: t("membersTab"), notices: t("notices"), tasks: t("tasks") })[x];
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
            const next = e.key === "ArrowRight" ? TABS[(i + 1) % TABS.length] : e.key === "ArrowLeft" ? TABS[(i + TABS.length - 1) % TABS.length] : null;
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
  const memberName = (id: Id): string => members.find((m) => m.userId === id)?.name ?? "…";
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
    if (tab === "chat") chatTab(ctx, body, studyId, () => study, memberName);
    else if (tab === "members") membersTab(ctx, body, studyId, () => members);
    else if (tab === "notices") noticesTab(ctx, body, studyId);
    else tasksTab(ctx, body, studyId);
  });
  replace(body, spinner());
}

function chatTab(ctx: Ctx, root: HTMLElement, studyId: Id, study: () => Study | null, memberName: (id: Id) => string): void {
  const me = ctx.session.user.id;
  let messages: ChatMessage[] = [];
  let outbox: OutboxItem[] = [];
  let hasOlder = true;
  let loadingOlder = false;
  const typing = new Typing();
  const sender = new TypingSender();
  const log = h("ol", { class: "messages", id: "messages", role: "log", "aria-live": "polite", tabindex: "0", "aria-label": t("chat") });
  const top = h("li", { class: "muted small center-text", id: "history-top" });
  const typingEl = h("div", { class: "typing muted small", id: "typing", "aria-live": "polite" });
  const input = h("textarea", { id: "message-input", rows: 2, placeholder: t("messagePlaceholder"), "aria-label": t("messagePlaceholder"), maxlength: 4000 });
  const sendButton = h("button", { type: "submit", class: "primary", id: "send" }, t("send"));

  const bubble = (m: ChatMessage): HTMLElement =>
    h(
      "li",
      { class: `msg${m.authorId === me ? " mine" : ""}${m.isDeleted ? " deleted" : ""}`, "data-seq": m.seq, "data-id": m.id },
      h("div", { class: "meta small" }, h("strong", {}, m.authorName), " ", h("time", { datetime: m.createdAt, class: "muted" }, formatTime(m.createdAt))),
      h("div", { class: "content" }, m.isDeleted ? h("em", { class: "muted" }, t("deleted")) : m.content),
      canDelete(m, me, study()?.myRole)
        ? h(
            "button",
            {
              class: "link small",
              "aria-label": `${t("delete")}: ${m.content.slice(0, 40)}`,
              onclick: () => {
                ctx.backend.deleteMessage(studyId, m.id).catch((e: unknown) => ctx.fail(e));
              },
            },
            t("delete"),
          )
        : null,
    );

  const render = (): void => {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    top.textContent = loadingOlder ? t("loadingOlder") : hasOlder ? "" : t("beginning");
    const pending = outgoing(outbox, studyId, messages).map((o) =>
      h(
        "li",
        { class: `msg mine ${o.failed ? "failed" : "pending"}`, "data-client-id": o.clientId },
        h("div", { class: "content" }, o.content),
        o.failed
          ? h(
              "div",
              { class: "small error-text", role: "alert" },
              t("failed", { reason: errorText(o.failed) }),
              " ",
              h("button", { class: "link", onclick: () => ctx.backend.retry(o.item).catch((e: unknown) => ctx.fail(e)) }, t("retry")),
              " ",
              h(
                "button",
                {
                  class: "link",
                  onclick: () =>
                    ctx.backend
                      .discard(o.item)
                      .then(() => {
                        outbox = outbox.filter((i) => i.id !== o.item);
                        render();
                      })
                      .catch((e: unknown) => ctx.fail(e)),
                },
                t("discard"),
              ),
            )
          : h("div", { class: "small muted" }, t("pending")),
      ),
    );
    replace(log, top, messages.map(bubble), pending);
    if (atBottom) log.scrollTop = log.scrollHeight;
  };
  const renderTyping = (): void => {
    typingEl.textContent = typingLine(typing.active(Date.now()).filter((id) => id !== me).map(memberName));
  };
  const markRead = (): void => {
    const last = [...messages].reverse().find((m) => m.authorId !== me);
    if (last && document.hasFocus()) void ctx.backend.markRead(studyId, last.id).catch(() => undefined);
  };

  const loadOlder = (): void => {
    const first = messages[0];
    if (!hasOlder || loadingOlder || !first) return;
    loadingOlder = true;
    render();
    const oldTop = log.scrollTop;
    const oldHeight = log.scrollHeight;
    ctx.backend
      .olderMessages(studyId, first.seq, PAGE)
      .then((page) => {
        hasOlder = page.hasOlder;
        messages = mergeMessages(page.items, messages);
      })
      .catch(() => undefined) // Offline: scrolling up stops at the cache.
      .finally(() => {
        loadingOlder = false;
        render();
        log.scrollTop = keepScroll(oldTop, oldHeight, log.scrollHeight);
      });
  };
  log.addEventListener("scroll", () => {
    if (log.scrollTop < 60) loadOlder();
  });

  const form = h("form", { class: "composer" }, input, sendButton);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const content = input.value.trim();
    if (!content) return;
    input.value = "";
    if (sender.stop()) void ctx.backend.setTyping(studyId, false).catch(() => undefined);
    ctx.backend
      .sendMessage(studyId, content)
      .then((item) => {
        outbox = updateOutbox(outbox, item);
        render();
        log.scrollTop = log.scrollHeight;
      })
      .catch((err: unknown) => ctx.fail(err));
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    if (input.value === "") {
      if (sender.stop()) void ctx.backend.setTyping(studyId, false).catch(() => undefined);
    } else if (sender.input(Date.now())) {
      void ctx.backend.setTyping(studyId, true).catch(() => undefined);
    }
  });

  ctx.on((event) => {
    switch (event.type) {
      case "messageReceived":
        if (event.message.studyId !== studyId) return;
        messages = mergeMessages(messages, [event.message]);
        typing.set(event.message.authorId, false, Date.now());
        render();
        renderTyping();
        markRead();
        return;
      case "messageDeleted":
        if (event.studyId !== studyId) return;
        messages = markDeleted(messages, event.messageId);
        render();
        return;
      case "typing":
        if (event.studyId !== studyId) return;
        typing.set(event.userId, event.typing, Date.now());
        renderTyping();
        return;
      case "outboxPending":
      case "outboxFailed":
        outbox = updateOutbox(outbox, event.item);
        render();
        return;
      case "outboxSent":
        outbox = updateOutbox(outbox, event.item, true);
        render();
        return;
      case "cacheRefreshed":
        void reload();
        return;
      default:
        return;
    }
  });
  const timer = setInterval(renderTyping, 1000);
  ctx.cleanup(() => {
    clearInterval(timer);
    if (sender.stop()) void ctx.backend.setTyping(studyId, false).catch(() => undefined);
  });

  const reload = async (): Promise<void> => {
    const [held, box] = await Promise.all([ctx.backend.messages(studyId, PAGE), ctx.backend.outbox()]);
    messages = mergeMessages(messages, held);
    outbox = box;
    hasOlder = (messages[0]?.seq ?? 1) > 1;
    render();
  };
  replace(root, h("section", { class: "chat" }, log, typingEl, form));
  reload()
    .then(() => {
      log.scrollTop = log.scrollHeight;
      markRead();
    })
    .catch((e: unknown) => ctx.fail(e));
  input.focus();
}

function membersTab(ctx: Ctx, root: HTMLElement, studyId: Id, members: () => Member[]): void {
  const online = new Set<Id>();
  const list = h("ul", { class: "members", id: "members" });
  const render = (): void => {
    const active = members().filter((m) => m.status === "ACTIVE");
    replace(
      list,
      active.map((m) => {
        const on = online.has(m.userId) || m.userId === ctx.session.user.id;
        return h(
          "li",
          { "data-user": m.userId },
          h("span", { class: `dot ${on ? "on" : "off"}`, role: "img", "aria-label": on ? t("online") : t("offlineDot") }),
          h("span", {}, m.name),
          h("span", { class: "muted small" }, t(`role_${m.role}`)),
        );
      }),
    );
  };
  ctx.on((event) => {
    if (event.type === "onlineMembers" && event.studyId === studyId) {
      online.clear();
      for (const id of event.userIds) online.add(id);
      render();
    } else if (event.type === "presence" && event.studyId === studyId) {
      if (event.online) online.add(event.userId);
      else online.delete(event.userId);
      render();
    }
  });
  replace(root, list);
  render();
}

function noticesTab(ctx: Ctx, root: HTMLElement, studyId: Id): void {
  ctx.backend
    .notices(studyId)
    .then((notices) => {
      const sorted = [...notices].sort((a, b) => Number(b.isPinned) - Number(a.isPinned) || b.createdAt.localeCompare(a.createdAt));
      replace(
        root,
        sorted.length === 0
          ? h("p", { class: "muted" }, t("noNotices"))
          : h(
              "ul",
              { class: "plain notices" },
              sorted.map((n) =>
                h(
                  "li",
                  { class: "card" },
                  h("h2", {}, n.isPinned ? h("span", { class: "tag" }, t("pinned")) : null, " ", n.title),
                  h("p", { class: "muted small" }, `${n.authorName} · ${formatTime(n.createdAt)}`),
                  h("p", { class: "pre" }, n.content),
                ),
              ),
            ),
      );
    })
    .catch((e: unknown) => ctx.fail(e));
}

function tasksTab(ctx: Ctx, root: HTMLElement, studyId: Id): void {
  const list = h("ul", { class: "plain tasks", id: "tasks" });
  const titleInput = h("input", { type: "text", required: true, maxlength: 200 });
  const priority = h(
    "select",
    {},
    (["LOW", "MEDIUM", "HIGH"] as Priority[]).map((p) => h("option", { value: p, selected: p === "MEDIUM" }, t(p))),
  );
  const load = (): void => {
    ctx.backend
      .tasks()
      .then((tasks) => {
        const mine = tasks.filter((x) => x.studyId === studyId);
        replace(
          list,
          mine.length === 0
            ? h("li", { class: "muted" }, t("noTasks"))
            : mine.map((task) => {
                const box = h("input", {
                  type: "checkbox",
                  checked: task.isDone,
                  id: `task-${task.id}`,
                  onchange: () => ctx.backend.setTaskDone(task.id, box.checked).then(load).catch((e: unknown) => ctx.fail(e)),
                });
                return h(
                  "li",
                  { class: task.isDone ? "done" : "" },
                  box,
                  h("label", { for: box.id }, task.title),
                  h("span", { class: `tag prio-${task.priority}` }, t(task.priority)),
                  task.dueAt ? h("span", { class: "muted small" }, t("due", { date: formatTime(task.dueAt) })) : null,
                );
              }),
        );
      })
      .catch((e: unknown) => ctx.fail(e));
  };
  const form = h("form", { class: "row wrap" }, field(t("newTask"), titleInput), field(t("priority"), priority), h("button", { type: "submit" }, t("add")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const title = titleInput.value.trim();
    if (!title) return;
    ctx.backend
      .createTask({ title, priority: priority.value as Priority, studyId })
      .then(() => {
        titleInput.value = "";
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
