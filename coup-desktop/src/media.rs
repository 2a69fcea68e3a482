//! The desktop's call media. WebKitGTK has no `RTCPeerConnection`, so a call
//! runs on coup-core's engine ([`coup_core::media::Call`]) in this process and
//! the webview only draws: [`WebviewSink`] hands every remote video frame to
//! the page still VP8-encoded, over the call's raw-bytes Tauri `Channel`, where
//! WebCodecs decodes it (`ui/src/call/native.ts`); remote audio plays here,
//! on the default ALSA output ([`AudioOut`]).
//!
//! What the app sends comes from [`crate::devices`]: the microphone (ALSA),
//! the camera (the engine's test pattern) and the screen (X11).
//!
//! A message on the channel is a 28-byte header, then the frame:
//!
//! | bytes | what |
//! | --- | --- |
//! | 0 | [`Message`]: 1 track started, 2 frame, 3 track ended |
//! | 1 | the track: 0 microphone, 1 camera, 2 screen |
//! | 2 | flags: bit 0 keyframe |
//! | 3 | 0 |
//! | 4..20 | the participant's user id (UUID bytes) |
//! | 20..24 | milliseconds since the call started (u32, little-endian) |
//! | 24..28 | width and height (u16 each, little-endian) of a keyframe, else 0 |

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use coup_core::client::{Client, JoinedCall};
use coup_core::ids::{StudyId, UserId};
use coup_core::media::codec::EncodedFrame;
use coup_core::media::{AUDIO_RATE, MediaSink, TrackKind};
use coup_core::media::{Call, CallOptions};
use coup_core::realtime::calls::MediaState;

use crate::devices::{camera, mic, screen};
use serde::Serialize;
use tauri::ipc::{Channel, InvokeResponseBody};

/// The header's length in bytes.
pub const HEADER_LEN: usize = 28;

/// A call this app is in: the engine's call and what it sends now. Its own
/// async lock puts the toggles and the leave of one call in order (no app
/// lock is held meanwhile).
pub struct NativeCall {
    call: tokio::sync::Mutex<Option<(Call, MediaState)>>,
}

/// The join's answer to the call panel.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NativeJoined {
    /// Who was there, the ICE servers.
    #[serde(flatten)]
    pub call: JoinedCall,
    /// What is sent: the media state as joined (the screen is never shared
    /// at first).
    pub media: MediaState,
    /// Why remote audio cannot be played (no output device), if it cannot.
    pub audio_output_error: Option<String>,
    /// Why the camera asked for is not sent (none, busy, refused), if it is not.
    pub camera_error: Option<String>,
}

impl NativeCall {
    /// Joins the study's call sending what `media` asks for (from
    /// [`crate::devices`]); remote video goes to `video`.
    pub async fn join(
        client: Client,
        study: StudyId,
        media: MediaState,
        video: Channel<InvokeResponseBody>,
    ) -> coup_core::error::Result<(Arc<Self>, NativeJoined)> {
        let (audio, audio_output_error) = match AudioOut::open() {
            Ok(out) => (Some(out), None),
            Err(e) => {
                tracing::info!(error = %e, "no audio output: remote audio is not played");
                (None, Some(e))
            }
        };
        // A missing camera leaves the call without one (the toggle tries
        // again); any other failure fails the join.
        let (camera, camera_error) = match media.camera.then(camera).transpose() {
            Ok(camera) => (camera, None),
            Err(e @ coup_core::error::Error::Device { .. }) => {
                tracing::info!(error = %e, "joining without a camera");
                (None, Some(e.to_string()))
            }
            Err(e) => return Err(e),
        };
        let media = MediaState {
            camera: camera.is_some(),
            ..media
        };
        let options = CallOptions {
            camera,
            mic: if media.mic { Some(mic()?) } else { None },
            ..CallOptions::default()
        };
        let options = match media_bind() {
            Some(udp_addrs) => CallOptions {
                udp_addrs,
                ..options
            },
            None => options,
        };
        let sink = Arc::new(WebviewSink::new(video, audio));
        let call = Call::join(client, study, options, sink).await?;
        let media = MediaState {
            screen: false,
            ..media
        };
        let joined = NativeJoined {
            call: call.joined().clone(),
            media,
            audio_output_error,
            camera_error,
        };
        let native = Arc::new(Self {
            call: tokio::sync::Mutex::new(Some((call, media))),
        });
        Ok((native, joined))
    }

    /// Starts and stops the sources so that what is sent is `next`; the
    /// engine renegotiates and signals each change.
    pub async fn set_media(&self, next: MediaState) -> coup_core::error::Result<()> {
        let mut slot = self.call.lock().await;
        let Some((call, media)) = slot.as_mut() else {
            return Err(ended());
        };
        if next.mic != media.mic {
            let source = if next.mic { Some(mic()?) } else { None };
            call.set_mic(source).await?;
            media.mic = next.mic;
        }
        if next.camera != media.camera {
            let source = if next.camera { Some(camera()?) } else { None };
            call.set_camera(source).await?;
            media.camera = next.camera;
        }
        if next.screen != media.screen {
            let source = if next.screen { Some(screen()?) } else { None };
            call.share_screen(source).await?;
            media.screen = next.screen;
        }
        Ok(())
    }

    /// Asks `from` for a keyframe of `track`: the webview's decoder of that
    /// track failed or fell behind and waits for one.
    pub async fn request_keyframe(
        &self,
        from: UserId,
        track: TrackKind,
    ) -> coup_core::error::Result<()> {
        match self.call.lock().await.as_ref() {
            Some((call, _)) => call.request_keyframe(from, track),
            None => Err(ended()),
        }
    }

    /// Leaves the call (once; later calls find it ended).
    pub async fn leave(&self) -> coup_core::error::Result<()> {
        let taken = self.call.lock().await.take();
        match taken {
            Some((call, _)) => call.leave().await,
            None => Ok(()),
        }
    }
}

/// `COUP_DESKTOP_MEDIA_BIND`: the local UDP addresses for the call's ICE host
/// candidates, comma-separated (the end-to-end test keeps media on
/// `127.0.0.1:0`); unset, every interface.
fn media_bind() -> Option<Vec<String>> {
    let value = std::env::var("COUP_DESKTOP_MEDIA_BIND").ok()?;
    let addrs: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    (!addrs.is_empty()).then_some(addrs)
}

fn ended() -> coup_core::error::Error {
    coup_core::error::Error::Media {
        step: "call",
        message: "the call has ended".into(),
    }
}

/// What a channel message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Message {
    /// A participant's track started: make its canvas.
    Started = 1,
    /// An encoded VP8 frame of the track.
    Frame = 2,
    /// The track ended: remove its canvas.
    Ended = 3,
}

fn track_byte(track: TrackKind) -> u8 {
    match track {
        TrackKind::Mic => 0,
        TrackKind::Camera => 1,
        TrackKind::Screen => 2,
    }
}

/// One channel message: the header (see the module's table), then `frame`.
pub fn message(
    kind: Message,
    from: UserId,
    track: TrackKind,
    millis: u32,
    frame: Option<&EncodedFrame>,
) -> Vec<u8> {
    let payload = frame.map_or(&[][..], |f| &f.data[..]);
    let keyframe = frame.is_some_and(|f| f.keyframe);
    let (width, height) = frame
        .filter(|f| f.keyframe)
        .and_then(|f| vp8_size(&f.data))
        .unwrap_or((0, 0));
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&[kind as u8, track_byte(track), u8::from(keyframe), 0]);
    out.extend_from_slice(from.0.as_bytes());
    out.extend_from_slice(&millis.to_le_bytes());
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The picture size a VP8 keyframe states (RFC 6386, 9.1: the 3-byte frame
/// tag, the start code 9d 01 2a, then 14-bit width and height).
pub fn vp8_size(data: &[u8]) -> Option<(u16, u16)> {
    let keyframe = data.first()? & 1 == 0;
    if !keyframe || data.get(3..6)? != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let width = u16::from_le_bytes([*data.get(6)?, *data.get(7)?]) & 0x3fff;
    let height = u16::from_le_bytes([*data.get(8)?, *data.get(9)?]) & 0x3fff;
    Some((width, height))
}

/// Received media of one call: video to the webview, audio to the speaker.
pub struct WebviewSink {
    channel: Channel<InvokeResponseBody>,
    started: Instant,
    audio: Option<AudioOut>,
}

impl WebviewSink {
    /// A sink writing to `channel`, playing audio on `audio` (none: dropped).
    pub fn new(channel: Channel<InvokeResponseBody>, audio: Option<AudioOut>) -> Self {
        Self {
            channel,
            started: Instant::now(),
            audio,
        }
    }

    fn send(&self, kind: Message, from: UserId, track: TrackKind, frame: Option<&EncodedFrame>) {
        let millis = u32::try_from(self.started.elapsed().as_millis()).unwrap_or(u32::MAX);
        let bytes = message(kind, from, track, millis, frame);
        if let Err(e) = self.channel.send(InvokeResponseBody::Raw(bytes)) {
            tracing::debug!(error = %e, "the call's video channel refused a message");
        }
    }
}

impl MediaSink for WebviewSink {
    fn track_started(&self, from: UserId, track: TrackKind) {
        if track != TrackKind::Mic {
            self.send(Message::Started, from, track, None);
        }
    }

    fn encoded_video(&self, from: UserId, track: TrackKind, frame: &EncodedFrame) {
        self.send(Message::Frame, from, track, Some(frame));
    }

    /// The webview decodes (WebCodecs): the engine need not.
    fn wants_decoded_video(&self) -> bool {
        false
    }

    fn audio(&self, from: UserId, pcm: &[i16]) {
        if let Some(out) = &self.audio {
            out.play(from, pcm);
        }
    }

    fn track_ended(&self, from: UserId, track: TrackKind) {
        if track == TrackKind::Mic {
            if let Some(out) = &self.audio {
                out.forget(from);
            }
        } else {
            self.send(Message::Ended, from, track, None);
        }
    }
}

/// At most this much audio is queued per participant (older is dropped), so
/// a late speaker does not build up delay.
const MAX_QUEUED: usize = 10;

enum Audio {
    Pcm(UserId, Vec<i16>),
    Forget(UserId),
}

/// The default ALSA output, fed by a thread of its own that mixes every
/// participant's audio 20 ms at a time.
pub struct AudioOut {
    tx: mpsc::SyncSender<Audio>,
}

impl AudioOut {
    /// Opens the default output (48 kHz mono, 16-bit); the error says why
    /// there is none (no sound card, no ALSA configuration).
    pub fn open() -> Result<Self, String> {
        let pcm = open_pcm().map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::sync_channel(64);
        std::thread::Builder::new()
            .name("coup-speaker".into())
            .spawn(move || play(&pcm, &rx))
            .map_err(|e| e.to_string())?;
        Ok(Self { tx })
    }

    fn play(&self, from: UserId, pcm: &[i16]) {
        // A full queue means the output is stuck: drop rather than wait.
        let _ = self.tx.try_send(Audio::Pcm(from, pcm.to_vec()));
    }

    fn forget(&self, from: UserId) {
        let _ = self.tx.try_send(Audio::Forget(from));
    }
}

fn open_pcm() -> alsa::Result<alsa::PCM> {
    let pcm = alsa::PCM::new("default", alsa::Direction::Playback, false)?;
    {
        let hw = alsa::pcm::HwParams::any(&pcm)?;
        hw.set_channels(1)?;
        hw.set_rate(AUDIO_RATE, alsa::ValueOr::Nearest)?;
        hw.set_format(alsa::pcm::Format::s16())?;
        hw.set_access(alsa::pcm::Access::RWInterleaved)?;
        pcm.hw_params(&hw)?;
    }
    Ok(pcm)
}

/// Mixes the queued audio of every participant into the output until the call
/// (the sender) is gone.
fn play(pcm: &alsa::PCM, rx: &mpsc::Receiver<Audio>) {
    let io = match pcm.io_i16() {
        Ok(io) => io,
        Err(e) => return tracing::warn!(error = %e, "the audio output"),
    };
    let mut queues: HashMap<UserId, VecDeque<Vec<i16>>> = HashMap::new();
    loop {
        let first = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(a) => Some(a),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        for audio in first.into_iter().chain(rx.try_iter()) {
            match audio {
                Audio::Pcm(from, samples) => {
                    let queue = queues.entry(from).or_default();
                    if queue.len() == MAX_QUEUED {
                        queue.pop_front();
                    }
                    queue.push_back(samples);
                }
                Audio::Forget(from) => {
                    queues.remove(&from);
                }
            }
        }
        let Some(mixed) = mix(&mut queues) else {
            continue;
        };
        if let Err(e) = io.writei(&mixed) {
            // An underrun after a pause: prepare the device and go on.
            if pcm.try_recover(e, true).is_err() {
                return tracing::warn!("the audio output failed");
            }
        }
    }
}

/// The next 20 ms of every participant that has some, summed (saturating).
fn mix(queues: &mut HashMap<UserId, VecDeque<Vec<i16>>>) -> Option<Vec<i16>> {
    let mut out: Option<Vec<i16>> = None;
    for queue in queues.values_mut() {
        let Some(frame) = queue.pop_front() else {
            continue;
        };
        match out.as_mut() {
            None => out = Some(frame),
            Some(sum) => {
                if sum.len() < frame.len() {
                    sum.resize(frame.len(), 0);
                }
                for (s, f) in sum.iter_mut().zip(frame) {
                    *s = s.saturating_add(f);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start of a 640×480 VP8 keyframe, as libvpx writes it.
    const KEYFRAME: [u8; 10] = [0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];

    #[test]
    fn keyframes_state_their_size() {
        assert_eq!(vp8_size(&KEYFRAME), Some((640, 480)));
        // An interframe (bit 0 set), a missing start code, a short frame.
        let mut inter = KEYFRAME;
        inter[0] |= 1;
        assert_eq!(vp8_size(&inter), None);
        let mut garbage = KEYFRAME;
        garbage[4] = 0;
        assert_eq!(vp8_size(&garbage), None);
        assert_eq!(vp8_size(&KEYFRAME[..8]), None);
        assert_eq!(vp8_size(&[]), None);
    }

    #[test]
    fn a_frame_message_carries_the_header_then_the_frame() {
        let from = UserId::new();
        let frame = EncodedFrame {
            data: KEYFRAME.to_vec(),
            keyframe: true,
        };
        let bytes = message(
            Message::Frame,
            from,
            TrackKind::Screen,
            70_000,
            Some(&frame),
        );
        assert_eq!(bytes.len(), HEADER_LEN + KEYFRAME.len());
        assert_eq!(&bytes[..4], &[2, 2, 1, 0]);
        assert_eq!(&bytes[4..20], from.0.as_bytes());
        assert_eq!(&bytes[20..24], &70_000u32.to_le_bytes());
        assert_eq!(&bytes[24..28], &[0x80, 0x02, 0xe0, 0x01]);
        assert_eq!(&bytes[HEADER_LEN..], &KEYFRAME);
    }

    #[test]
    fn interframes_and_track_news_carry_no_size() {
        let from = UserId::new();
        let inter = EncodedFrame {
            data: vec![0x31, 0x02, 0x00, 7],
            keyframe: false,
        };
        let bytes = message(Message::Frame, from, TrackKind::Camera, 5, Some(&inter));
        assert_eq!(&bytes[..4], &[2, 1, 0, 0]);
        assert_eq!(&bytes[24..28], &[0, 0, 0, 0]);
        let ended = message(Message::Ended, from, TrackKind::Camera, 9, None);
        assert_eq!(ended.len(), HEADER_LEN);
        assert_eq!(ended[0], 3);
    }

    #[test]
    fn mixing_sums_one_frame_of_each_and_saturates() {
        let (a, b) = (UserId::new(), UserId::new());
        let mut queues = HashMap::new();
        queues.insert(a, VecDeque::from([vec![1000i16, i16::MAX], vec![5, 5]]));
        queues.insert(b, VecDeque::from([vec![-10i16, 1000, 7]]));
        assert_eq!(mix(&mut queues), Some(vec![990, i16::MAX, 7]));
        assert_eq!(mix(&mut queues), Some(vec![5, 5]));
        assert_eq!(mix(&mut queues), None);
    }
}
