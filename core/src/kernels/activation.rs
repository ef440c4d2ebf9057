//! RELU, RELU6, LOGISTIC, TANH and HARD_SWISH on int8, each following the
//! arithmetic of TFLite's BUILTIN_REF kernel (which differs per op: float
//! scale division for RELU, a float lookup table for LOGISTIC and TANH, int16 fixed
//! point for HARD_SWISH).

use super::clamp_i8;
use crate::fixedpoint::{round_f32, rounding_divide_by_pot, QuantizedMultiplier};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReluParams {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub multiplier: QuantizedMultiplier,
    pub act_min: i32,
    pub act_max: i32,
}

impl ReluParams {
    pub fn prepare(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32, relu6: bool) -> Self {
        // Saturating, as in `kernels::activation_range` (a tiny scale overflows).
        let q = |f: f32| out_zp.saturating_add(round_f32(f / out_scale) as i32);
        Self {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            // The reference divides the scales in single precision first.
            multiplier: QuantizedMultiplier::from_f64((in_scale / out_scale) as f64),
            act_min: q(0.0).max(-128),
            act_max: if relu6 { q(6.0).min(127) } else { 127 },
        }
    }
    pub fn eval(&self, input: &[i8], output: &mut [i8]) {
        for (o, &x) in output.iter_mut().zip(input) {
            let v = self.output_zero_point.saturating_add(self.multiplier.apply(x as i32 - self.input_zero_point));
            *o = clamp_i8(v, self.act_min, self.act_max);
        }
    }
}

/// LEAKY_RELU: the offset input rescaled by `s_in / s_out` where it is
/// non-negative and by `alpha · s_in / s_out` where it is negative (both
/// products of f32 scales, as the reference computes them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyReluParams {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub identity: QuantizedMultiplier,
    pub alpha: QuantizedMultiplier,
}

impl LeakyReluParams {
    pub fn prepare(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32, alpha: f32) -> Self {
        Self {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            identity: QuantizedMultiplier::from_f64((in_scale / out_scale) as f64),
            alpha: QuantizedMultiplier::from_f64((in_scale * alpha / out_scale) as f64),
        }
    }
    pub fn eval(&self, input: &[i8], output: &mut [i8]) {
        for (o, &x) in output.iter_mut().zip(input) {
            let v = x as i32 - self.input_zero_point;
            let m = if v >= 0 { self.identity } else { self.alpha };
            *o = clamp_i8(self.output_zero_point.saturating_add(m.apply(v)), -128, 127);
        }
    }
}

/// A 256-entry int8 → int8 table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lut(pub [i8; 256]);

impl Lut {
    pub fn eval(&self, input: &[i8], output: &mut [i8]) {
        lookup(&self.0, input, output)
    }

    /// The table of an element-wise map that depends on the value alone:
    /// `kernel` (a reference kernel) run once on all 256 int8 values, so a
    /// lookup equals it by construction.
    pub fn tabulate(kernel: impl Fn(&[i8], &mut [i8])) -> Self {
        let input: [i8; 256] = core::array::from_fn(|i| i as u8 as i8);
        let mut lut = [0i8; 256];
        kernel(&input, &mut lut);
        Lut(lut)
    }
}

/// `output[i] = table[input[i]]`, indexing the table by the int8 value's bits.
pub fn lookup(table: &[i8; 256], input: &[i8], output: &mut [i8]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = table[x as u8 as usize];
    }
}

impl Lut {
    /// LOGISTIC: the reference kernel tabulates `1 / (1 + exp(-x))` in f32.
    pub fn logistic(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32) -> Self {
        Self::of(in_scale, in_zp, out_scale, out_zp, |x| 1.0f32 / (1.0f32 + libm::expf(-x)))
    }

    /// TANH: the reference kernel tabulates `tanh(x)` in f32.
    pub fn tanh(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32) -> Self {
        Self::of(in_scale, in_zp, out_scale, out_zp, libm::tanhf)
    }

    /// TFLite's `PopulateLookupTable`: dequantize, map, round, requantize, all in f32.
    fn of(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32, f: impl Fn(f32) -> f32) -> Self {
        let inv = 1.0f32 / out_scale;
        let mut lut = [0i8; 256];
        for v in -128i32..=127 {
            let x = in_scale * (v - in_zp) as f32;
            let r = round_f32(f(x) * inv);
            lut[v as u8 as usize] = clamp_i8((r as i32).saturating_add(out_zp), -128, 127);
        }
        Lut(lut)
    }
}

/// gemmlowp `SaturatingRoundingDoublingHighMul` on int16.
#[inline]
fn srdhm16(a: i16, b: i16) -> i16 {
    if a == b && a == i16::MIN {
        return i16::MAX;
    }
    let ab = a as i32 * b as i32;
    let nudge = if ab >= 0 { 1 << 14 } else { 1 - (1 << 14) };
    ((ab + nudge) / (1 << 15)) as i16
}

/// Doubling high multiply without rounding (truncates toward zero).
#[inline]
fn sdhm16(a: i16, b: i16) -> i16 {
    if a == b && a == i16::MIN {
        return i16::MAX;
    }
    ((a as i32 * b as i32) / (1 << 15)) as i16
}

#[inline]
fn saturating_left_shift16(v: i16, k: i32) -> i16 {
    ((v as i32) << k).clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

fn downscale_to_i16(m: i32) -> i16 {
    if m >= i32::MAX - (1 << 15) {
        i16::MAX
    } else {
        ((m + (1 << 15)) >> 16) as i16
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HardSwishParams {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub output_multiplier: i16,
    pub output_exponent: i32,
    pub reluish_multiplier: i16,
    pub reluish_exponent: i32,
}

impl HardSwishParams {
    /// Fails (`None`) where the reference's prepare fails: an output
    /// multiplier above one.
    pub fn prepare(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32) -> Option<Self> {
        let hires = (1.0f32 / 128.0) * in_scale;
        let out_mult = hires / out_scale;
        let reluish = hires / (3.0f32 / 32768.0);
        let o = QuantizedMultiplier::from_f64(out_mult as f64);
        let r = QuantizedMultiplier::from_f64(reluish as f64);
        if o.shift > 0 {
            return None;
        }
        Some(Self {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            output_multiplier: downscale_to_i16(o.multiplier),
            output_exponent: o.shift,
            reluish_multiplier: downscale_to_i16(r.multiplier),
            reluish_exponent: r.shift,
        })
    }

    #[inline]
    pub fn apply(&self, x: i8) -> i8 {
        let iv = (x as i32 - self.input_zero_point) as i16;
        let hi = iv.wrapping_mul(128);
        let pre = srdhm16(hi, self.output_multiplier);
        let mut rv = hi;
        if self.reluish_exponent > 0 {
            rv = saturating_left_shift16(rv, self.reluish_exponent - 1);
        }
        rv = srdhm16(rv, self.reluish_multiplier);
        if self.reluish_exponent > 0 {
            rv = saturating_left_shift16(rv, 1);
        }
        if self.reluish_exponent < 0 {
            rv = rounding_divide_by_pot(rv as i32, -self.reluish_exponent) as i16;
        }
        let rv = ((rv as i32 + 32768) >> 1) as i16;
        let po = sdhm16(rv, pre);
        let out = rounding_divide_by_pot(po as i32, -self.output_exponent) as i16;
        clamp_i8(out.wrapping_add(self.output_zero_point as i16) as i32, -128, 127)
    }

    pub fn eval(&self, input: &[i8], output: &mut [i8]) {
        for (o, &x) in output.iter_mut().zip(input) {
            *o = self.apply(x);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The fixed-point maps against the real-valued functions they quantize:
    //! within one output step of `quantize(f(dequantize(x)))` for every int8
    //! input, over random scales and zero points. (Bit-exactness with the
    //! reference kernels is the per-op goldens' job; this catches a wrong
    //! formula or an overflow on inputs the goldens do not reach.)
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// What the program runs (a table built from the reference kernel)
        /// equals the reference kernel on any input, for each value-only map.
        #[test]
        fn tabulated_maps_equal_their_kernels(
            (si, so) in (1e-4f32..1.0, 1e-4f32..1.0),
            (zi, zo) in (-128i32..=127, -128i32..=127),
            relu6 in any::<bool>(),
            alpha in -2.0f32..2.0,
            input in prop::collection::vec(any::<i8>(), 0..600),
        ) {
            let check = |kernel: &dyn Fn(&[i8], &mut [i8])| {
                let (mut want, mut got) = (alloc::vec![0i8; input.len()], alloc::vec![1i8; input.len()]);
                kernel(&input, &mut want);
                Lut::tabulate(kernel).eval(&input, &mut got);
                assert_eq!(got, want);
            };
            let r = ReluParams::prepare(si, zi, so, zo, relu6);
            check(&|x, o| r.eval(x, o));
            let l = LeakyReluParams::prepare(si, zi, so, zo, alpha);
            check(&|x, o| l.eval(x, o));
            if let Some(h) = HardSwishParams::prepare(si, zi, so, zo) {
                check(&|x, o| h.eval(x, o));
            }
        }
    }

    #[derive(Debug)]
    struct MapProblem {
        in_q: (f32, i32),
        out_q: (f32, i32),
    }

    impl MapProblem {
        /// Largest distance, in output steps, between `kernel` and `f` over all 256 inputs.
        fn worst(&self, kernel: impl Fn(i8) -> i8, f: impl Fn(f64) -> f64) -> f64 {
            let ((si, zi), (so, zo)) = self.in_q_out();
            (-128i32..=127)
                .map(|v| {
                    let want = (f(si * (v as f64 - zi)) / so + zo).clamp(-128.0, 127.0);
                    (kernel(v as i8) as f64 - want).abs()
                })
                .fold(0.0, f64::max)
        }
        fn in_q_out(&self) -> ((f64, f64), (f64, f64)) {
            let f = |(s, z): (f32, i32)| (s as f64, z as f64);
            (f(self.in_q), f(self.out_q))
        }
    }

    fn scale() -> impl Strategy<Value = f32> {
        (-9i32..=-2, 1.0f32..2.0).prop_map(|(e, m)| m * 2f32.powi(e))
    }

    fn problem() -> impl Strategy<Value = MapProblem> {
        (scale(), -128i32..=127, scale(), -128i32..=127)
            .prop_map(|(si, zi, so, zo)| MapProblem { in_q: (si, zi), out_q: (so, zo) })
    }

    fn one(kernel: impl Fn(&[i8], &mut [i8])) -> impl Fn(i8) -> i8 {
        move |x| {
            let mut o = [0i8];
            kernel(&[x], &mut o);
            o[0]
        }
    }

    proptest! {
        #[test]
        fn relu_and_relu6_are_within_one_step(p in problem(), six in any::<bool>()) {
            let r = ReluParams::prepare(p.in_q.0, p.in_q.1, p.out_q.0, p.out_q.1, six);
            let hi = if six { 6.0 } else { f64::INFINITY };
            prop_assert!(p.worst(one(|x, o| r.eval(x, o)), |x| x.clamp(0.0, hi)) <= 1.0);
        }

        #[test]
        fn hard_swish_is_within_one_and_a_half_steps(p in problem()) {
            prop_assume!(p.out_q.0 >= p.in_q.0 / 128.0);
            let Some(h) = HardSwishParams::prepare(p.in_q.0, p.in_q.1, p.out_q.0, p.out_q.1) else { return Ok(()) };
            let f = |x: f64| x * (x + 3.0).clamp(0.0, 6.0) / 6.0;
            // The reference's 16-bit intermediates (the ReLU-ish factor in Q0.15) add
            // up to ~0.4 of a step when the input scale is far above the output's.
            prop_assert!(p.worst(one(|x, o| h.eval(x, o)), f) <= 1.5);
        }

        #[test]
        fn leaky_relu_is_within_one_step(p in problem(), alpha in 0.01f32..1.5) {
            let l = LeakyReluParams::prepare(p.in_q.0, p.in_q.1, p.out_q.0, p.out_q.1, alpha);
            let f = |x: f64| if x >= 0.0 { x } else { x * alpha as f64 };
            prop_assert!(p.worst(one(|x, o| l.eval(x, o)), f) <= 1.0);
        }

        #[test]
        fn logistic_table_is_within_one_step(si in scale(), zi in -128i32..=127) {
            let p = MapProblem { in_q: (si, zi), out_q: (1.0 / 256.0, -128) };
            let lut = Lut::logistic(si, zi, 1.0 / 256.0, -128);
            prop_assert!(p.worst(one(|x, o| lut.eval(x, o)), |x| 1.0 / (1.0 + (-x).exp())) <= 1.0);
        }

        #[test]
        fn tanh_table_is_within_one_step(si in scale(), zi in -128i32..=127) {
            let p = MapProblem { in_q: (si, zi), out_q: (1.0 / 128.0, 0) };
            let lut = Lut::tanh(si, zi, 1.0 / 128.0, 0);
            prop_assert!(p.worst(one(|x, o| lut.eval(x, o)), f64::tanh) <= 1.0);
        }
    }
}
