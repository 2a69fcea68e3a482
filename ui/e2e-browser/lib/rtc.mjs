// What a failed call test needs to say: the page's peer connections as WebRTC
// sees them. `recordPeerConnections` runs before the page's scripts
// (context.addInitScript) and keeps every RTCPeerConnection the page makes;
// `rtcReport` (page.evaluate) reads their states and media statistics.

export function recordPeerConnections() {
  const Native = window.RTCPeerConnection;
  const made = [];
  window.__coupPeerConnections = made;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      made.push(this);
    }
  };
}

export async function rtcReport() {
  const wanted = {
    "inbound-rtp": ["kind", "packetsReceived", "packetsLost", "bytesReceived", "framesReceived", "framesDecoded", "keyFramesDecoded", "framesDropped", "pliCount", "firCount", "nackCount", "frameWidth"],
    "outbound-rtp": ["kind", "packetsSent", "framesEncoded", "pliCount"],
    "candidate-pair": ["state", "nominated", "bytesSent", "bytesReceived", "requestsSent", "responsesReceived"],
    transport: ["dtlsState", "iceState", "selectedCandidatePairId"],
  };
  const report = [];
  for (const pc of window.__coupPeerConnections ?? []) {
    const stats = [];
    for (const s of (await pc.getStats()).values()) {
      const keys = wanted[s.type];
      if (keys) stats.push(Object.fromEntries([["type", s.type], ...keys.filter((k) => k in s).map((k) => [k, s[k]])]));
    }
    report.push({
      signaling: pc.signalingState,
      ice: pc.iceConnectionState,
      connection: pc.connectionState,
      transceivers: pc.getTransceivers().map((t) => ({ mid: t.mid, direction: t.direction, current: t.currentDirection, receiving: t.receiver.track?.readyState, muted: t.receiver.track?.muted })),
      stats,
    });
  }
  const videos = [...document.querySelectorAll("#call-videos video")].map((v) => ({
    track: v.dataset.track,
    readyState: v.readyState,
    width: v.videoWidth,
    paused: v.paused,
  }));
  return { peerConnections: report, videos };
}
