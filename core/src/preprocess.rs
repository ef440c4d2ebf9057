//! Image → input tensor, the same in the CLI, the browser and firmware.
//!
//! Pixels map to [-1, 1] (`(p - 127.5) / 127.5`, in f32), then are quantized
//! with the model's input scale and zero point (round half away from zero).
//! Golden data is made with the same rule (`tools/preprocess.py`).

use crate::fixedpoint::round_f32;

/// Normalised float value of an 8-bit pixel channel.
#[inline]
pub fn normalise(p: u8) -> f32 {
    (p as f32 - 127.5) / 127.5
}

/// Quantizes one normalised value to int8.
#[inline]
pub fn quantize(x: f32, scale: f32, zero_point: i32) -> i8 {
    ((round_f32(x / scale) as i32).saturating_add(zero_point)).clamp(-128, 127) as i8
}

/// How an image of one size was fitted into the model's input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Letterbox {
    /// Model-input pixels per source pixel.
    pub scale: f32,
    /// Offset of the scaled image inside the model input (padding at top/left).
    pub pad_x: f32,
    pub pad_y: f32,
}

impl Letterbox {
    /// Fits `src_w × src_h` into `dst_w × dst_h` keeping the aspect ratio, centred.
    pub fn fit(src_w: usize, src_h: usize, dst_w: usize, dst_h: usize) -> Self {
        let scale = (dst_w as f32 / src_w as f32).min(dst_h as f32 / src_h as f32);
        Self {
            scale,
            pad_x: (dst_w as f32 - src_w as f32 * scale) / 2.0,
            pad_y: (dst_h as f32 - src_h as f32 * scale) / 2.0,
        }
    }
    /// Model-input coordinates → source-image coordinates.
    pub fn to_source(&self, x: f32, y: f32) -> (f32, f32) {
        ((x - self.pad_x) / self.scale, (y - self.pad_y) / self.scale)
    }
}

/// Resizes an RGB8 image into an RGB8 `dst_w × dst_h` buffer with letterboxing
/// (black bars) and bilinear sampling at pixel centres. An image already of the
/// target size is copied unchanged.
pub fn letterbox_rgb(src: &[u8], src_w: usize, src_h: usize, dst: &mut [u8], dst_w: usize, dst_h: usize) -> Letterbox {
    let lb = Letterbox::fit(src_w, src_h, dst_w, dst_h);
    if src_w == dst_w && src_h == dst_h {
        dst[..src.len()].copy_from_slice(src);
        return lb;
    }
    for y in 0..dst_h {
        for x in 0..dst_w {
            let (sx, sy) = lb.to_source(x as f32 + 0.5, y as f32 + 0.5);
            let o = (y * dst_w + x) * 3;
            if sx < 0.0 || sy < 0.0 || sx >= src_w as f32 || sy >= src_h as f32 {
                dst[o..o + 3].fill(0);
                continue;
            }
            let fx = (sx - 0.5).max(0.0);
            let fy = (sy - 0.5).max(0.0);
            let x0 = (fx as usize).min(src_w - 1);
            let y0 = (fy as usize).min(src_h - 1);
            let x1 = (x0 + 1).min(src_w - 1);
            let y1 = (y0 + 1).min(src_h - 1);
            let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
            for c in 0..3 {
                let p = |xx: usize, yy: usize| src[(yy * src_w + xx) * 3 + c] as f32;
                let top = p(x0, y0) * (1.0 - ax) + p(x1, y0) * ax;
                let bot = p(x0, y1) * (1.0 - ax) + p(x1, y1) * ax;
                dst[o + c] = round_f32(top * (1.0 - ay) + bot * ay).clamp(0.0, 255.0) as u8;
            }
        }
    }
    lb
}

/// Quantizes an RGB8 image of exactly the input's size into `out` (int8, NHWC).
pub fn quantize_rgb(pixels: &[u8], scale: f32, zero_point: i32, out: &mut [i8]) {
    for (o, &p) in out.iter_mut().zip(pixels) {
        *o = quantize(normalise(p), scale, zero_point);
    }
}

/// The input-tensor bytes for an RGB8 image (`width × height × 3`): letterboxed
/// to the tensor's size, normalised, and quantized with its parameters (int8)
/// or kept as float32. What the CLI and the playground feed a model.
#[cfg(feature = "alloc")]
pub fn image_input(
    pixels: &[u8],
    width: usize,
    height: usize,
    t: &crate::graph::Tensor,
) -> crate::Result<alloc::vec::Vec<u8>> {
    use crate::error::Error;
    use crate::graph::DType;
    // Channels last as TFLite converters write it, or channels first as a
    // PyTorch conversion keeps it ([1, 3, H, W], TRANSPOSE inside the model).
    let (h, w, planar) = match t.shape[..] {
        [1, h, w, 3] => (h, w, false),
        [1, 3, h, w] => (h, w, true),
        _ => {
            return Err(Error::shape(
                "the model input is not an RGB image tensor [1, H, W, 3] or [1, 3, H, W]",
                None,
                None,
            ))
        }
    };
    if pixels.len() != width * height * 3 {
        return Err(Error::BufferSize { what: "RGB image", expected: width * height * 3, got: pixels.len() });
    }
    let mut rgb = alloc::vec![0u8; h * w * 3];
    letterbox_rgb(pixels, width, height, &mut rgb, w, h);
    if planar {
        rgb = (0..3).flat_map(|c| rgb.iter().skip(c).step_by(3).copied().collect::<alloc::vec::Vec<_>>()).collect();
    }
    match t.dtype {
        DType::I8 => {
            let (scale, zp) =
                t.quant.per_tensor().ok_or(Error::model("the int8 model input has no per-tensor quantization"))?;
            let mut q = alloc::vec![0i8; rgb.len()];
            quantize_rgb(&rgb, scale, zp, &mut q);
            Ok(q.into_iter().map(|v| v as u8).collect())
        }
        DType::U8 => {
            let (scale, zp) =
                t.quant.per_tensor().ok_or(Error::model("the uint8 model input has no per-tensor quantization"))?;
            Ok(rgb
                .iter()
                .map(|&p| (round_f32(normalise(p) / scale) as i32).saturating_add(zp).clamp(0, 255) as u8)
                .collect())
        }
        DType::F32 => Ok(rgb.iter().flat_map(|&p| normalise(p).to_le_bytes()).collect()),
        _ => Err(Error::model("the model input type cannot take an image (int8, uint8 or float32 only)")),
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::graph::{DType, Quant, Tensor};
    use alloc::string::ToString;
    use alloc::vec::Vec;

    fn input(dtype: DType, shape: &[usize]) -> Tensor {
        let quant =
            if dtype == DType::F32 { Quant::None } else { Quant::PerTensor { scale: 1.0 / 128.0, zero_point: 0 } };
        Tensor { name: "input".into(), dtype, shape: shape.to_vec(), quant, data: None }
    }

    #[test]
    fn a_channels_first_input_gets_the_channels_last_values_as_planes() {
        // 5×4 pixels, each channel its own pattern, fed to a 4×6 (H×W) input: letterboxed.
        let (w, h) = (5, 4);
        let pixels: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        for dtype in [DType::F32, DType::I8, DType::U8] {
            let size = dtype.size();
            let last = image_input(&pixels, w, h, &input(dtype, &[1, 4, 6, 3])).unwrap();
            let first = image_input(&pixels, w, h, &input(dtype, &[1, 3, 4, 6])).unwrap();
            assert_eq!(first.len(), last.len());
            for p in 0..4 * 6 {
                for c in 0..3 {
                    let (a, b) = ((p * 3 + c) * size, (c * 4 * 6 + p) * size);
                    assert_eq!(last[a..a + size], first[b..b + size], "{dtype:?} pixel {p} channel {c}");
                }
            }
        }
        for shape in [&[1, 4, 6, 4][..], &[1, 4, 6], &[2, 3, 4, 6], &[1, 1, 4, 6]] {
            let e = image_input(&pixels, w, h, &input(DType::I8, shape)).unwrap_err();
            assert!(e.to_string().contains("not an RGB image tensor"), "{shape:?}: {e}");
        }
    }
}
