//! Fixed-point arithmetic of the TFLite int8 quantization spec.
//!
//! These functions define bit-exactness: every kernel rescales through them,
//! so each one reproduces the reference semantics (gemmlowp-style double
//! rounding) rather than a "mathematically nicer" rounding.

/// `(a * b * 2) >> 32` with round-half-away-from-zero and saturation of the
/// single overflowing case `MIN * MIN`.
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == b && a == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // Division (not shift) on purpose: it truncates toward zero.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// Arithmetic right shift with round-half-away-from-zero.
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    debug_assert!((0..=31).contains(&exponent));
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + (x < 0) as i32;
    (x >> exponent) + (remainder > threshold) as i32
}

/// `x * multiplier * 2^shift`, with `multiplier` a Q31 value in [0.5, 1).
#[inline]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = if shift > 0 { shift } else { 0 };
    let right = if shift > 0 { 0 } else { -shift };
    rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x.wrapping_mul(1i32 << left), multiplier), right)
}

/// A real multiplier encoded as a Q31 significand and a power-of-two exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct QuantizedMultiplier {
    pub multiplier: i32,
    pub shift: i32,
}
crate::literal_struct!(QuantizedMultiplier { multiplier, shift });

impl QuantizedMultiplier {
    /// Encodes `real` the way TFLite's `QuantizeMultiplier` does: frexp,
    /// round the significand to Q31, renormalise the 2^31 overflow and flush
    /// tiny values to zero.
    pub fn from_f64(real: f64) -> Self {
        if real == 0.0 {
            return Self::default();
        }
        let (q, mut shift) = libm::frexp(real);
        let mut q_fixed = libm::round(q * (1i64 << 31) as f64) as i64;
        if q_fixed == 1i64 << 31 {
            q_fixed /= 2;
            shift += 1;
        }
        if shift < -31 {
            shift = 0;
            q_fixed = 0;
        }
        // Only hostile scales get here (real multiplier >= 2^30); saturate
        // rather than shift an i32 past its width.
        if shift > 30 {
            shift = 30;
            q_fixed = i32::MAX as i64;
        }
        Self { multiplier: q_fixed as i32, shift }
    }

    #[inline]
    pub fn apply(self, x: i32) -> i32 {
        multiply_by_quantized_multiplier(x, self.multiplier, self.shift)
    }
}

/// Round half away from zero, as `std::round`/`TfLiteRound` do.
#[inline]
pub fn round_f32(x: f32) -> f32 {
    libm::roundf(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srdhm_saturates_only_min_min() {
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MAX), -i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
    }

    #[test]
    fn rounding_divide_rounds_half_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(4, 1), 2);
        assert_eq!(rounding_divide_by_pot(-7, 2), -2);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
    }

    #[test]
    fn quantize_multiplier_matches_frexp_definition() {
        let m = QuantizedMultiplier::from_f64(0.5);
        assert_eq!((m.multiplier, m.shift), (1 << 30, 0));
        let m = QuantizedMultiplier::from_f64(1.0);
        assert_eq!((m.multiplier, m.shift), (1 << 30, 1));
        // Significand rounding up to 2^31 renormalises.
        let m = QuantizedMultiplier::from_f64(0.999_999_999_9);
        assert_eq!((m.multiplier, m.shift), (1 << 30, 1));
        assert_eq!(QuantizedMultiplier::from_f64(1e-12).multiplier, 0);
        assert_eq!(QuantizedMultiplier::from_f64(0.25).apply(100), 25);
        assert_eq!(QuantizedMultiplier::from_f64(3.0).apply(-7), -21);
    }
}
