// The one interface every screen talks to. The desktop shell implements it over
// Tauri commands and the `coup://event` stream (`backends/tauri.ts`); the browser
// shell will implement it over REST and the WebSocket. Screens import only this
// file and `types.ts`, never a shell.

import type {
  AppEvent,
  AppInfo,
  CalendarEvent,
  ChatMessage,
  ChatPage,
  ConnectionState,
  Dashboard,
  Id,
  Member,
  NewStudy,
  NewTask,
  Notice,
  Notification,
  OutboxItem,
  Page,
  Session,
  Study,
  StudyQuery,
  Task,
} from "./types";

/** A refusal or failure, as every shell reports it: the server's stable `code`
 * and `reason` (worded by `i18n.errorText`), its words as a detail. */
export class BackendError extends Error {
  readonly code: string;
  readonly reason: string | null;
  readonly status: number | null;
  readonly field: string | null;

  constructor(init: {
    code: string;
    message: string;
    reason?: string | null;
    status?: number | null;
    field?: string | null;
  }) {
    super(init.message);
    this.name = "BackendError";
    this.code = init.code;
    this.reason = init.reason ?? null;
    this.status = init.status ?? null;
    this.field = init.field ?? null;
  }

  /** Any thrown value as a `BackendError` (a shell's payload, or a bug). */
  static from(value: unknown): BackendError {
    if (value instanceof BackendError) return value;
    if (typeof value === "object" && value !== null && "code" in value) {
      const v = value as Record<string, unknown>;
      return new BackendError({
        code: String(v.code),
        message: typeof v.message === "string" ? v.message : "",
        reason: typeof v.reason === "string" ? v.reason : null,
        status: typeof v.status === "number" ? v.status : null,
        field: typeof v.field === "string" ? v.field : null,
      });
    }
    const message = value instanceof Error ? value.message : String(value);
    return new BackendError({ code: "INTERNAL", message });
  }
}

export type Unlisten = () => void;

export interface Backend {
  /** Which shell this is. */
  readonly kind: "tauri" | "browser";

  appInfo(): Promise<AppInfo>;
  /** The saved session of the remembered server, started from the cache
   * (works offline); `null` when none is saved. */
  restore(): Promise<Session | null>;
  login(server: string, email: string, password: string): Promise<Session>;
  signup(server: string, email: string, password: string, name: string): Promise<Session>;
  /** Signs out and forgets this account's cached data. */
  logout(): Promise<void>;
  connectionState(): Promise<ConnectionState>;
  /** Try to connect now instead of waiting for the next attempt. */
  reconnect(): Promise<void>;

  /** My studies as last known (cache). */
  studies(): Promise<Study[]>;
  /** Stats and unread counts from the server (fails offline). */
  dashboard(): Promise<Dashboard>;
  study(studyId: Id): Promise<Study>;
  follow(studyId: Id): Promise<void>;

  /** The newest `limit` messages held locally, oldest first. */
  messages(studyId: Id, limit: number): Promise<ChatMessage[]>;
  /** Messages before sequence `before`, from the server. */
  olderMessages(studyId: Id, before: number, limit: number): Promise<ChatPage>;
  /** Queued; pending until the server has it (works offline). */
  sendMessage(studyId: Id, content: string): Promise<OutboxItem>;
  deleteMessage(studyId: Id, messageId: Id): Promise<void>;
  markRead(studyId: Id, messageId: Id): Promise<void>;
  setTyping(studyId: Id, typing: boolean): Promise<void>;
  outbox(): Promise<OutboxItem[]>;
  retry(item: number): Promise<void>;
  discard(item: number): Promise<void>;

  members(studyId: Id): Promise<Member[]>;
  notices(studyId: Id): Promise<Notice[]>;
  calendar(studyId: Id): Promise<CalendarEvent[]>;
  tasks(): Promise<Task[]>;
  createTask(task: NewTask): Promise<void>;
  setTaskDone(taskId: Id, done: boolean): Promise<void>;

  notifications(): Promise<Notification[]>;
  markNotificationRead(id: Id): Promise<void>;
  markAllNotificationsRead(): Promise<void>;

  searchStudies(query: StudyQuery): Promise<Page<Study>>;
  createStudy(study: NewStudy): Promise<Study>;
  joinStudy(studyId: Id, message: string | null): Promise<Member>;

  /** Every app event from now on, until the returned function is called. */
  onEvent(listener: (event: AppEvent) => void): Unlisten;
}
