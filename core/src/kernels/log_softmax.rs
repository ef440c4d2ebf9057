//! LOG_SOFTMAX, int8 → int8 (output scale 16/256, zero point 127), in gemmlowp
//! fixed point as TFLite's reference integer kernel: the SOFTMAX exponentials
//! summed with 12 integer bits, their log (a Padé approximant around
//! sqrt(sqrt(1/2))) with 5, each difference minus that log.

use super::softmax::{exp_on_negative_values, mul_pot, one_over_one_plus_x_for_x_in_0_1};
use crate::fixedpoint::{
    multiply_by_quantized_multiplier as mbqm, rounding_divide_by_pot as rdbpot,
    saturating_rounding_doubling_high_mul as srdhm, QuantizedMultiplier,
};

const SCALED_DIFF_INTEGER_BITS: i32 = 5;
const ACCUMULATION_INTEGER_BITS: i32 = 12;
const OUTPUT_INTEGER_BITS: i32 = 4;
const OUTPUT_ZERO_POINT: i32 = 127;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogSoftmaxParams {
    pub input_multiplier: i32,
    pub input_left_shift: i32,
    pub reverse_multiplier: i32,
    pub reverse_right_shift: i32,
    pub diff_min: i32,
}

/// gemmlowp `RoundingHalfSum` on Q0.31 values.
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let s = a as i64 + b as i64;
    ((s + if s >= 0 { 1 } else { -1 }) / 2) as i32
}

fn saturating_add(a: i32, b: i32) -> i32 {
    a.saturating_add(b)
}

/// ln(x) for x ≥ 1: `input` has `IN` integer bits, the result 5 (TFLite's
/// `log_x_for_x_greater_than_or_equal_to_one_impl`, accumulating with 6).
fn log_x_ge_1<const IN: i32>(input: i32) -> i32 {
    const ACC: i32 = SCALED_DIFF_INTEGER_BITS + 1;
    const LOG_2: i32 = 1488522236;
    const SQRT_SQRT_HALF: i32 = 1805811301;
    const SQRT_HALF: i32 = 1518500250;
    const ONE_QUARTER: i32 = 536870912;
    const ALPHA_N: i32 = 117049297;
    const ALPHA_D: i32 = 127690142;
    const ALPHA_I: i32 = 1057819769;
    const ALPHA_F: i32 = 638450708;
    let shifted_quarter = mul_pot(ONE_QUARTER, -ACC);
    // Two candidate normalisations of the input into [1/2, 1): the one
    // closer to sqrt(sqrt(1/2)) keeps the approximant accurate.
    let za = input;
    let za_headroom_plus_1 = (za as u32).leading_zeros() as i32;
    let ra = mul_pot(srdhm(mul_pot(za, za_headroom_plus_1 - 1), SQRT_HALF), 1);
    let za_pow2 = saturating_add(mul_pot(IN - za_headroom_plus_1, 31 - ACC), shifted_quarter);
    let zb = srdhm(za, SQRT_HALF);
    let zb_headroom = (zb as u32).leading_zeros() as i32 - 1;
    let rb = mul_pot(za, zb_headroom);
    let zb_pow2 = mul_pot(IN - zb_headroom, 31 - ACC).saturating_sub(shifted_quarter);
    let r = ra.min(rb);
    let z_pow2 = za_pow2.max(zb_pow2);
    let p = rounding_half_sum(r, SQRT_SQRT_HALF);
    let q = r.wrapping_sub(SQRT_SQRT_HALF).wrapping_mul(2);
    let common_sq = srdhm(q, q);
    let num = srdhm(q, r).wrapping_add(srdhm(srdhm(q, common_sq), ALPHA_N));
    let denom_minus_one =
        srdhm(p, ALPHA_I.wrapping_add(q).wrapping_add(srdhm(ALPHA_D, common_sq))).wrapping_add(srdhm(ALPHA_F, q));
    let recip = one_over_one_plus_x_for_x_in_0_1(denom_minus_one);
    let sum = srdhm(z_pow2, LOG_2).wrapping_add(srdhm(mul_pot(num, -ACC), recip));
    mul_pot(sum, ACC - SCALED_DIFF_INTEGER_BITS)
}

impl LogSoftmaxParams {
    /// `None` where the reference's prepare aborts (an input scale ≤ 2^-26).
    pub fn prepare(in_scale: f32) -> Option<Self> {
        let real = (in_scale as f64 * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64).min((1i64 << 31) as f64 - 1.0);
        if real <= 1.0 {
            return None;
        }
        let m = QuantizedMultiplier::from_f64(real);
        let reverse = (1i64 << (31 - m.shift)) as f64 / m.multiplier as f64;
        let r = QuantizedMultiplier::from_f64(reverse);
        if !(0.0..1.0).contains(&reverse) || r.shift > 0 {
            return None;
        }
        let radius = ((1i64 << SCALED_DIFF_INTEGER_BITS) - 1) as f64 * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64
            / (1i64 << m.shift) as f64;
        Some(Self {
            input_multiplier: m.multiplier,
            input_left_shift: m.shift,
            reverse_multiplier: r.multiplier,
            reverse_right_shift: -r.shift,
            diff_min: -(libm::floor(radius) as i32),
        })
    }

    /// Log-softmax over the last axis (`depth` values per row).
    pub fn eval(&self, input: &[i8], output: &mut [i8], depth: usize) {
        if depth == 0 {
            return;
        }
        let scaled = |d: i32| mbqm(d, self.input_multiplier, self.input_left_shift);
        for (row, out) in input.chunks_exact(depth).zip(output.chunks_exact_mut(depth)) {
            let max = row.iter().copied().max().unwrap_or(i8::MIN) as i32;
            let mut sum: i32 = 0;
            for &x in row {
                let d = x as i32 - max;
                if d >= self.diff_min {
                    sum = sum.wrapping_add(rdbpot(exp_on_negative_values(scaled(d)), ACCUMULATION_INTEGER_BITS));
                }
            }
            let log_sum = log_x_ge_1::<ACCUMULATION_INTEGER_BITS>(sum);
            let shifted = log_sum.wrapping_add(i32::MIN);
            let adjusted_min =
                (self.diff_min - 1).max(mbqm(shifted, self.reverse_multiplier, -self.reverse_right_shift));
            for (o, &x) in out.iter_mut().zip(row) {
                let d = x as i32 - max;
                *o = if d > adjusted_min {
                    let v =
                        rdbpot(scaled(d).wrapping_sub(log_sum), 31 - SCALED_DIFF_INTEGER_BITS - OUTPUT_INTEGER_BITS);
                    (v + OUTPUT_ZERO_POINT).clamp(-128, 127) as i8
                } else {
                    -128
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Against the float definition: log_softmax(x)_i = x_i - max - ln Σ exp(x_j - max),
    //! on the output grid (scale 1/16, zero point 127) within two steps, and
    //! the prepared parameters of two scales worked through by hand from the
    //! reference's formulas.
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[test]
    fn prepare_of_one_tenth_and_one_sixteenth() {
        let p = LogSoftmaxParams::prepare(0.1).unwrap();
        assert_eq!(
            (p.input_multiplier, p.input_left_shift, p.reverse_multiplier, p.reverse_right_shift, p.diff_min),
            (1717986944, 23, 1342177260, 22, -248)
        );
        let p = LogSoftmaxParams::prepare(1.0 / 16.0).unwrap();
        assert_eq!(
            (p.input_multiplier, p.input_left_shift, p.reverse_multiplier, p.reverse_right_shift, p.diff_min),
            (1073741824, 23, 1073741824, 21, -248)
        );
        assert!(LogSoftmaxParams::prepare(1e-9).is_none());
    }

    /// Shrunk from the proptest: a difference of -15.7 (float output step
    /// -124.6) is already below the reference's cutoff; BUILTIN_REF gives
    /// [127, -128] for this row too.
    #[test]
    fn regression_cutoff_near_the_bottom_of_the_range() {
        let p = LogSoftmaxParams::prepare(0.12584688).unwrap();
        let mut out = [0i8; 2];
        p.eval(&[121, -4], &mut out, 2);
        assert_eq!(out, [127, -128]);
    }

    proptest! {
        #[test]
        fn log_softmax_is_within_two_steps(row in prop::collection::vec(any::<i8>(), 1..40), scale in 0.01f32..0.3) {
            let p = LogSoftmaxParams::prepare(scale).unwrap();
            let mut out = alloc::vec![0i8; row.len()];
            p.eval(&row, &mut out, row.len());
            let xs: Vec<f64> = row.iter().map(|&v| v as f64 * scale as f64).collect();
            let m = xs.iter().cloned().fold(f64::MIN, f64::max);
            let lse = xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln();
            for (x, o) in xs.iter().zip(&out) {
                let want = ((x - m - lse) * 16.0 + 127.0).round().clamp(-128.0, 127.0);
                // Near the bottom of the output range the reference cuts off to -128
                // (its `adjusted_diff_min`), up to a few steps early.
                let cut = *o == -128 && want <= -120.0;
                prop_assert!(cut || (*o as f64 - want).abs() <= 2.0, "{} vs {}", o, want);
            }
        }
    }
}
