// Entry point: the language and theme, then the app on the shell it runs in —
// the desktop app's Tauri backend inside coup-desktop's webview, the browser
// backend (REST + WebSocket of the server that served the page) anywhere else.
// Each shell's code is its own chunk, so a browser never loads Tauri's API.

import "./style.css";

import { applyTheme, startApp, type Theme } from "./app";
import type { Backend } from "./backend";
import { pickLang, setLang } from "./i18n";

setLang(pickLang(navigator.language, localStorage.getItem("coup.lang")));
applyTheme((localStorage.getItem("coup.theme") as Theme | null) ?? "system");

/** Tauri 2 puts its IPC bridge on the window before any script runs. */
function inTauri(): boolean {
  return "__TAURI_INTERNALS__" in window;
}

async function backend(): Promise<Backend> {
  if (inTauri()) return (await import("./backends/tauri")).tauriBackend();
  if ("serviceWorker" in navigator) {
    // The app shell for reloads while the server is down; failing to register
    // (a private window, http on a non-local host) only loses that.
    navigator.serviceWorker.register("/sw.js").catch((e: unknown) => console.warn("coup: service worker", e));
  }
  return (await import("./backends/browser")).browserBackend();
}

const root = document.getElementById("app");
if (root) {
  backend()
    .then((b) => startApp(root, b))
    .catch((e: unknown) => {
      root.textContent = String(e);
    });
}
