// The wire shapes the UI shows, never a copy: the server's REST JSON are the
// OpenAPI document's own schemas (`api.gen.ts`, generated from the running
// server), and the client's app events, outbox and call types are the Rust
// client's (`app.gen.ts`, generated from coup_core::client::app_types); CI
// checks both for drift, and each schema is exported by name there, so this file
// only picks them. What is written here is what neither holds: page and query
// shapes, and what only the UI's shells add.

import type {
  PlatformRole, ReportStatus, ReportTarget, User, UserStatus,
} from "./backends/browser/api.gen";
import type { ConnectionState, JoinedCall, MediaState } from "./app.gen";

export type Id = string;
export type {
  StudyRole, MemberStatus, JoinPolicy, Priority, PlatformRole, UserStatus, User, Study, Member,
  FileMeta, ChatMessage, ChatPage, ChatChange, Notice, CalendarEvent, Task, NewTask, Notification,
} from "./backends/browser/api.gen";

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  limit: number;
}

export type { UnreadCount, Dashboard } from "./backends/browser/api.gen";

// The client's stable error codes and reasons (what `i18n.errorText` words),
// and `Sent`, what the server answered to a sent outbox item.
export type {
  ErrorCode, Reason, MembershipChange, ConnectionState, OutboxAction, OutboxState, OutboxItem, Sent,
} from "./app.gen";

export interface StudyQuery {
  keyword?: string;
  category?: string;
  tag?: string;
  recruiting?: boolean;
  sort?: "NEWEST" | "NAME" | "MEMBERS";
  page?: number;
  limit?: number;
}

export type { NewStudy } from "./backends/browser/api.gen";

// `PATCH /api/studies/{id}`: the fields to change (OWNER).
export type { StudyPatch } from "./backends/browser/api.gen";

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

export type { AppEvent } from "./app.gen";

// Request bodies (as the server reads them).

export type {
  ProfilePatch, PasswordChange, JoinRequest, InviteCode, NewNotice, NoticePatch, NewEvent,
  EventPatch, TaskPatch, ReportTarget, ReportStatus, ReportAction, NewReport, Report, ProcessReport,
  Suspension, AdminStats, AuditEntry,
} from "./backends/browser/api.gen";

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

export type { MediaState, Participant, IceServer, JoinedCall } from "./app.gen";

/** The desktop app's join: the call, what is sent, and the audio output. */
export interface NativeJoinedCall extends JoinedCall {
  /** What is sent (the screen is never shared at first). */
  media: MediaState;
  /** Why remote audio cannot be played (no output device), if it cannot. */
  audioOutputError: string | null;
  /** Why the camera asked for is not sent (none, busy, refused), if it is not. */
  cameraError: string | null;
}

export type { Signal as CallSignal } from "./app.gen";

/** How far an upload is. */
export interface Progress {
  sent: number;
  total: number;
}
