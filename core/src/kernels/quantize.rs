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

/// float → int8 (or uint8): `round(x / scale) + zero_point`, saturated;
/// `input` holds the floats as little-endian bytes (as the arena does).
pub fn quantize_f32(input: &[u8], scale: f32, zero_point: i32, unsigned: bool, output: &mut [u8]) {
    let n = output.len().min(input.len() / 4);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = simd::quantize(&input[..4 * n], scale, zero_point, unsigned, &mut output[..n]);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    let (lo, hi) = range(unsigned);
    for (o, x) in output[done..n].iter_mut().zip(input[4 * done..].chunks_exact(4)) {
        let x = f32::from_le_bytes([x[0], x[1], x[2], x[3]]);
        *o = round_to_i32(x / scale).saturating_add(zero_point).clamp(lo, hi) as u8;
    }
}

/// wasm32 `simd128`: sixteen floats a step, the scalar loop's arithmetic
/// lane by lane (IEEE division, the same rounding from the truncation's
/// remainder), after a clamp to ±2^30 that no 8-bit result can tell apart
/// and that keeps the `i32` steps from wrapping (NaN stays NaN, then 0).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    #![allow(unsafe_code)]
    use core::arch::wasm32::*;

    /// The first multiple of sixteen of `output`'s elements; returns how many.
    pub fn quantize(input: &[u8], scale: f32, zero_point: i32, unsigned: bool, output: &mut [u8]) -> usize {
        let (lo, hi) = super::range(unsigned);
        if zero_point.unsigned_abs() > 1 << 16 {
            return 0;
        }
        let (s, big) = (f32x4_splat(scale), f32x4_splat((1u32 << 30) as f32));
        let (half, zp) = (f32x4_splat(0.5), i32x4_splat(zero_point));
        let (lo, hi) = (i32x4_splat(lo), i32x4_splat(hi));
        let lanes = |v: v128| {
            let q = f32x4_pmax(f32x4_pmin(f32x4_div(v, s), big), f32x4_neg(big));
            let t = i32x4_trunc_sat_f32x4(q);
            let d = f32x4_sub(q, f32x4_convert_i32x4(t));
            // The comparisons' all-ones lanes are −1: up subtracts it, down adds it.
            let t = i32x4_add(i32x4_sub(t, f32x4_ge(d, half)), f32x4_le(d, f32x4_neg(half)));
            i32x4_min(i32x4_max(i32x4_add(t, zp), lo), hi)
        };
        let n = output.len() / 16 * 16;
        for (o, x) in output[..n].chunks_exact_mut(16).zip(input.chunks_exact(64)) {
            // SAFETY: `x` is 64 bytes, `o` 16.
            unsafe {
                let v: [v128; 4] = core::array::from_fn(|k| lanes(v128_load(x.as_ptr().add(16 * k).cast())));
                let (a, b) = (i16x8_narrow_i32x4(v[0], v[1]), i16x8_narrow_i32x4(v[2], v[3]));
                let bytes = if unsigned { u8x16_narrow_i16x8(a, b) } else { i8x16_narrow_i16x8(a, b) };
                v128_store(o.as_mut_ptr().cast(), bytes);
            }
        }
        n
    }
}

/// `roundf(x) as i32` (half away from zero; `as` saturates and maps NaN to
/// 0) without `libm`'s software `roundf`: the truncation's remainder
/// `x − trunc(x)` is exact in `f32`, and decides the step away from zero.
/// Past 2^23 every `f32` is an integer (remainder 0); past `i32`'s range the
/// truncation saturates as the rounded value would.
#[inline(always)]
pub(crate) fn round_to_i32(x: f32) -> i32 {
    let t = x as i32;
    let d = x - t as f32;
    if d >= 0.5 {
        t.saturating_add(1)
    } else if d <= -0.5 {
        t.saturating_sub(1)
    } else {
        t
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
    use alloc::vec::Vec;
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
        /// A run of any floats (NaN, infinities, far past the int8 range,
        /// exact halves of the scale) as each element alone: the SIMD steps
        /// on wasm and the scalar tail agree.
        #[test]
        fn a_run_quantizes_as_each_element(
            bits in prop::collection::vec(any::<u32>(), 0..80),
            halves in prop::collection::vec(-300i32..300, 80),
            s in scale(),
            z in -128i32..=127,
            unsigned in any::<bool>(),
        ) {
            let xs: Vec<f32> = bits
                .iter()
                .zip(&halves)
                .enumerate()
                .map(|(i, (&b, &h))| if i % 2 == 0 { f32::from_bits(b) } else { (h as f32 + 0.5) * s })
                .collect();
            let bytes: Vec<u8> = xs.iter().flat_map(|x| x.to_le_bytes()).collect();
            let z = if unsigned { z + 128 } else { z };
            let mut run = alloc::vec![0u8; xs.len()];
            quantize_f32(&bytes, s, z, unsigned, &mut run);
            for (x, &got) in xs.iter().zip(&run) {
                let mut one = [0u8];
                quantize_f32(&x.to_le_bytes(), s, z, unsigned, &mut one);
                prop_assert_eq!(got, one[0], "{}", x);
            }
        }

        #[test]
        fn round_to_i32_is_libm_roundf_as_i32(bits in any::<u32>(), half in -(1i32 << 24)..(1 << 24)) {
            // Any f32 (NaN, infinities, subnormals, past i32's range), and exact halves.
            for x in [f32::from_bits(bits), half as f32 + 0.5, half as f32 - 0.5, (half as f32 + 0.5).next_down()] {
                prop_assert_eq!(round_to_i32(x), libm::roundf(x) as i32, "{}", x);
            }
        }

        #[test]
        fn quantize_rounds_half_away_and_saturates(x in -1000.0f32..1000.0, s in scale(), z in -128i32..=127) {
            let mut o = [0u8];
            quantize_f32(&x.to_le_bytes(), s, z, false, &mut o);
            let q = x / s;
            let r = if q >= 0.0 { libm::floorf(q + 0.5) } else { libm::ceilf(q - 0.5) };
            prop_assert_eq!(o[0] as i8 as i32, (r as i64 + z as i64).clamp(-128, 127) as i32);
            quantize_f32(&x.to_le_bytes(), s, z + 128, true, &mut o);
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
