// Reads the native engine's test pattern (coup-core/src/media/pattern.rs) back
// from a <video> in the page: 88 bits — frame number (32), capture time in Unix
// ms (48), check byte (8) — as 16×16 black/white cells from the top-left, row
// by row; each cell's middle 8×8 averaged against mid-grey. Runs in the page
// (page.evaluate(readStamp, selector)): self-contained.

export function readStamp(selector) {
  const video = document.querySelector(selector);
  if (!(video instanceof HTMLVideoElement) || video.videoWidth === 0) return null;
  const w = video.videoWidth;
  const h = video.videoHeight;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const g = canvas.getContext("2d", { willReadFrequently: true });
  g.drawImage(video, 0, 0, w, h);
  const px = g.getImageData(0, 0, w, h).data;
  const perRow = Math.floor(w / 16);
  if (perRow * Math.floor(h / 16) < 88) return null;
  const bit = (i) => {
    const cx = (i % perRow) * 16;
    const cy = Math.floor(i / perRow) * 16;
    let sum = 0;
    for (let y = cy + 4; y < cy + 12; y++) {
      for (let x = cx + 4; x < cx + 12; x++) {
        const o = (y * w + x) * 4;
        sum += 0.299 * px[o] + 0.587 * px[o + 1] + 0.114 * px[o + 2];
      }
    }
    return sum / 64 > 128 ? 1 : 0;
  };
  const number = (from, len) => {
    let n = 0;
    for (let i = from; i < from + len; i++) n = n * 2 + bit(i);
    return n;
  };
  const frame = number(0, 32);
  const capturedMs = number(32, 48);
  const check = number(80, 8);
  const bytes = [];
  for (let i = 0; i < 4; i++) bytes.push(Math.floor(frame / 2 ** (8 * i)) % 256);
  for (let i = 0; i < 6; i++) bytes.push(Math.floor(capturedMs / 2 ** (8 * i)) % 256);
  let acc = 0xa5;
  bytes.forEach((b, i) => {
    acc = (acc * 31 + (b ^ i)) % 256;
  });
  return acc === check ? { frame, capturedMs, width: w, height: h } : null;
}
