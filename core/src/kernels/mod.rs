//! Int8 kernels, bit-exact with TFLite's reference kernels.
//!
//! Each kernel is split like TFLite Micro's: a `prepare` step turns scales
//! into fixed-point multipliers once, and an `eval` function does only
//! integer arithmetic on caller-provided slices (no allocation, no std).
//! Spatial kernels compute one output `Window` from an input `Window`, so the
//! same code serves layer-by-layer (whole tensor) and patch-based execution.

pub mod activation;
pub mod add;
pub mod concat;
pub mod conv;
pub mod depthwise;
pub mod fully_connected;
pub mod mean;
pub mod pad;
pub mod pool;
pub mod quantize;
pub mod resize;
pub mod softmax;

use crate::fixedpoint::round_f32;
use crate::op::Activation;

/// Clamp range of a fused activation for an int8 output with `scale`, `zero_point`
/// (TFLite `CalculateActivationRangeQuantized`).
pub fn activation_range(act: Activation, scale: f32, zero_point: i32) -> (i32, i32) {
    let q = |f: f32| zero_point + round_f32(f / scale) as i32;
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
    x.clamp(lo, hi) as i8
}
