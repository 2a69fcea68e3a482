//! The call engine (feature `media`): real sound and picture for a study's
//! call, over the signaling of [`crate::client::calls`].
//!
//! - [`Call`] ([`call`]): joins the call and keeps one WebRTC peer connection
//!   per other participant (a mesh), driven by the client's app events.
//! - [`peer`]: one task per peer connection — perfect negotiation, trickle ICE,
//!   renegotiation when a track comes or goes, ICE restart.
//! - [`rules`]: the decisions (who is polite, what to do on glare, when to
//!   restart ICE or rejoin) as plain functions.
//! - [`codec`]: VP8 (libvpx) and Opus (libopus).
//! - `feedback`: the interceptor that lets receivers' keyframe requests
//!   (PLI/FIR) through webrtc's chain to the encoders.
//! - [`pattern`]: the synthetic sources — a test pattern that carries its frame
//!   number and capture time, and a tone; [`x11`]: screen capture of an X11
//!   display; [`camera`]: a V4L2 camera; [`convert`]: their pixels to I420.
//!
//! Sources and sinks are traits ([`VideoSource`], [`AudioSource`],
//! [`MediaSink`]), so apps and tests plug in their own devices and renderers.
//! The microphone is the app's (the desktop app reads ALSA; a phone its own
//! audio API): an [`AudioSource`] over it.

pub mod call;
pub mod camera;
pub mod codec;
pub mod convert;
mod feedback;
pub mod pattern;
pub mod peer;
pub mod recorder;
pub mod rules;
pub mod x11;

pub use call::{Call, CallOptions, CallStats, PeerStats};
pub use recorder::{Recorder, TrackReport};

use crate::error::Result;
use crate::ids::UserId;

/// Audio sample rate everywhere in the engine (Opus's native rate).
pub const AUDIO_RATE: u32 = 48_000;
/// Samples in one 20 ms audio frame (mono).
pub const AUDIO_FRAME: usize = 960;

/// A raw video frame, I420 (planar Y, then U and V at half size), tightly packed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoFrame {
    /// Width in pixels (even).
    pub width: u32,
    /// Height in pixels (even).
    pub height: u32,
    /// Y, U, V planes, `width*height*3/2` bytes.
    pub data: Vec<u8>,
}

impl VideoFrame {
    /// A mid-grey frame.
    pub fn grey(width: u32, height: u32) -> Self {
        let luma = (width * height) as usize;
        let mut data = vec![128u8; luma + luma / 2];
        data[..luma].fill(96);
        Self {
            width,
            height,
            data,
        }
    }

    /// The luma plane.
    pub fn luma(&self) -> &[u8] {
        &self.data[..(self.width * self.height) as usize]
    }

    /// The luma plane, to draw into.
    pub fn luma_mut(&mut self) -> &mut [u8] {
        let n = (self.width * self.height) as usize;
        &mut self.data[..n]
    }

    /// Copies a decoded image (whose rows may be padded) into a packed frame.
    pub(crate) fn from_planes(image: &vpx_rs::YUVImageData<'_, u8>) -> Self {
        let (w, h) = (image.width(), image.height());
        let planes = image.planes();
        let mut data = Vec::with_capacity(w * h * 3 / 2);
        for row in 0..h {
            let at = row * planes.y_stride();
            data.extend_from_slice(&planes.y[at..at + w]);
        }
        match planes.uv {
            vpx_rs::image::UVImagePlanes::Separate(uv) => {
                for (plane, stride) in [(uv.u, uv.u_stride()), (uv.v, uv.v_stride())] {
                    for row in 0..h / 2 {
                        let at = row * stride;
                        data.extend_from_slice(&plane[at..at + w / 2]);
                    }
                }
            }
            // VP8 decodes to I420 only; an interleaved image would be a libvpx
            // change, shown as neutral chroma rather than garbage.
            vpx_rs::image::UVImagePlanes::Interleaved(_) => data.resize(w * h * 3 / 2, 128),
        }
        Self {
            width: w as u32,
            height: h as u32,
            data,
        }
    }
}

/// A source of video frames (a camera, a screen, a test pattern). The engine
/// calls [`VideoSource::next_frame`] at its frame rate on a thread of its own,
/// so it may block for up to one frame time.
pub trait VideoSource: Send + 'static {
    /// The size of the frames it makes (even; constant).
    fn size(&self) -> (u32, u32);
    /// The next frame.
    fn next_frame(&mut self) -> Result<VideoFrame>;
}

/// A source of audio (a microphone, a tone): 48 kHz mono samples, asked for
/// 20 ms at a time on a thread of its own.
pub trait AudioSource: Send + 'static {
    /// Fills `out` ([`AUDIO_FRAME`] samples) with the next 20 ms.
    fn fill(&mut self, out: &mut [i16]) -> Result<()>;
}

/// Which of a participant's tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TrackKind {
    /// The microphone.
    Mic,
    /// The camera (or the test pattern in its place).
    Camera,
    /// The screen share.
    Screen,
}

impl TrackKind {
    /// The track id it travels under (the receiver tells the kinds apart by it).
    pub fn id(self) -> &'static str {
        match self {
            Self::Mic => "mic",
            Self::Camera => "camera",
            Self::Screen => "screen",
        }
    }

    /// The kind a remote track id names (unknown video counts as the camera).
    pub fn from_id(id: &str, audio: bool) -> Self {
        match (audio, id) {
            (true, _) => Self::Mic,
            (false, "screen") => Self::Screen,
            (false, _) => Self::Camera,
        }
    }
}

/// Where received media goes (a renderer, a speaker, a test's recorder).
/// Called from the engine's tasks: return quickly.
pub trait MediaSink: Send + Sync + 'static {
    /// A remote track started.
    fn track_started(&self, _from: UserId, _track: TrackKind) {}
    /// An encoded VP8 frame arrived, as sent (for renderers that decode
    /// themselves, e.g. WebCodecs in a webview).
    fn encoded_video(&self, _from: UserId, _track: TrackKind, _frame: &codec::EncodedFrame) {}
    /// Whether the engine should decode video for [`MediaSink::video`].
    fn wants_decoded_video(&self) -> bool {
        true
    }
    /// A decoded video frame.
    fn video(&self, _from: UserId, _track: TrackKind, _frame: &VideoFrame) {}
    /// 20 ms (usually) of decoded audio from a participant.
    fn audio(&self, _from: UserId, _pcm: &[i16]) {}
    /// A remote track ended (the participant stopped it, left, or the
    /// connection to them closed).
    fn track_ended(&self, _from: UserId, _track: TrackKind) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_kinds_travel_by_id() {
        for kind in [TrackKind::Mic, TrackKind::Camera, TrackKind::Screen] {
            assert_eq!(TrackKind::from_id(kind.id(), kind == TrackKind::Mic), kind);
        }
        assert_eq!(TrackKind::from_id("whatever", false), TrackKind::Camera);
        assert_eq!(TrackKind::from_id("screen", true), TrackKind::Mic);
    }
}
