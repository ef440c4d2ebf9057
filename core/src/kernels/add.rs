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

#[cfg(test)]
mod tests {
    //! The kernel against a plain transcription of TFLite's integer `Add`
    //! (both operands shifted left 20 bits, each rescaled, summed, the sum
    //! rescaled) with 4-D broadcasting by index, on random shapes where any
    //! dimension of either operand may be 1.
    use super::*;
    use crate::fixedpoint::multiply_by_quantized_multiplier;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct AddProblem {
        out: [usize; 4],
        sa: [usize; 4],
        sb: [usize; 4],
        p: AddParams,
        a: Vec<i8>,
        b: Vec<i8>,
    }

    impl AddProblem {
        fn reference(&self) -> Vec<i8> {
            let p = &self.p;
            let at = |s: [usize; 4], i: [usize; 4]| {
                let j: [usize; 4] = core::array::from_fn(|d| if s[d] == 1 { 0 } else { i[d] });
                ((j[0] * s[1] + j[1]) * s[2] + j[2]) * s[3] + j[3]
            };
            let scale = |x: i32, m: QuantizedMultiplier| multiply_by_quantized_multiplier(x, m.multiplier, m.shift);
            let mut out = Vec::new();
            let o = self.out;
            for n in 0..o[0] {
                for y in 0..o[1] {
                    for x in 0..o[2] {
                        for c in 0..o[3] {
                            let i = [n, y, x, c];
                            let a = (self.a[at(self.sa, i)] as i32 + p.input1_offset) * (1 << p.left_shift);
                            let b = (self.b[at(self.sb, i)] as i32 + p.input2_offset) * (1 << p.left_shift);
                            let sum = scale(a, p.input1) + scale(b, p.input2);
                            let v = scale(sum, p.output) + p.output_offset;
                            out.push(v.clamp(p.act_min, p.act_max) as i8);
                        }
                    }
                }
            }
            out
        }
    }

    fn problem() -> impl Strategy<Value = AddProblem> {
        let scale = || (-8i32..=2).prop_map(|e| 2f32.powi(e) * 0.37);
        (
            [1usize..=2, 1usize..=5, 1usize..=5, 1usize..=4],
            [any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()],
            [any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()],
            (scale(), -128i32..=127, scale(), -128i32..=127, scale(), -128i32..=127),
        )
            .prop_flat_map(|(out, one_a, one_b, q)| {
                let sa: [usize; 4] = core::array::from_fn(|d| if one_a[d] { 1 } else { out[d] });
                let sb: [usize; 4] = core::array::from_fn(|d| if one_b[d] { 1 } else { out[d] });
                let (na, nb) = (sa.iter().product::<usize>(), sb.iter().product::<usize>());
                (Just((out, sa, sb, q)), prop::collection::vec(any::<i8>(), na), prop::collection::vec(any::<i8>(), nb))
            })
            .prop_map(|((out, sa, sb, (s1, z1, s2, z2, so, zo)), a, b)| AddProblem {
                out,
                sa,
                sb,
                p: AddParams::prepare(s1, z1, s2, z2, so, zo, (-128, 127)),
                a,
                b,
            })
    }

    proptest! {
        #[test]
        fn broadcasting_add_matches_reference(p in problem()) {
            let mut out = alloc::vec![0i8; p.out.iter().product()];
            add(&p.p, &p.a, p.sa, &p.b, p.sb, &mut out, p.out);
            prop_assert_eq!(out, p.reference());
        }
    }
}
