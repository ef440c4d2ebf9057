//! MEAN over any set of axes of an int8 tensor of rank ≤ 4 (TFLite's
//! `QuantizedMeanOrSum`: the division by the element count is folded into
//! the fixed-point multiplier with a truncating integer division).

use super::clamp_i8;
use crate::fixedpoint::{multiply_by_quantized_multiplier, QuantizedMultiplier};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanParams {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    /// Multiplier and shift with `1 / count` folded in.
    pub multiplier: i32,
    pub shift: i32,
    pub count: i32,
}

impl MeanParams {
    pub fn prepare(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32, count: usize) -> Self {
        let m = QuantizedMultiplier::from_f64(in_scale as f64 / out_scale as f64);
        let n = count.max(1) as i64;
        let shift = (63 - n.leading_zeros() as i32).min(32).min((31 + m.shift).max(0));
        Self {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            multiplier: (((m.multiplier as i64) << shift) / n) as i32,
            shift: m.shift - shift,
            count: n as i32,
        }
    }

    /// `shape` is NHWC (right-aligned), `axes` a bit mask over those four dims.
    pub fn eval(&self, input: &[i8], shape: [usize; 4], axes: u32, output: &mut [i8]) {
        let keep = |d: usize| axes & (1 << d) == 0;
        let ext = |d: usize| if keep(d) { shape[d] } else { 1 };
        let span = |d: usize, i: usize| if keep(d) { i..i + 1 } else { 0..shape[d] };
        let mut o = 0;
        for b in 0..ext(0) {
            for y in 0..ext(1) {
                for x in 0..ext(2) {
                    for c in 0..ext(3) {
                        let mut sum: i32 = 0;
                        for ib in span(0, b) {
                            for iy in span(1, y) {
                                for ix in span(2, x) {
                                    for ic in span(3, c) {
                                        let i = ((ib * shape[1] + iy) * shape[2] + ix) * shape[3] + ic;
                                        sum = sum.wrapping_add(input[i] as i32);
                                    }
                                }
                            }
                        }
                        let centred = sum.wrapping_sub(self.input_zero_point.wrapping_mul(self.count));
                        let v = multiply_by_quantized_multiplier(centred, self.multiplier, self.shift);
                        output[o] = clamp_i8(v.saturating_add(self.output_zero_point), -128, 127);
                        o += 1;
                    }
                }
            }
        }
    }
}
