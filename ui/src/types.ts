// The wire shapes the UI shows, never a copy: the server's REST JSON are the
// OpenAPI document's own schemas (`api.gen.ts`, generated from the running
// server), and the client's app events, outbox and call types are the Rust
// client's (`app.gen.ts`, generated from coup_core::client::app_types); CI
// checks both for drift. What is written here is what neither holds: page and
// query shapes, and what only the UI's shells add.

import type { components } from "./backends/browser/api.gen";
import type { components as AppComponents } from "./app.gen";

type Schemas = components["schemas"];
type AppSchemas = AppComponents["schemas"];

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
export type ChatChange = Schemas["ChatChange"];
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

/** The client's stable error codes and reasons (what `i18n.errorText` words). */
export type ErrorCode = AppSchemas["ErrorCode"];
export type Reason = AppSchemas["Reason"];
export type MembershipChange = AppSchemas["MembershipChange"];
export type ConnectionState = AppSchemas["ConnectionState"];
export type OutboxAction = AppSchemas["OutboxAction"];
export type OutboxState = AppSchemas["OutboxState"];
export type OutboxItem = AppSchemas["OutboxItem"];
/** What the server answered to a sent outbox item. */
export type Sent = AppSchemas["Sent"];

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

export type AppEvent = AppSchemas["AppEvent"];

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

export type MediaState = AppSchemas["MediaState"];
export type Participant = AppSchemas["Participant"];
export type IceServer = AppSchemas["IceServer"];
export type JoinedCall = AppSchemas["JoinedCall"];

/** The desktop app's join: the call, what is sent, and the audio output. */
export interface NativeJoinedCall extends JoinedCall {
  /** What is sent (the screen is never shared at first). */
  media: MediaState;
  /** Why remote audio cannot be played (no output device), if it cannot. */
  audioOutputError: string | null;
}

export type CallSignal = AppSchemas["Signal"];

/** How far an upload is. */
export interface Progress {
  sent: number;
  total: number;
}
