//! QUANTIZE (float → int8/uint8, int8/uint8 → int8/uint8 requantize) and
//! DEQUANTIZE (int8/uint8 → float). A uint8 value travels as its byte; the
//! `unsigned` flags say how to read and saturate it.

use crate::fixedpoint::QuantizedMultiplier;

/// The value range of an 8-bit integer type.
#[inline]
pub(crate) const fn range(unsigned: bool) -> (i32, i32) {
    if unsigned {
        (0, 255)
    } else {
        (-128, 127)
    }
}

/// An 8-bit value stored as its byte.
#[inline]
pub(crate) fn value(b: u8, unsigned: bool) -> i32 {
    if unsigned {
        b as i32
    } else {
        b as i8 as i32
    }
}

/// float → int8 (or uint8): `round(x / scale) + zero_point`, saturated.
pub fn quantize_f32(input: impl Iterator<Item = f32>, scale: f32, zero_point: i32, unsigned: bool, output: &mut [u8]) {
    let (lo, hi) = range(unsigned);
    for (o, x) in output.iter_mut().zip(input) {
        let q = libm::roundf(x / scale);
        // `as i32` saturates (and maps NaN to 0), like the reference's clamp.
        *o = (q as i32).saturating_add(zero_point).clamp(lo, hi) as u8;
    }
}

/// 8-bit → 8-bit requantization (TFLite's `Requantize`; its shift-by-128
/// fast path between int8 and uint8 gives the same bytes as this).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Requantize {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub multiplier: QuantizedMultiplier,
    pub input_unsigned: bool,
    pub output_unsigned: bool,
}

impl Requantize {
    pub fn prepare(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32) -> Self {
        Self {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            multiplier: QuantizedMultiplier::from_f64(in_scale as f64 / out_scale as f64),
            input_unsigned: false,
            output_unsigned: false,
        }
    }
    pub fn eval(&self, input: &[u8], output: &mut [u8]) {
        let (lo, hi) = range(self.output_unsigned);
        for (o, &x) in output.iter_mut().zip(input) {
            let v = self
                .multiplier
                .apply(value(x, self.input_unsigned) - self.input_zero_point)
                .wrapping_add(self.output_zero_point);
            *o = v.clamp(lo, hi) as u8;
        }
    }
}

/// int8 (or uint8) → float: `scale * (q - zero_point)`, with the product
/// taken in double precision as the reference does.
#[inline]
pub fn dequantize_one(q: i32, scale: f32, zero_point: i32) -> f32 {
    (scale as f64 * (q - zero_point) as f64) as f32
}

#[cfg(test)]
mod tests {
    //! QUANTIZE, requantize and DEQUANTIZE against their real-valued
    //! definitions: float → int8 exactly `round_half_away(x / s) + z`
    //! saturated, int8 → float exactly `s · (q − z)`, int8 → int8 within one
    //! output step of the rescaled value.
    use super::*;
    use proptest::prelude::*;

    fn scale() -> impl Strategy<Value = f32> {
        (-9i32..=2, 1.0f32..2.0).prop_map(|(e, m)| m * 2f32.powi(e))
    }

    /// The reference's int8 ↔ uint8 fast path flips the top bit; the general path must agree.
    #[test]
    fn shifting_by_128_between_int8_and_uint8_flips_the_top_bit() {
        for (zi, zo, iu, ou) in [(-128, 0, false, true), (0, -128, true, false), (5, 133, false, true)] {
            let r = Requantize { input_unsigned: iu, output_unsigned: ou, ..Requantize::prepare(0.02, zi, 0.02, zo) };
            for b in 0..=255u8 {
                let mut o = [0u8];
                r.eval(&[b], &mut o);
                assert_eq!(o[0], b ^ 0x80, "{zi} -> {zo}: {b}");
            }
        }
    }

    proptest! {
        #[test]
        fn quantize_rounds_half_away_and_saturates(x in -1000.0f32..1000.0, s in scale(), z in -128i32..=127) {
            let mut o = [0u8];
            quantize_f32(core::iter::once(x), s, z, false, &mut o);
            let q = x / s;
            let r = if q >= 0.0 { libm::floorf(q + 0.5) } else { libm::ceilf(q - 0.5) };
            prop_assert_eq!(o[0] as i8 as i32, (r as i64 + z as i64).clamp(-128, 127) as i32);
            quantize_f32(core::iter::once(x), s, z + 128, true, &mut o);
            prop_assert_eq!(o[0] as i32, (r as i64 + z as i64 + 128).clamp(0, 255) as i32);
        }

        #[test]
        fn dequantize_is_exact(q in any::<i8>(), s in scale(), z in -128i32..=127) {
            prop_assert_eq!(dequantize_one(q as i32, s, z), (s as f64 * (q as i32 - z) as f64) as f32);
        }

        #[test]
        fn requantize_is_within_one_step(si in scale(), zi in -128i32..=127, so in scale(), zo in -128i32..=127) {
            prop_assume!(si / so < 64.0);
            let r = Requantize::prepare(si, zi, so, zo);
            for v in -128i32..=127 {
                let mut o = [0u8];
                r.eval(&[v as u8], &mut o);
                let want = ((v - zi) as f64 * si as f64 / so as f64 + zo as f64).clamp(-128.0, 127.0);
                prop_assert!((o[0] as i8 as f64 - want).abs() <= 1.0, "{} -> {} (want {})", v, o[0], want);
            }
        }
    }
}
