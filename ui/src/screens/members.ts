// Members: presence dots and roles; for OWNER/ADMIN the join requests
// (approve/reject), kicks, role changes and ownership transfer (OWNER), and the
// invite code with its regeneration; leaving the study.

import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { t } from "../i18n";
import { canChangeRole, canKick, canManage } from "../roles";
import { reportIn } from "../report";
import type { Id, Member, Study, StudyRole } from "../types";
import { confirmIn } from "../ui";

const ROLES: StudyRole[] = ["MEMBER", "ADMIN", "OWNER"];

export function membersTab(ctx: Ctx, root: HTMLElement, studyId: Id, study: () => Study | null, initial: () => Member[]): void {
  const me = ctx.session.user.id;
  const online = new Set<Id>();
  let members = initial();
  const list = h("ul", { class: "members", id: "members", "aria-label": t("membersTab") });
  const requests = h("section", { id: "join-requests", "aria-label": t("joinRequests") });
  const invite = h("section", { id: "invite", "aria-label": t("inviteCode") });
  // A report form opens here, out of the list (re-rendered on presence).
  const reportArea = h("div", { id: "member-report" });
  const role = (): StudyRole | null | undefined => members.find((m) => m.userId === me)?.role ?? study()?.myRole;
  const act = (p: Promise<unknown>, done: string): void => {
    p.then(() => {
      ctx.say(done);
      reload();
    }).catch((e: unknown) => ctx.fail(e));
  };

  const render = (): void => {
    const myRole = role();
    const active = members.filter((m) => m.status === "ACTIVE");
    replace(
      list,
      active.map((m) => {
        const on = online.has(m.userId) || m.userId === me;
        const roleSelect = canChangeRole(myRole, me, m)
          ? h(
              "select",
              { "aria-label": t("roleOf", { name: m.name }), "data-role-for": m.userId },
              ROLES.map((r) => h("option", { value: r, selected: r === m.role }, r === "OWNER" ? t("transferOwnership") : t(`role_${r}`))),
            )
          : null;
        roleSelect?.addEventListener("change", () => {
          const next = roleSelect.value as StudyRole;
          const ask = next === "OWNER" ? t("confirmTransfer", { name: m.name }) : null;
          const go = (): void => act(ctx.backend.changeRole(studyId, m.userId, next), t("roleChanged", { name: m.name }));
          if (ask) confirmIn(roleSelect.parentElement ?? list, ask, go, () => render());
          else go();
        });
        const kick = canKick(myRole, me, m)
          ? h("button", { class: "link danger", "aria-label": t("kickName", { name: m.name }) }, t("kick"))
          : null;
        const report =
          m.userId === me ? null : h("button", { class: "link small", "aria-label": t("reportName", { name: m.name }), "data-report-user": m.userId }, t("report"));
        report?.addEventListener("click", () => reportIn(ctx, reportArea, "USER", m.userId, m.name));
        kick?.addEventListener("click", () =>
          confirmIn(kick.parentElement ?? list, t("confirmKick", { name: m.name }), () => act(ctx.backend.kickMember(studyId, m.userId), t("kicked", { name: m.name }))),
        );
        return h(
          "li",
          { "data-user": m.userId },
          h("span", { class: `dot ${on ? "on" : "off"}`, role: "img", "aria-label": on ? t("online") : t("offlineDot") }),
          h("span", {}, m.name, m.userId === me ? ` (${t("you")})` : ""),
          roleSelect ?? h("span", { class: "muted small" }, t(`role_${m.role}`)),
          kick,
          report,
        );
      }),
    );
    const leave = h("button", { id: "leave-study", class: "danger" }, t("leaveStudy"));
    leave.addEventListener("click", () =>
      confirmIn(leave.parentElement ?? root, t("confirmLeave"), () =>
        ctx.backend
          .leaveStudy(studyId)
          .then(() => ctx.go({ name: "dashboard" }))
          .catch((e: unknown) => ctx.fail(e)),
      ),
    );
    replace(root, requests, h("h2", {}, t("membersTab")), list, reportArea, invite, h("div", { class: "row" }, leave));
  };

  const renderRequests = (pending: Member[]): void => {
    replace(
      requests,
      h("h2", {}, t("joinRequests")),
      pending.length === 0
        ? h("p", { class: "muted" }, t("noJoinRequests"))
        : h(
            "ul",
            { class: "plain" },
            pending.map((m) =>
              h(
                "li",
                { class: "card row wrap", "data-request": m.userId },
                h("strong", {}, m.name),
                m.message ? h("span", { class: "muted" }, `“${m.message}”`) : null,
                h("button", { class: "primary", "aria-label": t("approveName", { name: m.name }), onclick: () => act(ctx.backend.approveMember(studyId, m.userId), t("approved", { name: m.name })) }, t("approve")),
                h("button", { "aria-label": t("rejectName", { name: m.name }), onclick: () => act(ctx.backend.rejectMember(studyId, m.userId), t("rejected", { name: m.name })) }, t("reject")),
              ),
            ),
          ),
    );
  };

  const renderInvite = (code: string): void => {
    replace(
      invite,
      h("h2", {}, t("inviteCode")),
      h("p", { class: "muted small" }, t("inviteHelp")),
      h("p", {}, t("studyIdLabel"), " ", h("code", { id: "invite-study" }, studyId)),
      h("p", {}, t("inviteCode"), ": ", h("code", { id: "invite-value" }, code)),
      h(
        "button",
        { id: "regenerate-invite", onclick: () => ctx.backend.regenerateInviteCode(studyId).then((c) => { renderInvite(c.inviteCode); ctx.say(t("inviteRegenerated")); }).catch((e: unknown) => ctx.fail(e)) },
        t("regenerate"),
      ),
    );
  };

  const reload = (): void => {
    ctx.backend
      .members(studyId)
      .then((m) => {
        members = m;
        render();
        if (canManage(role())) {
          ctx.backend.joinRequests(studyId).then(renderRequests).catch(() => replace(requests));
          ctx.backend.inviteCode(studyId).then((c) => renderInvite(c.inviteCode)).catch(() => replace(invite));
        } else {
          replace(requests);
          replace(invite);
        }
      })
      .catch((e: unknown) => ctx.fail(e));
  };

  ctx.on((event) => {
    if (event.type === "onlineMembers" && event.studyId === studyId) {
      online.clear();
      for (const id of event.userIds) online.add(id);
      render();
    } else if (event.type === "presence" && event.studyId === studyId) {
      if (event.online) online.add(event.userId);
      else online.delete(event.userId);
      render();
    } else if ((event.type === "membership" && event.studyId === studyId) || event.type === "cacheRefreshed") {
      reload();
    } else if (event.type === "notification" && event.notification.kind === "JOIN_REQUEST" && event.notification.studyId === studyId) {
      reload();
    }
  });
  render();
  reload();
}
