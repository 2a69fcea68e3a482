// The call panel: join, leave, who is in the call, and the microphone, camera
// and screen toggles that tell the others. Where the backend can signal for
// the page (the browser shell), the page's own WebRTC carries the media
// (../call/mesh): camera and microphone from getUserMedia, the screen from
// getDisplayMedia, and a <video> per remote video track of each participant.
// The desktop app's media is the native engine's (in Rust): the join starts
// it, the toggles start and stop its sources, and remote video arrives
// encoded and is decoded into a canvas per track (../call/native). The
// server ends a
// participant's place with their live connection: when it comes back during a
// call the page joins again and offers anew, as the native engine does, saying
// meanwhile that the call is reconnecting.

import { Mesh } from "../call/mesh";
import { NativeVideo } from "../call/native";
import { iceServers, rejoin, rejoinRetry, type TrackKind } from "../call/rules";
import type { Ctx } from "../context";
import { BackendError } from "../backend";
import { h, replace } from "../dom";
import { t } from "../i18n";
import type { Id, JoinedCall, MediaState, Member, Participant } from "../types";

/** Whether this page can run the call's media itself. */
function pageMedia(ctx: Ctx): boolean {
  return ctx.backend.sendSignal !== undefined && typeof RTCPeerConnection !== "undefined" && "mediaDevices" in navigator;
}

interface Remote {
  track: MediaStreamTrack;
  kind: TrackKind;
  element: HTMLMediaElement;
}

export function callTab(ctx: Ctx, root: HTMLElement, studyId: Id, members: () => Member[]): void {
  const me = ctx.session.user.id;
  let joined = false;
  /** Whether the live connection is up, as last told. */
  let online = true;
  /** Bumped by every join, rejoin and leave: a rejoin still waiting for an
   * answer or a retry stops when it is no longer the latest. */
  let generation = 0;
  /** Whether the shell runs the media (the desktop app's native engine). */
  const native = ctx.backend.joinNativeCall !== undefined;
  // Natively the camera is the test pattern (no camera capture yet), and the
  // microphone (ALSA capture) is muted until asked for: joining a call should
  // not open a microphone by surprise.
  let media: MediaState = { mic: !native, camera: native || pageMedia(ctx), screen: false };
  let nativeVideo: NativeVideo | null = null;
  const participants = new Map<Id, MediaState>();
  const remote = new Map<Id, Remote[]>();
  let mesh: Mesh | null = null;
  let camera: MediaStream | null = null;
  let screen: MediaStream | null = null;
  const preview = h("video", { id: "call-preview", class: "call-video", muted: true, autoplay: true, playsinline: true, "aria-label": t("yourVideo") });
  preview.muted = true;
  const name = (id: Id): string => members().find((m) => m.userId === id)?.name ?? "…";
  const list = h("ul", { class: "plain participants", id: "call-participants", "aria-label": t("participants") });
  const controls = h("div", { class: "row wrap", id: "call-controls" });
  const note = h("p", { class: "muted small", id: "call-note", role: "status" });
  const connection = h("p", { class: "small", id: "call-connection", role: "status", "aria-live": "polite" });
  const audioOutput = h("p", { class: "muted small", id: "call-audio", role: "status" });
  const videos = h("div", { class: "call-grid", id: "call-videos", "aria-label": t("callVideos") });

  const local = (kind: "mic" | "camera"): MediaStreamTrack | undefined => (kind === "mic" ? camera?.getAudioTracks()[0] : camera?.getVideoTracks()[0]);

  const applyLocal = (next: MediaState): void => {
    for (const kind of ["mic", "camera"] as const) {
      const track = local(kind);
      if (track) track.enabled = next[kind];
    }
  };

  const stopScreen = (): void => {
    for (const track of screen?.getTracks() ?? []) {
      mesh?.stop(track);
      track.stop();
    }
    screen = null;
  };

  /** Starts or stops the screen share; the connections renegotiate. */
  const shareScreen = async (on: boolean): Promise<boolean> => {
    if (!on) {
      stopScreen();
      return true;
    }
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    screen = stream;
    for (const track of stream.getVideoTracks()) {
      // The browser's own "stop sharing" ends the track.
      track.onended = () => {
        if (screen === stream) void set({ ...media, screen: false });
      };
      mesh?.send(track, stream);
    }
    return true;
  };

  const set = async (next: MediaState): Promise<void> => {
    if (mesh && next.screen !== media.screen) await shareScreen(next.screen);
    applyLocal(next);
    await ctx.backend.setMedia(studyId, next);
    media = next;
    participants.set(me, next);
    render();
  };

  const toggle = (key: keyof MediaState, label: string): HTMLElement =>
    h(
      "button",
      {
        id: `call-${key}`,
        "aria-pressed": media[key] ? "true" : "false",
        disabled: key !== "screen" && mesh !== null && !local(key),
        onclick: () => void set({ ...media, [key]: !media[key] }).catch((e: unknown) => ctx.fail(e)),
      },
      label,
    );

  const tile = (id: Id, r: Remote): HTMLElement =>
    h(
      "figure",
      { class: "call-tile", "data-participant": id, "data-kind": r.kind },
      r.element,
      h("figcaption", { class: "small" }, r.kind === "screen" ? t("screenOf", { name: name(id) }) : name(id)),
    );

  const render = (): void => {
    replace(connection, joined && !online ? t("callReconnecting") : null);
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
      videos,
      mesh && camera ? h("figure", { class: "call-tile", "data-participant": me }, preview, h("figcaption", { class: "small" }, t("you"))) : null,
      [...remote].flatMap(([id, tracks]) => tracks.filter((r) => r.track.kind === "video").map((r) => tile(id, r))),
      (nativeVideo?.tiles() ?? []).map((v) =>
        h("figure", { class: "call-tile", "data-participant": v.from, "data-kind": v.track }, v.canvas, h("figcaption", { class: "small" }, v.track === "screen" ? t("screenOf", { name: name(v.from) }) : name(v.from))),
      ),
      [...remote].flatMap(([, tracks]) => tracks.filter((r) => r.track.kind === "audio").map((r) => r.element)),
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

  const addRemote = (from: Id, track: MediaStreamTrack, kind: TrackKind): void => {
    const element =
      track.kind === "video"
        ? h("video", { class: "call-video", autoplay: true, playsinline: true, "data-track": kind, "aria-label": kind === "screen" ? t("screenOf", { name: name(from) }) : t("videoOf", { name: name(from) }) })
        : h("audio", { autoplay: true, "data-track": kind });
    if (element instanceof HTMLVideoElement) element.muted = true;
    element.srcObject = new MediaStream([track]);
    remote.set(from, [...(remote.get(from) ?? []).filter((r) => r.track !== track), { track, kind, element }]);
    render();
  };

  const endRemote = (from: Id, track: MediaStreamTrack): void => {
    const left = (remote.get(from) ?? []).filter((r) => r.track !== track);
    if (left.length > 0) remote.set(from, left);
    else remote.delete(from);
    render();
  };

  /** Camera and microphone, as far as the page may have them; a call without
   * devices still receives. */
  const capture = async (): Promise<MediaStream | null> => {
    try {
      return await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    } catch {
      return null;
    }
  };

  /** Joins on the shell's engine: it sends the camera and (unmuted) the
   * microphone, and hands remote video to the canvases. */
  const joinNative = async (): Promise<JoinedCall> => {
    const joinNativeCall = ctx.backend.joinNativeCall;
    if (!joinNativeCall) throw new Error("no native calls");
    const video = new NativeVideo(
      render,
      (from, track) => (track === "screen" ? t("screenOf", { name: name(from) }) : t("videoOf", { name: name(from) })),
      // Best effort: a lost request leaves the periodic keyframe.
      (from, track) => void ctx.backend.requestKeyframe?.(studyId, from, track).catch(() => undefined),
    );
    nativeVideo = video;
    const call = await joinNativeCall(studyId, media, (message) => video.receive(message));
    media = call.media;
    replace(note, call.cameraError === null ? t("nativeSources") : t("noCamera"));
    if (call.cameraError !== null) note.title = call.cameraError;
    replace(audioOutput, call.audioOutputError === null ? null : t("noAudioOutput"));
    if (call.audioOutputError !== null) audioOutput.title = call.audioOutputError;
    return call;
  };

  const join = (): void => {
    void (async () => {
      if (native) {
        const call = await joinNative();
        generation++;
        joined = true;
        online = true;
        participants.clear();
        for (const p of call.participants) participants.set(p.userId, p.media);
        render();
        return;
      }
      let state = media;
      if (pageMedia(ctx)) {
        camera = await capture();
        state = { mic: media.mic && Boolean(camera?.getAudioTracks()[0]), camera: media.camera && Boolean(camera?.getVideoTracks()[0]), screen: false };
        replace(note, camera ? null : t("noDevices"));
      }
      const call = await ctx.backend.joinCall(studyId, state);
      generation++;
      joined = true;
      online = true;
      media = state;
      participants.clear();
      for (const p of call.participants) participants.set(p.userId, p.media);
      const send = ctx.backend.sendSignal;
      if (pageMedia(ctx) && send) {
        mesh = new Mesh(me, iceServers(call.iceServers), {
          signal: (to, signal) => send(studyId, to, signal),
          track: addRemote,
          ended: endRemote,
        });
        if (camera) {
          preview.srcObject = camera;
          applyLocal(state);
          for (const track of camera.getTracks()) mesh.send(track, camera);
        }
        // The joiner offers to everyone already there.
        for (const p of call.participants) mesh.add(p.userId, true);
      }
      render();
    })().catch((e: unknown) => {
      release();
      ctx.fail(e);
    });
  };

  /** Ends the media: connections closed, devices released. */
  const release = (): void => {
    mesh?.close();
    mesh = null;
    nativeVideo?.close();
    nativeVideo = null;
    replace(audioOutput);
    stopScreen();
    for (const track of camera?.getTracks() ?? []) track.stop();
    camera = null;
    preview.srcObject = null;
    remote.clear();
  };

  const left = (): void => {
    joined = false;
    media = { ...media, screen: false };
    participants.clear();
    render();
  };

  const leave = (): void => {
    generation++;
    release();
    // While the connection is down the server has already ended this side's
    // place in the call.
    if (!online) {
      left();
      return;
    }
    ctx.backend
      .leaveCall(studyId)
      .then(left)
      .catch((e: unknown) => ctx.fail(e));
  };

  /** Joins the call again after the live connection came back, as the native
   * engine does: every connection closed (the local tracks kept), the call
   * joined with the same media, and everyone there offered to anew. */
  const rejoinCall = async (): Promise<void> => {
    const mine = ++generation;
    /** Whether this rejoin is still the one to carry on. */
    const current = (): boolean => mine === generation && online;
    for (let attempt = 0; ; attempt++) {
      try {
        const call = await ctx.backend.joinCall(studyId, media);
        if (mine !== generation) {
          // Left (or joined anew) while this answer was on its way.
          if (!joined) await ctx.backend.leaveCall(studyId);
          return;
        }
        participants.clear();
        for (const p of call.participants) participants.set(p.userId, p.media);
        mesh?.reset(iceServers(call.iceServers));
        for (const p of call.participants) mesh?.add(p.userId, true);
        render();
        return;
      } catch (e) {
        if (!current()) return;
        const error = BackendError.from(e);
        const wait = rejoinRetry(attempt, error.code, error.reason);
        if (wait === null) {
          release();
          left();
          replace(note, t("callRejoinFailed"), " ", error.message);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
        if (!current()) return;
      }
    }
  };
  const add = (p: Participant): void => {
    participants.set(p.userId, p.media);
    render();
  };

  ctx.on((event) => {
    if (event.type === "connection") {
      const now = event.state.state === "ONLINE";
      // The native engine joins again by itself.
      const again = rejoin(joined, online, now) && !native;
      online = now;
      if (again) void rejoinCall();
      else if (joined) render();
      return;
    }
    if (!joined || !("studyId" in event) || event.studyId !== studyId) return;
    if (event.type === "callJoined") {
      // Joined (again, after a reconnect): who is there now. Those who left
      // meanwhile lose their tiles; the rest arrive as their tracks start.
      for (const id of participants.keys()) {
        if (event.participants.some((p) => p.userId === id)) continue;
        nativeVideo?.forget(id);
        remote.delete(id);
      }
      participants.clear();
      for (const p of event.participants) participants.set(p.userId, p.media);
      render();
    } else if (event.type === "callParticipantJoined") {
      add(event.participant);
      // Those already there wait for the joiner's offer.
      mesh?.add(event.participant.userId, false);
    } else if (event.type === "callParticipantLeft") {
      participants.delete(event.userId);
      mesh?.remove(event.userId);
      nativeVideo?.forget(event.userId);
      remote.delete(event.userId);
      render();
    } else if (event.type === "callMedia") add({ userId: event.userId, media: event.media });
    else if (event.type === "callSignal") void mesh?.receive(event.from, event.signal);
  });
  ctx.cleanup(() => {
    release();
    if (joined) void ctx.backend.leaveCall(studyId).catch(() => undefined);
  });
  replace(root, h("section", { class: "call", "aria-label": t("call") }, h("p", { class: "muted small" }, t("callHelp")), controls, connection, note, audioOutput, videos, h("h2", {}, t("participants")), list));
  render();
}
