// The desktop app's remote video. Its call runs on the native engine (Rust):
// each remote VP8 frame arrives still encoded on the call's channel, with a
// 28-byte header (coup-desktop/src/media.rs has the table), and is decoded
// here by WebCodecs' VideoDecoder into one canvas per participant's track
// (camera and screen apart), made when the track starts and removed when it
// ends. When a decoder fails or falls behind, it is closed with what it still
// holds (a stuck or lagging decoder is not fed again), and its track waits for
// a keyframe to start a new one and asks the sender for it (the shell's
// `request_keyframe`), rather than staying frozen until the next periodic
// keyframe. Nothing is encoded here:
// WebKitGTK's VideoEncoder crashes its web process, so sending is the engine's.

import type { TrackKind } from "./rules";
import type { Id } from "../types";

/** The header's length in bytes. */
export const HEADER_LEN = 28;

/** One message of the call's channel, read. */
export interface NativeMessage {
  kind: "started" | "frame" | "ended";
  from: Id;
  track: TrackKind;
  keyframe: boolean;
  /** Milliseconds since the call started. */
  millis: number;
  /** The size a keyframe states (0 otherwise). */
  width: number;
  height: number;
  /** The VP8 frame (empty for track news). */
  frame: Uint8Array;
}

const KINDS = { 1: "started", 2: "frame", 3: "ended" } as const;
const TRACKS = { 0: "mic", 1: "camera", 2: "screen" } as const;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The user id (a UUID, as the server writes it) from its 16 bytes. */
export function uuid(bytes: Uint8Array): Id {
  const s = hex(bytes);
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** Reads one channel message; null for anything malformed. */
export function parseMessage(data: ArrayBuffer): NativeMessage | null {
  if (data.byteLength < HEADER_LEN) return null;
  const view = new DataView(data);
  const kind = KINDS[view.getUint8(0) as keyof typeof KINDS] as NativeMessage["kind"] | undefined;
  const track = TRACKS[view.getUint8(1) as keyof typeof TRACKS] as TrackKind | undefined;
  if (kind === undefined || track === undefined) return null;
  return {
    kind,
    from: uuid(new Uint8Array(data, 4, 16)),
    track,
    keyframe: (view.getUint8(2) & 1) === 1,
    millis: view.getUint32(20, true),
    width: view.getUint16(24, true),
    height: view.getUint16(26, true),
    frame: new Uint8Array(data, HEADER_LEN),
  };
}

/** One remote track on screen. */
export interface NativeTile {
  from: Id;
  track: TrackKind;
  canvas: HTMLCanvasElement;
}

interface Decoding extends NativeTile {
  decoder: VideoDecoder | null;
  /** Frames are skipped until a keyframe after a (re)start or an error. */
  needKeyframe: boolean;
}

/** Frames waiting in a decoder past which deltas are dropped until the next
 * keyframe (a slow web process catches up instead of lagging). */
const MAX_QUEUE = 8;

/** Whether this webview can decode the call's video. */
export function canDecode(): boolean {
  return typeof VideoDecoder !== "undefined" && typeof EncodedVideoChunk !== "undefined";
}

/** The remote tracks of one call: a decoder and a canvas each. */
export class NativeVideo {
  private readonly tracks = new Map<string, Decoding>();

  /** `changed` runs when a track's canvas comes or goes; `wantKeyframe` when
   * a track's decoder lost the picture (an error, an overflowing queue) and
   * waits for a keyframe — once each time, not once per skipped frame. */
  constructor(
    private readonly changed: () => void,
    private readonly label: (from: Id, track: TrackKind) => string,
    private readonly wantKeyframe: (from: Id, track: TrackKind) => void = () => undefined,
  ) {}

  /** The tracks on screen, in the order they started. */
  tiles(): NativeTile[] {
    return [...this.tracks.values()];
  }

  /** Handles one message of the call's channel. */
  receive(data: ArrayBuffer): void {
    const message = parseMessage(data);
    if (!message || message.track === "mic") return;
    const key = `${message.from}/${message.track}`;
    if (message.kind === "ended") {
      const ended = this.tracks.get(key);
      if (ended) {
        this.tracks.delete(key);
        this.stop(ended);
        this.changed();
      }
      return;
    }
    let entry = this.tracks.get(key);
    if (!entry) {
      entry = this.start(message.from, message.track);
      this.tracks.set(key, entry);
      this.changed();
    }
    if (message.kind === "frame") this.decode(entry, message);
  }

  /** Removes every track of a participant (they left). */
  forget(from: Id): void {
    for (const [key, entry] of this.tracks) {
      if (entry.from !== from) continue;
      this.tracks.delete(key);
      this.stop(entry);
    }
    this.changed();
  }

  /** Stops every decoder (the call ended). */
  close(): void {
    for (const entry of this.tracks.values()) this.stop(entry);
    this.tracks.clear();
  }

  private start(from: Id, track: TrackKind): Decoding {
    const canvas = document.createElement("canvas");
    canvas.className = "call-video";
    canvas.width = 640;
    canvas.height = 480;
    canvas.dataset.participant = from;
    canvas.dataset.track = track;
    canvas.dataset.frames = "0";
    canvas.dataset.lost = "0";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", this.label(from, track));
    return { from, track, canvas, decoder: null, needKeyframe: true };
  }

  private stop(entry: Decoding): void {
    if (entry.decoder && entry.decoder.state !== "closed") entry.decoder.close();
    entry.decoder = null;
  }

  private decoderFor(entry: Decoding): VideoDecoder {
    if (entry.decoder && entry.decoder.state !== "closed") return entry.decoder;
    const context = entry.canvas.getContext("2d");
    const decoder = new VideoDecoder({
      output: (frame) => {
        if (entry.canvas.width !== frame.displayWidth || entry.canvas.height !== frame.displayHeight) {
          entry.canvas.width = frame.displayWidth;
          entry.canvas.height = frame.displayHeight;
        }
        context?.drawImage(frame, 0, 0);
        frame.close();
        entry.canvas.dataset.frames = String(Number(entry.canvas.dataset.frames ?? "0") + 1);
      },
      // A broken frame closes the decoder: the next keyframe starts a new one.
      // (A decoder this track already dropped has nothing more to say.)
      error: () => {
        if (entry.decoder === decoder) this.lost(entry);
      },
    });
    decoder.configure({ codec: "vp8", optimizeForLatency: true });
    entry.decoder = decoder;
    return decoder;
  }

  private decode(entry: Decoding, message: NativeMessage): void {
    if (!canDecode()) return;
    const behind = entry.decoder !== null && entry.decoder.state !== "closed" && entry.decoder.decodeQueueSize > MAX_QUEUE;
    if (message.keyframe) {
      // A keyframe needs nothing before it: a backlog is dropped, not waited for.
      if (behind) this.stop(entry);
    } else if (entry.needKeyframe || behind) {
      this.lost(entry);
      return;
    }
    entry.needKeyframe = false;
    const decoder = this.decoderFor(entry);
    try {
      decoder.decode(new EncodedVideoChunk({ type: message.keyframe ? "key" : "delta", timestamp: message.millis * 1000, data: message.frame }));
    } catch {
      this.lost(entry);
    }
  }

  /** The track's picture is lost until a keyframe: the decoder is dropped
   * with its backlog, and a keyframe asked for, once. The canvas counts the
   * losses (`data-lost`) beside its decoded frames. */
  private lost(entry: Decoding): void {
    if (entry.needKeyframe) return;
    entry.needKeyframe = true;
    this.stop(entry);
    entry.canvas.dataset.lost = String(Number(entry.canvas.dataset.lost ?? "0") + 1);
    this.wantKeyframe(entry.from, entry.track);
  }
}
