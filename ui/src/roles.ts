// What the UI offers to whom. The server decides (coup-core's permissions);
// these only hide controls the server would refuse, mirroring its rules.

import type { CalendarEvent, Id, StudyRole } from "./types";

/** OWNER and ADMIN manage notices, join requests and the invite code. */
export function canManage(role: StudyRole | null | undefined): boolean {
  return role === "OWNER" || role === "ADMIN";
}

/** OWNER kicks anyone but themself; ADMIN kicks MEMBERs only. */
export function canKick(myRole: StudyRole | null | undefined, me: Id, target: { userId: Id; role: StudyRole }): boolean {
  if (target.userId === me) return false;
  if (myRole === "OWNER") return true;
  return myRole === "ADMIN" && target.role === "MEMBER";
}

/** Only the OWNER changes roles (and transfers ownership), never their own. */
export function canChangeRole(myRole: StudyRole | null | undefined, me: Id, target: { userId: Id }): boolean {
  return myRole === "OWNER" && target.userId !== me;
}

/** The event's creator, or OWNER/ADMIN, edit and delete it. */
export function canEditEvent(event: CalendarEvent, me: Id, role: StudyRole | null | undefined): boolean {
  return event.creatorId === me || canManage(role);
}

/** Platform admins see the admin screens. */
export function isPlatformAdmin(role: string): boolean {
  return role === "ADMIN" || role === "SYSTEM_ADMIN";
}
