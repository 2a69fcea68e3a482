//! VP8 through libvpx (`vpx-rs`) and Opus through libopus (`opus`), set up for
//! calls: realtime deadline, no lag, no dropped frames, a keyframe on demand
//! (a peer joined or lost packets) and at least every two seconds.

use std::num::NonZero;

use vpx_rs::enc::ctrl::EncoderControlSet;
use vpx_rs::enc::{CodecId as EncCodec, KeyFrameMode};
use vpx_rs::{
    DecodedImageData, Decoder, DecoderConfig, Encoder, EncoderConfig, EncoderFrameFlags,
    EncodingDeadline, ImageFormat, Packet, RateControl, Timebase, YUVImageData,
};

use super::{AUDIO_FRAME, AUDIO_RATE, VideoFrame};
use crate::error::{Error, Result};

fn media(step: &'static str) -> impl Fn(vpx_rs::Error) -> Error {
    move |e| Error::Media {
        step,
        message: e.to_string(),
    }
}

fn opus_error(step: &'static str) -> impl Fn(opus::Error) -> Error {
    move |e| Error::Media {
        step,
        message: e.to_string(),
    }
}

/// One encoded video frame.
#[derive(Debug, Clone)]
pub struct EncodedFrame {
    /// The VP8 bitstream of the frame.
    pub data: Vec<u8>,
    /// Whether it decodes on its own.
    pub keyframe: bool,
}

/// A VP8 encoder for one source.
pub struct Vp8Encoder {
    encoder: Encoder<u8>,
    width: u32,
    height: u32,
    pts: i64,
}

impl Vp8Encoder {
    /// An encoder for `width`×`height` at `fps`, aiming at `kbps`.
    pub fn new(width: u32, height: u32, fps: u32, kbps: u32) -> Result<Self> {
        let fps = NonZero::new(fps.max(1)).unwrap_or(NonZero::<u32>::MIN);
        let mut config = EncoderConfig::<u8>::new(
            EncCodec::VP8,
            width,
            height,
            Timebase {
                num: NonZero::<u32>::MIN,
                den: fps,
            },
            RateControl::ConstantBitRate(kbps),
        )
        .map_err(media("VP8 encoder"))?;
        // Calls want every frame out at once: no look-ahead, no frame dropping
        // (a dropped frame would look like loss to the receiver).
        config.lag_in_frames = 0;
        config.rc_dropframe_thresh = 0;
        // One thread. VP8's multi-threaded encoder syncs its rows by
        // spin-waiting (`pause` loops): profiled in a 1:1 call on 2 busy
        // cores, 90 % of a participant's CPU was those loops, and the spinning
        // thread took the core from the one it waited for — 19 fps sent at
        // 64 % of a core. One thread encodes 640×480 in a few ms.
        config.threads = 1;
        config.kf_mode = KeyFrameMode::Auto {
            min_dist: 0,
            max_dist: fps.get() * 2,
        };
        let mut encoder = Encoder::new(config).map_err(media("VP8 encoder"))?;
        // The fastest realtime speed: a call cannot wait for a better frame.
        encoder
            .codec_control_set(EncoderControlSet::CpuUsed(12))
            .map_err(media("VP8 encoder speed"))?;
        Ok(Self {
            encoder,
            width,
            height,
            pts: 0,
        })
    }

    /// Encodes a frame (of this encoder's size); a keyframe if `keyframe`.
    pub fn encode(&mut self, frame: &VideoFrame, keyframe: bool) -> Result<Vec<EncodedFrame>> {
        if (frame.width, frame.height) != (self.width, self.height) {
            return Err(Error::Media {
                step: "VP8 encoder",
                message: format!(
                    "a {}×{} frame for a {}×{} encoder",
                    frame.width, frame.height, self.width, self.height
                ),
            });
        }
        let image = YUVImageData::<u8>::from_raw_data(
            ImageFormat::I420,
            self.width as usize,
            self.height as usize,
            &frame.data,
        )
        .map_err(media("VP8 input"))?;
        let flags = if keyframe {
            EncoderFrameFlags::FORCE_KF
        } else {
            EncoderFrameFlags::empty()
        };
        let pts = self.pts;
        self.pts += 1;
        let packets = self
            .encoder
            .encode(pts, 1, image, EncodingDeadline::Realtime, flags)
            .map_err(media("VP8 encode"))?;
        Ok(packets
            .filter_map(|packet| match packet {
                Packet::CompressedFrame(f) => Some(EncodedFrame {
                    data: f.data,
                    keyframe: f.flags.is_key,
                }),
                _ => None,
            })
            .collect())
    }
}

/// A VP8 decoder for one remote track.
pub struct Vp8Decoder {
    decoder: Decoder,
}

impl Vp8Decoder {
    /// A decoder (the size comes from the stream).
    pub fn new() -> Result<Self> {
        let decoder = Decoder::new(DecoderConfig::new(vpx_rs::dec::CodecId::VP8, 0, 0))
            .map_err(media("VP8 decoder"))?;
        Ok(Self { decoder })
    }

    /// Decodes one frame's bitstream into I420 frames (usually one).
    pub fn decode(&mut self, data: &[u8]) -> Result<Vec<VideoFrame>> {
        let images = self.decoder.decode(data).map_err(media("VP8 decode"))?;
        let mut out = Vec::new();
        for image in images {
            if let DecodedImageData::Data8b(yuv) = image.data() {
                out.push(VideoFrame::from_planes(&yuv));
            }
        }
        Ok(out)
    }
}

/// An Opus encoder (48 kHz mono, 20 ms frames, tuned for speech).
pub struct OpusEncoder {
    encoder: opus::Encoder,
}

impl OpusEncoder {
    /// A new encoder.
    pub fn new() -> Result<Self> {
        let encoder = opus::Encoder::new(AUDIO_RATE, opus::Channels::Mono, opus::Application::Voip)
            .map_err(opus_error("Opus encoder"))?;
        Ok(Self { encoder })
    }

    /// Encodes 20 ms of samples ([`AUDIO_FRAME`] of them).
    pub fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>> {
        self.encoder
            .encode_vec(pcm, 1500)
            .map_err(opus_error("Opus encode"))
    }
}

/// An Opus decoder for one remote track.
pub struct OpusDecoder {
    decoder: opus::Decoder,
    pcm: Vec<i16>,
}

impl OpusDecoder {
    /// A new decoder (48 kHz mono).
    pub fn new() -> Result<Self> {
        let decoder = opus::Decoder::new(AUDIO_RATE, opus::Channels::Mono)
            .map_err(opus_error("Opus decoder"))?;
        Ok(Self {
            decoder,
            // Opus packets hold at most 120 ms.
            pcm: vec![0; AUDIO_FRAME * 6],
        })
    }

    /// Decodes one packet into samples.
    pub fn decode(&mut self, packet: &[u8]) -> Result<&[i16]> {
        let n = self
            .decoder
            .decode(packet, &mut self.pcm, false)
            .map_err(opus_error("Opus decode"))?;
        Ok(&self.pcm[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::super::pattern::{Stamp, draw, read};
    use super::*;

    #[test]
    fn the_pattern_survives_vp8_and_a_forced_keyframe_is_one() {
        let (w, h) = (640, 480);
        let mut encoder = Vp8Encoder::new(w, h, 30, 800).expect("encoder");
        let mut decoder = Vp8Decoder::new().expect("decoder");
        let mut read_back = Vec::new();
        for n in 0..40u32 {
            let stamp = Stamp {
                frame: n,
                captured_ms: 1_764_590_000_000 + u64::from(n) * 33,
            };
            let frames = encoder.encode(&draw(w, h, stamp), n == 20).expect("encode");
            assert_eq!(frames.len(), 1, "one packet per frame (no lag)");
            if n == 0 || n == 20 {
                assert!(frames[0].keyframe, "frame {n} is a keyframe");
            }
            for frame in frames {
                for decoded in decoder.decode(&frame.data).expect("decode") {
                    assert_eq!((decoded.width, decoded.height), (w, h));
                    read_back.push(read(&decoded).map(|s| s.frame));
                }
            }
        }
        let expected: Vec<Option<u32>> = (0..40).map(Some).collect();
        assert_eq!(read_back, expected);
    }

    #[test]
    fn a_wrong_sized_frame_and_garbage_bitstreams_are_errors() {
        let mut encoder = Vp8Encoder::new(320, 240, 30, 300).expect("encoder");
        assert!(encoder.encode(&VideoFrame::grey(640, 480), false).is_err());
        let mut decoder = Vp8Decoder::new().expect("decoder");
        assert!(decoder.decode(&[0xff; 40]).is_err());
    }

    #[test]
    fn opus_round_trips_a_tone() {
        use super::super::AudioSource;
        let mut tone = super::super::pattern::ToneSource::new(440.0);
        let mut encoder = OpusEncoder::new().expect("encoder");
        let mut decoder = OpusDecoder::new().expect("decoder");
        let mut pcm = vec![0i16; AUDIO_FRAME];
        let mut loud = 0;
        for _ in 0..10 {
            tone.fill(&mut pcm).expect("tone");
            let packet = encoder.encode(&pcm).expect("encode");
            assert!(!packet.is_empty() && packet.len() < 1500);
            let out = decoder.decode(&packet).expect("decode");
            assert_eq!(out.len(), AUDIO_FRAME);
            loud += out.iter().filter(|s| s.abs() > 2000).count();
        }
        assert!(loud > 1000, "the tone comes back ({loud} loud samples)");
    }
}
