//! MEAN and SUM (and the reduction walk REDUCE_MAX / REDUCE_MIN share) over any set
//! of axes of an int8 tensor of rank ≤ 4 (TFLite's
//! `QuantizedMeanOrSum`: the division by the element count is folded into
//! the fixed-point multiplier with a truncating integer division).

use super::clamp_i8;
use crate::fixedpoint::{multiply_by_quantized_multiplier, QuantizedMultiplier};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanParams {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    /// Multiplier and shift with `1 / count` folded in.
    pub multiplier: i32,
    pub shift: i32,
    pub count: i32,
}

impl MeanParams {
    pub fn prepare(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32, count: usize) -> Self {
        let m = QuantizedMultiplier::from_f64(in_scale as f64 / out_scale as f64);
        let n = count.max(1) as i64;
        let shift = (63 - n.leading_zeros() as i32).min(32).min((31 + m.shift).max(0));
        Self {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            multiplier: (((m.multiplier as i64) << shift) / n) as i32,
            shift: m.shift - shift,
            count: n as i32,
        }
    }

    /// SUM as TFLite Micro's reference computes it: the same walk with the
    /// plain scale ratio (no count folded in). (TFLite's own BUILTIN_REF
    /// SUM is wrong for int8 in LiteRT 2.3.0, see `tests/golden/gen.py`.)
    pub fn prepare_sum(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32, count: usize) -> Self {
        let m = QuantizedMultiplier::from_f64(in_scale as f64 / out_scale as f64);
        Self {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            multiplier: m.multiplier,
            shift: m.shift,
            count: count.max(1) as i32,
        }
    }

    /// `shape` is NHWC (right-aligned), `axes` a bit mask over those four dims.
    pub fn eval(&self, input: &[i8], shape: [usize; 4], axes: u32, output: &mut [i8]) {
        let [n, h, w, c] = shape;
        if axes == 0b0110 && h * w * c > 0 && input.len() >= n * h * w * c && output.len() >= n * c {
            return self.spatial(input, shape, output);
        }
        reduce(input, shape, axes, output, |values| self.finish(values.fold(0i32, |s, v| s.wrapping_add(v as i32))))
    }

    /// Over height and width (global average pooling, every classifier's
    /// head): the same (wrapping, so order-free) sums, a block of channels
    /// at a time pixel by pixel, contiguous reads the compiler vectorizes
    /// (a strided read per channel was 1 % of mbv2's browser inference).
    /// Out of line: its sums are on the stack only while it runs (inlined,
    /// they deepened every operator's frame on the boards).
    #[inline(never)]
    fn spatial(&self, input: &[i8], [n, h, w, c]: [usize; 4], output: &mut [i8]) {
        const BLOCK: usize = 256;
        let hw = h * w;
        for (img, out) in input.chunks_exact(hw * c).zip(output.chunks_exact_mut(c)).take(n) {
            for (c0, out) in (0..c).step_by(BLOCK).zip(out.chunks_mut(BLOCK)) {
                let mut sums = [0i32; BLOCK];
                let sums = &mut sums[..out.len()];
                for px in img.chunks_exact(c) {
                    for (s, &v) in sums.iter_mut().zip(&px[c0..c0 + out.len()]) {
                        *s = s.wrapping_add(v as i32);
                    }
                }
                for (o, &s) in out.iter_mut().zip(sums.iter()) {
                    *o = self.finish(s);
                }
            }
        }
    }

    /// The output of one reduced sum.
    #[inline(always)]
    fn finish(&self, sum: i32) -> i8 {
        let centred = sum.wrapping_sub(self.input_zero_point.wrapping_mul(self.count));
        let v = multiply_by_quantized_multiplier(centred, self.multiplier, self.shift);
        clamp_i8(v.saturating_add(self.output_zero_point), -128, 127)
    }
}

/// For every output element (the kept dimensions of NHWC `shape`, in order),
/// `f` over the input values that `axes` (a bit mask over the four
/// dimensions) reduce into it.
pub fn reduce(
    input: &[i8],
    shape: [usize; 4],
    axes: u32,
    output: &mut [i8],
    f: impl Fn(&mut dyn Iterator<Item = i8>) -> i8,
) {
    let keep = |d: usize| axes & (1 << d) == 0;
    let ext = |d: usize| if keep(d) { shape[d] } else { 1 };
    let span = |d: usize, i: usize| if keep(d) { i..i + 1 } else { 0..shape[d] };
    let mut o = 0;
    for b in 0..ext(0) {
        for y in 0..ext(1) {
            for x in 0..ext(2) {
                for c in 0..ext(3) {
                    let mut values = span(0, b).flat_map(|ib| {
                        span(1, y).flat_map(move |iy| {
                            span(2, x).flat_map(move |ix| {
                                span(3, c).map(move |ic| input[((ib * shape[1] + iy) * shape[2] + ix) * shape[3] + ic])
                            })
                        })
                    });
                    output[o] = f(&mut values);
                    o += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! MEAN against the real mean of the dequantized values, requantized:
    //! within one output step, for every subset of the four axes.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        // Counts come back as i8: shapes stay at or below 127 elements (3×4×4×3 = 144 wrapped, CI 2026-12-03).
        fn reduce_visits_exactly_the_reduced_elements(shape in [1usize..=3, 1usize..=4, 1usize..=4, 1usize..=2], axes in 0u32..16) {
            let n: usize = shape.iter().product();
            let input: alloc::vec::Vec<i8> = (0..n).map(|i| (i % 251) as i8).collect();
            let outs: usize = (0..4).filter(|&d| axes & (1 << d) == 0).map(|d| shape[d]).product();
            let mut counts = alloc::vec![0i8; outs];
            reduce(&input, shape, axes, &mut counts, |v| v.count() as i8);
            let each: usize = (0..4).filter(|&d| axes & (1 << d) != 0).map(|d| shape[d]).product();
            prop_assert!(counts.iter().all(|&c| c as usize == each));
            let mut maxes = alloc::vec![0i8; outs];
            reduce(&input, shape, axes, &mut maxes, |v| v.max().unwrap());
            if axes == 0b1111 {
                prop_assert_eq!(maxes[0], *input.iter().max().unwrap());
            }
        }

        /// The spatial fast path gives `reduce`'s bytes exactly (channels
        /// past one 256-channel block too).
        #[test]
        fn spatial_mean_is_the_general_walk(
            (n, h, w) in (1usize..=2, 1usize..=6, 1usize..=6),
            c in prop_oneof![1usize..=9, 250usize..=530],
            (si, zi, so, zo) in (0.001f32..0.2, -128i32..=127, 0.001f32..0.2, -128i32..=127),
            input in prop::collection::vec(any::<i8>(), 2 * 6 * 6 * 530),
        ) {
            let shape = [n, h, w, c];
            let input = &input[..n * h * w * c];
            let p = MeanParams::prepare(si, zi, so, zo, h * w);
            let (mut fast, mut general) = (alloc::vec![0i8; n * c], alloc::vec![0i8; n * c]);
            p.eval(input, shape, 0b0110, &mut fast);
            reduce(input, shape, 0b0110, &mut general, |v| p.finish(v.fold(0i32, |s, x| s.wrapping_add(x as i32))));
            prop_assert_eq!(fast, general);
        }

        #[test]
        fn mean_is_within_one_step(
            shape in [1usize..=2, 1usize..=5, 1usize..=5, 1usize..=3],
            axes in 1u32..16,
            (si, zi, so, zo) in (0.01f32..0.2, -128i32..=127, 0.01f32..0.2, -128i32..=127),
            seed in any::<u64>(),
        ) {
            let n: usize = shape.iter().product();
            let input: alloc::vec::Vec<i8> = (0..n).map(|i| (seed.wrapping_mul(6364136223846793005).wrapping_add((i as u64).wrapping_mul(1442695040888963407)) >> 56) as i8).collect();
            let keep = |d: usize| axes & (1 << d) == 0;
            let count: usize = (0..4).filter(|&d| !keep(d)).map(|d| shape[d]).product();
            let p = MeanParams::prepare(si, zi, so, zo, count);
            let outs: usize = (0..4).filter(|&d| keep(d)).map(|d| shape[d]).product();
            let mut out = alloc::vec![0i8; outs];
            p.eval(&input, shape, axes, &mut out);
            // The same traversal: output index over kept dims, sum over reduced ones.
            let mut o = 0;
            let ext = |d: usize| if keep(d) { shape[d] } else { 1 };
            for b in 0..ext(0) { for y in 0..ext(1) { for x in 0..ext(2) { for c in 0..ext(3) {
                let mut sum = 0.0f64;
                for i in 0..n {
                    let at = [i / (shape[1] * shape[2] * shape[3]), i / (shape[2] * shape[3]) % shape[1], i / shape[3] % shape[2], i % shape[3]];
                    if [b, y, x, c].iter().enumerate().all(|(d, &v)| !keep(d) || at[d] == v) {
                        sum += (input[i] as i32 - zi) as f64 * si as f64;
                    }
                }
                let want = (sum / count as f64 / so as f64 + zo as f64).clamp(-128.0, 127.0);
                prop_assert!((out[o] as f64 - want).abs() <= 1.0, "output {}: {} vs {}", o, out[o], want);
                o += 1;
            }}}}
        }
    }
}
