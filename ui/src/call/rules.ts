// The browser call's decisions as plain functions, the same as the native
// engine's (coup-core/src/media/rules.rs), so a browser and a desktop app in
// one call agree without exchanging a word: who is polite, who offers first,
// what to do with a crossing offer, when a candidate can be applied, and the
// signaling payloads both sides put in `signal` frames.

import type { CallSignal, Id } from "../types";

/** Whether this side yields on glare: the larger user id is polite (compared
 * as strings, as the native engine compares them). */
export function isPolite(me: Id, them: Id): boolean {
  return me > them;
}

/** Whether this side may send an offer now. The joiner offers to everyone
 * already in the call; those already there hold their own offers until the
 * joiner's first offer is applied, so a join costs one offer per pair. */
export function mayOffer(offersFirst: boolean, hasRemoteDescription: boolean): boolean {
  return offersFirst || hasRemoteDescription;
}

/** The signaling state, as far as the rules care. */
export type Negotiation = "stable" | "have-local-offer" | "have-remote-offer" | "closed";

/** The browser's signaling state in the rules' terms (provisional answers are
 * never sent, so a pranswer state counts as the offer it answers). */
export function negotiation(state: RTCSignalingState): Negotiation {
  switch (state) {
    case "stable":
      return "stable";
    case "have-local-offer":
    case "have-remote-pranswer":
      return "have-local-offer";
    case "have-remote-offer":
    case "have-local-pranswer":
      return "have-remote-offer";
    case "closed":
      return "closed";
  }
}

export type OfferAction = "answer" | "rollbackAndAnswer" | "ignore" | "drop";

/** The perfect-negotiation rule for an incoming offer (W3C WebRTC §10.7). */
export function onOffer(polite: boolean, makingOffer: boolean, state: Negotiation): OfferAction {
  if (state === "closed") return "drop";
  const collision = makingOffer || state !== "stable";
  if (!collision) return "answer";
  if (!polite) return "ignore";
  // A second offer while theirs is applied and unanswered replaces it.
  return state === "have-local-offer" || makingOffer ? "rollbackAndAnswer" : "answer";
}

/** An answer applies only to an outstanding offer of ours; one to an offer we
 * rolled back, or a duplicate, is dropped. */
export function onAnswer(state: Negotiation): "apply" | "drop" {
  return state === "have-local-offer" ? "apply" : "drop";
}

/** Candidates wait for a remote description (trickle can outrun its offer). */
export function onCandidate(hasRemoteDescription: boolean): "apply" | "hold" {
  return hasRemoteDescription ? "apply" : "hold";
}

/** Candidates held per peer at most; past it the oldest are dropped. */
export const MAX_HELD_CANDIDATES = 64;

/** Holds a candidate, dropping the oldest past the limit. */
export function hold<T>(held: T[], candidate: T): T[] {
  const next = [...held, candidate];
  return next.length > MAX_HELD_CANDIDATES ? next.slice(next.length - MAX_HELD_CANDIDATES) : next;
}

/** The ICE state, as far as the rules care. */
export type Ice = "working" | "disconnected" | "failed";

/** The browser's ICE connection state in the rules' terms. */
export function ice(state: RTCIceConnectionState): Ice {
  return state === "failed" ? "failed" : state === "disconnected" ? "disconnected" : "working";
}

/** How long a disconnection may heal by itself before an ICE restart. */
export const ICE_GRACE_MS = 3000;

/** Whether to restart ICE now: only the impolite side restarts (a pair never
 * restarts twice at once), a disconnection after the grace, a failure at once. */
export function restartIce(polite: boolean, state: Ice, sinceMs: number, graceMs = ICE_GRACE_MS): boolean {
  if (polite) return false;
  if (state === "failed") return true;
  return state === "disconnected" && sinceMs >= graceMs;
}

/** Whether to join the call again: the live connection came back online
 * after it was lost while in the call. The server ended the old connection's
 * place in the call with it (the others saw this side leave), so every peer
 * is closed, the call joined again and everyone offered to anew. Judged by
 * the connection events, where the native engine judges by connection number
 * (`rules::rejoin`): here the socket's state changes and the join's answer are
 * handled on one event loop in the order they arrive, so a state change never
 * reaches the screen after an answer its connection gave; the native client
 * delivers its events in order with the live frames, which can lag. */
export function rejoin(inCall: boolean, wasOnline: boolean, onlineNow: boolean): boolean {
  return inCall && !wasOnline && onlineNow;
}

/** Attempts at joining again before giving up. */
export const REJOIN_ATTEMPTS = 20;

/** How long to wait before joining again after a refused attempt (the server
 * may not have ended the old connection's place yet, or did not answer), or
 * null to give up: another refusal, or the attempts are spent. Doubles from
 * 200 ms up to 2 s, as the native engine waits. */
export function rejoinRetry(attempt: number, code: string, reason: string | null): number | null {
  if (attempt + 1 >= REJOIN_ATTEMPTS) return null;
  if (reason !== "ALREADY_IN_CALL" && code !== "UNAVAILABLE") return null;
  return Math.min(200 * 2 ** attempt, 2000);
}

export type TrackKind = "mic" | "camera" | "screen";

/** The kind a remote track's id names: the native engine sends `mic`,
 * `camera` and `screen`; any other video (a browser's random ids) counts as
 * the camera unless the peer already sends one, then as its screen. */
export function trackKind(trackId: string, audio: boolean, hasCamera: boolean): TrackKind {
  if (audio) return "mic";
  if (trackId === "screen") return "screen";
  if (trackId === "camera") return "camera";
  return hasCamera ? "screen" : "camera";
}

/** A description as the `signal` frame's kind and payload. */
export function descriptionSignal(description: { type: RTCSdpType; sdp?: string }): CallSignal | null {
  if ((description.type === "offer" || description.type === "answer") && description.sdp) {
    return { kind: description.type, sdp: description.sdp };
  }
  return null;
}

/** A gathered candidate as a signal; the end-of-candidates marker (empty) is
 * not sent, as the native engine sends none. */
export function candidateSignal(candidate: RTCIceCandidateInit): CallSignal | null {
  if (!candidate.candidate) return null;
  return {
    kind: "iceCandidate",
    candidate: candidate.candidate,
    sdpMid: candidate.sdpMid ?? null,
    sdpMLineIndex: candidate.sdpMLineIndex ?? null,
  };
}

/** The payload a signal travels in: what RTCSessionDescriptionInit and
 * RTCIceCandidateInit carry, as the native engine writes them. */
export function signalPayload(signal: CallSignal): Record<string, unknown> {
  if (signal.kind === "iceCandidate") {
    return { candidate: signal.candidate, sdpMid: signal.sdpMid ?? null, sdpMLineIndex: signal.sdpMLineIndex ?? null };
  }
  return { type: signal.kind, sdp: signal.sdp };
}

/** The ICE servers of a join's answer as the browser's configuration; entries
 * without URLs are dropped. */
export function iceServers(raw: unknown[]): RTCIceServer[] {
  const out: RTCIceServer[] = [];
  for (const entry of raw) {
    if (typeof entry !== "object" || entry === null) continue;
    const e = entry as Record<string, unknown>;
    const urls = Array.isArray(e.urls) ? e.urls.filter((u): u is string => typeof u === "string") : typeof e.urls === "string" ? [e.urls] : [];
    if (urls.length === 0) continue;
    const server: RTCIceServer = { urls };
    if (typeof e.username === "string") server.username = e.username;
    if (typeof e.credential === "string") server.credential = e.credential;
    out.push(server);
  }
  return out;
}
