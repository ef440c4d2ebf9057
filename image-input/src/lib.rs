//! Image bytes → RGB8 → a model's input bytes: the one image path of the CLI,
//! the playground and the fuzzers. The bytes are untrusted: the header's
//! dimensions are checked against [`MAX_SIDE`] and [`MAX_PIXELS`] before any
//! pixel is decoded, and the decoder's own allocations are capped at
//! [`MAX_DECODER_ALLOC`], so a decompression bomb is an error, not an
//! out-of-memory.

use std::fmt;
use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};
use patchwise_core::graph::Tensor;
use patchwise_core::preprocess;

/// Widest and tallest image accepted (pixels).
pub const MAX_SIDE: u32 = 8192;
/// Most pixels accepted (a 64-megapixel photo; phones take 12–50).
pub const MAX_PIXELS: u64 = 1 << 26;
/// Most bytes the decoder may allocate (16-bit RGBA of the largest image).
pub const MAX_DECODER_ALLOC: u64 = MAX_PIXELS * 8;

/// An RGB8 image, rows top to bottom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rgb {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Neither PNG nor JPEG by its first bytes.
    NotAnImage,
    /// The header declares more than the limits allow.
    TooLarge { width: u32, height: u32 },
    /// The decoder refused the image as too large before its size was known.
    OverDecoderLimit,
    /// A PNG or JPEG whose data the decoder rejects (truncated, corrupt, …).
    Unreadable(String),
    /// The image cannot feed the model's input tensor.
    Input(String),
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::NotAnImage => write!(f, "not a PNG or JPEG image"),
            ImageError::TooLarge { width, height } => write!(
                f,
                "image of {width}×{height} pixels is too large (at most {MAX_SIDE} pixels a side and {} megapixels)",
                MAX_PIXELS >> 20
            ),
            ImageError::OverDecoderLimit => write!(
                f,
                "image is too large to decode (at most {MAX_SIDE} pixels a side and {} megapixels)",
                MAX_PIXELS >> 20
            ),
            ImageError::Unreadable(e) => write!(f, "not a readable PNG/JPEG image: {e}"),
            ImageError::Input(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ImageError {}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, ImageError> {
    let r = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Unreadable(e.to_string()))?;
    match r.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg) => Ok(r),
        _ => Err(ImageError::NotAnImage),
    }
}

/// Decodes PNG or JPEG bytes to RGB8, refusing images beyond the limits from
/// their header alone.
pub fn decode(bytes: &[u8]) -> Result<Rgb, ImageError> {
    let format = reader(bytes)?.format();
    // A PNG's size is read from its IHDR before any decoder sees the file: on
    // wasm32 the decoder's own size arithmetic refuses a bomb first, with a
    // message that names no size.
    let (width, height) = match format.and_then(|f| (f == ImageFormat::Png).then(|| png_size(bytes)).flatten()) {
        Some(size) => size,
        None => {
            let mut header = reader(bytes)?;
            header.no_limits();
            header.into_dimensions().map_err(|e| match e {
                image::ImageError::Limits(_) => ImageError::OverDecoderLimit,
                e => ImageError::Unreadable(e.to_string()),
            })?
        }
    };
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
    if format == Some(ImageFormat::Png) {
        png_palette_check(bytes)?;
    }
    let mut r = reader(bytes)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    r.limits(limits);
    let img = r.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => ImageError::OverDecoderLimit,
        e => ImageError::Unreadable(e.to_string()),
    })?;
    let rgb = img.to_rgb8();
    Ok(Rgb { width: rgb.width() as usize, height: rgb.height() as usize, pixels: rgb.into_raw() })
}

/// Width and height from a PNG's IHDR chunk (the first chunk, at a fixed offset).
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let be = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    Some((be(16)?, be(20)?))
}

/// Refuses a PLTE chunk whose length is not a multiple of 3 (the PNG spec
/// calls it an error): png 0.18.1, the newest release, panics on one when
/// it expands the palette (fuzz finding 9, image-rs/image-png#694).
fn png_palette_check(bytes: &[u8]) -> Result<(), ImageError> {
    let mut at = 8usize;
    while let Some(head) = bytes.get(at..at + 8) {
        let len = u32::from_be_bytes(head[..4].try_into().unwrap_or_default()) as usize;
        if &head[4..8] == b"PLTE" && len % 3 != 0 {
            return Err(ImageError::Unreadable(format!(
                "the PNG palette (PLTE) is {len} bytes long, not a multiple of 3"
            )));
        }
        if &head[4..8] == b"IEND" {
            break;
        }
        // Each chunk is length + type + data + CRC; a truncated one is left to the decoder.
        match len.checked_add(at + 12) {
            Some(next) => at = next,
            None => break,
        }
    }
    Ok(())
}

/// The model-input bytes for an image (core's `preprocess::image_input`: letterboxed, normalised, quantized).
pub fn to_input(img: &Rgb, t: &Tensor) -> Result<Vec<u8>, ImageError> {
    preprocess::image_input(&img.pixels, img.width, img.height, t)
        .map_err(|e| ImageError::Input(format!("{e} (the model input is {:?} {})", t.shape, t.dtype.name())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, (x ^ y) as u8]));
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    /// Replaces the IHDR's width and height (and its CRC) of a PNG.
    fn with_declared_size(mut png: Vec<u8>, width: u32, height: u32) -> Vec<u8> {
        // signature (8) + length (4) + "IHDR" (4) + width + height + 5 bytes + CRC
        png[16..20].copy_from_slice(&width.to_be_bytes());
        png[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }

    #[test]
    fn decodes_a_png() {
        let img = decode(&png(5, 3)).unwrap();
        assert_eq!((img.width, img.height, img.pixels.len()), (5, 3, 45));
        assert_eq!(&img.pixels[3 * 4..3 * 5], &[4, 0, 4]);
    }

    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        // 8×8 pixels of data, but a header declaring 60000×60000 (10.8 GB of RGB).
        let bomb = with_declared_size(png(8, 8), 60_000, 60_000);
        assert_eq!(decode(&bomb), Err(ImageError::TooLarge { width: 60_000, height: 60_000 }));
        let msg = decode(&bomb).unwrap_err().to_string();
        assert!(msg.contains("60000×60000") && msg.contains("8192"), "{msg}");
        // Each limit on its own.
        assert!(matches!(decode(&with_declared_size(png(8, 8), MAX_SIDE + 1, 1)), Err(ImageError::TooLarge { .. })));
        assert!(matches!(decode(&with_declared_size(png(8, 8), 8192, 8193)), Err(ImageError::TooLarge { .. })));
        // Within the limits the header passes, and the missing data is a decoder error.
        assert!(matches!(decode(&with_declared_size(png(8, 8), 4096, 4096)), Err(ImageError::Unreadable(_))));
    }

    #[test]
    fn the_committed_bomb_seed_is_refused_from_its_header() {
        // fuzz/seeds/image/bomb.png (made by make_seeds.py with Pillow; the page test uploads it).
        let bomb = include_bytes!("../../fuzz/seeds/image/bomb.png");
        assert_eq!(decode(bomb), Err(ImageError::TooLarge { width: 60_000, height: 60_000 }));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert_eq!(decode(b""), Err(ImageError::NotAnImage));
        assert_eq!(decode(b"not an image at all"), Err(ImageError::NotAnImage));
        let p = png(16, 16);
        // (A PNG cut inside its trailing IEND chunk still decodes: the pixels are all there.)
        for len in [8, 20, 33, 40, p.len() / 2, p.len() - 13] {
            assert!(decode(&p[..len]).is_err(), "truncated to {len}");
        }
    }
}
