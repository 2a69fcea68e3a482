import { describe, expect, it } from "vitest";

import { candidateSignal, descriptionSignal, hold, ice, iceServers, isPolite, MAX_HELD_CANDIDATES, mayOffer, negotiation, onAnswer, onCandidate, onOffer, rejoin, REJOIN_ATTEMPTS, rejoinRetry, restartIce, signalPayload, trackKind } from "./rules";

const A = "0190a8c2-0000-7000-8000-000000000001";
const B = "0190a8c2-0000-7000-8000-00000000000a";

describe("the call's negotiation rules (the native engine's)", () => {
  it("makes exactly one side of a pair polite: the larger id", () => {
    expect(isPolite(B, A)).toBe(true);
    expect(isPolite(A, B)).toBe(false);
  });

  it("lets the joiner offer and holds the others' offers until the joiner's is applied", () => {
    expect(mayOffer(true, false)).toBe(true);
    expect(mayOffer(false, false)).toBe(false);
    expect(mayOffer(false, true)).toBe(true);
  });

  it("resolves crossing offers with the polite side yielding", () => {
    expect(onOffer(true, false, "have-local-offer")).toBe("rollbackAndAnswer");
    expect(onOffer(false, false, "have-local-offer")).toBe("ignore");
    expect(onOffer(true, true, "stable")).toBe("rollbackAndAnswer");
    expect(onOffer(false, true, "stable")).toBe("ignore");
    expect(onAnswer("have-local-offer")).toBe("apply");
    expect(onAnswer("stable")).toBe("drop");
  });

  it("answers offers without collision and drops everything once closed", () => {
    expect(onOffer(true, false, "stable")).toBe("answer");
    expect(onOffer(false, false, "stable")).toBe("answer");
    expect(onOffer(true, false, "have-remote-offer")).toBe("answer");
    expect(onOffer(false, false, "have-remote-offer")).toBe("ignore");
    expect(onOffer(true, false, "closed")).toBe("drop");
    expect(onAnswer("have-remote-offer")).toBe("drop");
    expect(onAnswer("closed")).toBe("drop");
  });

  it("maps the browser's signaling states, pranswers as the offer they answer", () => {
    expect(negotiation("stable")).toBe("stable");
    expect(negotiation("have-local-offer")).toBe("have-local-offer");
    expect(negotiation("have-remote-pranswer")).toBe("have-local-offer");
    expect(negotiation("have-remote-offer")).toBe("have-remote-offer");
    expect(negotiation("have-local-pranswer")).toBe("have-remote-offer");
    expect(negotiation("closed")).toBe("closed");
  });

  it("holds candidates until a remote description, at most the limit, oldest dropped", () => {
    expect(onCandidate(false)).toBe("hold");
    expect(onCandidate(true)).toBe("apply");
    let held: number[] = [];
    for (let i = 0; i < MAX_HELD_CANDIDATES + 3; i++) held = hold(held, i);
    expect(held.length).toBe(MAX_HELD_CANDIDATES);
    expect(held[0]).toBe(3);
    expect(held.at(-1)).toBe(MAX_HELD_CANDIDATES + 2);
  });

  it("restarts ICE only on the impolite side, a disconnection only after the grace", () => {
    expect(restartIce(false, "failed", 0)).toBe(true);
    expect(restartIce(true, "failed", 60_000)).toBe(false);
    expect(restartIce(false, "disconnected", 1000)).toBe(false);
    expect(restartIce(false, "disconnected", 3000)).toBe(true);
    expect(restartIce(false, "working", 60_000)).toBe(false);
    expect(ice("failed")).toBe("failed");
    expect(ice("disconnected")).toBe("disconnected");
    expect(ice("checking")).toBe("working");
    expect(ice("connected")).toBe("working");
  });

  it("joins the call again only when the connection comes back during a call", () => {
    expect(rejoin(true, false, true)).toBe(true);
    expect(rejoin(true, true, true)).toBe(false);
    expect(rejoin(false, false, true)).toBe(false);
    expect(rejoin(true, false, false)).toBe(false);
  });

  it("retries a refused rejoin while the old place lingers, with a growing wait, then gives up", () => {
    expect(rejoinRetry(0, "CONFLICT", "ALREADY_IN_CALL")).toBe(200);
    expect(rejoinRetry(1, "UNAVAILABLE", null)).toBe(400);
    expect(rejoinRetry(5, "CONFLICT", "ALREADY_IN_CALL")).toBe(2000);
    expect(rejoinRetry(0, "CONFLICT", "CALL_FULL")).toBeNull();
    expect(rejoinRetry(0, "FORBIDDEN", null)).toBeNull();
    expect(rejoinRetry(REJOIN_ATTEMPTS - 2, "CONFLICT", "ALREADY_IN_CALL")).toBe(2000);
    expect(rejoinRetry(REJOIN_ATTEMPTS - 1, "CONFLICT", "ALREADY_IN_CALL")).toBeNull();
  });

  it("names remote tracks as the native engine does, a browser's second video as its screen", () => {
    expect(trackKind("mic", true, false)).toBe("mic");
    expect(trackKind("camera", false, false)).toBe("camera");
    expect(trackKind("screen", false, false)).toBe("screen");
    expect(trackKind("5b1c-random", false, false)).toBe("camera");
    expect(trackKind("77aa-random", false, true)).toBe("screen");
  });

  it("speaks the native engine's signaling payloads", () => {
    const offer = descriptionSignal({ type: "offer", sdp: "v=0" });
    expect(offer).toEqual({ kind: "offer", sdp: "v=0" });
    expect(offer && signalPayload(offer)).toEqual({ type: "offer", sdp: "v=0" });
    expect(descriptionSignal({ type: "rollback" })).toBeNull();
    expect(descriptionSignal({ type: "answer", sdp: "" })).toBeNull();
    const candidate = candidateSignal({ candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 });
    expect(candidate && signalPayload(candidate)).toEqual({ candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 });
    expect(candidateSignal({ candidate: "", sdpMid: "0" })).toBeNull();
    expect(signalPayload({ kind: "iceCandidate", candidate: "c" })).toEqual({ candidate: "c", sdpMid: null, sdpMLineIndex: null });
  });

  it("takes the join's ICE servers, dropping entries without URLs", () => {
    expect(iceServers([{ urls: ["stun:stun.example.org"] }, { urls: "turn:t.example.org", username: "u", credential: "p" }, { urls: [] }, null, 3])).toEqual([
      { urls: ["stun:stun.example.org"] },
      { urls: ["turn:t.example.org"], username: "u", credential: "p" },
    ]);
  });
});
