// The desktop shell's `Backend`: Tauri commands (see coup-desktop/src/commands.rs)
// and the `coup://event` stream of the client's `AppEvent`s.

import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";

import { BackendError, type Backend, type Unlisten } from "../backend";
import type { AppEvent, FileMeta, Id, MediaState, NativeJoinedCall, Progress } from "../types";

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw BackendError.from(e);
  }
}

export const EVENT = "coup://event";

/** Joins on the native engine; the call's video channel goes to `video`. */
function joinNativeCall(studyId: Id, media: MediaState, video: (message: ArrayBuffer) => void): Promise<NativeJoinedCall> {
  const channel = new Channel<ArrayBuffer>(video);
  return call("join_call", { studyId, media, video: channel });
}

export function tauriBackend(): Backend {
  return {
    kind: "tauri",
    appInfo: () => call("app_info"),
    launched: () => call("launched"),
    restore: () => call("restore"),
    login: (server, email, password) => call("login", { server, email, password }),
    signup: (server, email, password, name) => call("signup", { server, email, password, name }),
    logout: () => call("logout"),
    connectionState: () => call("connection_state"),
    reconnect: () => call("reconnect"),
    studies: () => call("studies"),
    dashboard: () => call("dashboard"),
    study: (studyId) => call("study", { studyId }),
    follow: (studyId) => call("follow", { studyId }),
    messages: (studyId, limit) => call("messages", { studyId, limit }),
    olderMessages: (studyId, before, limit) => call("older_messages", { studyId, before, limit }),
    newerMessages: (studyId, after, limit) => call("newer_messages", { studyId, after, limit }),
    sendMessage: (studyId, content, fileId) => call("send_message", { studyId, content, fileId: fileId ?? null }),
    deleteMessage: (studyId, messageId) => call("delete_message", { studyId, messageId }),
    markRead: async (studyId, messageId) => {
      await call("mark_read", { studyId, messageId });
    },
    setTyping: (studyId, typing) => call("set_typing", { studyId, typing }),
    outbox: () => call("outbox"),
    retry: async (item) => {
      await call("retry", { item });
    },
    discard: (item) => call("discard", { item }),
    members: (studyId) => call("members", { studyId }),
    notices: (studyId) => call("notices", { studyId }),
    calendar: (studyId) => call("calendar", { studyId }),
    tasks: () => call("tasks"),
    createTask: async (task) => {
      await call("create_task", { task });
    },
    setTaskDone: async (taskId, done) => {
      await call("set_task_done", { taskId, done });
    },
    notifications: () => call("notifications"),
    markNotificationRead: async (id) => {
      await call("mark_notification_read", { id });
    },
    markAllNotificationsRead: () => call("mark_all_notifications_read"),
    searchStudies: (query) => call("search_studies", { query }),
    createStudy: (study) => call("create_study", { study }),
    updateTask: async (taskId, patch) => {
      await call("update_task", { taskId, patch });
    },
    deleteTask: async (taskId) => {
      await call("delete_task", { taskId });
    },
    joinStudy: (studyId, request) => call("join_study", { studyId, request }),
    leaveStudy: (studyId) => call("leave_study", { studyId }),
    updateStudy: (studyId, patch) => call("update_study", { studyId, patch }),
    deleteStudy: (studyId) => call("delete_study", { studyId }),
    me: () => call("me"),
    updateMe: (patch) => call("update_me", { patch }),
    changePassword: (input) => call("change_password", { input }),
    joinRequests: (studyId) => call("join_requests", { studyId }),
    approveMember: (studyId, userId) => call("approve_member", { studyId, userId }),
    rejectMember: (studyId, userId) => call("reject_member", { studyId, userId }),
    changeRole: (studyId, userId, role) => call("change_role", { studyId, userId, role }),
    kickMember: (studyId, userId) => call("kick_member", { studyId, userId }),
    inviteCode: (studyId) => call("invite_code", { studyId }),
    regenerateInviteCode: (studyId) => call("regenerate_invite_code", { studyId }),
    createNotice: (studyId, input) => call("create_notice", { studyId, input }),
    updateNotice: (studyId, noticeId, patch) => call("update_notice", { studyId, noticeId, patch }),
    pinNotice: (studyId, noticeId, pinned) => call("pin_notice", { studyId, noticeId, pinned }),
    deleteNotice: (studyId, noticeId) => call("delete_notice", { studyId, noticeId }),
    events: (studyId, from, to) => call("events", { studyId, range: { from, to } }),
    createEvent: (studyId, input) => call("create_event", { studyId, input }),
    updateEvent: (studyId, eventId, patch) => call("update_event", { studyId, eventId, patch }),
    deleteEvent: (studyId, eventId) => call("delete_event", { studyId, eventId }),
    files: (studyId) => call("files", { studyId }),
    uploadFile: async (studyId, file, onProgress) => {
      // The bytes go as the invoke's raw body; progress comes back on a channel.
      const progress = new Channel<Progress>();
      progress.onmessage = onProgress;
      const bytes = new Uint8Array(await file.arrayBuffer());
      try {
        return await invoke<FileMeta>("upload_file", bytes, {
          headers: {
            "coup-study": studyId,
            "coup-name": encodeURIComponent(file.name),
            "coup-type": file.type || "application/octet-stream",
            "coup-progress": progress.toJSON(),
          },
        });
      } catch (e) {
        throw BackendError.from(e);
      }
    },
    downloadFile: (studyId, file) => call("download_file", { studyId, fileId: file.id, name: file.name }),
    deleteFile: (studyId, fileId) => call("delete_file", { studyId, fileId }),
    createReport: (input) => call("create_report", { input }),
    adminStats: () => call("admin_stats"),
    adminUsers: (query) => call("admin_users", { query }),
    suspendUser: (userId, input) => call("suspend_user", { userId, input }),
    restoreUser: (userId) => call("restore_user", { userId }),
    adminStudies: (query) => call("admin_studies", { query }),
    adminDeleteStudy: (studyId, reason) => call("admin_delete_study", { studyId, reason }),
    adminReports: (query) => call("admin_reports", { query }),
    processReport: (reportId, input) => call("process_report", { reportId, input }),
    auditLog: (page, limit) => call("audit_log", { page, limit }),
    joinCall: (studyId, media) => joinNativeCall(studyId, media, () => undefined),
    joinNativeCall,
    requestKeyframe: (studyId, from, track) => call("request_keyframe", { studyId, from, track }),
    leaveCall: (studyId) => call("leave_call", { studyId }),
    setMedia: (studyId, media) => call("set_media", { studyId, media }),
    onEvent(listener, ready): Unlisten {
      let stop: (() => void) | null = null;
      let stopped = false;
      void listen<AppEvent>(EVENT, (e) => listener(e.payload)).then((unlisten) => {
        if (stopped) {
          unlisten();
          return;
        }
        stop = unlisten;
        ready?.();
      });
      return () => {
        stopped = true;
        stop?.();
      };
    },
  };
}
