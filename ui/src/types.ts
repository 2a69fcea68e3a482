// The wire shapes the UI shows: the server's REST JSON and the client's
// `AppEvent`s (camelCase, RFC 3339 strings, upper-case enums). Only the fields
// the screens read are listed.

export type Id = string;
export type StudyRole = "OWNER" | "ADMIN" | "MEMBER";
export type MemberStatus = "ACTIVE" | "PENDING";
export type JoinPolicy = "AUTO" | "APPROVAL";
export type Priority = "LOW" | "MEDIUM" | "HIGH";

export type PlatformRole = "USER" | "ADMIN" | "SYSTEM_ADMIN";
export type UserStatus = "ACTIVE" | "SUSPENDED";

export interface User {
  id: Id;
  email: string;
  name: string;
  bio?: string | null;
  avatarUrl?: string | null;
  role: PlatformRole;
  status: UserStatus;
  suspendedReason?: string | null;
  suspendedUntil?: string | null;
  createdAt?: string;
  lastLoginAt?: string | null;
}

export interface Study {
  id: Id;
  name: string;
  description: string;
  category: string;
  tags: string[];
  maxMembers: number;
  memberCount: number;
  isPublic: boolean;
  joinPolicy: JoinPolicy;
  isRecruiting: boolean;
  ownerId: Id;
  ownerName: string;
  lastSeq: number;
  myRole?: StudyRole | null;
  myStatus?: MemberStatus | null;
}

export interface Member {
  studyId: Id;
  userId: Id;
  name: string;
  role: StudyRole;
  status: MemberStatus;
  /** Shown only to the member themself and to platform admins. */
  email?: string | null;
  /** The join request's note. */
  message?: string | null;
  requestedAt?: string;
  joinedAt?: string | null;
  lastReadSeq: number;
}

export interface FileMeta {
  id: Id;
  studyId: Id;
  uploaderId: Id;
  name: string;
  contentType: string;
  size: number;
  downloadCount: number;
  createdAt: string;
}

export interface ChatMessage {
  id: Id;
  studyId: Id;
  seq: number;
  authorId: Id;
  authorName: string;
  content: string;
  file?: FileMeta | null;
  clientId?: string | null;
  isDeleted: boolean;
  createdAt: string;
}

export interface ChatPage {
  items: ChatMessage[];
  hasOlder: boolean;
  hasNewer: boolean;
  lastChange: number;
}

export interface Notice {
  id: Id;
  studyId: Id;
  authorId: Id;
  authorName: string;
  title: string;
  content: string;
  isPinned: boolean;
  viewCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface CalendarEvent {
  id: Id;
  studyId: Id;
  creatorId: Id;
  title: string;
  description?: string | null;
  startAt: string;
  endAt: string;
  allDay: boolean;
  location?: string | null;
}

export interface Task {
  id: Id;
  studyId?: Id | null;
  title: string;
  description?: string | null;
  dueAt?: string | null;
  priority: Priority;
  isDone: boolean;
}

export interface NewTask {
  title: string;
  description?: string | null;
  dueAt?: string | null;
  priority: Priority;
  studyId?: Id | null;
  clientId?: string | null;
}

export interface Notification {
  id: Id;
  kind: string;
  title: string;
  body: string;
  studyId?: Id | null;
  isRead: boolean;
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  limit: number;
}

export interface UnreadCount {
  studyId: Id;
  studyName: string;
  unread: number;
}

export interface Dashboard {
  stats: {
    studyCount: number;
    ownedStudyCount: number;
    pendingRequestCount: number;
    openTaskCount: number;
    doneTaskCount: number;
    unreadNotificationCount: number;
    unreadMessageCount: number;
  };
  myStudies: Study[];
  upcomingEvents: CalendarEvent[];
  recentNotices: Notice[];
  dueTasks: Task[];
  unreadByStudy: UnreadCount[];
}

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

export interface NewStudy {
  name: string;
  description: string;
  category: string;
  tags: string[];
  maxMembers: number;
  isPublic: boolean;
  joinPolicy: JoinPolicy;
}

/** `PATCH /api/studies/{id}`: the fields to change (OWNER). */
export interface StudyPatch {
  name?: string;
  description?: string;
  category?: string;
  tags?: string[];
  maxMembers?: number;
  isPublic?: boolean;
  joinPolicy?: JoinPolicy;
  isRecruiting?: boolean;
}

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

export interface ProfilePatch {
  name?: string;
  bio?: string;
  avatarUrl?: string;
}

export interface PasswordChange {
  currentPassword: string;
  newPassword: string;
}

export interface JoinRequest {
  message?: string | null;
  /** A private study's invite code (or to skip approval in a public one). */
  inviteCode?: string | null;
}

export interface InviteCode {
  studyId: Id;
  inviteCode: string;
}

export interface NewNotice {
  title: string;
  content: string;
  isPinned?: boolean;
}

export interface NoticePatch {
  title?: string;
  content?: string;
  isPinned?: boolean;
}

export interface NewEvent {
  title: string;
  description?: string | null;
  startAt: string;
  endAt: string;
  allDay?: boolean;
  location?: string | null;
}

export type EventPatch = Partial<NewEvent>;

export interface TaskPatch {
  title?: string;
  description?: string;
  dueAt?: string | null;
  priority?: Priority;
  isDone?: boolean;
}

export type ReportTarget = "USER" | "STUDY" | "MESSAGE";
export type ReportStatus = "PENDING" | "PROCESSED";
export type ReportAction = "DISMISS" | "WARN" | "SUSPEND_USER" | "DELETE_CONTENT";

export interface NewReport {
  targetType: ReportTarget;
  targetId: string;
  reason: string;
}

export interface Report {
  id: Id;
  reporterId: Id;
  targetType: ReportTarget;
  targetId: string;
  reason: string;
  status: ReportStatus;
  action?: ReportAction | null;
  note?: string | null;
  processedBy?: Id | null;
  processedAt?: string | null;
  createdAt: string;
}

export interface ProcessReport {
  action: ReportAction;
  note?: string | null;
}

export interface Suspension {
  reason: string;
  /** RFC 3339; none for an open-ended suspension. */
  until?: string | null;
}

export interface AdminStats {
  userCount: number;
  suspendedUserCount: number;
  studyCount: number;
  deletedStudyCount: number;
  messageCount: number;
  fileCount: number;
  pendingReportCount: number;
}

export interface AuditEntry {
  id: Id;
  actorId: Id;
  action: string;
  targetType: string;
  targetId: string;
  detail: string;
  createdAt: string;
}

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
