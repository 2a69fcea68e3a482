// The one interface every screen talks to. The desktop shell implements it over
// Tauri commands and the `coup://event` stream (`backends/tauri.ts`); the browser
// shell will implement it over REST and the WebSocket. Screens import only this
// file and `types.ts`, never a shell.

import type { TrackKind } from "./call/rules";
import type {
  AdminStats,
  AdminStudyQuery,
  AppEvent,
  AppInfo,
  AuditEntry,
  CalendarEvent,
  CallSignal,
  ChatMessage,
  ChatPage,
  ConnectionState,
  Dashboard,
  EventPatch,
  FileMeta,
  Id,
  InviteCode,
  JoinedCall,
  NativeJoinedCall,
  JoinRequest,
  MediaState,
  Member,
  NewEvent,
  NewNotice,
  NewReport,
  NewStudy,
  NewTask,
  Notice,
  NoticePatch,
  Notification,
  OutboxItem,
  Page,
  PasswordChange,
  ProcessReport,
  ProfilePatch,
  Progress,
  Report,
  ReportQuery,
  Session,
  Study,
  StudyPatch,
  StudyQuery,
  StudyRole,
  Suspension,
  Task,
  TaskPatch,
  User,
  UserQuery,
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
  /** The cached dashboard is on screen: the time since the app started, in
   * ms (the desktop: since its process started; the browser: since the
   * navigation), for the launch-time benchmark. */
  launched(): Promise<number>;
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
  /** Messages after sequence `after`, from the server. */
  newerMessages(studyId: Id, after: number, limit: number): Promise<ChatPage>;
  /** Queued; pending until the server has it (works offline). `fileId`: an
   * uploaded file of the study to attach. */
  sendMessage(studyId: Id, content: string, fileId?: Id | null): Promise<OutboxItem>;
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
  /** Queued (works offline), like the other task changes. */
  createTask(task: NewTask): Promise<void>;
  setTaskDone(taskId: Id, done: boolean): Promise<void>;
  updateTask(taskId: Id, patch: TaskPatch): Promise<void>;
  deleteTask(taskId: Id): Promise<void>;

  notifications(): Promise<Notification[]>;
  markNotificationRead(id: Id): Promise<void>;
  markAllNotificationsRead(): Promise<void>;

  searchStudies(query: StudyQuery): Promise<Page<Study>>;
  createStudy(study: NewStudy): Promise<Study>;
  /** `POST /api/studies/{id}/join` (an invite code joins a private study). */
  joinStudy(studyId: Id, request: JoinRequest): Promise<Member>;
  leaveStudy(studyId: Id): Promise<void>;
  /** Changes a study's settings (OWNER). */
  updateStudy(studyId: Id, patch: StudyPatch): Promise<Study>;
  /** Deletes a study for everyone (OWNER). */
  deleteStudy(studyId: Id): Promise<void>;

  // Account (`/api/users/me`).
  me(): Promise<User>;
  updateMe(patch: ProfilePatch): Promise<User>;
  /** Ends the user's other sessions. */
  changePassword(input: PasswordChange): Promise<void>;

  // Membership management (OWNER/ADMIN; the server decides).
  joinRequests(studyId: Id): Promise<Member[]>;
  approveMember(studyId: Id, userId: Id): Promise<Member>;
  rejectMember(studyId: Id, userId: Id): Promise<void>;
  /** Giving OWNER transfers ownership (the caller becomes ADMIN). */
  changeRole(studyId: Id, userId: Id, role: StudyRole): Promise<Member>;
  kickMember(studyId: Id, userId: Id): Promise<void>;
  inviteCode(studyId: Id): Promise<InviteCode>;
  regenerateInviteCode(studyId: Id): Promise<InviteCode>;

  // Notices (create/edit/pin/delete: OWNER/ADMIN).
  createNotice(studyId: Id, input: NewNotice): Promise<Notice>;
  updateNotice(studyId: Id, noticeId: Id, patch: NoticePatch): Promise<Notice>;
  pinNotice(studyId: Id, noticeId: Id, pinned: boolean): Promise<Notice>;
  deleteNotice(studyId: Id, noticeId: Id): Promise<void>;

  // Calendar: `calendar` above is the cache; these ask the server.
  /** Events overlapping [from, to) (RFC 3339). */
  events(studyId: Id, from: string, to: string): Promise<CalendarEvent[]>;
  createEvent(studyId: Id, input: NewEvent): Promise<CalendarEvent>;
  updateEvent(studyId: Id, eventId: Id, patch: EventPatch): Promise<CalendarEvent>;
  deleteEvent(studyId: Id, eventId: Id): Promise<void>;

  // Files.
  files(studyId: Id): Promise<FileMeta[]>;
  /** Uploads a file, reporting progress as it goes to the server. */
  uploadFile(studyId: Id, file: File, onProgress: (progress: Progress) => void): Promise<FileMeta>;
  /** Downloads a file: the path it was saved to, or `null` when the shell
   * hands it to the browser's own downloads. */
  downloadFile(studyId: Id, file: FileMeta): Promise<string | null>;
  deleteFile(studyId: Id, fileId: Id): Promise<void>;

  createReport(input: NewReport): Promise<Report>;

  // Platform administration (`/api/admin`, ADMIN and SYSTEM_ADMIN).
  adminStats(): Promise<AdminStats>;
  adminUsers(query: UserQuery): Promise<Page<User>>;
  suspendUser(userId: Id, input: Suspension): Promise<User>;
  restoreUser(userId: Id): Promise<User>;
  adminStudies(query: AdminStudyQuery): Promise<Page<Study>>;
  adminDeleteStudy(studyId: Id, reason: string | null): Promise<void>;
  adminReports(query: ReportQuery): Promise<Page<Report>>;
  processReport(reportId: Id, input: ProcessReport): Promise<Report>;
  auditLog(page: number, limit: number): Promise<Page<AuditEntry>>;

  // Call signaling (the study must be followed).
  joinCall(studyId: Id, media: MediaState): Promise<JoinedCall>;
  leaveCall(studyId: Id): Promise<void>;
  setMedia(studyId: Id, media: MediaState): Promise<void>;
  /** Sends an offer, answer or ICE candidate to one participant. Present where
   * the page runs calls on the browser's own WebRTC (the browser shell); the
   * desktop app's media is the native engine's, in Rust. */
  sendSignal?: (studyId: Id, to: Id, signal: CallSignal) => Promise<void>;
  /** Present where the shell runs the call's media itself (the desktop app's
   * native engine): joins sending what `media` asks for and hands each message
   * of the call's video channel (see call/native.ts) to `video`. */
  joinNativeCall?: (studyId: Id, media: MediaState, video: (message: ArrayBuffer) => void) => Promise<NativeJoinedCall>;
  /** With `joinNativeCall`: asks `from` for a keyframe of `track` (the page's
   * decoder of it lost the picture). */
  requestKeyframe?: (studyId: Id, from: Id, track: TrackKind) => Promise<void>;

  /** Every app event from now on, until the returned function is called.
   * `ready` runs once events are flowing: state read then is not missed. */
  onEvent(listener: (event: AppEvent) => void, ready?: () => void): Unlisten;
}
