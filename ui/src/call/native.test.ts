import { afterEach, describe, expect, it, vi } from "vitest";

import { HEADER_LEN, NativeVideo, parseMessage, uuid } from "./native";

const USER = "0190a8c2-0000-7000-8000-00000000000a";
const USER_BYTES = [0x01, 0x90, 0xa8, 0xc2, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 0x0a];
/** The start of a 640×480 VP8 keyframe (as in coup-desktop's media.rs test). */
const KEYFRAME = [0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];

/** A message as coup-desktop's `media::message` writes it. */
function message(kind: number, track: number, flags: number, millis: number, size: [number, number], frame: number[]): ArrayBuffer {
  const bytes = new Uint8Array(HEADER_LEN + frame.length);
  const view = new DataView(bytes.buffer);
  bytes.set([kind, track, flags, 0]);
  bytes.set(USER_BYTES, 4);
  view.setUint32(20, millis, true);
  view.setUint16(24, size[0], true);
  view.setUint16(26, size[1], true);
  bytes.set(frame, HEADER_LEN);
  return bytes.buffer;
}

describe("the desktop call's video channel", () => {
  it("reads a frame message: header, then the VP8 frame", () => {
    const m = parseMessage(message(2, 2, 1, 70_000, [640, 480], KEYFRAME));
    expect(m).toMatchObject({ kind: "frame", from: USER, track: "screen", keyframe: true, millis: 70_000, width: 640, height: 480 });
    expect([...(m?.frame ?? [])]).toEqual(KEYFRAME);
    expect(parseMessage(message(3, 1, 0, 9, [0, 0], []))).toMatchObject({ kind: "ended", track: "camera", keyframe: false });
  });

  it("refuses what is short or unknown", () => {
    expect(parseMessage(new ArrayBuffer(HEADER_LEN - 1))).toBeNull();
    expect(parseMessage(message(9, 1, 0, 0, [0, 0], []))).toBeNull();
    expect(parseMessage(message(2, 7, 0, 0, [0, 0], []))).toBeNull();
  });

  it("writes user ids as the server does", () => {
    expect(uuid(new Uint8Array(USER_BYTES))).toBe(USER);
  });

  it("makes a canvas when a track starts and removes it when it ends", () => {
    let changes = 0;
    const video = new NativeVideo(
      () => changes++,
      (from, track) => `${from} ${track}`,
    );
    video.receive(message(1, 1, 0, 0, [0, 0], []));
    video.receive(message(1, 2, 0, 0, [0, 0], []));
    // Audio has no canvas.
    video.receive(message(1, 0, 0, 0, [0, 0], []));
    expect(video.tiles().map((v) => v.track)).toEqual(["camera", "screen"]);
    expect(video.tiles()[0]?.canvas.getAttribute("aria-label")).toBe(`${USER} camera`);
    // A frame of a started track adds nothing.
    video.receive(message(2, 1, 1, 5, [640, 480], KEYFRAME));
    expect(video.tiles()).toHaveLength(2);
    video.receive(message(3, 2, 0, 9, [0, 0], []));
    expect(video.tiles().map((v) => v.track)).toEqual(["camera"]);
    video.forget(USER);
    expect(video.tiles()).toEqual([]);
    expect(changes).toBe(4);
  });
});

/** A stand-in for WebCodecs' VideoDecoder: records what it is given. */
class FakeDecoder {
  static last: FakeDecoder | null = null;
  state = "configured";
  decodeQueueSize = 0;
  readonly decoded: string[] = [];
  constructor(readonly init: { output: (frame: unknown) => void; error: (e: unknown) => void }) {
    FakeDecoder.last = this;
  }
  configure(): void {}
  decode(chunk: { type: string }): void {
    this.decoded.push(chunk.type);
  }
  close(): void {
    this.state = "closed";
  }
}

class FakeChunk {
  readonly type: string;
  constructor(init: { type: string }) {
    this.type = init.type;
  }
}

/** A NativeVideo over the fake decoder, with the keyframe requests it makes. */
function decodingVideo(): { video: NativeVideo; asked: string[] } {
  vi.stubGlobal("VideoDecoder", FakeDecoder);
  vi.stubGlobal("EncodedVideoChunk", FakeChunk);
  const asked: string[] = [];
  const video = new NativeVideo(
    () => undefined,
    (from, track) => `${from} ${track}`,
    (from, track) => asked.push(`${from} ${track}`),
  );
  return { video, asked };
}

describe("a remote track that lost its picture", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("asks for a keyframe once when its decoder falls behind or fails", () => {
    const { video, asked } = decodingVideo();
    const DELTA = [0x31, 0x02, 0x00, 7];
    video.receive(message(1, 1, 0, 0, [0, 0], []));
    video.receive(message(2, 1, 1, 5, [640, 480], KEYFRAME));
    video.receive(message(2, 1, 0, 38, [0, 0], DELTA));
    const decoder = FakeDecoder.last;
    expect(decoder?.decoded).toEqual(["key", "delta"]);
    expect(asked).toEqual([]);
    // A backlog: deltas are dropped with the decoder and what it holds, and
    // one request goes out, not one per frame.
    if (decoder) decoder.decodeQueueSize = 9;
    video.receive(message(2, 1, 0, 71, [0, 0], DELTA));
    video.receive(message(2, 1, 0, 104, [0, 0], DELTA));
    expect(asked).toEqual([`${USER} camera`]);
    expect(decoder?.state).toBe("closed");
    const canvas = video.tiles()[0]?.canvas;
    expect(canvas?.dataset.lost).toBe("1");
    // The keyframe comes: a new decoder starts with it.
    video.receive(message(2, 1, 1, 137, [640, 480], KEYFRAME));
    const fresh = FakeDecoder.last;
    expect(fresh).not.toBe(decoder);
    expect(fresh?.decoded).toEqual(["key"]);
    video.receive(message(2, 1, 0, 170, [0, 0], DELTA));
    expect(fresh?.decoded).toEqual(["key", "delta"]);
    // The decoder fails: it is dropped, deltas wait, a keyframe is asked again.
    fresh?.init.error(new Error("broken frame"));
    video.receive(message(2, 1, 0, 203, [0, 0], DELTA));
    expect(asked).toEqual([`${USER} camera`, `${USER} camera`]);
    expect(fresh?.state).toBe("closed");
    expect(fresh?.decoded).toEqual(["key", "delta"]);
    expect(canvas?.dataset.lost).toBe("2");
  });

  it("starts a new decoder on a keyframe rather than queue it behind a backlog", () => {
    const { video, asked } = decodingVideo();
    video.receive(message(1, 1, 0, 0, [0, 0], []));
    video.receive(message(2, 1, 1, 5, [640, 480], KEYFRAME));
    const behind = FakeDecoder.last;
    if (behind) behind.decodeQueueSize = 9;
    video.receive(message(2, 1, 1, 38, [640, 480], KEYFRAME));
    expect(behind?.state).toBe("closed");
    expect(FakeDecoder.last).not.toBe(behind);
    expect(FakeDecoder.last?.decoded).toEqual(["key"]);
    // Nothing was lost: the keyframe was there.
    expect(asked).toEqual([]);
    expect(video.tiles()[0]?.canvas.dataset.lost).toBe("0");
  });
});
