// The desktop shell's `Backend`: Tauri commands (see coup-desktop/src/commands.rs)
// and the `coup://event` stream of the client's `AppEvent`s.

import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";

import { BackendError, type Backend, type Unlisten } from "../backend";
import type { AppEvent } from "../types";

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw BackendError.from(e);
  }
}

export const EVENT = "coup://event";

export function tauriBackend(): Backend {
  return {
    kind: "tauri",
    appInfo: () => call("app_info"),
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
    sendMessage: (studyId, content) => call("send_message", { studyId, content }),
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
    joinStudy: (studyId, message) => call("join_study", { studyId, request: { message } }),
    onEvent(listener): Unlisten {
      let stop: (() => void) | null = null;
      let stopped = false;
      void listen<AppEvent>(EVENT, (e) => listener(e.payload)).then((unlisten) => {
        if (stopped) unlisten();
        else stop = unlisten;
      });
      return () => {
        stopped = true;
        stop?.();
      };
    },
  };
}
