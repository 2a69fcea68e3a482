// The browser shell's `Backend`: REST (typed from the server's OpenAPI
// document, `browser/rest.ts`) and the WebSocket (`browser/live.ts`) of the
// server that served the page, with an IndexedDB cache (`browser/store.ts`) and
// outbox (`browser/outbox.ts`) so the last state shows offline and messages
// written offline are sent once when the server is back.
//
// Reads go to the server and fall back to the cache when it does not answer
// (`UNAVAILABLE`); what they return is written through to the cache. The list of
// my studies is the exception: it is painted from the cache at once and
// refreshed behind it (`cacheRefreshed` when it changed), as on the desktop.
//
// The token is kept in `localStorage` (`coup.session`): a reload, a new tab and
// a restart of the browser stay signed in, as users expect of a web app, and
// the page's Content-Security-Policy allows no script but the app's own, which
// is what protects it (sessionStorage would only shorten the exposure to one
// tab's life and sign users out of every new tab). Signing out — or the server
// ending the session (logout elsewhere, password change, suspension) — ends it
// on the server when reachable and removes the token and the account's cache.

import { BackendError, type Backend, type Unlisten } from "../backend";
import type {
  AppEvent,
  AppInfo,
  CallSignal,
  ChatMessage,
  ConnectionState,
  Id,
  MediaState,
  Member,
  MembershipChange,
  Notification,
  Participant,
  Session,
  Study,
  User,
} from "../types";
import { Live, type ServerFrame } from "./browser/live";
import { operations } from "./browser/operations";
import { Outbox } from "./browser/outbox";
import { restClient, unwrap, type Api } from "./browser/rest";
import { advance, applyToMessages, type Change, type Cursor } from "./browser/sequence";
import { indexedStore, type KeyValue } from "./browser/store";

const SESSION_KEY = "coup.session";
const HISTORY = 50;

interface Saved {
  server: string;
  token: string;
  user: User;
}

interface Account {
  saved: Saved;
  api: Api;
  live: Live;
  outbox: Outbox;
  /** Cursors of followed studies, mirrored in the cache. */
  cursors: Map<Id, Cursor>;
  prefix: string;
}

function loadSaved(): Saved | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const saved = JSON.parse(raw) as Partial<Saved>;
    return typeof saved.token === "string" && typeof saved.server === "string" && saved.user ? (saved as Saved) : null;
  } catch {
    return null;
  }
}

/** A relayed `signal` frame's payload as the app's typed signal (the payload is
 * what the browser's RTCSessionDescriptionInit / RTCIceCandidateInit carry). */
function toSignal(kind: unknown, payload: unknown): CallSignal | null {
  if (typeof payload !== "object" || payload === null) return null;
  const p = payload as Record<string, unknown>;
  if ((kind === "offer" || kind === "answer") && typeof p.sdp === "string") return { kind, sdp: p.sdp };
  if (kind === "iceCandidate" && typeof p.candidate === "string") {
    return {
      kind,
      candidate: p.candidate,
      sdpMid: typeof p.sdpMid === "string" ? p.sdpMid : null,
      sdpMLineIndex: typeof p.sdpMLineIndex === "number" ? p.sdpMLineIndex : null,
    };
  }
  return null;
}

function socketUrl(server: string): string {
  const url = new URL("/ws", server);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

export function browserBackend(options: { origin?: string; version?: string; kv?: Promise<KeyValue> } = {}): Backend {
  const origin = options.origin ?? window.location.origin;
  const kvReady = options.kv ?? indexedStore();
  const listeners = new Set<(e: AppEvent) => void>();
  const emit = (event: AppEvent): void => {
    for (const l of listeners) l(event);
  };
  let account: Account | null = null;
  let state: ConnectionState = { state: "SIGNED_OUT", code: "UNAUTHORIZED", message: "", reason: null };

  const need = (): Account => {
    if (!account) throw new BackendError({ code: "NOT_SIGNED_IN", message: "not signed in" });
    return account;
  };
  const key = (a: Account, name: string): string => `${a.prefix}${name}`;

  /** Server first, cache when it does not answer; the answer is cached. */
  const cached = async <T>(name: string, fetch: (a: Account) => Promise<T>): Promise<T> => {
    const a = need();
    const kv = await kvReady;
    try {
      const value = await fetch(a);
      await kv.set(key(a, name), value);
      return value;
    } catch (e) {
      const error = BackendError.from(e);
      if (error.code !== "UNAVAILABLE") throw error;
      const held = await kv.get<T>(key(a, name));
      if (held === undefined) throw error;
      return held;
    }
  };

  const myStudies = async (a: Account): Promise<Study[]> =>
    (await unwrap(a.api.GET("/api/my-studies", { params: { query: { page: 1, limit: 100 } } }))).items;

  const saveCursor = async (a: Account, studyId: Id, cursor: Cursor): Promise<void> => {
    a.cursors.set(studyId, cursor);
    await (await kvReady).set(key(a, `cursor/${studyId}`), cursor);
  };

  const applyChange = async (a: Account, studyId: Id, change: Change): Promise<void> => {
    const kv = await kvReady;
    const messagesKey = key(a, `messages/${studyId}`);
    await kv.set(messagesKey, applyToMessages((await kv.get<ChatMessage[]>(messagesKey)) ?? [], change));
    if (change.type === "readReceipt") {
      const membersKey = key(a, `members/${studyId}`);
      const members = await kv.get<Member[]>(membersKey);
      if (members) {
        await kv.set(
          membersKey,
          members.map((m) => (m.userId === change.userId ? { ...m, lastReadSeq: Math.max(m.lastReadSeq, change.lastReadSeq) } : m)),
        );
      }
    }
    await saveCursor(a, studyId, advance(a.cursors.get(studyId), change));
    if (change.type === "message") emit({ type: "messageReceived", message: change.message });
    else if (change.type === "messageDeleted") emit({ type: "messageDeleted", studyId, messageId: change.messageId, seq: change.seq });
    else emit({ type: "readReceipt", studyId, userId: change.userId, lastReadSeq: change.lastReadSeq });
  };

  /** The change feed after the cursor, page by page, up to now. */
  const fill = async (a: Account, studyId: Id): Promise<void> => {
    for (;;) {
      const after = a.cursors.get(studyId)?.lastChange ?? 0;
      const page = await unwrap(
        a.api.GET("/api/studies/{id}/chat/changes", { params: { path: { id: studyId }, query: { after, limit: 500 } } }),
      );
      for (const change of page.items) {
        if (change.change > (a.cursors.get(studyId)?.lastChange ?? 0)) await applyChange(a, studyId, change);
      }
      const reached = a.cursors.get(studyId);
      await saveCursor(a, studyId, { lastChange: Math.max(reached?.lastChange ?? 0, page.lastChange), lastSeq: Math.max(reached?.lastSeq ?? 0, page.lastSeq) });
      if (!page.hasMore) return;
    }
  };

  /** A study seen for the first time starts from its newest page. */
  const ensureHistory = async (a: Account, studyId: Id): Promise<void> => {
    if (a.cursors.has(studyId)) return;
    const kv = await kvReady;
    const held = await kv.get<Cursor>(key(a, `cursor/${studyId}`));
    if (held) {
      a.cursors.set(studyId, held);
      return;
    }
    const page = await unwrap(a.api.GET("/api/studies/{id}/chat", { params: { path: { id: studyId }, query: { limit: HISTORY } } }));
    const items = page.items as ChatMessage[];
    await kv.set(key(a, `messages/${studyId}`), items);
    await saveCursor(a, studyId, { lastChange: page.lastChange, lastSeq: items.reduce((m, i) => Math.max(m, i.seq), 0) });
    emit({ type: "cacheRefreshed" });
  };

  const follow = async (a: Account, studyId: Id): Promise<void> => {
    await ensureHistory(a, studyId);
    if (account === a) a.live.follow(studyId);
  };

  const onFrame = (a: Account, frame: ServerFrame): void => {
    const studyId = frame.studyId ?? "";
    switch (frame.type) {
      case "subscribed":
        emit({ type: "onlineMembers", studyId, userIds: (frame.online as Id[] | undefined) ?? [] });
        return;
      case "typing":
        emit({ type: "typing", studyId, userId: frame.userId as Id, typing: frame.typing === true });
        return;
      case "presence":
        emit({ type: "presence", studyId, userId: frame.userId as Id, online: frame.online === true });
        return;
      case "notification": {
        const notification = frame.notification as Notification;
        void (async () => {
          const kv = await kvReady;
          const held = (await kv.get<Notification[]>(key(a, "notifications"))) ?? [];
          await kv.set(key(a, "notifications"), [notification, ...held.filter((n) => n.id !== notification.id)]);
          emit({ type: "notification", notification });
          // A notification may mean a study was added (an approval): the list
          // of my studies follows it.
          await refreshStudies(a);
        })();
        return;
      }
      case "membership":
        emit({
          type: "membership",
          studyId,
          userId: frame.userId as Id,
          // A membership frame's `change` names what happened (not a chat change number).
          change: (frame as Record<string, unknown>).change as MembershipChange,
          role: (frame.role as Member["role"] | null | undefined) ?? null,
        });
        return;
      case "callParticipantJoined":
        emit({ type: "callParticipantJoined", studyId, participant: frame.participant as Participant });
        return;
      case "callParticipantLeft":
        emit({ type: "callParticipantLeft", studyId, userId: frame.userId as Id });
        return;
      case "callMedia":
        emit({ type: "callMedia", studyId, userId: frame.userId as Id, media: frame.media as MediaState });
        return;
      case "signal": {
        const signal = toSignal(frame.kind, frame.payload);
        if (signal) emit({ type: "callSignal", studyId, from: frame.from as Id, signal });
        return;
      }
      case "unsubscribed": {
        const reason = frame.reason;
        if (reason !== "KICKED" && reason !== "LEFT" && reason !== "STUDY_DELETED") return;
        void (async () => {
          const kv = await kvReady;
          const held = (await kv.get<Study[]>(key(a, "studies"))) ?? [];
          await kv.set(key(a, "studies"), held.filter((s) => s.id !== studyId));
          await kv.clear(key(a, `messages/${studyId}`));
          await kv.delete(key(a, `cursor/${studyId}`));
          a.cursors.delete(studyId);
          emit({ type: "studyGone", studyId, reason });
        })();
        return;
      }
      default:
        return;
    }
  };

  const endAccount = async (a: Account): Promise<void> => {
    a.live.stop();
    if (account === a) account = null;
    localStorage.removeItem(SESSION_KEY);
    await (await kvReady).clear(a.prefix);
  };

  const begin = async (saved: Saved): Promise<Session> => {
    if (account) await endAccount(account);
    localStorage.setItem(SESSION_KEY, JSON.stringify(saved));
    const prefix = `${saved.user.id}/`;
    const kv = await kvReady;
    const api = restClient(saved.server, () => saved.token, (message, reason) => a.live.signedOut(message, reason));
    const a: Account = {
      saved,
      api,
      prefix,
      cursors: new Map(),
      outbox: new Outbox(kv, `${prefix}outbox`, api, {
        pending: (item) => emit({ type: "outboxPending", item }),
        sent: (item, sent) => emit({ type: "outboxSent", item, sent }),
        failed: (item) => emit({ type: "outboxFailed", item }),
      }),
      live: new Live(socketUrl(saved.server), saved.token, {
        cursor: (studyId) => a.cursors.get(studyId),
        apply: (studyId, change) => applyChange(a, studyId, change),
        fill: (studyId) => fill(a, studyId),
        frame: (frame) => onFrame(a, frame),
        state: (next) => {
          state = next;
          emit({ type: "connection", state: next });
          if (next.state === "ONLINE") {
            void a.outbox.flush();
            void refreshStudies(a);
          } else if (next.state === "SIGNED_OUT") {
            // The session is over on the server: keep nothing of it here.
            localStorage.removeItem(SESSION_KEY);
          }
        },
      }),
    };
    account = a;
    state = a.live.state;
    // Studies held from an earlier visit resume from their cursors. One without
    // a cursor is followed once its newest page is fetched (`follow`), never
    // from nothing: that would replay its whole history.
    for (const study of (await kv.get<Study[]>(key(a, "studies"))) ?? []) {
      const cursor = await kv.get<Cursor>(key(a, `cursor/${study.id}`));
      if (!cursor) continue;
      a.cursors.set(study.id, cursor);
      a.live.follow(study.id);
    }
    a.live.start();
    return { user: saved.user, server: saved.server, connection: state };
  };

  /** My studies from the server; every one followed, so unread counts and
   * notifications of all of them arrive live. */
  const refreshStudies = async (a: Account): Promise<void> => {
    const kv = await kvReady;
    let fresh: Study[];
    try {
      fresh = await myStudies(a);
    } catch {
      return;
    }
    const held = await kv.get<Study[]>(key(a, "studies"));
    await kv.set(key(a, "studies"), fresh);
    await Promise.all(fresh.map((s) => follow(a, s.id).catch(() => undefined)));
    if (JSON.stringify(held) !== JSON.stringify(fresh)) emit({ type: "cacheRefreshed" });
  };

  const signIn = async (server: string, path: "/api/auth/login" | "/api/auth/signup", body: Record<string, string>): Promise<Session> => {
    const base = new URL(server || origin).origin;
    if (base !== new URL(origin).origin) {
      // The page's policy lets it talk to the server that served it only.
      throw new BackendError({ code: "VALIDATION", message: `the browser app uses ${origin}`, field: "server" });
    }
    const api = restClient(base, () => null);
    const answer =
      path === "/api/auth/login"
        ? await unwrap(api.POST("/api/auth/login", { body: { email: body.email ?? "", password: body.password ?? "" } }))
        : await unwrap(api.POST("/api/auth/signup", { body: { email: body.email ?? "", password: body.password ?? "", name: body.name ?? "" } }));
    return begin({ server: base, token: answer.token, user: answer.user });
  };

  const ops = operations({
    api: () => need().api,
    live: () => need().live,
    server: () => need().saved.server,
    token: () => need().saved.token,
  });

  return {
    ...ops,
    kind: "browser",
    appInfo: (): Promise<AppInfo> =>
      Promise.resolve({ server: origin, tokenStore: "browser", version: options.version ?? "web" }),
    launched: (): Promise<number> => Promise.resolve(Math.round(performance.now())),
    restore: async () => {
      const saved = loadSaved();
      return saved ? begin(saved) : null;
    },
    login: (server, email, password) => signIn(server, "/api/auth/login", { email, password }),
    signup: (server, email, password, name) => signIn(server, "/api/auth/signup", { email, password, name }),
    logout: async () => {
      const a = account;
      if (!a) {
        localStorage.removeItem(SESSION_KEY);
        return;
      }
      // Ends the session on the server if it answers; the token goes either way.
      await unwrap(a.api.POST("/api/auth/logout")).catch(() => undefined);
      await endAccount(a);
      state = { state: "SIGNED_OUT", code: "UNAUTHORIZED", message: "signed out", reason: null };
    },
    connectionState: () => Promise.resolve(state),
    reconnect: () => {
      account?.live.reconnectNow();
      return Promise.resolve();
    },

    studies: async () => {
      const a = need();
      const held = await (await kvReady).get<Study[]>(key(a, "studies"));
      if (held) {
        void refreshStudies(a);
        return held;
      }
      return cached("studies", myStudies);
    },
    dashboard: async () => {
      const a = need();
      return (await unwrap(a.api.GET("/api/dashboard")));
    },
    study: (studyId) =>
      cached(`study/${studyId}`, async (a) => await unwrap(a.api.GET("/api/studies/{id}", { params: { path: { id: studyId } } }))),
    // Offline this fails for a study never seen; once the connection is back,
    // every study of mine is followed (`refreshStudies`).
    follow: (studyId) => follow(need(), studyId),

    messages: async (studyId, limit) => {
      const a = need();
      const held = (await (await kvReady).get<ChatMessage[]>(key(a, `messages/${studyId}`))) ?? [];
      return held.slice(Math.max(0, held.length - limit));
    },
    olderMessages: async (studyId, before, limit) => {
      const a = need();
      const page = await unwrap(a.api.GET("/api/studies/{id}/chat", { params: { path: { id: studyId }, query: { before, limit } } }));
      return page;
    },
    sendMessage: (studyId, content, fileId) => need().outbox.enqueue({ type: "sendMessage", studyId, content, fileId: fileId ?? null }),
    deleteMessage: async (studyId, messageId) => {
      await unwrap(need().api.DELETE("/api/studies/{id}/chat/{message_id}", { params: { path: { id: studyId, message_id: messageId } } }));
    },
    markRead: async (studyId, messageId) => {
      await unwrap(need().api.POST("/api/studies/{id}/chat/{message_id}/read", { params: { path: { id: studyId, message_id: messageId } } }));
    },
    setTyping: (studyId, typing) => {
      need().live.send({ type: "typing", studyId, typing });
      return Promise.resolve();
    },
    outbox: () => need().outbox.items(),
    retry: (item) => need().outbox.retry(item),
    discard: (item) => need().outbox.discard(item),

    members: (studyId) =>
      cached(`members/${studyId}`, async (a) =>
        (await unwrap(a.api.GET("/api/studies/{id}/members", { params: { path: { id: studyId }, query: { page: 1, limit: 100 } } }))).items as Member[],
      ),
    notices: (studyId) =>
      cached(`notices/${studyId}`, async (a) =>
        (await unwrap(a.api.GET("/api/studies/{id}/notices", { params: { path: { id: studyId }, query: { page: 1, limit: 100 } } }))).items as Awaited<ReturnType<Backend["notices"]>>,
      ),
    calendar: (studyId) =>
      cached(`calendar/${studyId}`, async (a) => {
        // The window the desktop client caches: 30 days back, 180 ahead.
        const day = 86_400_000;
        const from = new Date(Date.now() - 30 * day).toISOString();
        const to = new Date(Date.now() + 180 * day).toISOString();
        return unwrap(a.api.GET("/api/studies/{id}/calendar", { params: { path: { id: studyId }, query: { from, to } } }));
      }),
    tasks: () =>
      cached("tasks", async (a) =>
        (await unwrap(a.api.GET("/api/tasks", { params: { query: { page: 1, limit: 100 } } }))).items as Awaited<ReturnType<Backend["tasks"]>>,
      ),
    createTask: async (task) => {
      await need().outbox.enqueue({ type: "createTask", task });
    },
    setTaskDone: async (taskId, done) => {
      const a = need();
      await unwrap(a.api.PATCH("/api/tasks/{id}", { params: { path: { id: taskId } }, body: { isDone: done } }));
    },

    notifications: () =>
      cached("notifications", async (a) =>
        (await unwrap(a.api.GET("/api/notifications", { params: { query: { page: 1, limit: 100 } } }))).items as Notification[],
      ),
    markNotificationRead: async (id) => {
      await unwrap(need().api.POST("/api/notifications/{id}/read", { params: { path: { id } } }));
    },
    markAllNotificationsRead: async () => {
      await unwrap(need().api.POST("/api/notifications/mark-all-read"));
    },

    searchStudies: async (query) =>
      (await unwrap(need().api.GET("/api/studies", { params: { query } }))),
    createStudy: async (study) => {
      const a = need();
      const created = await unwrap(a.api.POST("/api/studies", { body: study }));
      await refreshStudies(a);
      return created;
    },
    joinStudy: async (studyId, request) => {
      const a = need();
      const member = await unwrap(
        a.api.POST("/api/studies/{id}/join", {
          params: { path: { id: studyId } },
          body: { message: request.message ?? null, inviteCode: request.inviteCode ?? null },
        }),
      );
      await refreshStudies(a);
      return member;
    },
    leaveStudy: async (studyId) => {
      const a = need();
      await ops.leaveStudy(studyId);
      a.live.unfollow(studyId);
      await refreshStudies(a);
    },
    updateStudy: async (studyId, patch) => {
      const a = need();
      const updated = await unwrap(a.api.PATCH("/api/studies/{id}", { params: { path: { id: studyId } }, body: patch }));
      await (await kvReady).set(key(a, `study/${studyId}`), updated);
      await refreshStudies(a);
      return updated;
    },
    deleteStudy: async (studyId) => {
      const a = need();
      await unwrap(a.api.DELETE("/api/studies/{id}", { params: { path: { id: studyId } } }));
      a.live.unfollow(studyId);
      await refreshStudies(a);
    },

    onEvent(listener, ready): Unlisten {
      listeners.add(listener);
      // Events are emitted in this page: they flow from the moment of adding.
      ready?.();
      return () => listeners.delete(listener);
    },
  };
}
