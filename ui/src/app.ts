// The app: sign-in, then the header (navigation, notifications badge,
// language, theme, sign out), the connection banner and the current screen.

import { BackendError, type Backend } from "./backend";
import type { Ctx, Route } from "./context";
import { h, replace } from "./dom";
import { errorText, lang, setLang, t, type Lang } from "./i18n";
import { dashboardScreen } from "./screens/dashboard";
import { adminScreen } from "./screens/admin";
import { findScreen } from "./screens/find";
import { loginScreen } from "./screens/login";
import { notificationsScreen, withReadMarks } from "./screens/notifications";
import { profileScreen } from "./screens/profile";
import { studyScreen } from "./screens/study";
import { myTasksScreen } from "./screens/tasks";
import { isPlatformAdmin } from "./roles";
import { bannerFor } from "./status";
import type { AppEvent, AppInfo, ConnectionState, Session } from "./types";
import { errorView } from "./ui";

export type Theme = "system" | "light" | "dark";

export function applyTheme(theme: Theme): void {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  localStorage.setItem("coup.theme", theme);
}

export async function startApp(root: HTMLElement, backend: Backend): Promise<void> {
  const info = await backend.appInfo();
  const session = await backend.restore().catch(() => null);
  if (session) signedIn(root, backend, info, session);
  else showLogin(root, backend, info, null);
}

function showLogin(root: HTMLElement, backend: Backend, info: AppInfo, notice: string | null): void {
  loginScreen(root, backend, info, (session) => signedIn(root, backend, { ...info, server: session.server }, session), notice);
}

function signedIn(root: HTMLElement, backend: Backend, info: AppInfo, session: Session): void {
  let route: Route = { name: "dashboard" };
  let connection: ConnectionState = session.connection;
  let screenListeners: ((e: AppEvent) => void)[] = [];
  let cleanups: (() => void)[] = [];
  let unreadNotifications = 0;

  const banner = h("div", { id: "banner", "aria-live": "polite" });
  const status = h("div", { class: "status", role: "status", "aria-live": "polite", id: "status" });
  const screen = h("div", { class: "screen" });
  const badge = h("span", { class: "badge", id: "notif-badge", hidden: true });
  const renderBanner = (): void => {
    const view = bannerFor(connection);
    if (!view) {
      replace(banner);
      return;
    }
    replace(
      banner,
      h(
        "div",
        { class: `banner ${view.kind}`, role: view.kind === "signedOut" ? "alert" : "status" },
        h("span", {}, view.text),
        view.kind === "offline" ? h("button", { class: "link", onclick: () => void backend.reconnect() }, t("reconnectNow")) : null,
      ),
    );
  };
  const refreshBadge = (): void => {
    backend
      .notifications()
      .then((items) => {
        unreadNotifications = withReadMarks(items).filter((n) => !n.isRead).length;
        badge.hidden = unreadNotifications === 0;
        badge.textContent = String(unreadNotifications);
        badge.setAttribute("aria-label", t("unread", { n: unreadNotifications }));
      })
      .catch(() => undefined);
  };

  const ctx: Ctx = {
    backend,
    session,
    go: (next) => {
      route = next;
      show();
    },
    on: (listener) => screenListeners.push(listener),
    cleanup: (fn) => cleanups.push(fn),
    say: (text) => {
      replace(status, text);
    },
    fail: (error) => {
      const e = BackendError.from(error);
      replace(status, errorView(e));
      if (e.code === "NOT_SIGNED_IN") showLogin(root, backend, info, errorText(e));
    },
  };

  const show = (): void => {
    for (const fn of cleanups) fn();
    cleanups = [];
    screenListeners = [];
    replace(status);
    if (route.name === "dashboard") dashboardScreen(ctx, screen);
    else if (route.name === "study") studyScreen(ctx, screen, route.studyId, route.tab);
    else if (route.name === "find") findScreen(ctx, screen);
    else if (route.name === "myTasks") myTasksScreen(ctx, screen);
    else if (route.name === "profile") profileScreen(ctx, screen);
    else if (route.name === "admin") adminScreen(ctx, screen, route.section);
    else notificationsScreen(ctx, screen, refreshBadge);
  };

  // The state now, once events flow (a change before that would be lost).
  const readState = (): void => {
    backend
      .connectionState()
      .then((s) => {
        connection = s;
        renderBanner();
      })
      .catch(() => undefined);
  };
  const stop = backend.onEvent((event) => {
    if (event.type === "connection") {
      connection = event.state;
      renderBanner();
      if (event.state.state === "SIGNED_OUT") {
        const why = errorText(event.state);
        stop();
        void backend.logout().catch(() => undefined);
        showLogin(root, backend, info, t("signedOutBanner", { why }));
        return;
      }
    }
    if (event.type === "notification" || event.type === "cacheRefreshed") refreshBadge();
    for (const l of screenListeners) l(event);
  }, readState);

  const signOut = (): void => {
    stop();
    for (const fn of cleanups) fn();
    backend
      .logout()
      .catch(() => undefined)
      .finally(() => showLogin(root, backend, info, null));
  };

  const makeLang = (): HTMLSelectElement => h(
    "select",
    { "aria-label": t("language"), id: "lang" },
    h("option", { value: "ko", selected: lang() === "ko" }, "한국어"),
    h("option", { value: "en", selected: lang() === "en" }, "English"),
  );
  const makeTheme = (): HTMLSelectElement => h(
    "select",
    { "aria-label": t("theme"), id: "theme" },
    (["system", "light", "dark"] as Theme[]).map((x) =>
      h("option", { value: x, selected: (localStorage.getItem("coup.theme") ?? "system") === x }, t(x === "system" ? "themeSystem" : x === "light" ? "themeLight" : "themeDark")),
    ),
  );

  let langSelect = makeLang();
  let themeSelect = makeTheme();
  const build = (): void => {
    langSelect = makeLang();
    themeSelect = makeTheme();
    langSelect.addEventListener("change", () => {
      localStorage.setItem("coup.lang", langSelect.value);
      setLang(langSelect.value as Lang);
      build();
      renderBanner();
      show();
    });
    themeSelect.addEventListener("change", () => applyTheme(themeSelect.value as Theme));
    const nav = h(
      "nav",
      { "aria-label": "CoUp" },
      h("button", { class: "link brand-small", onclick: () => ctx.go({ name: "dashboard" }), id: "nav-dashboard" }, "CoUp"),
      h("button", { class: "link", onclick: () => ctx.go({ name: "dashboard" }) }, t("dashboard")),
      h("button", { class: "link", onclick: () => ctx.go({ name: "find" }), id: "nav-find" }, t("findStudies")),
      h("button", { class: "link", onclick: () => ctx.go({ name: "myTasks" }), id: "nav-tasks" }, t("myTasks")),
      h("button", { class: "link", onclick: () => ctx.go({ name: "notifications" }), id: "nav-notifications" }, t("notifications"), " ", badge),
      h("button", { class: "link", onclick: () => ctx.go({ name: "profile" }), id: "nav-profile" }, t("profile")),
      isPlatformAdmin(session.user.role)
        ? h("button", { class: "link", onclick: () => ctx.go({ name: "admin", section: "stats" }), id: "nav-admin" }, t("admin"))
        : null,
    );
    const right = h("div", { class: "row" }, h("span", { class: "muted small", id: "me" }, session.user.name), langSelect, themeSelect, h("button", { onclick: signOut, id: "sign-out" }, t("signOut")));
    replace(root, h("header", { class: "top" }, nav, right), banner, status, screen);
  };

  build();
  renderBanner();
  refreshBadge();
  show();
}
