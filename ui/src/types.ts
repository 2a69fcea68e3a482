// The wire shapes the UI shows. The server's REST JSON are the OpenAPI
// document's own schemas (`api.gen.ts`, generated from the running server and
// checked for drift in CI), never a copy; what is written here is what the
// document does not hold: page and query shapes, and the client's `AppEvent`s,
// outbox and call types (camelCase, RFC 3339 strings, upper-case enums).

import type { components } from "./backends/browser/api.gen";

type Schemas = components["schemas"];

export type Id = string;
export type StudyRole = Schemas["StudyRole"];
export type MemberStatus = Schemas["MemberStatus"];
export type JoinPolicy = Schemas["JoinPolicy"];
export type Priority = Schemas["Priority"];
export type PlatformRole = Schemas["PlatformRole"];
export type UserStatus = Schemas["UserStatus"];
export type User = Schemas["User"];
export type Study = Schemas["Study"];
export type Member = Schemas["Member"];
export type FileMeta = Schemas["FileMeta"];
export type ChatMessage = Schemas["ChatMessage"];
export type ChatPage = Schemas["ChatPage"];
export type Notice = Schemas["Notice"];
export type CalendarEvent = Schemas["CalendarEvent"];
export type Task = Schemas["Task"];
export type NewTask = Schemas["NewTask"];
export type Notification = Schemas["Notification"];

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  limit: number;
}

export type UnreadCount = Schemas["UnreadCount"];
export type Dashboard = Schemas["Dashboard"];

export type ConnectionState =
  | { state: "ONLINE" }
  | { state: "CONNECTING" }
  | { state: "OFFLINE"; reason: string; retryInMs: number }
  | { state: "SIGNED_OUT"; code: string; message: string; reason: string | null };

export type OutboxAction =
  | { type: "sendMessage"; studyId: Id; content: string; fileId?: Id | null }
  | { type: "createTask"; task: NewTask }
  | { type: "updateTask"; taskId: unknown; patch: unknown }
  | { type: "setTaskDone"; taskId: unknown; done: boolean }
  | { type: "deleteTask"; taskId: unknown }
  | { type: "markRead"; studyId: Id; messageId: Id };

export type OutboxState =
  | { state: "PENDING" }
  | { state: "FAILED"; code: string; serverCode: string; message: string; reason?: string | null };

export interface OutboxItem {
  id: number;
  clientId: string;
  action: OutboxAction;
  state: OutboxState;
  attempts: number;
  createdAt: string;
}

export interface StudyQuery {
  keyword?: string;
  category?: string;
  tag?: string;
  recruiting?: boolean;
  sort?: "NEWEST" | "NAME" | "MEMBERS";
  page?: number;
  limit?: number;
}

export type NewStudy = Schemas["NewStudy"];

/** `PATCH /api/studies/{id}`: the fields to change (OWNER). */
export type StudyPatch = Schemas["StudyPatch"];

export interface Session {
  user: User;
  server: string;
  connection: ConnectionState;
}

export interface AppInfo {
  server: string | null;
  /** Where the session token is kept: the OS credential store or an
   * owner-only file (desktop), or the browser's storage. */
  tokenStore: "keyring" | "file" | "browser";
  version: string;
}

export type AppEvent =
  | { type: "connection"; state: ConnectionState }
  | { type: "messageReceived"; message: ChatMessage }
  | { type: "messageDeleted"; studyId: Id; messageId: Id; seq: number }
  | { type: "readReceipt"; studyId: Id; userId: Id; lastReadSeq: number }
  | { type: "typing"; studyId: Id; userId: Id; typing: boolean }
  | { type: "onlineMembers"; studyId: Id; userIds: Id[] }
  | { type: "presence"; studyId: Id; userId: Id; online: boolean }
  | { type: "notification"; notification: Notification }
  | { type: "membership"; studyId: Id; userId: Id; change: string; role?: StudyRole | null }
  | { type: "studyGone"; studyId: Id; reason: "KICKED" | "LEFT" | "STUDY_DELETED" }
  | { type: "outboxPending"; item: OutboxItem }
  | { type: "outboxSent"; item: OutboxItem; sent: unknown }
  | { type: "outboxFailed"; item: OutboxItem }
  | { type: "cacheRefreshed" }
  | { type: "lagged"; missed: number }
  | { type: "callParticipantJoined"; studyId: Id; participant: Participant }
  | { type: "callParticipantLeft"; studyId: Id; userId: Id }
  | { type: "callMedia"; studyId: Id; userId: Id; media: MediaState }
  | { type: "callSignal"; studyId: Id; from: Id; signal: CallSignal };

// Request bodies (as the server reads them).

export type ProfilePatch = Schemas["ProfilePatch"];
export type PasswordChange = Schemas["PasswordChange"];
export type JoinRequest = Schemas["JoinRequest"];
export type InviteCode = Schemas["InviteCode"];
export type NewNotice = Schemas["NewNotice"];
export type NoticePatch = Schemas["NoticePatch"];
export type NewEvent = Schemas["NewEvent"];
export type EventPatch = Schemas["EventPatch"];
export type TaskPatch = Schemas["TaskPatch"];
export type ReportTarget = Schemas["ReportTarget"];
export type ReportStatus = Schemas["ReportStatus"];
export type ReportAction = Schemas["ReportAction"];
export type NewReport = Schemas["NewReport"];
export type Report = Schemas["Report"];
export type ProcessReport = Schemas["ProcessReport"];
export type Suspension = Schemas["Suspension"];
export type AdminStats = Schemas["AdminStats"];
export type AuditEntry = Schemas["AuditEntry"];

export interface UserQuery {
  keyword?: string;
  status?: UserStatus;
  role?: PlatformRole;
  page?: number;
  limit?: number;
}

export interface AdminStudyQuery {
  keyword?: string;
  includeDeleted?: boolean;
  page?: number;
  limit?: number;
}

export interface ReportQuery {
  status?: ReportStatus;
  targetType?: ReportTarget;
  page?: number;
  limit?: number;
}

// Calls: the signaling; the media is the native engine's (desktop) or the
// page's own WebRTC (browser, ui/src/call).

export interface MediaState {
  mic: boolean;
  camera: boolean;
  screen: boolean;
}

export interface Participant {
  userId: Id;
  media: MediaState;
}

export interface JoinedCall {
  /** Everyone in the call, the joiner last. */
  participants: Participant[];
  iceServers: unknown[];
}

/** The desktop app's join: the call, what is sent, and the audio output. */
export interface NativeJoinedCall extends JoinedCall {
  /** What is sent (the screen is never shared at first). */
  media: MediaState;
  /** Why remote audio cannot be played (no output device), if it cannot. */
  audioOutputError: string | null;
}

export type CallSignal =
  | { kind: "offer"; sdp: string }
  | { kind: "answer"; sdp: string }
  | { kind: "iceCandidate"; candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null };

/** How far an upload is. */
export interface Progress {
  sent: number;
  total: number;
}
