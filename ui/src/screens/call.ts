// The call panel over the existing signaling: join, leave, who is in the call,
// and the microphone/camera/screen toggles that tell the others (media itself
// is the media engine's; issue 17 adds it here).

import type { Ctx } from "../context";
import { h, replace } from "../dom";
import { t } from "../i18n";
import type { Id, MediaState, Member, Participant } from "../types";

export function callTab(ctx: Ctx, root: HTMLElement, studyId: Id, members: () => Member[]): void {
  const me = ctx.session.user.id;
  let joined = false;
  let media: MediaState = { mic: true, camera: false, screen: false };
  const participants = new Map<Id, MediaState>();
  const name = (id: Id): string => members().find((m) => m.userId === id)?.name ?? "…";
  const list = h("ul", { class: "plain participants", id: "call-participants", "aria-label": t("participants") });
  const controls = h("div", { class: "row wrap", id: "call-controls" });

  const toggle = (key: keyof MediaState, label: string): HTMLElement =>
    h(
      "button",
      {
        id: `call-${key}`,
        "aria-pressed": media[key] ? "true" : "false",
        onclick: () => {
          const next = { ...media, [key]: !media[key] };
          ctx.backend
            .setMedia(studyId, next)
            .then(() => {
              media = next;
              participants.set(me, next);
              render();
            })
            .catch((e: unknown) => ctx.fail(e));
        },
      },
      label,
    );

  const render = (): void => {
    replace(
      list,
      [...participants].map(([id, m]) =>
        h(
          "li",
          { "data-participant": id },
          h("strong", {}, name(id), id === me ? ` (${t("you")})` : ""),
          " ",
          h("span", { class: "muted small" }, [m.mic ? t("micOn") : t("micOff"), m.camera ? t("cameraOn") : t("cameraOff"), m.screen ? t("screenOn") : null].filter(Boolean).join(" · ")),
        ),
      ),
    );
    replace(
      controls,
      joined
        ? [
            toggle("mic", t("mic")),
            toggle("camera", t("camera")),
            toggle("screen", t("screen")),
            h("button", { class: "danger", id: "call-leave", onclick: leave }, t("leaveCall")),
          ]
        : h("button", { class: "primary", id: "call-join", onclick: join }, t("joinCall")),
    );
  };

  const join = (): void => {
    ctx.backend
      .joinCall(studyId, media)
      .then((call) => {
        joined = true;
        participants.clear();
        for (const p of call.participants) participants.set(p.userId, p.media);
        render();
      })
      .catch((e: unknown) => ctx.fail(e));
  };
  const leave = (): void => {
    ctx.backend
      .leaveCall(studyId)
      .then(() => {
        joined = false;
        participants.clear();
        render();
      })
      .catch((e: unknown) => ctx.fail(e));
  };
  const add = (p: Participant): void => {
    participants.set(p.userId, p.media);
    render();
  };

  ctx.on((event) => {
    if (!joined || !("studyId" in event) || event.studyId !== studyId) return;
    if (event.type === "callParticipantJoined") add(event.participant);
    else if (event.type === "callParticipantLeft") {
      participants.delete(event.userId);
      render();
    } else if (event.type === "callMedia") add({ userId: event.userId, media: event.media });
  });
  ctx.cleanup(() => {
    if (joined) void ctx.backend.leaveCall(studyId).catch(() => undefined);
  });
  replace(root, h("section", { class: "call", "aria-label": t("call") }, h("p", { class: "muted small" }, t("callHelp")), controls, h("h2", {}, t("participants")), list));
  render();
}
