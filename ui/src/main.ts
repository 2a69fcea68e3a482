// Entry point: the language and theme, then the app on the desktop backend.
// (The browser shell will pass its own `Backend` here.)

import "./style.css";

import { applyTheme, startApp, type Theme } from "./app";
import { tauriBackend } from "./backends/tauri";
import { pickLang, setLang } from "./i18n";

setLang(pickLang(navigator.language, localStorage.getItem("coup.lang")));
applyTheme((localStorage.getItem("coup.theme") as Theme | null) ?? "system");

const root = document.getElementById("app");
if (root) {
  startApp(root, tauriBackend()).catch((e: unknown) => {
    root.textContent = String(e);
  });
}
