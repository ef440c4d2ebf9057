//! ADD, int8 with 4-D broadcasting (TFLite's integer `Add`: both inputs are
//! rescaled to a common scale with 20 bits of headroom, summed, rescaled).

use super::clamp_i8;
use crate::fixedpoint::QuantizedMultiplier;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AddParams {
    pub left_shift: i32,
    pub input1_offset: i32,
    pub input2_offset: i32,
    pub input1: QuantizedMultiplier,
    pub input2: QuantizedMultiplier,
    pub output: QuantizedMultiplier,
    pub output_offset: i32,
    pub act_min: i32,
    pub act_max: i32,
}

impl AddParams {
    pub fn prepare(s1: f32, z1: i32, s2: f32, z2: i32, so: f32, zo: i32, act: (i32, i32)) -> Self {
        let left_shift = 20;
        let twice_max = 2.0 * (s1 as f64).max(s2 as f64);
        Self {
            left_shift,
            input1_offset: -z1,
            input2_offset: -z2,
            input1: QuantizedMultiplier::from_f64(s1 as f64 / twice_max),
            input2: QuantizedMultiplier::from_f64(s2 as f64 / twice_max),
            output: QuantizedMultiplier::from_f64(twice_max / ((1i64 << left_shift) as f64 * so as f64)),
            output_offset: zo,
            act_min: act.0,
            act_max: act.1,
        }
    }

    #[inline(always)]
    pub fn add(&self, a: i8, b: i8) -> i8 {
        let a = (a as i32 + self.input1_offset) << self.left_shift;
        let b = (b as i32 + self.input2_offset) << self.left_shift;
        let sum = self.input1.apply(a) + self.input2.apply(b);
        clamp_i8(self.output.apply(sum) + self.output_offset, self.act_min, self.act_max)
    }
}

/// Element-wise sum of two NHWC tensors; a dimension of size 1 broadcasts.
pub fn add(p: &AddParams, a: &[i8], sa: [usize; 4], b: &[i8], sb: [usize; 4], out: &mut [i8], so: [usize; 4]) {
    if sa == sb && sa == so {
        for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
            *o = p.add(*x, *y);
        }
        return;
    }
    let strides = |s: [usize; 4]| {
        let st = [s[1] * s[2] * s[3], s[2] * s[3], s[3], 1];
        core::array::from_fn::<usize, 4, _>(|d| if s[d] == 1 { 0 } else { st[d] })
    };
    let (ta, tb) = (strides(sa), strides(sb));
    let mut o = 0;
    for n in 0..so[0] {
        for y in 0..so[1] {
            for x in 0..so[2] {
                for c in 0..so[3] {
                    let ia = n * ta[0] + y * ta[1] + x * ta[2] + c * ta[3];
                    let ib = n * tb[0] + y * tb[1] + x * tb[2] + c * tb[3];
                    out[o] = p.add(a[ia], b[ib]);
                    o += 1;
                }
            }
        }
    }
}
