//! MEAN over any set of axes of an int8 tensor of rank ≤ 4.

use super::clamp_i8;
use crate::fixedpoint::QuantizedMultiplier;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanParams {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub multiplier: QuantizedMultiplier,
    pub count: i32,
}

impl MeanParams {
    pub fn prepare(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32, count: usize) -> Self {
        Self {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            multiplier: QuantizedMultiplier::from_f64(in_scale as f64 / out_scale as f64),
            count: count as i32,
        }
    }

    /// `shape` is NHWC (right-aligned), `axes` a bit mask over those four dims.
    pub fn eval(&self, input: &[i8], shape: [usize; 4], axes: u32, output: &mut [i8]) {
        let keep = |d: usize| axes & (1 << d) == 0;
        let ext = |d: usize| if keep(d) { shape[d] } else { 1 };
        let (on, oh, ow, oc) = (ext(0), ext(1), ext(2), ext(3));
        let mut o = 0;
        for b in 0..on {
            for y in 0..oh {
                for x in 0..ow {
                    for c in 0..oc {
                        let mut acc: i32 = 0;
                        for ib in if keep(0) { b..b + 1 } else { 0..shape[0] } {
                            for iy in if keep(1) { y..y + 1 } else { 0..shape[1] } {
                                for ix in if keep(2) { x..x + 1 } else { 0..shape[2] } {
                                    for ic in if keep(3) { c..c + 1 } else { 0..shape[3] } {
                                        let i = ((ib * shape[1] + iy) * shape[2] + ix) * shape[3] + ic;
                                        acc += input[i] as i32 - self.input_zero_point;
                                    }
                                }
                            }
                        }
                        let n = self.count.max(1);
                        let acc = self.multiplier.apply(acc);
                        let acc = if acc > 0 { (acc + n / 2) / n } else { (acc - n / 2) / n };
                        output[o] = clamp_i8(acc + self.output_zero_point, -128, 127);
                        o += 1;
                    }
                }
            }
        }
    }
}
