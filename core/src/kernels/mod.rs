//! Int8 kernels, bit-exact with TFLite's reference kernels.
//!
//! Each kernel is split like TFLite Micro's: a `prepare` step turns scales
//! into fixed-point multipliers once, and an `eval` function does only
//! integer arithmetic on caller-provided slices (no allocation, no std).
//! Spatial kernels compute one output `Window` from an input `Window`, so the
//! same code serves layer-by-layer (whole tensor) and patch-based execution.

pub mod activation;
pub mod binary;
pub mod concat;
pub mod conv;
pub mod depthwise;
pub mod fast;
pub mod fully_connected;
pub mod l2norm;
pub mod log_softmax;
pub mod mean;
pub mod pad;
pub mod pool;
pub mod quantize;
pub mod resize;
pub mod softmax;
pub mod transpose_conv;

use crate::fixedpoint::round_f32;
use crate::op::Activation;

/// Clamp range of a fused activation for an int8 output with `scale`, `zero_point`
/// (TFLite `CalculateActivationRangeQuantized`).
pub fn activation_range(act: Activation, scale: f32, zero_point: i32) -> (i32, i32) {
    // Saturating: a legal but tiny scale makes `6 / scale` overflow f32 (the
    // `as` saturates) and the sum overflow i32 (TFLite's C++ leaves both
    // undefined); saturated, the range stays ordered, as for any sane scale.
    let q = |f: f32| zero_point.saturating_add(round_f32(f / scale) as i32);
    let (lo, hi) = (i8::MIN as i32, i8::MAX as i32);
    match act {
        Activation::None => (lo, hi),
        Activation::Relu => (lo.max(q(0.0)), hi),
        Activation::Relu6 => (lo.max(q(0.0)), hi.min(q(6.0))),
        Activation::ReluN1To1 => (lo.max(q(-1.0)), hi.min(q(1.0))),
    }
}

#[inline(always)]
pub(crate) fn clamp_i8(x: i32, lo: i32, hi: i32) -> i8 {
    // `max` then `min` rather than `clamp`, which panics when `lo > hi`.
    x.max(lo).min(hi) as i8
}

/// Helpers the kernel tests share.
#[cfg(test)]
pub(crate) mod testing {
    use super::conv::Geometry;
    use crate::op::{Axis, Padding};
    use crate::region::Rect;
    use alloc::vec::Vec;

    /// Full-range requantization with per-channel `mults`, and the weights and bias.
    pub fn weighted<'a>(
        zp_in: i32,
        zp_out: i32,
        mults: &'a [crate::fixedpoint::QuantizedMultiplier],
        filter: &'a [i8],
        bias: &'a [i32],
    ) -> super::conv::Weighted<'a> {
        let stage = super::conv::OutputStage {
            input_offset: -zp_in,
            output_offset: zp_out,
            act_min: -128,
            act_max: 127,
            multipliers: mults,
        };
        super::conv::Weighted { stage, filter, bias: Some(bias) }
    }

    /// Rectangle `r` of a single-image `[h, w, c]` tensor that is `w` wide: what a window holds.
    pub fn crop<T: Copy>(data: &[T], w: usize, c: usize, r: Rect) -> Vec<T> {
        (r.y..r.y_end()).flat_map(|y| data[(y * w + r.x) * c..(y * w + r.x_end()) * c].iter().copied()).collect()
    }

    /// A square sliding window over a single `[h, w, c]` image.
    #[derive(Debug, Clone, Copy)]
    pub struct Square {
        pub h: usize,
        pub w: usize,
        pub c: usize,
        pub k: usize,
        pub stride: usize,
        pub same: bool,
    }

    impl Square {
        pub fn geometry(&self) -> (Geometry, usize, usize) {
            square_window(self.h, self.w, self.k, self.stride, 1, self.same)
        }
    }

    /// A `k × k` window with `stride` and `dilation` over an `h × w` input:
    /// its geometry and output height and width.
    pub fn square_window(
        h: usize,
        w: usize,
        k: usize,
        stride: usize,
        dilation: usize,
        same: bool,
    ) -> (Geometry, usize, usize) {
        let a = Axis { kernel: k, stride, dilation };
        let p = if same { Padding::Same } else { Padding::Valid };
        let (oh, ow) = (a.out_size(p, h), a.out_size(p, w));
        let g = Geometry {
            in_h: h,
            in_w: w,
            kh: k,
            kw: k,
            stride_h: stride,
            stride_w: stride,
            dil_h: dilation,
            dil_w: dilation,
            pad_top: a.pad_before(p, h, oh),
            pad_left: a.pad_before(p, w, ow),
        };
        (g, oh, ow)
    }
}
