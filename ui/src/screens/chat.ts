// The chat tab: a window of at most `MAX_NODES` messages kept in the DOM and
// changed one node at a time (a live message appends one `li`, a deletion
// patches one), history loaded as the reader scrolls up (without jumps) and
// newer messages again on the way down, the unread marker, typing, "read by N",
// @mention completion, attachments with a progress bar, and the outbox's
// pending and failed messages. Clicks are handled once on the list (no
// listener or closure per message).

import {
  canDelete,
  formatSize,
  insertMention,
  keepScroll,
  MAX_NODES,
  mentionAt,
  mentionCandidates,
  outgoing,
  overflow,
  readBy,
  Typing,
  typingLine,
  TypingSender,
  updateOutbox,
} from "../chat";
import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { errorText, formatTime, t } from "../i18n";
import { reportIn } from "../report";
import type { ChatMessage, ChatPage, Id, Member, OutboxItem, Study } from "../types";

const PAGE = 50;

export function chatTab(ctx: Ctx, root: HTMLElement, studyId: Id, study: () => Study | null, members: () => Member[]): void {
  const me = ctx.session.user.id;
  /** The messages in the DOM, by sequence; `nodes` holds their elements. */
  let shown: ChatMessage[] = [];
  const nodes = new Map<Id, HTMLLIElement>();
  let outbox: OutboxItem[] = [];
  let hasOlder = true;
  /** The window does not reach the newest message (history read upwards). */
  let hasNewer = false;
  let loading = false;
  const lastRead = new Map<Id, number>(members().filter((m) => m.status === "ACTIVE").map((m) => [m.userId, m.lastReadSeq]));
  const myLastRead = lastRead.get(me) ?? 0;
  const typing = new Typing();
  const sender = new TypingSender();
  const memberName = (id: Id): string => members().find((m) => m.userId === id)?.name ?? "…";

  const scroller = h("div", { class: "messages", id: "messages", role: "log", "aria-live": "polite", tabindex: "0", "aria-label": t("chat") });
  const top = h("div", { class: "muted small center-text", id: "history-top" });
  const history = h("ol", { class: "history plain" });
  const pendingList = h("ol", { class: "pending-list plain" });
  const marker = h("li", { class: "unread-marker", id: "unread-marker", role: "separator" }, h("span", {}, t("newMessages")));
  scroller.append(top, history, pendingList);
  const typingEl = h("div", { class: "typing muted small", id: "typing", "aria-live": "polite" });
  const input = h("textarea", {
    id: "message-input",
    rows: 2,
    placeholder: t("messagePlaceholder"),
    "aria-label": t("messagePlaceholder"),
    maxlength: 4000,
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": "mention-list",
  });
  const mentionList = h("ul", { id: "mention-list", class: "mentions plain", role: "listbox", "aria-label": t("mentionList"), hidden: true });
  const sendButton = h("button", { type: "submit", class: "primary", id: "send" }, t("send"));
  const fileInput = h("input", { type: "file", id: "attach-input", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true" });
  const attach = h("button", { type: "button", id: "attach", "aria-label": t("attachFile"), title: t("attachFile") }, "📎");
  const progress = h("progress", { id: "upload-progress", max: 1, value: 0, "aria-label": t("uploading") });
  // A report form opens here, out of the list (whose nodes are replaced).
  const reportArea = h("div", { id: "chat-report" });
  const progressRow = h("div", { class: "row small upload", hidden: true }, h("span", { class: "muted" }, t("uploading")), progress);

  // One message's node (built once; replaced only when the message changes).
  const node = (m: ChatMessage): HTMLLIElement => {
    const mine = m.authorId === me;
    return h(
      "li",
      { class: `msg${mine ? " mine" : ""}${m.isDeleted ? " deleted" : ""}`, "data-seq": m.seq, "data-id": m.id },
      h("div", { class: "meta small" }, h("strong", {}, m.authorName), " ", h("time", { datetime: m.createdAt, class: "muted" }, formatTime(m.createdAt))),
      h("div", { class: "content" }, m.isDeleted ? h("em", { class: "muted" }, t("deleted")) : m.content),
      m.file && !m.isDeleted
        ? h(
            "button",
            { class: "attachment small", "data-action": "download", "aria-label": `${t("download")}: ${m.file.name}` },
            `📄 ${m.file.name} (${formatSize(m.file.size)})`,
          )
        : null,
      h(
        "div",
        { class: "actions small" },
        mine && !m.isDeleted ? h("span", { class: "muted read-by" }, "") : null,
        canDelete(m, me, study()?.myRole)
          ? h("button", { class: "link small", "data-action": "delete", "aria-label": `${t("delete")}: ${m.content.slice(0, 40)}` }, t("delete"))
          : null,
        !mine && !m.isDeleted
          ? h("button", { class: "link small", "data-action": "report", "aria-label": `${t("report")}: ${m.content.slice(0, 40)}` }, t("report"))
          : null,
      ),
    );
  };

  const updateReadBy = (): void => {
    for (const m of shown) {
      if (m.authorId !== me || m.isDeleted) continue;
      const span = nodes.get(m.id)?.querySelector(".read-by");
      if (!span) continue;
      const n = readBy(lastRead, m.seq, me);
      const text = n > 0 ? t("readBy", { n }) : "";
      if (span.textContent !== text) span.textContent = text;
    }
  };

  const drop = (m: ChatMessage): void => {
    const el = nodes.get(m.id);
    if (el?.previousElementSibling === marker) marker.remove();
    el?.remove();
    nodes.delete(m.id);
  };

  /** Puts messages into the window: new ones as nodes in sequence order,
   * changed ones (a deletion) patched in place. */
  const insert = (incoming: ChatMessage[]): void => {
    for (const m of incoming) {
      const old = nodes.get(m.id);
      if (old) {
        const i = shown.findIndex((x) => x.id === m.id);
        const was = shown[i];
        if (was && (was.isDeleted !== m.isDeleted || was.content !== m.content)) {
          shown[i] = m;
          const fresh = node(m);
          old.replaceWith(fresh);
          nodes.set(m.id, fresh);
        }
        continue;
      }
      // Usually the newest: scan from the end.
      let i = shown.length;
      while (i > 0 && (shown[i - 1]?.seq ?? 0) > m.seq) i -= 1;
      const el = node(m);
      const after = shown[i];
      const anchor = after ? nodes.get(after.id) : null;
      history.insertBefore(el, anchor ?? null);
      shown.splice(i, 0, m);
      nodes.set(m.id, el);
    }
  };

  /** Keeps at most MAX_NODES messages, dropping from the end away from the reader. */
  const trim = (keep: "newest" | "oldest"): void => {
    const cut = overflow(shown.length, MAX_NODES, keep);
    if (!cut) return;
    for (const m of shown.slice(cut.from, cut.to)) drop(m);
    shown.splice(cut.from, cut.to - cut.from);
    if (keep === "newest") hasOlder = true;
    else hasNewer = true;
  };

  const renderTop = (): void => {
    top.textContent = loading ? t("loadingOlder") : hasOlder ? "" : t("beginning");
  };

  const renderPending = (): void => {
    replace(
      pendingList,
      outgoing(outbox, studyId, shown).map((o) =>
        h(
          "li",
          { class: `msg mine ${o.failed ? "failed" : "pending"}`, "data-client-id": o.clientId, "data-item": o.item },
          h("div", { class: "content" }, o.content),
          o.failed
            ? h(
                "div",
                { class: "small error-text", role: "alert" },
                t("failed", { reason: errorText(o.failed) }),
                " ",
                h("button", { class: "link", "data-action": "retry" }, t("retry")),
                " ",
                h("button", { class: "link", "data-action": "discard" }, t("discard")),
              )
            : h("div", { class: "small muted" }, t("pending")),
        ),
      ),
    );
  };

  const nearBottom = (): boolean => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
  const toBottom = (): void => {
    scroller.scrollTop = scroller.scrollHeight;
  };

  const markRead = (): void => {
    if (hasNewer) return;
    for (let i = shown.length - 1; i >= 0; i -= 1) {
      const m = shown[i];
      if (m && m.authorId !== me) {
        if (document.hasFocus()) void ctx.backend.markRead(studyId, m.id).catch(() => undefined);
        return;
      }
    }
  };

  const loadOlder = (): void => {
    const first = shown[0];
    if (!hasOlder || loading || !first) return;
    loading = true;
    renderTop();
    const oldTop = scroller.scrollTop;
    const oldHeight = scroller.scrollHeight;
    ctx.backend
      .olderMessages(studyId, first.seq, PAGE)
      .then((page) => {
        hasOlder = page.hasOlder;
        insert(page.items);
        trim("oldest");
      })
      .catch(() => undefined) // Offline: scrolling up stops at what is held.
      .finally(() => {
        loading = false;
        renderTop();
        scroller.scrollTop = keepScroll(oldTop, oldHeight, scroller.scrollHeight);
      });
  };

  const loadNewer = (): void => {
    const last = shown[shown.length - 1];
    if (!hasNewer || loading || !last) return;
    loading = true;
    const newer: Promise<ChatPage> = ctx.backend.newerMessages(studyId, last.seq, PAGE).catch(() =>
      // Offline: back to the newest the cache holds.
      ctx.backend.messages(studyId, PAGE).then((items) => ({ items, hasOlder: true, hasNewer: false, lastChange: 0 })),
    );
    newer
      .then((page) => {
        const oldTop = scroller.scrollTop;
        if (page.items.length > 0 && (page.items[0]?.seq ?? 0) > last.seq + PAGE) {
          // The cache's newest do not follow on: start the window again there.
          for (const m of shown) drop(m);
          shown = [];
        }
        insert(page.items);
        hasNewer = page.hasNewer;
        trim("newest");
        scroller.scrollTop = Math.min(oldTop, scroller.scrollHeight);
        renderPending();
        updateReadBy();
        markRead();
      })
      .catch((e: unknown) => ctx.fail(e))
      .finally(() => {
        loading = false;
        renderTop();
      });
  };

  scroller.addEventListener("scroll", () => {
    if (scroller.scrollTop < 60) loadOlder();
    else if (hasNewer && nearBottom()) loadNewer();
  });

  const messageOf = (target: Element): ChatMessage | undefined => {
    const id = target.closest("li.msg")?.getAttribute("data-id");
    return id ? shown.find((m) => m.id === id) : undefined;
  };
  scroller.addEventListener("click", (e) => {
    const button = (e.target as Element).closest("button[data-action]");
    if (!button) return;
    const action = button.getAttribute("data-action");
    if (action === "retry" || action === "discard") {
      const item = Number(button.closest("li")?.getAttribute("data-item"));
      const done = action === "retry" ? ctx.backend.retry(item) : ctx.backend.discard(item).then(() => {
        outbox = outbox.filter((i) => i.id !== item);
        renderPending();
      });
      done.catch((err: unknown) => ctx.fail(err));
      return;
    }
    const m = messageOf(button);
    if (!m) return;
    if (action === "delete") ctx.backend.deleteMessage(studyId, m.id).catch((err: unknown) => ctx.fail(err));
    else if (action === "report") reportIn(ctx, reportArea, "MESSAGE", m.id, `${m.authorName}: ${m.content.slice(0, 80)}`);
    else if (action === "download" && m.file) {
      const file = m.file;
      ctx.backend
        .downloadFile(studyId, file)
        .then((path) => ctx.say(path ? t("savedTo", { path }) : t("downloadStarted", { name: file.name })))
        .catch((err: unknown) => ctx.fail(err));
    }
  });

  // Sending, typing, attachments.
  const send = (content: string, fileId: Id | null): void => {
    ctx.backend
      .sendMessage(studyId, content, fileId)
      .then((item) => {
        outbox = updateOutbox(outbox, item);
        renderPending();
        toBottom();
      })
      .catch((err: unknown) => ctx.fail(err));
  };
  const form = h("form", { class: "composer" }, attach, fileInput, input, sendButton);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const content = input.value.trim();
    if (!content) return;
    input.value = "";
    closeMentions();
    if (sender.stop()) void ctx.backend.setTyping(studyId, false).catch(() => undefined);
    send(content, null);
  });
  attach.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    fileInput.value = "";
    if (!file) return;
    progressRow.hidden = false;
    progress.max = Math.max(file.size, 1);
    progress.value = 0;
    attach.disabled = true;
    ctx.backend
      .uploadFile(studyId, file, (p) => {
        progress.max = Math.max(p.total, 1);
        progress.value = p.sent;
      })
      .then((meta) => {
        const caption = input.value.trim();
        input.value = "";
        send(caption || meta.name, meta.id);
      })
      .catch((err: unknown) => ctx.fail(err))
      .finally(() => {
        progressRow.hidden = true;
        attach.disabled = false;
      });
  });

  // @mention completion.
  let candidates: { userId: Id; name: string }[] = [];
  let active = 0;
  let mention: { start: number; query: string } | null = null;
  const closeMentions = (): void => {
    candidates = [];
    mention = null;
    mentionList.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };
  const renderMentions = (): void => {
    if (candidates.length === 0) {
      closeMentions();
      return;
    }
    mentionList.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.setAttribute("aria-activedescendant", `mention-${active}`);
    replace(
      mentionList,
      candidates.map((c, i) =>
        h("li", { id: `mention-${i}`, role: "option", "aria-selected": i === active ? "true" : "false", class: i === active ? "active" : "", "data-index": i }, `@${c.name}`),
      ),
    );
  };
  const choose = (i: number): void => {
    const c = candidates[i];
    if (!c || !mention) return;
    const done = insertMention(input.value, mention.start, input.selectionStart, c.name);
    input.value = done.text;
    input.setSelectionRange(done.caret, done.caret);
    closeMentions();
    input.focus();
  };
  mentionList.addEventListener("mousedown", (e) => {
    const li = (e.target as Element).closest("li[data-index]");
    if (!li) return;
    e.preventDefault();
    choose(Number(li.getAttribute("data-index")));
  });
  const updateMentions = (): void => {
    mention = mentionAt(input.value, input.selectionStart);
    const all = members().filter((m) => m.status === "ACTIVE");
    candidates = mention ? mentionCandidates(all, mention.query, me) : [];
    active = 0;
    renderMentions();
  };

  input.addEventListener("keydown", (e) => {
    if (candidates.length > 0) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : candidates.length - 1)) % candidates.length;
        renderMentions();
        return;
      }
      if ((e.key === "Enter" || e.key === "Tab") && !e.isComposing) {
        e.preventDefault();
        choose(active);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        closeMentions();
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    updateMentions();
    if (input.value === "") {
      if (sender.stop()) void ctx.backend.setTyping(studyId, false).catch(() => undefined);
    } else if (sender.input(Date.now())) {
      void ctx.backend.setTyping(studyId, true).catch(() => undefined);
    }
  });
  input.addEventListener("blur", closeMentions);

  const renderTyping = (): void => {
    const text = typingLine(typing.active(Date.now()).filter((id) => id !== me).map(memberName));
    if (typingEl.textContent !== text) typingEl.textContent = text;
  };

  ctx.on((event) => {
    switch (event.type) {
      case "messageReceived": {
        const m = event.message;
        if (m.studyId !== studyId) return;
        typing.set(m.authorId, false, Date.now());
        renderTyping();
        // The sender has read up to their own message (the server records it so).
        lastRead.set(m.authorId, Math.max(lastRead.get(m.authorId) ?? 0, m.seq));
        if (hasNewer) return; // Reading history: it comes with the newer pages.
        const follow = nearBottom() || m.authorId === me;
        insert([m]);
        if (follow) trim("newest");
        if (m.clientId && outbox.some((i) => i.clientId === m.clientId)) renderPending();
        updateReadBy();
        if (follow) toBottom();
        markRead();
        return;
      }
      case "messageDeleted": {
        if (event.studyId !== studyId) return;
        const m = shown.find((x) => x.id === event.messageId);
        if (m) insert([{ ...m, isDeleted: true, content: "" }]);
        return;
      }
      case "readReceipt":
        if (event.studyId !== studyId) return;
        lastRead.set(event.userId, Math.max(lastRead.get(event.userId) ?? 0, event.lastReadSeq));
        updateReadBy();
        return;
      case "typing":
        if (event.studyId !== studyId) return;
        typing.set(event.userId, event.typing, Date.now());
        renderTyping();
        return;
      case "outboxPending":
      case "outboxFailed":
        outbox = updateOutbox(outbox, event.item);
        renderPending();
        return;
      case "outboxSent":
        outbox = updateOutbox(outbox, event.item, true);
        renderPending();
        return;
      case "cacheRefreshed":
        if (!hasNewer) void reload(false);
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

  const reload = async (first: boolean): Promise<void> => {
    const [held, box] = await Promise.all([ctx.backend.messages(studyId, PAGE), ctx.backend.outbox()]);
    const follow = first || nearBottom();
    insert(held);
    trim("newest");
    outbox = box;
    hasOlder = hasOlder && (shown[0]?.seq ?? 1) > 1;
    if (first) {
      const firstUnread = shown.find((m) => m.seq > myLastRead && m.authorId !== me);
      const at = firstUnread ? nodes.get(firstUnread.id) : null;
      if (at && myLastRead > 0) history.insertBefore(marker, at);
    }
    renderTop();
    renderPending();
    updateReadBy();
    if (follow) toBottom();
  };

  replace(root, h("section", { class: "chat" }, scroller, typingEl, progressRow, mentionList, reportArea, form));
  reload(true)
    .then(() => {
      if (marker.isConnected) marker.scrollIntoView({ block: "center" });
      markRead();
    })
    .catch((e: unknown) => ctx.fail(e));
  input.focus();
}
