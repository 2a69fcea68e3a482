// Small shared pieces of the screens.

import { BackendError } from "./backend";
import { h } from "./dom";
import { errorText, t } from "./i18n";

/** An error in words, with the server's detail and field for validation errors. */
export function errorView(error: unknown): HTMLElement {
  const e = BackendError.from(error);
  const detail = e.code === "VALIDATION" && e.message ? e.message : null;
  return h(
    "div",
    { class: "error", role: "alert" },
    h("strong", {}, errorText(e)),
    detail ? h("div", { class: "detail" }, detail) : null,
    e.field && !detail ? h("div", { class: "detail" }, t("field", { field: e.field })) : null,
  );
}

/** A labelled input. */
export function field(
  label: string,
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
): HTMLElement {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

export function spinner(): HTMLElement {
  return h("p", { class: "muted", role: "status" }, t("loading"));
}

/** Asks inside `host` (no native dialog: WebKitGTK's are not reliable in the
 * app) and runs `yes` or `no`. */
export function confirmIn(host: Element, question: string, yes: () => unknown, no?: () => unknown): void {
  host.querySelector(".confirm")?.remove();
  const ok = h("button", { class: "primary", "data-confirm": "yes" }, t("confirmYes"));
  const cancel = h("button", {}, t("cancel"));
  const box = h("div", { class: "confirm row wrap", role: "alertdialog", "aria-label": question }, h("span", {}, question), ok, cancel);
  ok.addEventListener("click", () => {
    box.remove();
    void yes();
  });
  cancel.addEventListener("click", () => {
    box.remove();
    void no?.();
  });
  host.append(box);
  ok.focus();
}
