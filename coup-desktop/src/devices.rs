//! What the desktop app sends in a call: the microphone, the camera and the
//! screen.
//!
//! - The microphone is captured from ALSA: the PCM named by
//!   `COUP_DESKTOP_MIC` (default `default`, which PulseAudio and PipeWire
//!   answer on a desktop), 48 kHz mono 16-bit ([`AlsaMic`]). `COUP_DESKTOP_MIC=tone`
//!   sends the engine's test tone instead (machines without a microphone, the
//!   end-to-end test). A microphone that cannot be opened fails the unmute
//!   with the reason; the call goes on muted.
//! - The camera is a V4L2 device ([`Camera`]): `COUP_DESKTOP_CAMERA` names it
//!   (`auto`, the default: the first `/dev/video*` that captures; or a path
//!   such as `/dev/video2`), and `COUP_DESKTOP_CAMERA=pattern` sends the
//!   engine's moving test pattern instead (machines without a camera, the
//!   end-to-end test). No camera: `NO_DEVICE`, and the call goes on without.
//! - The screen share is the X11 display the app runs on.

use coup_core::error::{Error, Result};
use coup_core::media::camera::Camera;
use coup_core::media::pattern::{PatternSource, ToneSource};
use coup_core::media::x11::X11Source;
use coup_core::media::{AUDIO_FRAME, AUDIO_RATE, AudioSource, VideoSource};

/// The camera's size asked of the device (it gives the nearest it has), and
/// the test pattern's.
pub const CAMERA_SIZE: (u32, u32) = (640, 480);

/// The test tone's pitch, sent in place of a microphone where asked.
const TONE_HERTZ: f32 = 440.0;

/// `COUP_DESKTOP_CAMERA`'s value that asks for the test pattern.
const PATTERN: &str = "pattern";

/// `COUP_DESKTOP_CAMERA`'s value (and default) that takes the first camera.
const AUTO: &str = "auto";

/// `COUP_DESKTOP_MIC`'s value that asks for the test tone.
const TONE: &str = "tone";

/// The microphone to send once unmuted: `COUP_DESKTOP_MIC`'s ALSA device, or
/// the tone.
pub fn mic() -> Result<Box<dyn AudioSource>> {
    let device = std::env::var("COUP_DESKTOP_MIC").unwrap_or_else(|_| "default".into());
    mic_named(&device)
}

fn mic_named(device: &str) -> Result<Box<dyn AudioSource>> {
    if device == TONE {
        return Ok(Box::new(ToneSource::new(TONE_HERTZ)));
    }
    Ok(Box::new(AlsaMic::open(device)?))
}

/// The camera to send: `COUP_DESKTOP_CAMERA`'s device, or the test pattern.
pub fn camera() -> Result<Box<dyn VideoSource>> {
    let device = std::env::var("COUP_DESKTOP_CAMERA").unwrap_or_else(|_| AUTO.into());
    camera_named(&device)
}

fn camera_named(device: &str) -> Result<Box<dyn VideoSource>> {
    let camera = match device {
        PATTERN => {
            let (width, height) = CAMERA_SIZE;
            return Ok(Box::new(PatternSource::new(width, height)?));
        }
        AUTO => Camera::find(CAMERA_SIZE)?,
        path => Camera::open(std::path::Path::new(path), CAMERA_SIZE)?,
    };
    tracing::info!(camera = camera.name(), size = ?camera.size(), "camera opened");
    Ok(Box::new(camera))
}

/// The screen to share: the X11 display the app runs on (`$DISPLAY`).
pub fn screen() -> Result<Box<dyn VideoSource>> {
    Ok(Box::new(X11Source::open(None)?))
}

/// An ALSA capture device read 20 ms at a time. The engine's audio thread
/// blocks in [`AudioSource::fill`] until the device has the samples, so the
/// device's clock paces what is sent.
pub struct AlsaMic {
    pcm: alsa::PCM,
}

/// The microphone cannot be opened: missing, busy or refused.
fn no_mic(e: alsa::Error) -> Error {
    Error::Device {
        device: "microphone",
        message: e.to_string(),
    }
}

impl AlsaMic {
    /// Opens `device` (an ALSA PCM name: `default`, `hw:1,0`, `pulse`…) for
    /// 48 kHz mono 16-bit capture and starts it.
    pub fn open(device: &str) -> Result<Self> {
        let open = no_mic;
        let pcm = alsa::PCM::new(device, alsa::Direction::Capture, false).map_err(&open)?;
        {
            let hw = alsa::pcm::HwParams::any(&pcm).map_err(&open)?;
            hw.set_channels(1).map_err(&open)?;
            hw.set_rate(AUDIO_RATE, alsa::ValueOr::Nearest)
                .map_err(&open)?;
            hw.set_format(alsa::pcm::Format::s16()).map_err(&open)?;
            hw.set_access(alsa::pcm::Access::RWInterleaved)
                .map_err(&open)?;
            // Room for a few frames: the engine reads one every 20 ms.
            hw.set_buffer_size_near((AUDIO_FRAME * 8) as alsa::pcm::Frames)
                .map_err(&open)?;
            pcm.hw_params(&hw).map_err(&open)?;
            let rate = hw.get_rate().map_err(&open)?;
            if rate != AUDIO_RATE {
                // No resampler is built in: a device that cannot do 48 kHz
                // (ALSA's `plug` devices and `default` convert) is refused.
                return Err(Error::Device {
                    device: "microphone",
                    message: format!("{device} captures at {rate} Hz, not {AUDIO_RATE} Hz"),
                });
            }
        }
        pcm.start().map_err(&open)?;
        Ok(Self { pcm })
    }
}

impl AudioSource for AlsaMic {
    fn fill(&mut self, out: &mut [i16]) -> Result<()> {
        let read = |e: alsa::Error| Error::Media {
            step: "microphone",
            message: e.to_string(),
        };
        let io = self.pcm.io_i16().map_err(&read)?;
        let mut filled = 0;
        while filled < out.len() {
            match io.readi(&mut out[filled..]) {
                Ok(frames) => filled += frames,
                // An overrun (the engine was late): recover and read on.
                Err(e) => self.pcm.try_recover(e, true).map_err(&read)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tone_is_there_when_asked_for() {
        let mut tone = mic_named(TONE).expect("the tone");
        let mut pcm = vec![0i16; AUDIO_FRAME];
        tone.fill(&mut pcm).expect("a frame of the tone");
        assert!(pcm.iter().any(|&s| s != 0), "the tone is not silence");
    }

    /// ALSA's `null` device exists on any machine with alsa-lib's
    /// configuration, sound card or not (it hands the buffer back as it was):
    /// the whole open-configure-start-read path, at 48 kHz mono.
    #[test]
    fn a_capture_device_is_read_twenty_milliseconds_at_a_time() {
        let mut mic = AlsaMic::open("null").expect("ALSA's null device opens for capture");
        let mut pcm = vec![0i16; AUDIO_FRAME];
        for _ in 0..3 {
            mic.fill(&mut pcm).expect("20 ms from the null device");
        }
    }

    #[test]
    fn the_pattern_is_there_when_asked_for_and_a_missing_camera_says_why() {
        let mut pattern = camera_named(PATTERN).expect("the pattern");
        assert_eq!(pattern.size(), CAMERA_SIZE);
        pattern.next_frame().expect("a frame of the pattern");
        let Err(error) = camera_named("/dev/no-such-camera") else {
            panic!("a missing camera opened");
        };
        let text = error.to_string();
        assert!(
            text.contains("camera") && text.contains("/dev/no-such-camera"),
            "{text}"
        );
        assert_eq!(error.reason(), Some(coup_core::error::Reason::NoDevice));
    }

    #[test]
    fn a_missing_microphone_says_why() {
        let Err(error) = mic_named("hw:CARD=NoSuchCard") else {
            panic!("a missing card opened");
        };
        let text = error.to_string();
        assert!(text.contains("microphone"), "{text}");
        assert_eq!(error.code(), coup_core::error::ErrorCode::Unavailable);
        assert_eq!(error.reason(), Some(coup_core::error::Reason::NoDevice));
    }
}
