// Reporting a user, a study or a message to the platform's admins: a reason
// asked for in place (no native dialog), sent once, answered in words.

import type { Ctx } from "./context";
import { h } from "./dom";
import { t } from "./i18n";
import type { ReportTarget } from "./types";
import { errorView } from "./ui";

/** Opens the report form inside `host` (one at a time), focused on the reason. */
export function reportIn(ctx: Ctx, host: Element, targetType: ReportTarget, targetId: string, what: string): void {
  host.querySelector(".report")?.remove();
  const reason = h("textarea", { rows: 2, maxlength: 1000, required: true, "aria-label": t("reportReason") });
  const status = h("div", { "aria-live": "polite" });
  const send = h("button", { type: "submit", class: "primary" }, t("sendReport"));
  const cancel = h("button", { type: "button" }, t("cancel"));
  const form = h(
    "form",
    { class: "report card", "aria-label": t("reportWhat", { what }) },
    h("p", { class: "small" }, t("reportWhat", { what })),
    reason,
    status,
    h("div", { class: "row" }, send, cancel),
  );
  cancel.addEventListener("click", () => form.remove());
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      reason.focus();
      return;
    }
    send.disabled = true;
    ctx.backend
      .createReport({ targetType, targetId, reason: text })
      .then(() => {
        form.remove();
        ctx.say(t("reported"));
      })
      .catch((err: unknown) => {
        send.disabled = false;
        status.replaceChildren(errorView(err));
      });
  });
  host.append(form);
  reason.focus();
}
