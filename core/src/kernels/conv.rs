//! CONV_2D, int8 with per-channel weights (TFLite `ConvPerChannel`).

use super::clamp_i8;
use crate::fixedpoint::QuantizedMultiplier;
use crate::region::{Rect, Window};

/// Geometry of one convolution (also used by depthwise convolution and pools).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub in_h: usize,
    pub in_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dil_h: usize,
    pub dil_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
}

impl Geometry {
    /// Kernel taps of output row `oy` that fall inside the input: `(first, end)` tap
    /// indices and the input row of tap 0 (may be negative).
    #[inline(always)]
    pub(crate) fn taps(origin: isize, k: usize, dil: usize, size: usize) -> (usize, usize) {
        // Taps t with 0 <= origin + t*dil < size.
        let d = dil as isize;
        let first = if origin >= 0 { 0 } else { ((-origin) + d - 1) / d };
        let end = if origin >= size as isize { 0 } else { (((size as isize - origin) + d - 1) / d).min(k as isize) };
        (first as usize, (end as usize).max(first as usize))
    }
    #[inline(always)]
    pub(crate) fn origin_y(&self, oy: usize) -> isize {
        (oy * self.stride_h) as isize - self.pad_top as isize
    }
    #[inline(always)]
    pub(crate) fn origin_x(&self, ox: usize) -> isize {
        (ox * self.stride_w) as isize - self.pad_left as isize
    }
}

/// One output pixel of a sliding-window kernel (convolution, depthwise, pool).
pub(crate) struct Pixel {
    pub b: usize,
    /// Offset of its first channel in the output window.
    pub o: usize,
    /// Input row and column of tap (0, 0) (negative inside the padding).
    y0: isize,
    x0: isize,
    /// Tap indices that fall inside the input.
    ty: (usize, usize),
    tx: (usize, usize),
}

impl Pixel {
    /// Number of taps inside the input.
    pub fn count(&self) -> usize {
        (self.ty.1 - self.ty.0) * (self.tx.1 - self.tx.0)
    }
    /// `(input row, input column, tap row, tap column)` of every tap inside the input.
    #[inline(always)]
    pub fn taps(&self, g: &Geometry) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
        let (dil_h, dil_w) = (g.dil_h, g.dil_w);
        (self.ty.0..self.ty.1).flat_map(move |ty| {
            let iy = (self.y0 + (ty * dil_h) as isize) as usize;
            (self.tx.0..self.tx.1).map(move |tx| (iy, (self.x0 + (tx * dil_w) as isize) as usize, ty, tx))
        })
    }
}

impl Geometry {
    /// Every output pixel of `region` (all batches), in output order.
    pub(crate) fn pixels(&self, ow: Window, region: Rect) -> impl Iterator<Item = Pixel> + '_ {
        (0..ow.n).flat_map(move |b| {
            (region.y..region.y_end()).flat_map(move |oy| {
                let y0 = self.origin_y(oy);
                let ty = Geometry::taps(y0, self.kh, self.dil_h, self.in_h);
                (region.x..region.x_end()).map(move |ox| {
                    let x0 = self.origin_x(ox);
                    let tx = Geometry::taps(x0, self.kw, self.dil_w, self.in_w);
                    Pixel { b, o: ow.offset(b, oy, ox), y0, x0, ty, tx }
                })
            })
        })
    }
}

/// An accumulator plus channel `ch`'s bias, if any.
#[inline(always)]
pub(crate) fn with_bias(acc: i32, bias: Option<&[i32]>, ch: usize) -> i32 {
    match bias {
        Some(b) => acc.wrapping_add(b[ch]),
        None => acc,
    }
}

/// Requantization of an accumulator to an int8 output.
#[derive(Clone, Copy, Debug)]
pub struct OutputStage<'a> {
    pub input_offset: i32,
    pub output_offset: i32,
    pub act_min: i32,
    pub act_max: i32,
    /// One multiplier per output channel, or a single one for all.
    pub multipliers: &'a [QuantizedMultiplier],
}

impl OutputStage<'_> {
    #[inline(always)]
    pub fn requantize(&self, acc: i32, ch: usize) -> i8 {
        let m = if self.multipliers.len() == 1 { self.multipliers[0] } else { self.multipliers[ch] };
        clamp_i8(m.apply(acc).saturating_add(self.output_offset), self.act_min, self.act_max)
    }

    /// [`requantize`](Self::requantize) through [`QuantizedMultiplier::apply_fast`] (same result).
    #[inline(always)]
    pub fn requantize_fast(&self, acc: i32, ch: usize) -> i8 {
        let m = if self.multipliers.len() == 1 { self.multipliers[0] } else { self.multipliers[ch] };
        clamp_i8(m.apply_fast(acc).saturating_add(self.output_offset), self.act_min, self.act_max)
    }
    /// Channel `ch`'s requantization with its constants worked out once
    /// (for a loop over that channel's pixels).
    #[inline(always)]
    pub fn channel(&self, ch: usize) -> ChannelStage {
        let m = if self.multipliers.len() == 1 { self.multipliers[0] } else { self.multipliers[ch] };
        self.with(m)
    }
    /// The requantization of a channel with multiplier `m` under this stage's offset and clamp.
    #[inline(always)]
    pub fn with(&self, m: crate::fixedpoint::QuantizedMultiplier) -> ChannelStage {
        ChannelStage { m: m.prepared(), out: self.output_offset, lo: self.act_min, hi: self.act_max }
    }
}

/// One channel of an [`OutputStage`]: `requantize(acc)` is the stage's
/// `requantize(acc, ch)`.
#[derive(Clone, Copy, Debug)]
pub struct ChannelStage {
    m: crate::fixedpoint::PreparedMultiplier,
    out: i32,
    lo: i32,
    hi: i32,
}

impl ChannelStage {
    #[inline(always)]
    pub fn requantize(&self, acc: i32) -> i8 {
        clamp_i8(self.m.apply(acc).saturating_add(self.out), self.lo, self.hi)
    }
}

/// One channel's requantization, as the optimized kernels' pixel loops take
/// it: [`ChannelStage`] for any accumulator, [`NarrowStage`] for bounded ones.
pub trait Requantize: Copy {
    /// The rescaled accumulator plus the output offset, before the clamp.
    fn unclamped(&self, acc: i32) -> i32;
    /// The activation's clamp `(lo, hi)`.
    fn clamp(&self) -> (i32, i32);
    #[inline(always)]
    fn requantize(&self, acc: i32) -> i8 {
        let (lo, hi) = self.clamp();
        clamp_i8(self.unclamped(acc), lo, hi)
    }
    /// The clamp is int8's whole range (no activation, or RELU6 on the
    /// converter's `[0, 6]` output range): a kernel's loop may clamp with
    /// constants (`SSAT` on Armv7E-M).
    #[inline(always)]
    fn full_range(&self) -> bool {
        self.clamp() == (-128, 127)
    }
}

impl Requantize for ChannelStage {
    #[inline(always)]
    fn unclamped(&self, acc: i32) -> i32 {
        self.m.apply(acc).saturating_add(self.out)
    }
    #[inline(always)]
    fn clamp(&self) -> (i32, i32) {
        (self.lo, self.hi)
    }
}

/// Most `|acc|` a channel of a weighted kernel can reach: `|bias|` plus
/// `taps` products of an input with the offset applied (`|x + off| ≤ 255`)
/// and an int8 weight (`|w| ≤ 128`).
#[inline(always)]
pub fn acc_bound(bias: Option<&[i32]>, ch: usize, taps: usize) -> u64 {
    let b = bias.map_or(0, |b| b[ch].unsigned_abs() as u64);
    b + 255 * 128 * taps as u64
}

/// A channel's requantization for accumulators whose magnitude is known to
/// be small (`|acc| · 2^(left + 1) < 2^31`, see [`OutputStage::narrow`]):
/// the reference's result in fewer steps. With `y = acc · 2^(left + 1)`
/// exact, the rounding doubling high multiply `(x·m + 2^30) >> 31` is
/// `(y·m + 2^31) >> 32` (`SMMULR` on Armv7E-M), and since `|high| < 2^30`
/// the rounding right shift (half away from zero) is
/// `(high + 2^(right−1) − [high < 0]) >> right` without overflow. `high` is
/// negative only where `acc·m` is, and where `acc·m < 0` but `high = 0` the
/// extra −1 does not change the result (`(2^(right−1) − 1) >> right = 0`),
/// so the sign test reads `acc ^ m` and does not wait for the multiply.
/// The output offset rides in the same constant: adding `out·2^right`
/// before the shift adds `out` after it (no instruction of its own).
#[derive(Clone, Copy, Debug, Default)]
pub struct NarrowStage {
    m: i32,
    left1: u32,
    right: u32,
    /// `2^(right − 1)` (0 when `right` is 0) plus `out·2^right`.
    round: i32,
    /// The sign bit when `right > 0` (negative values round down one more),
    /// else 0: `((acc ^ m) & sign) >> 31` is the −1 or 0 to add, in an AND
    /// and the shifted operand of an ADD.
    sign: i32,
    lo: i32,
    hi: i32,
}

impl Requantize for NarrowStage {
    #[inline(always)]
    fn unclamped(&self, acc: i32) -> i32 {
        let y = acc.wrapping_shl(self.left1);
        let t = self.round + (((acc ^ self.m) & self.sign) >> 31);
        // `t + high` in one widening multiply-accumulate (`SMMLAR`).
        ((((t as i64) << 32) + y as i64 * self.m as i64 + (1i64 << 31)) >> 32) as i32 >> self.right
    }
    #[inline(always)]
    fn clamp(&self) -> (i32, i32) {
        (self.lo, self.hi)
    }
}

impl OutputStage<'_> {
    /// Channel `ch`'s [`NarrowStage`] for accumulators with `|acc| ≤ bound`,
    /// if that form is exact for all of them: `bound · 2^(left + 1) < 2^31`
    /// (so `y` and `high` cannot overflow, `|high| < 2^30`), `right ≤ 31`,
    /// and `|out|·2^right + 2^(right−1) < 2^30` (so the rounding constant
    /// with the offset in it, plus `high`, stays inside int32; int8 zero
    /// points allow any `right` up to 22).
    #[inline(always)]
    pub fn narrow(&self, ch: usize, bound: u64) -> Option<NarrowStage> {
        let m = if self.multipliers.len() == 1 { self.multipliers[0] } else { self.multipliers[ch] };
        let (left, right) = (m.shift.max(0) as u32, (-(m.shift as i64)).max(0) as u32);
        if left > 29 || right > 31 || bound >= 1u64 << (30 - left) {
            return None;
        }
        let half = (1i64 << right) >> 1;
        let offset = (self.output_offset as i64) << right;
        if offset.unsigned_abs() + half as u64 >= 1 << 30 {
            return None;
        }
        Some(NarrowStage {
            m: m.multiplier,
            left1: left + 1,
            right,
            round: (half + offset) as i32,
            sign: if right > 0 { i32::MIN } else { 0 },
            lo: self.act_min,
            hi: self.act_max,
        })
    }
}

/// A weighted kernel's constants: requantization, int8 weights and optional bias.
#[derive(Clone, Copy, Debug)]
pub struct Weighted<'a> {
    pub stage: OutputStage<'a>,
    pub filter: &'a [i8],
    pub bias: Option<&'a [i32]>,
}

impl Weighted<'_> {
    /// Channel `ch`'s accumulator plus its bias, requantized.
    #[inline(always)]
    pub fn output(&self, acc: i32, ch: usize) -> i8 {
        self.stage.requantize(with_bias(acc, self.bias, ch), ch)
    }
}

/// Per-channel multipliers `input_scale * filter_scale[c] / output_scale`,
/// computed in double precision as TFLite does.
pub fn channel_multipliers(
    input_scale: f32,
    filter_scales: &[f32],
    output_scale: f32,
) -> impl Iterator<Item = QuantizedMultiplier> + '_ {
    filter_scales
        .iter()
        .map(move |&fs| QuantizedMultiplier::from_f64(input_scale as f64 * fs as f64 / output_scale as f64))
}

/// Computes the `region` of a convolution's output into `output`, a buffer
/// holding output window `ow` (which contains `region`). `filter` is
/// `[out_c, kh, kw, in_c]`.
pub fn conv2d(g: &Geometry, k: &Weighted, input: &[i8], iw: Window, output: &mut [i8], ow: Window, region: Rect) {
    let in_c = iw.c;
    let out_c = ow.c;
    let f_row = g.kw * in_c;
    let f_ch = g.kh * f_row;
    for px in g.pixels(ow, region) {
        for oc in 0..out_c {
            let f_base = oc * f_ch;
            let mut acc: i32 = 0;
            for (iy, ix, ty, tx) in px.taps(g) {
                let i_base = iw.offset(px.b, iy, ix);
                let fb = f_base + ty * f_row + tx * in_c;
                for (x, w) in input[i_base..i_base + in_c].iter().zip(&k.filter[fb..fb + in_c]) {
                    // The int32 accumulator wraps, as TFLite's does on every target (C++
                    // leaves it undefined); the fast kernels wrap alike, so both agree.
                    acc = acc.wrapping_add((*x as i32 + k.stage.input_offset) * *w as i32);
                }
            }
            output[px.o + oc] = k.output(acc, oc);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The kernel against a plain transcription of TFLite's `ConvPerChannel`
    //! loop (every tap bounds-checked), on whole tensors and on windows.
    use super::*;
    use crate::op::{Axis, Padding};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct ConvProblem {
        h: usize,
        w: usize,
        c: usize,
        oc: usize,
        k: usize,
        stride: usize,
        dil: usize,
        same: bool,
        input: Vec<i8>,
        filter: Vec<i8>,
        bias: Vec<i32>,
        zp_in: i32,
        zp_out: i32,
        mults: Vec<QuantizedMultiplier>,
    }

    impl ConvProblem {
        fn geometry(&self) -> (Geometry, usize, usize) {
            crate::kernels::testing::square_window(self.h, self.w, self.k, self.stride, self.dil, self.same)
        }

        fn reference(&self) -> Vec<i8> {
            let (g, oh, ow) = self.geometry();
            let mut out = Vec::new();
            for oy in 0..oh {
                for ox in 0..ow {
                    for o in 0..self.oc {
                        let mut acc = 0i32;
                        for ky in 0..self.k {
                            for kx in 0..self.k {
                                let iy = (oy * self.stride + ky * self.dil) as isize - g.pad_top as isize;
                                let ix = (ox * self.stride + kx * self.dil) as isize - g.pad_left as isize;
                                if iy < 0 || ix < 0 || iy >= self.h as isize || ix >= self.w as isize {
                                    continue;
                                }
                                for ic in 0..self.c {
                                    let x = self.input[((iy as usize) * self.w + ix as usize) * self.c + ic] as i32;
                                    let f = self.filter[((o * self.k + ky) * self.k + kx) * self.c + ic] as i32;
                                    acc += (x - self.zp_in) * f;
                                }
                            }
                        }
                        acc += self.bias[o];
                        let v = crate::fixedpoint::multiply_by_quantized_multiplier(
                            acc,
                            self.mults[o].multiplier,
                            self.mults[o].shift,
                        );
                        out.push((v + self.zp_out).clamp(-128, 127) as i8);
                    }
                }
            }
            out
        }

        fn weighted(&self) -> Weighted<'_> {
            crate::kernels::testing::weighted(self.zp_in, self.zp_out, &self.mults, &self.filter, &self.bias)
        }
    }

    fn problem() -> impl Strategy<Value = ConvProblem> {
        (
            1usize..=9,
            1usize..=9,
            1usize..=4,
            1usize..=4,
            prop::sample::select(alloc::vec![1usize, 3, 5]),
            1usize..=2,
            1usize..=2,
            any::<bool>(),
        )
            .prop_flat_map(|(h, w, c, oc, k, stride, dil, same)| {
                (
                    Just((h, w, c, oc, k, stride, dil, same)),
                    prop::collection::vec(any::<i8>(), h * w * c),
                    prop::collection::vec(-127i8..=127, oc * k * k * c),
                    prop::collection::vec(-5000i32..5000, oc),
                    -128i32..=127,
                    -128i32..=127,
                    prop::collection::vec((1u32 << 30..u32::MAX >> 1, -12i32..2), oc),
                )
            })
            .prop_map(|((h, w, c, oc, k, stride, dil, same), input, filter, bias, zp_in, zp_out, m)| {
                ConvProblem {
                    h,
                    w,
                    c,
                    oc,
                    k,
                    stride,
                    dil,
                    same,
                    input,
                    filter,
                    bias,
                    zp_in,
                    zp_out,
                    mults: m.into_iter().map(|(q, s)| QuantizedMultiplier { multiplier: q as i32, shift: s }).collect(),
                }
            })
    }

    proptest! {
        #[test]
        fn whole_tensor_matches_reference(p in problem()) {
            let (g, oh, ow) = p.geometry();
            prop_assume!(oh > 0 && ow > 0);
            let mut out = alloc::vec![0i8; oh * ow * p.oc];
            let owin = Window::full(1, oh, ow, p.oc);
            conv2d(&g, &p.weighted(), &p.input, Window::full(1, p.h, p.w, p.c), &mut out, owin, owin.rect);
            prop_assert_eq!(out, p.reference());
        }

        #[test]
        fn a_window_matches_the_same_region_of_the_whole(p in problem(), y in 0usize..9, x in 0usize..9, rh in 1usize..9, rw in 1usize..9) {
            let (g, oh, ow) = p.geometry();
            prop_assume!(oh > 0 && ow > 0);
            let region = Rect::new(y % oh, x % ow, rh.min(oh - y % oh), rw.min(ow - x % ow));
            let want = p.reference();
            // The input window: exactly the receptive field of the region.
            let op = crate::op::Op::Conv2d(crate::op::Conv2d {
                padding: if p.same { Padding::Same } else { Padding::Valid },
                h: Axis { kernel: p.k, stride: p.stride, dilation: p.dil },
                w: Axis { kernel: p.k, stride: p.stride, dilation: p.dil },
                activation: crate::op::Activation::None,
            });
            let ir = op.input_rect(region, (p.h, p.w), (oh, ow)).unwrap();
            let sub = crate::kernels::testing::crop(&p.input, p.w, p.c, ir);
            let owin = Window::new(1, region, p.oc);
            let mut out = alloc::vec![0i8; owin.len()];
            conv2d(&g, &p.weighted(), &sub, Window::new(1, ir, p.c), &mut out, owin, region);
            prop_assert_eq!(out, crate::kernels::testing::crop(&want, ow, p.oc, region));
        }

        /// The narrow form equals the reference requantization for every
        /// accumulator within the bound it was made for: any multiplier
        /// (negative and `i32::MIN` included), every shift, any output offset
        /// and clamp it accepts.
        #[test]
        fn narrow_stage_is_the_reference_within_its_bound(
            multiplier in prop_oneof![any::<i32>(), Just(i32::MIN), Just(i32::MAX), (1i32 << 30)..=i32::MAX],
            shift in -40i32..=32,
            out in prop_oneof![-128i32..=127, any::<i32>()],
            clamp in prop::sample::select(alloc::vec![(-128, 127), (-20, 127), (-128, 30), (i32::MIN, i32::MAX)]),
            bound in prop_oneof![0u64..1 << 31, Just((1u64 << 30) - 1), Just(1u64 << 29)],
            accs in prop::collection::vec(any::<i64>(), 16),
        ) {
            let mults = [QuantizedMultiplier { multiplier, shift }];
            let stage = OutputStage { input_offset: 0, output_offset: out, act_min: clamp.0, act_max: clamp.1, multipliers: &mults };
            let Some(n) = stage.narrow(0, bound) else {
                // Refused only outside its domain.
                let (left, right) = (shift.max(0) as u32, (-shift).max(0) as u32);
                let folded = || ((out.unsigned_abs() as u64) << right) + ((1u64 << right) >> 1) >= 1 << 30;
                prop_assert!(left > 29 || shift < -31 || bound >= 1 << (30 - left) || folded());
                return Ok(());
            };
            let b = bound as i64;
            for acc in accs.iter().map(|a| a.rem_euclid(2 * b + 1) - b).chain([-b, b, 0, -1, 1]) {
                let acc = acc as i32;
                prop_assert_eq!(Requantize::requantize(&n, acc), stage.requantize(acc, 0), "acc {}", acc);
            }
        }
    }

    #[test]
    fn narrow_stage_refuses_what_could_overflow() {
        let m = |shift| [QuantizedMultiplier { multiplier: i32::MAX, shift }];
        let stage = |ms: &'static [QuantizedMultiplier; 1], out| OutputStage {
            input_offset: 0,
            output_offset: out,
            act_min: -128,
            act_max: 127,
            multipliers: ms,
        };
        static M0: [QuantizedMultiplier; 1] = [QuantizedMultiplier { multiplier: i32::MAX, shift: 0 }];
        static M3: [QuantizedMultiplier; 1] = [QuantizedMultiplier { multiplier: i32::MAX, shift: 3 }];
        assert_eq!(m(0), M0);
        assert!(stage(&M0, 0).narrow(0, (1 << 30) - 1).is_some());
        assert!(stage(&M0, 0).narrow(0, 1 << 30).is_none());
        assert!(stage(&M3, 0).narrow(0, (1 << 27) - 1).is_some());
        assert!(stage(&M3, 0).narrow(0, 1 << 27).is_none());
        assert!(stage(&M0, 1 << 30).narrow(0, 0).is_none());
        assert!(stage(&M0, -(1 << 30) + 1).narrow(0, 0).is_some());
        // The output offset rides in the rounding constant: an int8 zero
        // point fits it up to a right shift of 22.
        static R22: [QuantizedMultiplier; 1] = [QuantizedMultiplier { multiplier: i32::MAX, shift: -22 }];
        static R23: [QuantizedMultiplier; 1] = [QuantizedMultiplier { multiplier: i32::MAX, shift: -23 }];
        assert!(stage(&R22, -128).narrow(0, 1000).is_some());
        assert!(stage(&R23, -128).narrow(0, 1000).is_none());
        assert!(stage(&R23, 127).narrow(0, 1000).is_some());
        // A 3x3x512 convolution with a large bias is still narrow at shift <= 0.
        assert!(acc_bound(Some(&[1 << 24]), 0, 3 * 3 * 512) < 1 << 30);
    }
}
