// The browser's call media: one RTCPeerConnection per other participant, run
// by the rules in ./rules (the native engine's), over the backend's signaling.
// Local tracks (microphone, camera, screen) are added to every connection; a
// change of tracks renegotiates through `negotiationneeded`.

import type { CallSignal, Id } from "../types";
import * as rules from "./rules";

export interface MeshHooks {
  /** Sends a signal to one participant. */
  signal(to: Id, signal: CallSignal): Promise<void>;
  /** A remote track started. */
  track(from: Id, track: MediaStreamTrack, kind: rules.TrackKind): void;
  /** A remote track ended (its sender stopped, or the peer left). */
  ended(from: Id, track: MediaStreamTrack): void;
}

class Peer {
  readonly pc: RTCPeerConnection;
  private readonly polite: boolean;
  private makingOffer = false;
  private held: RTCIceCandidateInit[] = [];
  private readonly senders = new Map<MediaStreamTrack, RTCRtpSender>();
  private readonly remote = new Map<string, MediaStreamTrack>();
  private ice: { state: rules.Ice; since: number } = { state: "working", since: Date.now() };
  private iceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Signals are handled one at a time, in order, as the native peer task does. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    me: Id,
    readonly them: Id,
    private readonly offersFirst: boolean,
    servers: RTCIceServer[],
    private readonly hooks: MeshHooks,
  ) {
    this.polite = rules.isPolite(me, them);
    this.pc = new RTCPeerConnection({ iceServers: servers });
    this.pc.onnegotiationneeded = () => void this.offer();
    this.pc.onicecandidate = (e) => {
      const signal = e.candidate ? rules.candidateSignal(e.candidate.toJSON()) : null;
      if (signal) this.send(signal);
    };
    this.pc.oniceconnectionstatechange = () => this.checkIce();
    this.pc.ontrack = (e) => {
      const track = e.track;
      const hasCamera = [...this.remote.values()].some((t) => t.kind === "video");
      this.remote.set(track.id, track);
      this.hooks.track(them, track, rules.trackKind(track.id, track.kind === "audio", hasCamera));
      for (const stream of e.streams) {
        stream.onremovetrack = (r) => this.drop(r.track);
      }
    };
  }

  /** Restarts ICE when the rules say so; a disconnection is looked at again
   * once its grace is over. */
  private checkIce(): void {
    const state = rules.ice(this.pc.iceConnectionState);
    if (state !== this.ice.state) this.ice = { state, since: Date.now() };
    clearTimeout(this.iceTimer);
    if (rules.restartIce(this.polite, state, Date.now() - this.ice.since)) {
      this.ice = { state: "working", since: Date.now() };
      this.pc.restartIce();
    } else if (state === "disconnected" && !this.polite) {
      this.iceTimer = setTimeout(() => this.checkIce(), rules.ICE_GRACE_MS);
    }
  }

  private send(signal: CallSignal): void {
    // A lost signal (socket down, peer gone) ends with the peer leaving or
    // the call being joined again: nothing to retry here.
    this.hooks.signal(this.them, signal).catch(() => undefined);
  }

  private drop(track: MediaStreamTrack): void {
    if (this.remote.delete(track.id)) this.hooks.ended(this.them, track);
  }

  private async offer(): Promise<void> {
    if (!rules.mayOffer(this.offersFirst, this.pc.remoteDescription !== null)) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      const signal = this.pc.localDescription ? rules.descriptionSignal(this.pc.localDescription) : null;
      if (signal) this.send(signal);
    } finally {
      this.makingOffer = false;
    }
  }

  /** Starts sending a local track; `negotiationneeded` offers it. */
  add(track: MediaStreamTrack, stream: MediaStream): void {
    if (!this.senders.has(track)) this.senders.set(track, this.pc.addTrack(track, stream));
  }

  remove(track: MediaStreamTrack): void {
    const sender = this.senders.get(track);
    if (!sender) return;
    this.senders.delete(track);
    this.pc.removeTrack(sender);
  }

  receive(signal: CallSignal): Promise<void> {
    // A signal the connection refuses (malformed, or a candidate of an ignored
    // offer) is dropped, as the native engine drops it.
    this.queue = this.queue.then(() => this.handle(signal)).catch(() => undefined);
    return this.queue;
  }

  private async handle(signal: CallSignal): Promise<void> {
    const state = rules.negotiation(this.pc.signalingState);
    if (signal.kind === "iceCandidate") {
      const init: RTCIceCandidateInit = { candidate: signal.candidate, sdpMid: signal.sdpMid ?? null, sdpMLineIndex: signal.sdpMLineIndex ?? null };
      if (rules.onCandidate(this.pc.remoteDescription !== null) === "hold") this.held = rules.hold(this.held, init);
      else await this.pc.addIceCandidate(init);
      return;
    }
    if (signal.kind === "answer") {
      if (rules.onAnswer(state) === "drop") return;
      await this.pc.setRemoteDescription({ type: "answer", sdp: signal.sdp });
      await this.flush();
      return;
    }
    const action = rules.onOffer(this.polite, this.makingOffer, state);
    if (action === "drop" || action === "ignore") return;
    if (action === "rollbackAndAnswer") await this.pc.setLocalDescription({ type: "rollback" });
    const waited = !rules.mayOffer(this.offersFirst, this.pc.remoteDescription !== null);
    await this.pc.setRemoteDescription({ type: "offer", sdp: signal.sdp });
    await this.flush();
    await this.pc.setLocalDescription();
    const answer = this.pc.localDescription ? rules.descriptionSignal(this.pc.localDescription) : null;
    if (answer) this.send(answer);
    // Tracks the offer had no section for, added while waiting (or rolled
    // back), still need an offer of ours.
    const unsent = [...this.senders.values()].some((s) => {
      const t = this.pc.getTransceivers().find((x) => x.sender === s);
      return !t?.currentDirection || t.currentDirection === "recvonly" || t.currentDirection === "inactive";
    });
    if (unsent && (waited || action === "rollbackAndAnswer")) await this.offer();
  }

  private async flush(): Promise<void> {
    const held = this.held;
    this.held = [];
    for (const c of held) await this.pc.addIceCandidate(c);
  }

  close(): void {
    clearTimeout(this.iceTimer);
    for (const track of this.remote.values()) this.hooks.ended(this.them, track);
    this.remote.clear();
    this.pc.close();
  }
}

/** The call's peer connections and the local tracks they send. */
export class Mesh {
  private readonly peers = new Map<Id, Peer>();
  private readonly local = new Map<MediaStreamTrack, MediaStream>();

  constructor(
    private readonly me: Id,
    private servers: RTCIceServer[],
    private readonly hooks: MeshHooks,
  ) {}

  /** A connection to `them`, offering first when this side joined after them. */
  add(them: Id, offersFirst: boolean): void {
    if (them === this.me || this.peers.has(them)) return;
    const peer = new Peer(this.me, them, offersFirst, this.servers, this.hooks);
    for (const [track, stream] of this.local) peer.add(track, stream);
    this.peers.set(them, peer);
  }

  remove(them: Id): void {
    this.peers.get(them)?.close();
    this.peers.delete(them);
  }

  /** A signal from `from`; an offer from someone not yet known (it overtook
   * their join) starts the connection on the waiting side. */
  async receive(from: Id, signal: CallSignal): Promise<void> {
    if (!this.peers.has(from) && signal.kind === "offer") this.add(from, false);
    await this.peers.get(from)?.receive(signal);
  }

  send(track: MediaStreamTrack, stream: MediaStream): void {
    this.local.set(track, stream);
    for (const peer of this.peers.values()) peer.add(track, stream);
  }

  stop(track: MediaStreamTrack): void {
    this.local.delete(track);
    for (const peer of this.peers.values()) peer.remove(track);
  }

  /** Closes every connection, keeping the local tracks for the next ones
   * (the call joined again, with the join's ICE servers). */
  reset(servers: RTCIceServer[]): void {
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.servers = servers;
  }

  close(): void {
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.local.clear();
  }
}
