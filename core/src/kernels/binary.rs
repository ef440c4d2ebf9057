//! ADD, MUL, SUB, SQUARED_DIFFERENCE, MAXIMUM and MINIMUM on int8, with 4-D
//! broadcasting, each following its reference kernel's arithmetic:
//! - MUL: the product of the offset inputs rescaled once (`s1·s2/so`, the
//!   product of the scales taken in single precision as the reference does).
//! - ADD and SUB: both inputs rescaled to twice the larger scale with 20
//!   bits of headroom, summed or differenced, the result rescaled.
//! - SQUARED_DIFFERENCE: the same with 7 bits of headroom, the difference
//!   squared, then rescaled by `(2·max)² / (2^14 · so)`.
//! - MAXIMUM / MINIMUM: on the raw int8 values (no requantization).
//! - PRELU: LEAKY_RELU with a per-element (broadcast) int8 alpha operand.

use super::clamp_i8;
use crate::fixedpoint::QuantizedMultiplier;

/// Calls `f(a_index, b_index)` for every output element of NHWC shape `so`
/// in order, where a dimension of size 1 in `sa` or `sb` broadcasts.
#[inline]
pub fn broadcast(sa: [usize; 4], sb: [usize; 4], so: [usize; 4], mut f: impl FnMut(usize, usize)) {
    let strides = |s: [usize; 4]| {
        let st = [s[1] * s[2] * s[3], s[2] * s[3], s[3], 1];
        core::array::from_fn::<usize, 4, _>(|d| if s[d] == 1 { 0 } else { st[d] })
    };
    if sa == so && sb == so {
        (0..so.iter().product()).for_each(|i| f(i, i));
        return;
    }
    let (ta, tb) = (strides(sa), strides(sb));
    for n in 0..so[0] {
        for y in 0..so[1] {
            for x in 0..so[2] {
                for c in 0..so[3] {
                    f(n * ta[0] + y * ta[1] + x * ta[2] + c * ta[3], n * tb[0] + y * tb[1] + x * tb[2] + c * tb[3]);
                }
            }
        }
    }
}

/// `out[i] = op(a[ia], b[ib])` over the broadcast of `sa` and `sb` to `so`.
pub fn binary(
    a: &[i8],
    sa: [usize; 4],
    b: &[i8],
    sb: [usize; 4],
    out: &mut [i8],
    so: [usize; 4],
    op: impl Fn(i8, i8) -> i8,
) {
    if sa == so && sb == so {
        // No broadcast (residual ADDs): one pass over the three slices.
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = op(x, y);
        }
        return;
    }
    let mut o = out.iter_mut();
    broadcast(sa, sb, so, |ia, ib| {
        if let Some(o) = o.next() {
            *o = op(a[ia], b[ib]);
        }
    });
}

/// MUL.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MulParams {
    pub input1_offset: i32,
    pub input2_offset: i32,
    pub output_offset: i32,
    pub multiplier: QuantizedMultiplier,
    pub act_min: i32,
    pub act_max: i32,
}

impl MulParams {
    pub fn prepare(s1: f32, z1: i32, s2: f32, z2: i32, so: f32, zo: i32, act: (i32, i32)) -> Self {
        Self {
            input1_offset: -z1,
            input2_offset: -z2,
            output_offset: zo,
            // The reference multiplies and divides the f32 scales before widening.
            multiplier: QuantizedMultiplier::from_f64((s1 * s2 / so) as f64),
            act_min: act.0,
            act_max: act.1,
        }
    }

    #[inline(always)]
    pub fn apply(&self, a: i8, b: i8) -> i8 {
        let p = (a as i32 + self.input1_offset) * (b as i32 + self.input2_offset);
        clamp_i8(self.output_offset.saturating_add(self.multiplier.apply(p)), self.act_min, self.act_max)
    }
}

/// PRELU: the offset input rescaled by `s_in / s_out` where it is
/// non-negative, else multiplied by the offset alpha and rescaled by
/// `s_in · s_alpha / s_out` (products of f32 scales, as the reference).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PreluParams {
    pub input_offset: i32,
    pub alpha_offset: i32,
    pub output_offset: i32,
    pub identity: QuantizedMultiplier,
    pub alpha: QuantizedMultiplier,
}

impl PreluParams {
    pub fn prepare(si: f32, zi: i32, sa: f32, za: i32, so: f32, zo: i32) -> Self {
        Self {
            input_offset: -zi,
            alpha_offset: -za,
            output_offset: zo,
            identity: QuantizedMultiplier::from_f64((si / so) as f64),
            alpha: QuantizedMultiplier::from_f64((si * sa / so) as f64),
        }
    }

    #[inline(always)]
    pub fn apply(&self, x: i8, alpha: i8) -> i8 {
        let v = x as i32 + self.input_offset;
        let r = if v >= 0 { self.identity.apply(v) } else { self.alpha.apply(v * (alpha as i32 + self.alpha_offset)) };
        clamp_i8(r.saturating_add(self.output_offset), -128, 127)
    }
}

/// ADD, SUB and SQUARED_DIFFERENCE: both inputs rescaled to a common scale first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rescale {
    Add,
    Sub,
    SquaredDifference,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RescaledParams {
    pub kind: Rescale,
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

impl RescaledParams {
    #[allow(clippy::too_many_arguments)]
    pub fn prepare(kind: Rescale, s1: f32, z1: i32, s2: f32, z2: i32, so: f32, zo: i32, act: (i32, i32)) -> Self {
        let left_shift = match kind {
            Rescale::Add | Rescale::Sub => 20,
            // 255² · 2^14 still fits an int32.
            Rescale::SquaredDifference => 7,
        };
        let twice_max = 2.0 * (s1 as f64).max(s2 as f64);
        let output = match kind {
            Rescale::Add | Rescale::Sub => twice_max / ((1i64 << left_shift) as f64 * so as f64),
            Rescale::SquaredDifference => twice_max * twice_max / ((1i64 << (2 * left_shift)) as f64 * so as f64),
        };
        Self {
            kind,
            left_shift,
            input1_offset: -z1,
            input2_offset: -z2,
            input1: QuantizedMultiplier::from_f64(s1 as f64 / twice_max),
            input2: QuantizedMultiplier::from_f64(s2 as f64 / twice_max),
            output: QuantizedMultiplier::from_f64(output),
            output_offset: zo,
            act_min: act.0,
            act_max: act.1,
        }
    }

    #[inline(always)]
    pub fn apply(&self, a: i8, b: i8) -> i8 {
        // int32 arithmetic that wraps, as TFLite's compiles to on every
        // target: legal but extreme scales (an output multiplier far above
        // one) overflow here, and the result must still be TFLite's.
        let a = self.input1.apply((a as i32).wrapping_add(self.input1_offset).wrapping_mul(1 << self.left_shift));
        let b = self.input2.apply((b as i32).wrapping_add(self.input2_offset).wrapping_mul(1 << self.left_shift));
        let raw = match self.kind {
            Rescale::Add => a.wrapping_add(b),
            Rescale::Sub => a.wrapping_sub(b),
            Rescale::SquaredDifference => a.wrapping_sub(b).wrapping_mul(a.wrapping_sub(b)),
        };
        clamp_i8(self.output.apply(raw).wrapping_add(self.output_offset), self.act_min, self.act_max)
    }
}

#[cfg(test)]
mod tests {
    //! Every int8 pair against a plain transcription of the reference
    //! element functions (`MulElementwise`, `SubElementwise`, the quantized
    //! `SquaredDifference`), and MUL and SUB against the real-valued result
    //! (within one output step), over random scales and zero points.
    use super::*;
    use crate::fixedpoint::multiply_by_quantized_multiplier as mbqm;
    use proptest::prelude::*;

    fn q(s: f32, z: i32, v: i8) -> f64 {
        s as f64 * (v as i32 - z) as f64
    }

    fn scale() -> impl Strategy<Value = f32> {
        (-8i32..=-3, 1.0f32..2.0).prop_map(|(e, m)| m * 2f32.powi(e))
    }

    proptest! {
        #[test]
        fn mul_matches_reference_and_real_product(s1 in scale(), z1 in -128i32..=127, s2 in scale(), z2 in -128i32..=127, so in scale(), zo in -128i32..=127) {
            let p = MulParams::prepare(s1, z1, s2, z2, so, zo, (-128, 127));
            let m = QuantizedMultiplier::from_f64((s1 * s2 / so) as f64);
            for a in i8::MIN..=i8::MAX {
                for b in [i8::MIN, -77, -1, 0, 1, 55, i8::MAX] {
                    let want = (zo + mbqm((a as i32 - z1) * (b as i32 - z2), m.multiplier, m.shift)).clamp(-128, 127);
                    prop_assert_eq!(p.apply(a, b) as i32, want);
                    let real = (q(s1, z1, a) * q(s2, z2, b) / so as f64 + zo as f64).clamp(-128.0, 127.0);
                    prop_assert!((want as f64 - real).abs() <= 1.0);
                }
            }
        }

        #[test]
        fn prelu_is_within_one_step_of_the_real_value(si in scale(), zi in -128i32..=127, sa in scale(), za in -128i32..=127, so in scale(), zo in -128i32..=127) {
            prop_assume!(si / so < 64.0);
            let p = PreluParams::prepare(si, zi, sa, za, so, zo);
            for x in i8::MIN..=i8::MAX {
                for alpha in [i8::MIN, -3, 0, 9, i8::MAX] {
                    let (xr, ar) = (q(si, zi, x), q(sa, za, alpha));
                    let real = ((if xr >= 0.0 { xr } else { xr * ar }) / so as f64 + zo as f64).clamp(-128.0, 127.0);
                    prop_assert!((p.apply(x, alpha) as f64 - real).abs() <= 1.0, "{} {} -> {} (real {})", x, alpha, p.apply(x, alpha), real);
                }
            }
        }

        #[test]
        fn differences_match_reference(s1 in scale(), z1 in -128i32..=127, s2 in scale(), z2 in -128i32..=127, so in scale(), zo in -128i32..=127, squared in any::<bool>()) {
            let kind = if squared { Rescale::SquaredDifference } else { Rescale::Sub };
            let p = RescaledParams::prepare(kind, s1, z1, s2, z2, so, zo, (-128, 127));
            let shift = if squared { 7 } else { 20 };
            let tm = 2.0 * (s1 as f64).max(s2 as f64);
            let qm = |x: f64| QuantizedMultiplier::from_f64(x);
            let (m1, m2) = (qm(s1 as f64 / tm), qm(s2 as f64 / tm));
            let mo = if squared { qm(tm * tm / ((1i64 << 14) as f64 * so as f64)) } else { qm(tm / ((1i64 << 20) as f64 * so as f64)) };
            for a in i8::MIN..=i8::MAX {
                for b in [i8::MIN, -77, -1, 0, 1, 55, i8::MAX] {
                    let x = mbqm((a as i32 - z1) * (1 << shift), m1.multiplier, m1.shift);
                    let y = mbqm((b as i32 - z2) * (1 << shift), m2.multiplier, m2.shift);
                    let raw = if squared { (x - y) * (x - y) } else { x - y };
                    let want = (mbqm(raw, mo.multiplier, mo.shift) + zo).clamp(-128, 127);
                    prop_assert_eq!(p.apply(a, b) as i32, want);
                    if !squared {
                        let real = ((q(s1, z1, a) - q(s2, z2, b)) / so as f64 + zo as f64).clamp(-128.0, 127.0);
                        prop_assert!((want as f64 - real).abs() <= 1.0);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod add_tests {
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
        p: RescaledParams,
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
                p: RescaledParams::prepare(Rescale::Add, s1, z1, s2, z2, so, zo, (-128, 127)),
                a,
                b,
            })
    }

    proptest! {
        #[test]
        fn broadcasting_add_matches_reference(p in problem()) {
            let mut out = alloc::vec![0i8; p.out.iter().product()];
            binary(&p.a, p.sa, &p.b, p.sb, &mut out, p.out, |a, b| p.p.apply(a, b));
            prop_assert_eq!(out, p.reference());
        }
    }
}
