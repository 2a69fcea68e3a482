// The `Backend` methods that are one REST call each (account, membership
// management, notices, calendar, files, reports, administration), and the call
// signaling over the live connection. Nothing here is cached or queued: these
// need the server and fail with `UNAVAILABLE` without it.

import type { Backend } from "../../backend";
import { BackendError } from "../../backend";
import { signalPayload } from "../../call/rules";
import type { FileMeta, IceServer, Id, MediaState, Progress } from "../../types";
import type { Live } from "./live";
import { refusal, unwrap, type Api } from "./rest";

type Ops = Pick<
  Backend,
  | "me"
  | "updateMe"
  | "changePassword"
  | "leaveStudy"
  | "joinRequests"
  | "approveMember"
  | "rejectMember"
  | "changeRole"
  | "kickMember"
  | "inviteCode"
  | "regenerateInviteCode"
  | "createNotice"
  | "updateNotice"
  | "pinNotice"
  | "deleteNotice"
  | "events"
  | "createEvent"
  | "updateEvent"
  | "deleteEvent"
  | "files"
  | "uploadFile"
  | "downloadFile"
  | "deleteFile"
  | "createReport"
  | "adminStats"
  | "adminUsers"
  | "suspendUser"
  | "restoreUser"
  | "adminStudies"
  | "adminDeleteStudy"
  | "adminReports"
  | "processReport"
  | "auditLog"
  | "joinCall"
  | "leaveCall"
  | "setMedia"
  | "sendSignal"
  | "updateTask"
  | "deleteTask"
  | "newerMessages"
>;

export interface OpsContext {
  api(): Api;
  live(): Live;
  server(): string;
  token(): string;
}

const LIMIT = 100;

/** Upload with progress: `fetch` reports none for request bodies, XHR does. */
function upload(url: string, token: string, file: File, onProgress: (p: Progress) => void): Promise<FileMeta> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (e) => onProgress({ sent: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON: worded by status below.
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as FileMeta);
      else reject(refusal(xhr.status, body));
    };
    xhr.onerror = () => reject(new BackendError({ code: "UNAVAILABLE", message: "the upload did not reach the server" }));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

export function operations(c: OpsContext): Ops {
  const study = (id: Id) => ({ path: { id } });
  const member = (id: Id, userId: Id) => ({ path: { id, user_id: userId } });
  const notice = (id: Id, noticeId: Id) => ({ path: { id, notice_id: noticeId } });
  const event = (id: Id, eventId: Id) => ({ path: { id, event_id: eventId } });
  const media = async (frame: Record<string, unknown>): Promise<void> => {
    await c.live().request(frame);
  };
  return {
    me: () => unwrap(c.api().GET("/api/users/me")),
    updateMe: (patch) => unwrap(c.api().PATCH("/api/users/me", { body: patch })),
    changePassword: async (input) => {
      await unwrap(c.api().POST("/api/users/me/password", { body: input }));
    },
    leaveStudy: async (studyId) => {
      await unwrap(c.api().POST("/api/studies/{id}/leave", { params: study(studyId) }));
    },
    joinRequests: async (studyId) =>
      (await unwrap(c.api().GET("/api/studies/{id}/join-requests", { params: { ...study(studyId), query: { page: 1, limit: LIMIT } } }))).items,
    approveMember: (studyId, userId) => unwrap(c.api().POST("/api/studies/{id}/members/{user_id}/approve", { params: member(studyId, userId) })),
    rejectMember: async (studyId, userId) => {
      await unwrap(c.api().POST("/api/studies/{id}/members/{user_id}/reject", { params: member(studyId, userId) }));
    },
    changeRole: (studyId, userId, role) =>
      unwrap(c.api().PATCH("/api/studies/{id}/members/{user_id}/role", { params: member(studyId, userId), body: { role } })),
    kickMember: async (studyId, userId) => {
      await unwrap(c.api().DELETE("/api/studies/{id}/members/{user_id}", { params: member(studyId, userId) }));
    },
    inviteCode: (studyId) => unwrap(c.api().GET("/api/studies/{id}/invite-code", { params: study(studyId) })),
    regenerateInviteCode: (studyId) => unwrap(c.api().POST("/api/studies/{id}/invite-code", { params: study(studyId) })),
    createNotice: (studyId, input) => unwrap(c.api().POST("/api/studies/{id}/notices", { params: study(studyId), body: input })),
    updateNotice: (studyId, noticeId, patch) =>
      unwrap(c.api().PATCH("/api/studies/{id}/notices/{notice_id}", { params: notice(studyId, noticeId), body: patch })),
    pinNotice: (studyId, noticeId, pinned) =>
      unwrap(c.api().PATCH("/api/studies/{id}/notices/{notice_id}/pin", { params: notice(studyId, noticeId), body: { isPinned: pinned } })),
    deleteNotice: async (studyId, noticeId) => {
      await unwrap(c.api().DELETE("/api/studies/{id}/notices/{notice_id}", { params: notice(studyId, noticeId) }));
    },
    events: (studyId, from, to) => unwrap(c.api().GET("/api/studies/{id}/calendar", { params: { ...study(studyId), query: { from, to } } })),
    createEvent: (studyId, input) => unwrap(c.api().POST("/api/studies/{id}/calendar", { params: study(studyId), body: input })),
    updateEvent: (studyId, eventId, patch) =>
      unwrap(c.api().PATCH("/api/studies/{id}/calendar/{event_id}", { params: event(studyId, eventId), body: patch })),
    deleteEvent: async (studyId, eventId) => {
      await unwrap(c.api().DELETE("/api/studies/{id}/calendar/{event_id}", { params: event(studyId, eventId) }));
    },
    files: async (studyId) =>
      (await unwrap(c.api().GET("/api/studies/{id}/files", { params: { ...study(studyId), query: { page: 1, limit: LIMIT } } }))).items,
    uploadFile: (studyId, file, onProgress) =>
      upload(new URL(`/api/studies/${encodeURIComponent(studyId)}/files`, c.server()).toString(), c.token(), file, onProgress),
    downloadFile: async (studyId, file) => {
      // The download needs the bearer token, so it is fetched and handed to
      // the browser's downloads as a blob under the file's own name.
      const url = new URL(`/api/studies/${encodeURIComponent(studyId)}/files/${encodeURIComponent(file.id)}/download`, c.server());
      let response: Response;
      try {
        response = await fetch(url, { headers: { Authorization: `Bearer ${c.token()}` } });
      } catch (e) {
        throw new BackendError({ code: "UNAVAILABLE", message: e instanceof Error ? e.message : String(e) });
      }
      if (!response.ok) throw refusal(response.status, await response.json().catch(() => null));
      const href = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = href;
      link.download = file.name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
      return null;
    },
    deleteFile: async (studyId, fileId) => {
      await unwrap(c.api().DELETE("/api/studies/{id}/files/{file_id}", { params: { path: { id: studyId, file_id: fileId } } }));
    },
    createReport: (input) => unwrap(c.api().POST("/api/reports", { body: input })),
    adminStats: () => unwrap(c.api().GET("/api/admin/stats")),
    adminUsers: (query) => unwrap(c.api().GET("/api/admin/users", { params: { query } })),
    suspendUser: (userId, input) => unwrap(c.api().POST("/api/admin/users/{id}/suspend", { params: study(userId), body: input })),
    restoreUser: (userId) => unwrap(c.api().POST("/api/admin/users/{id}/restore", { params: study(userId) })),
    adminStudies: (query) => unwrap(c.api().GET("/api/admin/studies", { params: { query } })),
    adminDeleteStudy: async (studyId, reason) => {
      await unwrap(c.api().DELETE("/api/admin/studies/{id}", { params: { ...study(studyId), query: reason ? { reason } : {} } }));
    },
    adminReports: (query) => unwrap(c.api().GET("/api/admin/reports", { params: { query } })),
    processReport: (reportId, input) => unwrap(c.api().POST("/api/admin/reports/{id}/process", { params: study(reportId), body: input })),
    auditLog: (page, limit) => unwrap(c.api().GET("/api/admin/audit-log", { params: { query: { page, limit } } })),
    updateTask: async (taskId, patch) => {
      await unwrap(c.api().PATCH("/api/tasks/{id}", { params: study(taskId), body: patch }));
    },
    deleteTask: async (taskId) => {
      await unwrap(c.api().DELETE("/api/tasks/{id}", { params: study(taskId) }));
    },
    newerMessages: (studyId, after, limit) =>
      unwrap(c.api().GET("/api/studies/{id}/chat", { params: { ...study(studyId), query: { after, limit } } })),
    joinCall: async (studyId, state: MediaState) => {
      const joined = await c.live().request({ type: "callJoin", studyId, media: state });
      return {
        participants: (joined.participants as { userId: Id; media: MediaState }[] | undefined) ?? [],
        iceServers: (joined.iceServers as IceServer[] | undefined) ?? [],
      };
    },
    leaveCall: (studyId) => media({ type: "callLeave", studyId }),
    setMedia: (studyId, state) => media({ type: "media", studyId, media: state }),
    sendSignal: (studyId, to, signal) => media({ type: "signal", studyId, to, kind: signal.kind, payload: signalPayload(signal) }),
  };
}
