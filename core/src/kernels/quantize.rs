//! QUANTIZE (float → int8, int8 → int8 requantize) and DEQUANTIZE (int8 → float).

use super::clamp_i8;
use crate::fixedpoint::QuantizedMultiplier;

/// float → int8: `round(x / scale) + zero_point`, saturated.
pub fn quantize_f32(input: impl Iterator<Item = f32>, scale: f32, zero_point: i32, output: &mut [i8]) {
    for (o, x) in output.iter_mut().zip(input) {
        let q = libm::roundf(x / scale);
        // `as i32` saturates (and maps NaN to 0), like the reference's clamp.
        *o = clamp_i8((q as i32).saturating_add(zero_point), i8::MIN as i32, i8::MAX as i32);
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Requantize {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub multiplier: QuantizedMultiplier,
}

impl Requantize {
    pub fn prepare(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32) -> Self {
        Self {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            multiplier: QuantizedMultiplier::from_f64(in_scale as f64 / out_scale as f64),
        }
    }
    pub fn eval(&self, input: &[i8], output: &mut [i8]) {
        for (o, &x) in output.iter_mut().zip(input) {
            let v = self.multiplier.apply(x as i32 - self.input_zero_point) + self.output_zero_point;
            *o = clamp_i8(v, i8::MIN as i32, i8::MAX as i32);
        }
    }
}

/// int8 → float: `scale * (q - zero_point)`, with the product taken in double
/// precision as the reference does.
#[inline]
pub fn dequantize_one(q: i8, scale: f32, zero_point: i32) -> f32 {
    (scale as f64 * (q as i32 - zero_point) as f64) as f32
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

    proptest! {
        #[test]
        fn quantize_rounds_half_away_and_saturates(x in -1000.0f32..1000.0, s in scale(), z in -128i32..=127) {
            let mut o = [0i8];
            quantize_f32(core::iter::once(x), s, z, &mut o);
            let q = x / s;
            let r = if q >= 0.0 { libm::floorf(q + 0.5) } else { libm::ceilf(q - 0.5) };
            prop_assert_eq!(o[0] as i32, (r as i64 + z as i64).clamp(-128, 127) as i32);
        }

        #[test]
        fn dequantize_is_exact(q in any::<i8>(), s in scale(), z in -128i32..=127) {
            prop_assert_eq!(dequantize_one(q, s, z), (s as f64 * (q as i32 - z) as f64) as f32);
        }

        #[test]
        fn requantize_is_within_one_step(si in scale(), zi in -128i32..=127, so in scale(), zo in -128i32..=127) {
            prop_assume!(si / so < 64.0);
            let r = Requantize::prepare(si, zi, so, zo);
            for v in -128i32..=127 {
                let mut o = [0i8];
                r.eval(&[v as i8], &mut o);
                let want = ((v - zi) as f64 * si as f64 / so as f64 + zo as f64).clamp(-128.0, 127.0);
                prop_assert!((o[0] as f64 - want).abs() <= 1.0, "{} -> {} (want {})", v, o[0], want);
            }
        }
    }
}
