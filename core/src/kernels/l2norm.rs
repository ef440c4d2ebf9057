//! L2_NORMALIZATION, int8 → int8 (output scale 1/128, zero point 0), as
//! TFLite's reference integer kernel: per row, the sum of squared offsets,
//! its inverse square root by Newton iteration in fixed point, and each
//! offset rescaled by it. No epsilon: an all-zero-point row gives zeros.

use crate::fixedpoint::{
    multiply_by_quantized_multiplier as mbqm, rounding_divide_by_pot as rdbpot,
    saturating_rounding_doubling_high_mul as srdhm,
};
use crate::kernels::softmax::mul_pot;

/// `1 / sqrt(input)` as a multiplier and a (left) shift (TFLite's
/// `GetInvSqrtQuantizedMultiplierExp` with reverse shift -1).
fn inv_sqrt(mut input: i32) -> (i32, i32) {
    if input <= 1 {
        // Includes a sum of squares that wrapped negative, as in the reference.
        return (i32::MAX, 0);
    }
    let mut shift: i32 = 11;
    while input >= 1 << 29 {
        input /= 4;
        shift += 1;
    }
    let pairs = ((input as u32).leading_zeros() as i32 - 1) / 2;
    let k = pairs - 1;
    shift -= k;
    input <<= 2 * k;
    let half_input = rdbpot(input >> 1, 1);
    const HALF_THREE: i32 = (1 << 28) + (1 << 27);
    let mut x: i32 = 1 << 28;
    for _ in 0..5 {
        let x3 = mul_pot(srdhm(srdhm(x, x), x), 6);
        x = mul_pot(srdhm(HALF_THREE, x).wrapping_sub(srdhm(half_input, x3)), 3);
    }
    x = srdhm(x, 1518500250);
    if shift < 0 {
        x = x.wrapping_shl((-shift) as u32);
        shift = 0;
    }
    (x, -shift)
}

/// L2-normalises each row of `depth` values with input zero point `zp`.
pub fn l2_normalize(zp: i32, input: &[i8], output: &mut [i8], depth: usize) {
    if depth == 0 {
        return;
    }
    for (row, out) in input.chunks_exact(depth).zip(output.chunks_exact_mut(depth)) {
        let sum = row.iter().fold(0i32, |acc, &v| {
            let d = v as i32 - zp;
            acc.wrapping_add(d * d)
        });
        let (m, shift) = inv_sqrt(sum);
        for (o, &v) in out.iter_mut().zip(row) {
            *o = mbqm(v as i32 - zp, m, shift + 7).clamp(-128, 127) as i8;
        }
    }
}

#[cfg(test)]
mod tests {
    //! Against the float definition x / ||x|| on the output grid (scale
    //! 1/128) within one step, and the documented edge cases.
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_all_zero_point_row_is_zero_and_a_unit_row_saturates() {
        let mut out = [1i8; 3];
        l2_normalize(5, &[5, 5, 5], &mut out, 3);
        assert_eq!(out, [0, 0, 0]);
        l2_normalize(0, &[0, -1, 0], &mut out, 3);
        assert_eq!(out, [0, -128, 0]);
    }

    proptest! {
        #[test]
        fn l2_is_within_one_step(row in prop::collection::vec(any::<i8>(), 1..64), zp in -128i32..=127) {
            let norm = row.iter().map(|&v| ((v as i32 - zp) as f64).powi(2)).sum::<f64>().sqrt();
            prop_assume!(norm > 2.0);
            let mut out = alloc::vec![0i8; row.len()];
            l2_normalize(zp, &row, &mut out, row.len());
            for (&v, &o) in row.iter().zip(&out) {
                let want = ((v as i32 - zp) as f64 / norm * 128.0).round().clamp(-128.0, 127.0);
                prop_assert!((o as f64 - want).abs() <= 1.0, "{} vs {}", o, want);
            }
        }
    }
}
