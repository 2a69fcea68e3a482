// My profile (name, bio, avatar URL) and password change; joining a private
// study with its invite code.

import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { t } from "../i18n";
import { errorView, field } from "../ui";

export function profileScreen(ctx: Ctx, root: HTMLElement): void {
  const name = h("input", { type: "text", required: true, maxlength: 100, id: "profile-name" });
  const bio = h("textarea", { rows: 3, maxlength: 1000, id: "profile-bio" });
  const avatar = h("input", { type: "url", id: "profile-avatar" });
  const email = h("p", { class: "muted", id: "profile-email" });
  const profileStatus = h("div", { "aria-live": "polite" });
  const profile = h(
    "form",
    { class: "card", "aria-labelledby": "profile-title" },
    h("h2", { id: "profile-title" }, t("profile")),
    email,
    field(t("name"), name),
    field(t("bio"), bio),
    field(t("avatarUrl"), avatar),
    profileStatus,
    h("button", { type: "submit", class: "primary", id: "profile-save" }, t("save")),
  );
  profile.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.backend
      .updateMe({ name: name.value.trim(), bio: bio.value, avatarUrl: avatar.value.trim() })
      .then(() => replace(profileStatus, h("p", { role: "status" }, t("saved"))))
      .catch((err: unknown) => replace(profileStatus, errorView(err)));
  });

  const current = h("input", { type: "password", required: true, autocomplete: "current-password", id: "password-current" });
  const next = h("input", { type: "password", required: true, autocomplete: "new-password", id: "password-new" });
  const passwordStatus = h("div", { "aria-live": "polite" });
  const password = h(
    "form",
    { class: "card", "aria-labelledby": "password-title" },
    h("h2", { id: "password-title" }, t("changePassword")),
    h("p", { class: "muted small" }, t("passwordHelp")),
    field(t("currentPassword"), current),
    field(t("newPassword"), next),
    passwordStatus,
    h("button", { type: "submit", class: "primary", id: "password-save" }, t("changePassword")),
  );
  password.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.backend
      .changePassword({ currentPassword: current.value, newPassword: next.value })
      .then(() => {
        password.reset();
        replace(passwordStatus, h("p", { role: "status" }, t("passwordChanged")));
      })
      .catch((err: unknown) => replace(passwordStatus, errorView(err)));
  });

  const studyId = h("input", { type: "text", required: true, id: "invite-study-id" });
  const code = h("input", { type: "text", required: true, id: "invite-code-input" });
  const inviteStatus = h("div", { "aria-live": "polite" });
  const invite = h(
    "form",
    { class: "card", "aria-labelledby": "invite-title" },
    h("h2", { id: "invite-title" }, t("joinByInvite")),
    h("p", { class: "muted small" }, t("joinByInviteHelp")),
    field(t("studyIdLabel"), studyId),
    field(t("inviteCode"), code),
    inviteStatus,
    h("button", { type: "submit", class: "primary", id: "invite-join" }, t("join")),
  );
  invite.addEventListener("submit", (e) => {
    e.preventDefault();
    const id = studyId.value.trim();
    ctx.backend
      .joinStudy(id, { inviteCode: code.value.trim() })
      .then((m) => {
        if (m.status === "ACTIVE") ctx.go({ name: "study", studyId: id, tab: "chat" });
        else replace(inviteStatus, h("p", { role: "status" }, t("requestSent")));
      })
      .catch((err: unknown) => replace(inviteStatus, errorView(err)));
  });

  replace(root, h("main", { class: "page narrow", id: "profile" }, h("h1", {}, t("profile")), profile, password, invite));
  ctx.backend
    .me()
    .then((user) => {
      name.value = user.name;
      bio.value = user.bio ?? "";
      avatar.value = user.avatarUrl ?? "";
      email.textContent = user.email;
    })
    .catch((e: unknown) => {
      // Offline: what the session knows.
      name.value = ctx.session.user.name;
      email.textContent = ctx.session.user.email;
      ctx.fail(e);
    });
}
