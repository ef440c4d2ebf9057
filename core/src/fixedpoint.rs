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

    /// [`apply`](Self::apply) in fewer instructions, with the same result for
    /// every `x` (the optimized kernels' requantization).
    ///
    /// The reference's nudge-and-truncate (`(ab ± 2^30) / 2^31` toward zero)
    /// equals `(ab + 2^30) >> 31` (toward −∞) for every product: writing
    /// `ab = q·2^31 + r` with `0 ≤ r < 2^31`, both are `q + [r ≥ 2^30]`. So the
    /// high multiply is one widening multiply-add and a shift (`SMLAL` on
    /// Cortex-M). Its saturation only concerns `i32::MIN · i32::MIN`, which
    /// needs a multiplier of `i32::MIN`; `from_f64` never makes one, and that
    /// value takes the reference path.
    #[inline(always)]
    pub fn apply_fast(self, x: i32) -> i32 {
        if self.multiplier == i32::MIN {
            return self.apply(x);
        }
        let left = if self.shift > 0 { self.shift as u32 } else { 0 };
        let right = if self.shift > 0 { 0 } else { (-self.shift) as u32 };
        let x = x.wrapping_shl(left);
        let high = ((x as i64 * self.multiplier as i64 + (1 << 30)) >> 31) as i32;
        // Rounding right shift, half away from zero (the reference's `rounding_divide_by_pot`).
        let mask = ((1u32 << right) - 1) as i32;
        let threshold = (mask >> 1) + (high < 0) as i32;
        (high >> right) + ((high & mask) > threshold) as i32
    }
}

impl QuantizedMultiplier {
    /// The multiplier with [`apply_fast`](Self::apply_fast)'s shift amounts
    /// worked out once, for a loop over pixels of one channel.
    pub const fn prepared(self) -> PreparedMultiplier {
        let left = if self.shift > 0 { self.shift as u32 } else { 0 };
        let right = if self.shift > 0 { 0 } else { (-self.shift) as u32 };
        let mask = ((1u64 << right) - 1) as i32;
        PreparedMultiplier { q: self, left, right, mask, half: mask >> 1 }
    }
}

/// [`QuantizedMultiplier::prepared`]: `apply` is `apply_fast` (and `apply`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreparedMultiplier {
    q: QuantizedMultiplier,
    left: u32,
    right: u32,
    mask: i32,
    half: i32,
}

impl PreparedMultiplier {
    #[inline(always)]
    pub fn apply(self, x: i32) -> i32 {
        if self.q.multiplier == i32::MIN {
            return self.q.apply(x);
        }
        let x = x.wrapping_shl(self.left);
        let high = ((x as i64 * self.q.multiplier as i64 + (1 << 30)) >> 31) as i32;
        (high >> self.right) + ((high & self.mask) > self.half + (high < 0) as i32) as i32
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

    proptest::proptest! {
        #[test]
        fn apply_fast_is_apply(x: i32, m in 0i32..=i32::MAX, shift in -31i32..=30) {
            let q = QuantizedMultiplier { multiplier: m, shift };
            proptest::prop_assert_eq!(q.apply_fast(x), q.apply(x));
        }

        #[test]
        fn prepared_is_apply(x: i32, m in proptest::prelude::any::<i32>(), shift in -31i32..=30) {
            let q = QuantizedMultiplier { multiplier: m, shift };
            proptest::prop_assert_eq!(q.prepared().apply(x), q.apply(x));
        }

        #[test]
        fn apply_fast_is_apply_near_the_rounding_points(q in 0i64..(1 << 31), r in -3i64..3, m in (1i32 << 30)..=i32::MAX, shift in -31i32..=1) {
            // Products just around (k + 1/2)·2^31: where the two roundings could part.
            let target = (q << 31) + (1 << 30) + r;
            let x = (target / m as i64) as i32;
            let qm = QuantizedMultiplier { multiplier: m, shift };
            for x in [x.wrapping_sub(1), x, x.wrapping_add(1), x.wrapping_neg()] {
                proptest::prop_assert_eq!(qm.apply_fast(x), qm.apply(x));
            }
        }
    }

    #[test]
    fn apply_fast_extremes() {
        for m in [0, 1, 1 << 30, i32::MAX, i32::MIN] {
            for shift in [-31, -12, -1, 0, 1, 30] {
                for x in [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX] {
                    let q = QuantizedMultiplier { multiplier: m, shift };
                    assert_eq!(q.apply_fast(x), q.apply(x), "{q:?} {x}");
                }
            }
        }
    }

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
