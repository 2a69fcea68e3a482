//! A camera (Linux's V4L2, through the `v4l` crate): the device's frames
//! memory-mapped, converted to I420 ([`super::convert`]).
//!
//! Cameras send YUYV (uncompressed 4:2:2) or Motion-JPEG; [`choose`] picks the
//! format and size closest to what the call wants, uncompressed on a tie (no
//! decoding). Motion-JPEG frames are decoded with `jpeg-decoder`; most webcams
//! leave the Huffman tables out of their frames (Motion-JPEG's convention: the
//! standard tables of the JPEG spec, Annex K.3), so a frame without any gets
//! those spliced in before its scan.
//!
//! A machine without a camera (or whose camera is busy or refuses) gets
//! [`Error::Device`] (`NO_DEVICE`), never a half-open source.

use std::path::{Path, PathBuf};

use v4l::buffer::Type;
use v4l::capability::Flags;
use v4l::format::FourCC;
use v4l::framesize::FrameSizeEnum;
use v4l::io::mmap::Stream;
use v4l::io::traits::CaptureStream;
use v4l::video::Capture;
use v4l::video::capture::Parameters;
use v4l::{Device, Format};

use super::convert::{self, RGB};
use super::{VideoFrame, VideoSource};
use crate::error::{Error, Result};

/// Frames the driver fills while one is being converted and sent.
const BUFFERS: u32 = 4;

/// Frame rate asked of the camera (it may give less, e.g. in low light).
const FPS: u32 = 30;

/// Corrupt Motion-JPEG frames skipped in a row before the camera counts as
/// broken (a frame or two at start-up is common).
const CORRUPT_FRAMES_TOLERATED: usize = 5;

/// The highest `/dev/videoN` looked at for a camera.
const DEVICES_SCANNED: usize = 64;

/// A pixel format this source converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PixelFormat {
    /// Uncompressed 4:2:2, `Y0 U Y1 V`.
    Yuyv,
    /// Motion-JPEG: one JPEG image a frame.
    Mjpeg,
}

impl PixelFormat {
    /// The V4L2 four-character code.
    pub fn fourcc(self) -> [u8; 4] {
        match self {
            Self::Yuyv => *b"YUYV",
            Self::Mjpeg => *b"MJPG",
        }
    }

    /// The format a four-character code names, if this source converts it.
    pub fn from_fourcc(code: [u8; 4]) -> Option<Self> {
        match &code {
            b"YUYV" => Some(Self::Yuyv),
            b"MJPG" => Some(Self::Mjpeg),
            _ => None,
        }
    }
}

/// A size a camera offers in one format: one size, or a range in steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizes {
    /// Exactly this size.
    One(u32, u32),
    /// Any size from `min` to `max` in steps of `step` (width, height).
    Range {
        /// Smallest width and height.
        min: (u32, u32),
        /// Largest width and height.
        max: (u32, u32),
        /// Steps of width and height.
        step: (u32, u32),
    },
}

impl Sizes {
    /// The size of these nearest `want`.
    fn nearest(self, want: (u32, u32)) -> (u32, u32) {
        match self {
            Self::One(w, h) => (w, h),
            Self::Range { min, max, step } => {
                let fit = |want: u32, min: u32, max: u32, step: u32| {
                    let clamped = want.clamp(min, max);
                    min + (clamped - min) / step.max(1) * step.max(1)
                };
                (
                    fit(want.0, min.0, max.0, step.0),
                    fit(want.1, min.1, max.1, step.1),
                )
            }
        }
    }
}

/// A format and size the camera is to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The pixel format.
    pub format: PixelFormat,
    /// Width and height.
    pub size: (u32, u32),
}

/// The offer nearest `want`: a size at least as large in both directions
/// beats a smaller one (downscaling keeps detail; upscaling invents it), then
/// the smaller area, then YUYV over Motion-JPEG. `None` if nothing offered is
/// convertible.
pub fn choose(offers: &[(PixelFormat, Sizes)], want: (u32, u32)) -> Option<Choice> {
    offers
        .iter()
        .map(|&(format, sizes)| Choice {
            format,
            size: sizes.nearest(want),
        })
        .filter(|c| c.size.0 >= 2 && c.size.1 >= 2)
        .min_by_key(|c| {
            let (w, h) = c.size;
            let covers = w >= want.0 && h >= want.1;
            let area = u64::from(w) * u64::from(h);
            let wanted = u64::from(want.0) * u64::from(want.1);
            (!covers, area.abs_diff(wanted), c.format)
        })
}

fn no_camera(message: String) -> Error {
    Error::Device {
        device: "camera",
        message,
    }
}

fn capture_error(message: String) -> Error {
    Error::Media {
        step: "camera capture",
        message,
    }
}

/// A V4L2 capture device streaming frames.
pub struct Camera {
    stream: Stream<'static>,
    format: PixelFormat,
    width: u32,
    height: u32,
    stride: usize,
    name: String,
}

impl Camera {
    /// The first `/dev/videoN` that opens as a camera, at the size nearest `want`.
    pub fn find(want: (u32, u32)) -> Result<Self> {
        let mut tried = Vec::new();
        for n in 0..DEVICES_SCANNED {
            let path = PathBuf::from(format!("/dev/video{n}"));
            if !path.exists() {
                continue;
            }
            match Self::open(&path, want) {
                Ok(camera) => return Ok(camera),
                Err(e) => tried.push(format!("{}: {e}", path.display())),
            }
        }
        Err(no_camera(if tried.is_empty() {
            "no camera: no /dev/video* device".to_owned()
        } else {
            format!("no usable camera ({})", tried.join("; "))
        }))
    }

    /// The capture device at `path`, at the size nearest `want`.
    pub fn open(path: &Path, want: (u32, u32)) -> Result<Self> {
        let at = |e: std::io::Error| no_camera(format!("{}: {e}", path.display()));
        let device = Device::with_path(path).map_err(at)?;
        let caps = device.query_caps().map_err(at)?;
        if !caps
            .capabilities
            .contains(Flags::VIDEO_CAPTURE | Flags::STREAMING)
        {
            return Err(no_camera(format!(
                "{} ({}) is not a streaming video capture device",
                path.display(),
                caps.card
            )));
        }
        let mut offers = Vec::new();
        for description in device.enum_formats().map_err(at)? {
            let Some(format) = PixelFormat::from_fourcc(description.fourcc.repr) else {
                continue;
            };
            for size in device.enum_framesizes(description.fourcc).map_err(at)? {
                offers.push((format, sizes(size.size)));
            }
        }
        let choice = choose(&offers, want).ok_or_else(|| {
            no_camera(format!(
                "{} ({}) sends neither YUYV nor Motion-JPEG",
                path.display(),
                caps.card
            ))
        })?;
        let asked = Format::new(
            choice.size.0,
            choice.size.1,
            FourCC::new(&choice.format.fourcc()),
        );
        let granted = device.set_format(&asked).map_err(at)?;
        let format = PixelFormat::from_fourcc(granted.fourcc.repr).ok_or_else(|| {
            no_camera(format!(
                "{} switched to format {}",
                path.display(),
                granted.fourcc
            ))
        })?;
        // A driver that cannot set the rate keeps its own; the call goes on.
        if let Err(e) = device.set_params(&Parameters::with_fps(FPS)) {
            tracing::debug!(error = %e, "the camera keeps its frame rate");
        }
        let stream = Stream::with_buffers(&device, Type::VideoCapture, BUFFERS).map_err(at)?;
        let (width, height) = convert::even(granted.width, granted.height);
        if width < 2 || height < 2 {
            return Err(no_camera(format!(
                "{} granted a {}×{} image",
                path.display(),
                granted.width,
                granted.height
            )));
        }
        Ok(Self {
            stream,
            format,
            width,
            height,
            stride: (granted.stride as usize).max(granted.width as usize * 2),
            name: caps.card,
        })
    }

    /// The device's name (its driver's "card").
    pub fn name(&self) -> &str {
        &self.name
    }
}

fn sizes(size: FrameSizeEnum) -> Sizes {
    match size {
        FrameSizeEnum::Discrete(d) => Sizes::One(d.width, d.height),
        FrameSizeEnum::Stepwise(s) => Sizes::Range {
            min: (s.min_width, s.min_height),
            max: (s.max_width, s.max_height),
            step: (s.step_width, s.step_height),
        },
    }
}

/// The four DHT segments of the JPEG spec's standard Huffman tables (Annex
/// K.3: DC and AC, luminance and chrominance), as libjpeg writes them without
/// optimized coding.
const STANDARD_HUFFMAN_TABLES: &[u8] = include_bytes!("jpeg-standard-huffman.dht");

/// `jpeg` itself if it defines a Huffman table before its scan; else `jpeg`
/// with the standard tables inserted before the scan. `None`: no scan found.
pub fn with_huffman_tables(jpeg: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    const DHT: u8 = 0xC4;
    const SOS: u8 = 0xDA;
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        match jpeg[at + 1] {
            // Fill bytes before a marker.
            0xFF => at += 1,
            DHT => return Some(jpeg.into()),
            SOS => {
                let mut spliced = Vec::with_capacity(jpeg.len() + STANDARD_HUFFMAN_TABLES.len());
                spliced.extend_from_slice(&jpeg[..at]);
                spliced.extend_from_slice(STANDARD_HUFFMAN_TABLES);
                spliced.extend_from_slice(&jpeg[at..]);
                return Some(spliced.into());
            }
            _ => at += 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]])),
        }
    }
    None
}

/// Decodes one Motion-JPEG frame to I420 of `size` (cropped if larger).
pub fn mjpeg_to_i420(jpeg: &[u8], size: (u32, u32)) -> Result<VideoFrame> {
    let jpeg = with_huffman_tables(jpeg)
        .ok_or_else(|| capture_error("a Motion-JPEG frame without a scan".to_owned()))?;
    let mut decoder = jpeg_decoder::Decoder::new(&*jpeg);
    let pixels = decoder
        .decode()
        .map_err(|e| capture_error(format!("Motion-JPEG frame: {e}")))?;
    let info = decoder
        .info()
        .ok_or_else(|| capture_error("Motion-JPEG frame without a header".to_owned()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    if w < size.0 || h < size.1 {
        return Err(capture_error(format!(
            "a {w}×{h} Motion-JPEG frame where {}×{} was set",
            size.0, size.1
        )));
    }
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        other => {
            return Err(capture_error(format!("Motion-JPEG frames in {other:?}")));
        }
    };
    convert::rgb_to_i420(&rgb, RGB, size.0, size.1, w as usize * 3)
}

impl VideoSource for Camera {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn next_frame(&mut self) -> Result<VideoFrame> {
        let size = (self.width, self.height);
        let mut last_error = None;
        for _ in 0..=CORRUPT_FRAMES_TOLERATED {
            let (buffer, meta) = self
                .stream
                .next()
                .map_err(|e| capture_error(e.to_string()))?;
            let used = (meta.bytesused as usize).min(buffer.len());
            let frame = match self.format {
                PixelFormat::Yuyv => {
                    convert::yuyv_to_i420(&buffer[..used], size.0, size.1, self.stride)
                }
                PixelFormat::Mjpeg => mjpeg_to_i420(&buffer[..used], size),
            };
            match frame {
                Ok(frame) => return Ok(frame),
                Err(e) => last_error = Some(e),
            }
        }
        Err(capture_error(format!(
            "{} bad frames in a row, the last: {}",
            CORRUPT_FRAMES_TOLERATED + 1,
            last_error.map_or_else(String::new, |e| e.to_string())
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VGA: (u32, u32) = (640, 480);

    #[test]
    fn the_nearest_covering_size_wins_then_uncompressed() {
        use PixelFormat::{Mjpeg, Yuyv};
        type Offers = &'static [(PixelFormat, Sizes)];
        type Chosen = Option<(PixelFormat, (u32, u32))>;
        let cases: &[(Offers, Chosen)] = &[
            (&[], None),
            // Exactly what is wanted, in both formats: no decoding.
            (
                &[(Mjpeg, Sizes::One(640, 480)), (Yuyv, Sizes::One(640, 480))],
                Some((Yuyv, VGA)),
            ),
            // Larger beats smaller, the smallest larger of all.
            (
                &[
                    (Yuyv, Sizes::One(320, 240)),
                    (Mjpeg, Sizes::One(1920, 1080)),
                    (Mjpeg, Sizes::One(800, 600)),
                ],
                Some((Mjpeg, (800, 600))),
            ),
            // Only smaller ones: the largest.
            (
                &[(Yuyv, Sizes::One(160, 120)), (Yuyv, Sizes::One(320, 240))],
                Some((Yuyv, (320, 240))),
            ),
            // A range holds the wanted size, on its steps.
            (
                &[(
                    Yuyv,
                    Sizes::Range {
                        min: (48, 32),
                        max: (1280, 720),
                        step: (16, 16),
                    },
                )],
                Some((Yuyv, (640, 480))),
            ),
            (
                &[(
                    Yuyv,
                    Sizes::Range {
                        min: (50, 50),
                        max: (1280, 720),
                        step: (100, 100),
                    },
                )],
                Some((Yuyv, (550, 450))),
            ),
            // A range wholly above: its smallest.
            (
                &[(
                    Mjpeg,
                    Sizes::Range {
                        min: (1280, 720),
                        max: (4096, 2160),
                        step: (0, 0),
                    },
                )],
                Some((Mjpeg, (1280, 720))),
            ),
            // Degenerate sizes are not offers.
            (&[(Yuyv, Sizes::One(1, 1))], None),
        ];
        for (offers, expected) in cases {
            let got = choose(offers, VGA).map(|c| (c.format, c.size));
            assert_eq!(got, *expected, "offers {offers:?}");
        }
    }

    #[test]
    fn formats_travel_by_their_four_character_codes() {
        for format in [PixelFormat::Yuyv, PixelFormat::Mjpeg] {
            assert_eq!(PixelFormat::from_fourcc(format.fourcc()), Some(format));
        }
        assert_eq!(PixelFormat::from_fourcc(*b"H264"), None);
    }

    /// A 16×8 JPEG, 4:2:0, with the standard Huffman tables as webcams encode
    /// (ImageMagick: `convert -size 8x8 xc:'#ff0000' -size 8x8 xc:'#0000ff'
    /// +append -quality 95 -sampling-factor 4:2:0 -define
    /// jpeg:optimize-coding=false -strip`): the left half red, the right half blue.
    const RED_BLUE: &[u8] = include_bytes!("testdata/red-blue-16x8.jpg");

    fn assert_red_then_blue(frame: &VideoFrame) {
        assert_eq!((frame.width, frame.height), (16, 8));
        let luma = frame.luma();
        // BT.601 video range: red's luma is 82, blue's 41 (JPEG rounds a little).
        assert!(luma[2].abs_diff(82) <= 4, "red luma {}", luma[2]);
        assert!(luma[13].abs_diff(41) <= 4, "blue luma {}", luma[13]);
        let v_plane = &frame.data[16 * 8 + 32..];
        assert!(v_plane[1] > 200, "red has high V: {}", v_plane[1]);
        assert!(v_plane[6] < 140, "blue has low V: {}", v_plane[6]);
    }

    #[test]
    fn a_motion_jpeg_frame_decodes_to_i420() {
        assert_red_then_blue(&mjpeg_to_i420(RED_BLUE, (16, 8)).expect("decode"));
    }

    /// Removes the JPEG's Huffman tables (DHT segments), as most webcams send
    /// their Motion-JPEG frames.
    fn without_huffman_tables(jpeg: &[u8]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        let mut at = 2;
        while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
            let marker = jpeg[at + 1];
            let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
            if marker == 0xDA {
                out.extend_from_slice(&jpeg[at..]);
                return out;
            }
            if marker != 0xC4 {
                out.extend_from_slice(&jpeg[at..at + 2 + len]);
            }
            at += 2 + len;
        }
        panic!("no start of scan");
    }

    #[test]
    fn a_webcam_frame_without_huffman_tables_decodes_with_the_standard_ones() {
        let stripped = without_huffman_tables(RED_BLUE);
        assert!(
            stripped.len() < RED_BLUE.len(),
            "the fixture had tables to strip"
        );
        assert_red_then_blue(&mjpeg_to_i420(&stripped, (16, 8)).expect("decode"));
    }

    #[test]
    fn the_standard_tables_are_annex_k() {
        // Each table: class and id, then the counts of codes of 1..16 bits.
        let mut tables = Vec::new();
        let mut at = 0;
        while at < STANDARD_HUFFMAN_TABLES.len() {
            assert_eq!(STANDARD_HUFFMAN_TABLES[at..at + 2], [0xFF, 0xC4]);
            let len = usize::from(u16::from_be_bytes([
                STANDARD_HUFFMAN_TABLES[at + 2],
                STANDARD_HUFFMAN_TABLES[at + 3],
            ]));
            let table = &STANDARD_HUFFMAN_TABLES[at + 4..at + 2 + len];
            let counts: Vec<u8> = table[1..17].to_vec();
            assert_eq!(
                table.len(),
                17 + counts.iter().map(|&c| usize::from(c)).sum::<usize>()
            );
            tables.push((table[0], counts));
            at += 2 + len;
        }
        let expected: [(u8, [u8; 16]); 4] = [
            (0x00, [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]),
            (0x10, [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d]),
            (0x01, [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]),
            (0x11, [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77]),
        ];
        let expected: Vec<(u8, Vec<u8>)> =
            expected.iter().map(|(id, c)| (*id, c.to_vec())).collect();
        assert_eq!(tables, expected);
    }

    #[test]
    fn tables_are_spliced_in_only_where_missing() {
        assert!(matches!(
            with_huffman_tables(RED_BLUE),
            Some(std::borrow::Cow::Borrowed(_))
        ));
        let stripped = without_huffman_tables(RED_BLUE);
        let spliced = with_huffman_tables(&stripped).expect("a scan");
        assert_eq!(
            spliced.len(),
            stripped.len() + STANDARD_HUFFMAN_TABLES.len()
        );
        assert_eq!(with_huffman_tables(b"\xFF\xD8"), None, "no scan");
        assert_eq!(with_huffman_tables(b"not a jpeg"), None);
    }

    #[test]
    fn corrupt_and_undersized_frames_are_refused() {
        assert!(
            mjpeg_to_i420(&RED_BLUE[..RED_BLUE.len() / 3], (16, 8)).is_err(),
            "truncated"
        );
        assert!(mjpeg_to_i420(b"not a jpeg", (16, 8)).is_err(), "garbage");
        assert!(
            mjpeg_to_i420(RED_BLUE, (32, 8)).is_err(),
            "smaller than set"
        );
        let cropped = mjpeg_to_i420(RED_BLUE, (8, 8)).expect("a larger frame is cropped");
        assert_eq!((cropped.width, cropped.height), (8, 8));
    }

    #[test]
    fn what_is_not_a_camera_is_no_device() {
        for path in ["/dev/null", "/nonexistent/video0"] {
            let refused = Camera::open(Path::new(path), VGA)
                .err()
                .expect("not a camera");
            assert_eq!(
                refused.reason(),
                Some(crate::error::Reason::NoDevice),
                "{path}: {refused}"
            );
        }
    }
}
