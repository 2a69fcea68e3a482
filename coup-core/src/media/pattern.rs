//! The synthetic sources: a moving test pattern that carries its frame number
//! and capture time so a receiver can read them back after VP8 (latency and
//! order, end to end), and a tone.
//!
//! The pattern writes 88 bits — frame number (32), capture time in Unix
//! milliseconds (48) and a check byte (8) — as 16×16 black or white cells from
//! the top-left corner, row by row. 16×16 is VP8's macroblock, so each cell is
//! one flat block the codec keeps flat even at low bitrates; a reader averages
//! the middle of each cell against mid-grey, and the check byte turns a misread
//! into "no reading" rather than a wrong number. Below the cells a bar moves
//! every frame, so the encoder has real motion to code.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{AudioSource, VideoFrame, VideoSource};
use crate::error::Result;

/// Side of one bit cell, in pixels.
const CELL: u32 = 16;
/// Bits the pattern carries.
const BITS: u32 = 32 + 48 + 8;
/// Luma of a 0 and a 1 (video range, far from the threshold).
const BLACK: u8 = 16;
const WHITE: u8 = 235;

/// What a pattern frame says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Frames since the source started, from 0.
    pub frame: u32,
    /// When it was made, in Unix milliseconds.
    pub captured_ms: u64,
}

/// Milliseconds since the Unix epoch now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn check_byte(frame: u32, captured_ms: u64) -> u8 {
    let bytes = frame
        .to_le_bytes()
        .into_iter()
        .chain(captured_ms.to_le_bytes().into_iter().take(6));
    // A weighted sum: any single flipped bit, and most pairs, change it.
    bytes.enumerate().fold(0xA5u8, |acc, (i, b)| {
        acc.wrapping_mul(31).wrapping_add(b ^ (i as u8))
    })
}

fn bits_of(stamp: Stamp) -> Vec<bool> {
    let mut bits = Vec::with_capacity(BITS as usize);
    bits.extend((0..32).rev().map(|i| stamp.frame >> i & 1 == 1));
    bits.extend((0..48).rev().map(|i| stamp.captured_ms >> i & 1 == 1));
    let check = check_byte(stamp.frame, stamp.captured_ms);
    bits.extend((0..8).rev().map(|i| check >> i & 1 == 1));
    bits
}

/// Whether a `width`×`height` frame has room for the stamp.
pub fn fits(width: u32, height: u32) -> bool {
    (width / CELL) * (height / CELL) >= BITS && width.is_multiple_of(2) && height.is_multiple_of(2)
}

/// Draws the pattern for `stamp` into a new I420 frame.
pub fn draw(width: u32, height: u32, stamp: Stamp) -> VideoFrame {
    let (w, h) = (width as usize, height as usize);
    let mut frame = VideoFrame::grey(width, height);
    let per_row = (width / CELL) as usize;
    let cell = CELL as usize;
    let code_rows = (BITS as usize).div_ceil(per_row);
    {
        let y = frame.luma_mut();
        for (i, bit) in bits_of(stamp).into_iter().enumerate() {
            let (cx, cy) = ((i % per_row) * cell, (i / per_row) * cell);
            let value = if bit { WHITE } else { BLACK };
            for row in cy..cy + cell {
                y[row * w + cx..row * w + cx + cell].fill(value);
            }
        }
        // The moving bar, below the code rows.
        let bar = (stamp.frame as usize * 8) % w.max(1);
        for row in (code_rows * cell).min(h)..h {
            let end = (bar + cell).min(w);
            y[row * w + bar..row * w + end].fill(WHITE);
        }
    }
    frame
}

/// Reads the stamp back from a (decoded) I420 frame; `None` if there is none
/// or a cell was misread.
pub fn read(frame: &VideoFrame) -> Option<Stamp> {
    if !fits(frame.width, frame.height) {
        return None;
    }
    let w = frame.width as usize;
    let per_row = (frame.width / CELL) as usize;
    let cell = CELL as usize;
    let y = frame.luma();
    let bit = |i: usize| {
        let (cx, cy) = ((i % per_row) * cell, (i / per_row) * cell);
        // The middle 8×8: edges blur into the neighbours after compression.
        let mut sum = 0u32;
        for row in cy + 4..cy + 12 {
            sum += y[row * w + cx + 4..row * w + cx + 12]
                .iter()
                .map(|&v| u32::from(v))
                .sum::<u32>();
        }
        sum / 64 > 128
    };
    let number = |from: usize, len: usize| {
        (from..from + len).fold(0u64, |acc, i| acc << 1 | u64::from(bit(i)))
    };
    let frame_no = number(0, 32) as u32;
    let captured_ms = number(32, 48);
    let check = number(80, 8) as u8;
    (check == check_byte(frame_no, captured_ms)).then_some(Stamp {
        frame: frame_no,
        captured_ms,
    })
}

/// The moving test pattern as a video source.
pub struct PatternSource {
    width: u32,
    height: u32,
    next: u32,
}

impl PatternSource {
    /// A pattern of `width`×`height` (even, and at least 176×144).
    pub fn new(width: u32, height: u32) -> Result<Self> {
        if !fits(width, height) {
            return Err(crate::Error::Media {
                step: "test pattern",
                message: format!("{width}×{height} is too small or odd for the pattern"),
            });
        }
        Ok(Self {
            width,
            height,
            next: 0,
        })
    }
}

impl VideoSource for PatternSource {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn next_frame(&mut self) -> Result<VideoFrame> {
        let stamp = Stamp {
            frame: self.next,
            captured_ms: now_ms(),
        };
        self.next = self.next.wrapping_add(1);
        Ok(draw(self.width, self.height, stamp))
    }
}

/// A sine tone as an audio source (48 kHz mono).
pub struct ToneSource {
    hertz: f32,
    phase: f32,
}

impl ToneSource {
    /// A tone of `hertz`.
    pub fn new(hertz: f32) -> Self {
        Self { hertz, phase: 0.0 }
    }
}

impl AudioSource for ToneSource {
    fn fill(&mut self, out: &mut [i16]) -> Result<()> {
        let step = std::f32::consts::TAU * self.hertz / super::AUDIO_RATE as f32;
        for sample in out {
            *sample = (self.phase.sin() * 8000.0) as i16;
            self.phase = (self.phase + step) % std::f32::consts::TAU;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_from_the_raw_frame() {
        let stamp = Stamp {
            frame: 123_456,
            captured_ms: 1_764_590_000_123,
        };
        assert_eq!(read(&draw(640, 480, stamp)), Some(stamp));
        assert_eq!(
            read(&draw(176, 144, stamp)),
            Some(stamp),
            "the smallest size"
        );
    }

    #[test]
    fn a_damaged_cell_gives_no_reading_and_a_blank_frame_none() {
        let stamp = Stamp {
            frame: 7,
            captured_ms: 99,
        };
        let mut frame = draw(320, 240, stamp);
        // Flip the last frame-number bit's cell.
        let w = 320usize;
        let cell = CELL as usize;
        let i = 31usize;
        let per_row = 320 / cell;
        let (cx, cy) = ((i % per_row) * cell, (i / per_row) * cell);
        let y = frame.luma_mut();
        let was = y[(cy + 8) * w + cx + 8];
        for row in cy..cy + cell {
            y[row * w + cx..row * w + cx + cell].fill(if was > 128 { BLACK } else { WHITE });
        }
        assert_eq!(read(&frame), None);
        assert_eq!(read(&VideoFrame::grey(320, 240)), None);
        assert_eq!(read(&VideoFrame::grey(64, 64)), None, "too small");
    }

    #[test]
    fn the_pattern_source_counts_frames_and_refuses_small_sizes() {
        let mut source = PatternSource::new(320, 240).expect("source");
        let first = read(&source.next_frame().expect("frame")).expect("stamp");
        let second = read(&source.next_frame().expect("frame")).expect("stamp");
        assert_eq!((first.frame, second.frame), (0, 1));
        assert!(second.captured_ms >= first.captured_ms);
        assert!(PatternSource::new(100, 100).is_err());
        assert!(PatternSource::new(321, 240).is_err());
    }

    #[test]
    fn the_tone_is_not_silence() {
        let mut tone = ToneSource::new(440.0);
        let mut out = vec![0i16; 960];
        tone.fill(&mut out).expect("fill");
        assert!(out.iter().any(|&s| s > 4000) && out.iter().any(|&s| s < -4000));
    }
}
