//! QUANTIZE (float → int8, int8 → int8 requantize) and DEQUANTIZE (int8 → float).

use super::clamp_i8;
use crate::fixedpoint::QuantizedMultiplier;

/// float → int8: `round(x / scale) + zero_point`, saturated.
pub fn quantize_f32(input: impl Iterator<Item = f32>, scale: f32, zero_point: i32, output: &mut [i8]) {
    for (o, x) in output.iter_mut().zip(input) {
        let q = libm::roundf(x / scale);
        // `as i32` saturates (and maps NaN to 0), like the reference's clamp.
        *o = clamp_i8((q as i32).saturating_add(zero_point), i8::MIN as i32, i8::MAX as i32);
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Requantize {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub multiplier: QuantizedMultiplier,
}

impl Requantize {
    pub fn prepare(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32) -> Self {
        Self {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            multiplier: QuantizedMultiplier::from_f64(in_scale as f64 / out_scale as f64),
        }
    }
    pub fn eval(&self, input: &[i8], output: &mut [i8]) {
        for (o, &x) in output.iter_mut().zip(input) {
            let v = self.multiplier.apply(x as i32 - self.input_zero_point) + self.output_zero_point;
            *o = clamp_i8(v, i8::MIN as i32, i8::MAX as i32);
        }
    }
}

/// int8 → float: `scale * (q - zero_point)`, with the product taken in double
/// precision as the reference does.
#[inline]
pub fn dequantize_one(q: i8, scale: f32, zero_point: i32) -> f32 {
    (scale as f64 * (q as i32 - zero_point) as f64) as f32
}
