//! SOFTMAX, int8 → int8 (output scale 1/256, zero point -128), in gemmlowp
//! fixed point exactly as TFLite's reference kernel: exp on negative
//! differences with 5 integer bits, sums with 12, a Newton reciprocal.

use crate::fixedpoint::{
    rounding_divide_by_pot as rdbpot, saturating_rounding_doubling_high_mul as srdhm, QuantizedMultiplier,
};

const SCALED_DIFF_INTEGER_BITS: i32 = 5;
const ACCUMULATION_INTEGER_BITS: i32 = 12;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoftmaxParams {
    pub input_multiplier: i32,
    pub input_left_shift: i32,
    pub diff_min: i32,
}

/// gemmlowp `SaturatingRoundingMultiplyByPOT`.
#[inline]
pub(crate) fn mul_pot(x: i32, exponent: i32) -> i32 {
    if exponent <= 0 {
        return rdbpot(x, -exponent);
    }
    let threshold = (1i32 << (31 - exponent)) - 1;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x << exponent
    }
}

/// exp(a) for a in [-1/4, 0), Q0.31.
fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const CONSTANT_TERM: i32 = 1895147668;
    const ONE_THIRD: i32 = 715827883;
    let x = a.wrapping_add(1 << 28);
    let x2 = srdhm(x, x);
    let x3 = srdhm(x2, x);
    let x4 = srdhm(x2, x2);
    let x4_over_4 = mul_pot(x4, -2);
    let poly = mul_pot(srdhm(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2), -1);
    CONSTANT_TERM.wrapping_add(srdhm(CONSTANT_TERM, x.wrapping_add(poly)))
}

/// exp(a) for a ≤ 0 given with 5 integer bits; result Q0.31.
pub(crate) fn exp_on_negative_values(a: i32) -> i32 {
    const FRACTIONAL_BITS: i32 = 31 - SCALED_DIFF_INTEGER_BITS;
    let one_quarter = 1i32 << (FRACTIONAL_BITS - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(mul_pot(
        a_mod_quarter_minus_one_quarter,
        SCALED_DIFF_INTEGER_BITS,
    ));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    for (exponent, multiplier) in
        [(-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401), (4, 242)]
    {
        if SCALED_DIFF_INTEGER_BITS > exponent && remainder & (1 << (FRACTIONAL_BITS + exponent)) != 0 {
            result = srdhm(result, multiplier);
        }
    }
    if a == 0 {
        i32::MAX
    } else {
        result
    }
}

/// 1 / (1 + a) for a in [0, 1), Q0.31 in and out (Newton–Raphson).
pub(crate) fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    let sum = a as i64 + i32::MAX as i64;
    let half_denominator = ((sum + if sum >= 0 { 1 } else { -1 }) / 2) as i32;
    const C48_17: i32 = 1515870810;
    const CNEG32_17: i32 = -1010580540;
    let mut x = C48_17.wrapping_add(srdhm(half_denominator, CNEG32_17));
    for _ in 0..3 {
        let hdx = srdhm(half_denominator, x);
        let one_minus = (1i32 << 29).wrapping_sub(hdx);
        x = x.wrapping_add(mul_pot(srdhm(x, one_minus), 2));
    }
    mul_pot(x, 1)
}

impl SoftmaxParams {
    /// `None` where the reference's prepare fails (beta × scale too small to
    /// encode as a multiplier above one).
    pub fn prepare(beta: f32, in_scale: f32) -> Option<Self> {
        let real = (beta as f64 * in_scale as f64 * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64)
            .min((1i64 << 31) as f64 - 1.0);
        let m = QuantizedMultiplier::from_f64(real);
        if m.shift < 0 || m.multiplier == 0 {
            return None;
        }
        let max_input_rescaled = ((1i64 << SCALED_DIFF_INTEGER_BITS) - 1) as f64
            * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64
            / (1i64 << m.shift) as f64;
        Some(Self {
            input_multiplier: m.multiplier,
            input_left_shift: m.shift,
            diff_min: -(libm::floor(max_input_rescaled) as i32),
        })
    }

    #[inline]
    fn exp_of_diff(&self, diff: i32) -> i32 {
        exp_on_negative_values(srdhm(diff.wrapping_mul(1 << self.input_left_shift), self.input_multiplier))
    }

    /// Softmax over the last axis (`depth` values per row).
    pub fn eval(&self, input: &[i8], output: &mut [i8], depth: usize) {
        if depth == 0 {
            return;
        }
        for (row, out) in input.chunks_exact(depth).zip(output.chunks_exact_mut(depth)) {
            let max = row.iter().copied().max().unwrap_or(0) as i32;
            let mut sum: i32 = 0;
            for &x in row {
                let diff = x as i32 - max;
                if diff >= self.diff_min {
                    sum = sum.wrapping_add(rdbpot(self.exp_of_diff(diff), ACCUMULATION_INTEGER_BITS));
                }
            }
            let headroom_plus_one = (sum as u32).leading_zeros() as i32;
            let num_bits_over_unit = ACCUMULATION_INTEGER_BITS - headroom_plus_one;
            let shifted_sum_minus_one = ((sum as u32) << headroom_plus_one).wrapping_sub(1u32 << 31) as i32;
            let reciprocal = one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
            let exponent = (num_bits_over_unit + 31 - 8).clamp(0, 31);
            for (o, &x) in out.iter_mut().zip(row) {
                let diff = x as i32 - max;
                *o = if diff >= self.diff_min {
                    let v = rdbpot(srdhm(reciprocal, self.exp_of_diff(diff)), exponent);
                    (v - 128).clamp(-128, 127) as i8
                } else {
                    -128
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The fixed-point softmax against `exp(β·s·(x − max)) / Σ` in f64: every
    //! output within two steps of 1/256 (the reference's own tolerance class),
    //! for random rows, scales and β.
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn softmax_is_within_two_steps(row in prop::collection::vec(any::<i8>(), 1..40), e in -8i32..=-2, beta in 0.5f32..2.0) {
            let s = 2f32.powi(e) * 1.3;
            let Some(p) = SoftmaxParams::prepare(beta, s) else { return Ok(()) };
            let mut out = alloc::vec![0i8; row.len()];
            p.eval(&row, &mut out, row.len());
            let max = *row.iter().max().unwrap() as f64;
            let ex: Vec<f64> = row.iter().map(|&x| ((x as f64 - max) * beta as f64 * s as f64).exp()).collect();
            let sum: f64 = ex.iter().sum();
            for (o, e) in out.iter().zip(&ex) {
                let want = (e / sum * 256.0 - 128.0).clamp(-128.0, 127.0);
                prop_assert!((*o as f64 - want).abs() <= 2.0, "{} vs {}", o, want);
            }
        }
    }
}
