// What the app hands each screen: the backend, the session, navigation, and
// subscriptions that end when the screen is left.

import type { Backend } from "./backend";
import type { AppEvent, Id, Session } from "./types";

export type Route =
  | { name: "dashboard" }
  | { name: "study"; studyId: Id; tab: "chat" | "notices" | "calendar" | "tasks" | "files" | "members" | "call" | "about" }
  | { name: "find" }
  | { name: "notifications" }
  | { name: "myTasks" }
  | { name: "profile" }
  | { name: "admin"; section: "stats" | "users" | "studies" | "reports" | "audit" };

export interface Ctx {
  backend: Backend;
  session: Session;
  go(route: Route): void;
  /** App events while this screen is shown. */
  on(listener: (event: AppEvent) => void): void;
  /** Runs when the screen is left. */
  cleanup(fn: () => void): void;
  /** A short message in the status line (announced to screen readers). */
  say(text: string): void;
  /** Shows an error in words (from code/reason). */
  fail(error: unknown): void;
}
