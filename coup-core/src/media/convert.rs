//! Pixel conversions into the engine's I420 ([`VideoFrame`]): packed RGB (an
//! X11 screen's BGRX, a decoded camera JPEG's RGB) and YUYV (4:2:2, what
//! cameras send uncompressed). BT.601 video range; each chroma sample is the
//! average of its 2×2 block, so thin coloured lines keep their colour.
//!
//! Odd sizes are cropped by one column or row: I420 halves both.

use super::VideoFrame;
use crate::error::{Error, Result};

/// Where a pixel's channels sit in a packed RGB image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packed {
    /// Bytes per pixel.
    pub bytes: usize,
    /// Offsets of red, green and blue in a pixel.
    pub rgb: [usize; 3],
}

/// X11's ZPixmap at depth 24 or 32: blue, green, red, padding.
pub const BGRX: Packed = Packed {
    bytes: 4,
    rgb: [2, 1, 0],
};

/// Three bytes a pixel, red first (a decoded JPEG).
pub const RGB: Packed = Packed {
    bytes: 3,
    rgb: [0, 1, 2],
};

fn too_short(len: usize, needed: usize, width: u32, height: u32) -> Error {
    Error::Media {
        step: "pixel conversion",
        message: format!("{len} bytes for a {width}×{height} image that needs {needed}"),
    }
}

/// The even size I420 can hold of a `width`×`height` image.
pub fn even(width: u32, height: u32) -> (u32, u32) {
    (width & !1, height & !1)
}

fn luma(r: i32, g: i32, b: i32) -> u8 {
    (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8
}

fn chroma(r: i32, g: i32, b: i32) -> (u8, u8) {
    let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
    let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
    (u as u8, v as u8)
}

/// Checks that `data` holds `height` rows of `stride` bytes (the last row only
/// as long as it must be).
fn check(data: &[u8], stride: usize, row: usize, width: u32, height: u32) -> Result<()> {
    let needed = match height as usize {
        0 => 0,
        h => (h - 1) * stride + row,
    };
    if stride < row || data.len() < needed {
        return Err(too_short(data.len(), needed.max(row), width, height));
    }
    Ok(())
}

/// Converts a packed RGB image whose rows are `stride` bytes apart.
pub fn rgb_to_i420(
    data: &[u8],
    layout: Packed,
    width: u32,
    height: u32,
    stride: usize,
) -> Result<VideoFrame> {
    check(data, stride, width as usize * layout.bytes, width, height)?;
    let (ew, eh) = even(width, height);
    let (w, h) = (ew as usize, eh as usize);
    let mut frame = VideoFrame::grey(ew, eh);
    let (luma_plane, chroma_planes) = frame.data.split_at_mut(w * h);
    let (u_plane, v_plane) = chroma_planes.split_at_mut(w * h / 4);
    let [r_at, g_at, b_at] = layout.rgb;
    let rgb = |x: usize, y: usize| {
        let p = y * stride + x * layout.bytes;
        (
            i32::from(data[p + r_at]),
            i32::from(data[p + g_at]),
            i32::from(data[p + b_at]),
        )
    };
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = rgb(x, y);
            luma_plane[y * w + x] = luma(r, g, b);
        }
    }
    for y in (0..h).step_by(2) {
        for x in (0..w).step_by(2) {
            let (mut r, mut g, mut b) = (0, 0, 0);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (pr, pg, pb) = rgb(x + dx, y + dy);
                (r, g, b) = (r + pr, g + pg, b + pb);
            }
            let (u, v) = chroma(r / 4, g / 4, b / 4);
            let at = (y / 2) * (w / 2) + x / 2;
            (u_plane[at], v_plane[at]) = (u, v);
        }
    }
    Ok(frame)
}

/// Converts YUYV (Y0 U Y1 V for each pair of pixels, already video range)
/// whose rows are `stride` bytes apart: the luma is copied, and each chroma
/// sample is the average of the two rows it covers.
pub fn yuyv_to_i420(data: &[u8], width: u32, height: u32, stride: usize) -> Result<VideoFrame> {
    let (ew, eh) = even(width, height);
    check(data, stride, ew as usize * 2, width, height)?;
    let (w, h) = (ew as usize, eh as usize);
    let mut frame = VideoFrame::grey(ew, eh);
    let (luma_plane, chroma_planes) = frame.data.split_at_mut(w * h);
    let (u_plane, v_plane) = chroma_planes.split_at_mut(w * h / 4);
    for y in 0..h {
        let row = &data[y * stride..y * stride + w * 2];
        for (x, pixel) in luma_plane[y * w..(y + 1) * w].iter_mut().enumerate() {
            *pixel = row[x * 2];
        }
    }
    for y in (0..h).step_by(2) {
        let (top, bottom) = (&data[y * stride..], &data[(y + 1) * stride..]);
        for pair in 0..w / 2 {
            let at = pair * 4;
            let average =
                |i: usize| (u16::from(top[at + i]) + u16::from(bottom[at + i])).div_ceil(2) as u8;
            let out = (y / 2) * (w / 2) + pair;
            (u_plane[out], v_plane[out]) = (average(1), average(3));
        }
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three planes of a frame.
    fn planes(frame: &VideoFrame) -> (&[u8], &[u8], &[u8]) {
        let n = (frame.width * frame.height) as usize;
        let (y, uv) = frame.data.split_at(n);
        let (u, v) = uv.split_at(n / 4);
        (y, u, v)
    }

    #[test]
    fn white_black_and_red_convert_to_their_yuv() {
        let (w, h) = (4u32, 2u32);
        let mut bgrx = Vec::new();
        for x in 0..w * h {
            bgrx.extend_from_slice(match x % 4 {
                0 | 1 => &[255, 255, 255, 0],
                _ => &[0, 0, 255, 0],
            });
        }
        let frame = rgb_to_i420(&bgrx, BGRX, w, h, w as usize * 4).expect("convert");
        let (y, u, v) = planes(&frame);
        assert_eq!(y[0], 235, "white");
        assert_eq!(y[2], 82, "red");
        assert_eq!((u[0], v[0]), (128, 128), "white is neutral");
        assert_eq!((u[1], v[1]), (90, 240), "red: low U, high V");
    }

    #[test]
    fn rgb_and_bgrx_of_one_image_agree_and_rows_may_be_padded() {
        let (w, h) = (6u32, 4u32);
        let colour = |x: u32, y: u32| [(x * 40) as u8, (y * 60) as u8, 200 - (x * y) as u8];
        let mut bgrx = Vec::new();
        let mut rgb_padded = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let [r, g, b] = colour(x, y);
                bgrx.extend_from_slice(&[b, g, r, 0]);
                rgb_padded.extend_from_slice(&[r, g, b]);
            }
            rgb_padded.extend_from_slice(&[9; 5]);
        }
        let a = rgb_to_i420(&bgrx, BGRX, w, h, w as usize * 4).expect("bgrx");
        let b = rgb_to_i420(&rgb_padded, RGB, w, h, w as usize * 3 + 5).expect("rgb");
        assert_eq!(a, b);
    }

    #[test]
    fn yuyv_keeps_luma_and_averages_chroma_over_two_rows() {
        // 4×2: row 0 U=100 V=200, row 1 U=110 V=190; luma counts up.
        let data = [
            10, 100, 11, 200, 12, 100, 13, 200, //
            20, 110, 21, 190, 22, 110, 23, 190,
        ];
        let frame = yuyv_to_i420(&data, 4, 2, 8).expect("convert");
        let (y, u, v) = planes(&frame);
        assert_eq!(y, [10, 11, 12, 13, 20, 21, 22, 23]);
        assert_eq!(u, [105, 105]);
        assert_eq!(v, [195, 195]);
    }

    #[test]
    fn odd_sizes_are_cropped_to_even() {
        // 3×3 YUYV rows of 8 bytes (the driver pads to whole pairs).
        let data = [50u8; 24];
        let frame = yuyv_to_i420(&data, 3, 3, 8).expect("convert");
        assert_eq!((frame.width, frame.height), (2, 2));
        assert_eq!(frame.data.len(), 6);
        let rgb = [255u8; 27];
        let frame = rgb_to_i420(&rgb, RGB, 3, 3, 9).expect("convert");
        assert_eq!((frame.width, frame.height), (2, 2));
        assert!(frame.luma().iter().all(|&y| y == 235));
    }

    #[test]
    fn short_or_narrow_buffers_are_refused() {
        assert!(yuyv_to_i420(&[0; 15], 4, 2, 8).is_err(), "one byte short");
        assert!(
            yuyv_to_i420(&[0; 16], 4, 2, 6).is_err(),
            "stride below a row"
        );
        assert!(rgb_to_i420(&[0; 10], BGRX, 4, 2, 16).is_err(), "short data");
        assert!(
            rgb_to_i420(&[], RGB, 0, 0, 0).is_ok(),
            "an empty image is empty"
        );
    }
}
