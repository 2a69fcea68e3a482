// Sign in / sign up, with the server to use (remembered by the shell).

import type { Backend } from "../backend";
import { h, replace } from "../dom";
import { t } from "../i18n";
import type { AppInfo, Session } from "../types";
import { errorView, field } from "../ui";

export function loginScreen(
  root: HTMLElement,
  backend: Backend,
  info: AppInfo,
  done: (session: Session) => void,
  notice: string | null,
): void {
  let mode: "in" | "up" = "in";
  const server = h("input", {
    type: "url",
    name: "server",
    required: true,
    value: info.server ?? "http://127.0.0.1:8080",
    autocomplete: "url",
  });
  const email = h("input", { type: "email", name: "email", required: true, autocomplete: "username" });
  const password = h("input", {
    type: "password",
    name: "password",
    required: true,
    autocomplete: "current-password",
  });
  const name = h("input", { type: "text", name: "name", autocomplete: "name" });
  const nameField = field(t("name"), name);
  const status = h("div", { "aria-live": "polite" }, notice ? h("div", { class: "error", role: "alert" }, notice) : null);
  const submit = h("button", { type: "submit", class: "primary", id: "submit" }, t("signIn"));
  const title = h("h1", {}, t("signIn"));
  const toggle = h("button", { type: "button", class: "link", id: "toggle-mode" }, t("noAccount"));

  const show = (): void => {
    nameField.hidden = mode === "in";
    name.required = mode === "up";
    password.autocomplete = mode === "in" ? "current-password" : "new-password";
    submit.textContent = mode === "in" ? t("signIn") : t("signUp");
    title.textContent = mode === "in" ? t("signIn") : t("signUp");
    toggle.textContent = mode === "in" ? t("noAccount") : t("haveAccount");
  };
  toggle.addEventListener("click", () => {
    mode = mode === "in" ? "up" : "in";
    show();
  });

  const form = h(
    "form",
    { class: "card login", "aria-labelledby": "login-title" },
    title,
    // The browser app talks to the server that served it: nothing to choose.
    backend.kind === "browser" ? null : field(t("server"), server),
    nameField,
    field(t("email"), email),
    field(t("password"), password),
    status,
    submit,
    toggle,
    h("p", { class: "muted small" }, t(info.tokenStore === "keyring" ? "tokenStoreKeyring" : info.tokenStore === "browser" ? "tokenStoreBrowser" : "tokenStoreFile")),
  );
  title.id = "login-title";
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit.disabled = true;
    replace(status);
    const attempt =
      mode === "in"
        ? backend.login(server.value, email.value, password.value)
        : backend.signup(server.value, email.value, password.value, name.value);
    attempt
      .then(done)
      .catch((err: unknown) => replace(status, errorView(err)))
      .finally(() => {
        submit.disabled = false;
      });
  });
  show();
  replace(root, h("main", { class: "center" }, h("div", { class: "brand", "aria-hidden": "true" }, "CoUp"), form));
  email.focus();
}
