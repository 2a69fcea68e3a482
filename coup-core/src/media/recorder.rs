//! A [`MediaSink`] that measures what arrives instead of showing it: per
//! participant and track, frames decoded, frame rate, resolution, the test
//! pattern's frame numbers (in order?) and end-to-end latency read from it, and
//! audio packets. The headless peer reports it as JSON; the tests assert on it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use super::pattern::{self, now_ms};
use super::{MediaSink, TrackKind, VideoFrame};
use crate::ids::UserId;

#[derive(Default)]
struct Track {
    started: u32,
    ended: u32,
    frames: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    size: (u32, u32),
    stamps: u64,
    last_frame_no: Option<u32>,
    backwards: u64,
    latencies_ms: Vec<u64>,
    audio_packets: u64,
    loud_packets: u64,
}

/// What one remote track delivered.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrackReport {
    /// From whom.
    pub user_id: UserId,
    /// Which track.
    pub track: TrackKind,
    /// Times it started (more than 1: it was renegotiated or reconnected).
    pub started: u32,
    /// Times it ended.
    pub ended: u32,
    /// Video frames decoded.
    pub frames: u64,
    /// Decoded frames per second, first to last frame.
    pub fps: f64,
    /// Milliseconds from the recorder's creation to the first decoded frame.
    pub first_frame_ms: Option<u64>,
    /// The last frame's width and height.
    pub width: u32,
    /// The last frame's height.
    pub height: u32,
    /// Frames whose test-pattern stamp was read.
    pub stamps: u64,
    /// The last frame number read.
    pub last_frame_no: Option<u32>,
    /// Stamps whose number was not above the previous one.
    pub backwards: u64,
    /// Capture-to-decoded latency, median, ms (from the stamps).
    pub latency_p50_ms: Option<u64>,
    /// Capture-to-decoded latency, 95th percentile, ms.
    pub latency_p95_ms: Option<u64>,
    /// Audio packets decoded.
    pub audio_packets: u64,
    /// Audio packets with sound in them (not silence).
    pub loud_packets: u64,
}

/// Records what arrives; cheap to share.
pub struct Recorder {
    created: Instant,
    tracks: Mutex<HashMap<(UserId, TrackKind), Track>>,
}

impl Default for Recorder {
    /// A recorder whose clock for `firstFrameMs` starts now (make it just
    /// before joining to measure join → first frame).
    fn default() -> Self {
        Self {
            created: Instant::now(),
            tracks: Mutex::default(),
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(at).copied()
}

impl Recorder {
    fn with(&self, from: UserId, track: TrackKind, f: impl FnOnce(&mut Track)) {
        let mut tracks = self.tracks.lock().unwrap_or_else(|e| e.into_inner());
        f(tracks.entry((from, track)).or_default());
    }

    /// Forgets everything so far (to measure a later window).
    pub fn reset(&self) {
        self.tracks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Every track heard from, sorted by user and track.
    pub fn report(&self) -> Vec<TrackReport> {
        let tracks = self.tracks.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<TrackReport> = tracks
            .iter()
            .map(|((user, kind), t)| {
                let mut lat = t.latencies_ms.clone();
                lat.sort_unstable();
                let secs = match (t.first, t.last) {
                    (Some(a), Some(b)) => (b - a).as_secs_f64(),
                    _ => 0.0,
                };
                TrackReport {
                    user_id: *user,
                    track: *kind,
                    started: t.started,
                    ended: t.ended,
                    frames: t.frames,
                    fps: if secs > 0.0 {
                        ((t.frames.saturating_sub(1)) as f64 / secs * 10.0).round() / 10.0
                    } else {
                        0.0
                    },
                    first_frame_ms: t
                        .first
                        .map(|f| f.duration_since(self.created).as_millis() as u64),
                    width: t.size.0,
                    height: t.size.1,
                    stamps: t.stamps,
                    last_frame_no: t.last_frame_no,
                    backwards: t.backwards,
                    latency_p50_ms: percentile(&lat, 0.5),
                    latency_p95_ms: percentile(&lat, 0.95),
                    audio_packets: t.audio_packets,
                    loud_packets: t.loud_packets,
                }
            })
            .collect();
        out.sort_by_key(|r| (r.user_id.to_string(), r.track.id()));
        out
    }

    /// The report of one track, if it was heard from.
    pub fn track(&self, from: UserId, track: TrackKind) -> Option<TrackReport> {
        self.report()
            .into_iter()
            .find(|r| r.user_id == from && r.track == track)
    }
}

impl MediaSink for Recorder {
    fn track_started(&self, from: UserId, track: TrackKind) {
        self.with(from, track, |t| t.started += 1);
    }

    fn video(&self, from: UserId, track: TrackKind, frame: &VideoFrame) {
        let now = Instant::now();
        let stamp = pattern::read(frame);
        self.with(from, track, |t| {
            t.frames += 1;
            t.first.get_or_insert(now);
            t.last = Some(now);
            t.size = (frame.width, frame.height);
            if let Some(s) = stamp {
                t.stamps += 1;
                if t.last_frame_no.is_some_and(|n| s.frame <= n) {
                    t.backwards += 1;
                }
                t.last_frame_no = Some(s.frame);
                t.latencies_ms.push(now_ms().saturating_sub(s.captured_ms));
            }
        });
    }

    fn audio(&self, from: UserId, pcm: &[i16]) {
        let loud = pcm.iter().any(|s| s.unsigned_abs() > 1000);
        self.with(from, TrackKind::Mic, |t| {
            t.audio_packets += 1;
            t.loud_packets += u64::from(loud);
        });
    }

    fn track_ended(&self, from: UserId, track: TrackKind) {
        self.with(from, track, |t| t.ended += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::pattern::{Stamp, draw};

    #[test]
    fn frames_stamps_order_and_latency_are_recorded() {
        let rec = Recorder::default();
        let kim = UserId::new();
        rec.track_started(kim, TrackKind::Camera);
        for n in [1u32, 2, 2, 3] {
            let stamp = Stamp {
                frame: n,
                captured_ms: now_ms() - 40,
            };
            rec.video(kim, TrackKind::Camera, &draw(320, 240, stamp));
        }
        rec.video(kim, TrackKind::Camera, &VideoFrame::grey(320, 240));
        rec.audio(kim, &[0; 960]);
        rec.audio(kim, &[5000; 960]);
        rec.track_ended(kim, TrackKind::Camera);
        let cam = rec.track(kim, TrackKind::Camera).expect("camera");
        assert_eq!((cam.frames, cam.stamps, cam.backwards), (5, 4, 1));
        assert_eq!(
            (cam.width, cam.height, cam.last_frame_no),
            (320, 240, Some(3))
        );
        assert!(cam.latency_p50_ms.is_some_and(|l| (40..1000).contains(&l)));
        assert_eq!((cam.started, cam.ended), (1, 1));
        let mic = rec.track(kim, TrackKind::Mic).expect("mic");
        assert_eq!((mic.audio_packets, mic.loud_packets), (2, 1));
        rec.reset();
        assert!(rec.report().is_empty());
    }
}
