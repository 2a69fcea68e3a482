// The wire shapes the UI shows: the server's REST JSON and the client's
// `AppEvent`s (camelCase, RFC 3339 strings, upper-case enums). Only the fields
// the screens read are listed.

export type Id = string;
export type StudyRole = "OWNER" | "ADMIN" | "MEMBER";
export type MemberStatus = "ACTIVE" | "PENDING";
export type JoinPolicy = "AUTO" | "APPROVAL";
export type Priority = "LOW" | "MEDIUM" | "HIGH";

export interface User {
  id: Id;
  email: string;
  name: string;
  role: "USER" | "ADMIN" | "SYSTEM_ADMIN";
  status: "ACTIVE" | "SUSPENDED";
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
  lastReadSeq: number;
}

export interface FileMeta {
  id: Id;
  name: string;
  size: number;
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
  authorName: string;
  title: string;
  content: string;
  isPinned: boolean;
  createdAt: string;
}

export interface CalendarEvent {
  id: Id;
  studyId: Id;
  title: string;
  startAt: string;
  endAt: string;
  allDay: boolean;
  location?: string | null;
}

export interface Task {
  id: Id;
  studyId?: Id | null;
  title: string;
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
  | { state: "SIGNED_OUT"; code: string; message: string };

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
  | { type: "callParticipantJoined" | "callParticipantLeft" | "callMedia" | "callSignal"; studyId: Id };
