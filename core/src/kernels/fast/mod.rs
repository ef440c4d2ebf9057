//! Optimized int8 kernels: the same results as the reference kernels in
//! [`crate::kernels`], byte for byte, computed faster.
//!
//! These rewrites make them fast, all exact in wrapping `i32` arithmetic:
//! - the input offset is folded out of the inner loop,
//!   `Σ (x + off)·w = Σ x·w + off·Σ w`: each accumulator starts from
//!   `bias + off·Σ w`, computed once at prepare (`folded`); where a window
//!   reaches into the padding (where the reference skips taps) the padded
//!   taps are read as the input zero point, whose products the folded
//!   offset cancels, or the pixel runs the reference code;
//! - requantization uses [`QuantizedMultiplier::apply_fast`](crate::fixedpoint::QuantizedMultiplier::apply_fast)
//!   (the reference rounding in fewer instructions), or, where the
//!   accumulators are provably small, the shorter
//!   [`NarrowStage`](crate::kernels::conv::NarrowStage), a channel's run of
//!   pixels at a time ([`requant::store_strided`]);
//! - the inner products go through [`dot`], which has one implementation
//!   per target chosen at compile time: Armv7E-M DSP (`SXTB16` + `SMLAD`,
//!   two MACs per instruction; feature `dsp`), wasm32 `simd128`
//!   (`i32x4.dot_i16x8_s`; built with `-C target-feature=+simd128`), and a
//!   portable form LLVM vectorizes elsewhere (x86-64 SSE2, thumbv6m scalar).
//!
//! The reference kernels stay the oracle: every kernel here is tested
//! against its reference on random problems (`tests` in each file) — on the
//! host, as wasm32 `simd128` under Node, and as 32-bit Arm in Thumb-2 with
//! the `dsp` kernels under qemu-arm (`tools/test`) — and the golden tests
//! run these through the program interpreter.

pub mod binary;
pub mod conv;
pub mod depthwise;
pub mod dot;
pub mod packed;
pub mod requant;
#[cfg(target_arch = "x86_64")]
pub mod x86;

#[cfg(test)]
mod tests {
    //! Optimized against reference on random problems: shapes with odd
    //! widths and channel counts (block tails), kernels 1/3/5 with strides,
    //! dilations and both paddings, two batches, any zero points and
    //! per-channel scales; whole tensors and windows of them, as patches are
    //! computed.
    use crate::fixedpoint::QuantizedMultiplier;
    use crate::kernels::conv::{Geometry, OutputStage, Weighted};
    use crate::kernels::testing::square_window;
    use crate::op::{Axis, Padding};
    use crate::region::{Rect, Window};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct Problem {
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        oc: usize,
        k: usize,
        stride: usize,
        dil: usize,
        same: bool,
        input: Vec<i8>,
        /// `oc·k·k·c` values, of which depthwise uses the first `k·k·c`.
        filter: Vec<i8>,
        bias: Vec<i32>,
        zp_in: i32,
        zp_out: i32,
        act: (i32, i32),
        mults: Vec<QuantizedMultiplier>,
        /// A region of the output, as fractions of its height and width.
        region: (usize, usize, usize, usize),
    }

    impl Problem {
        fn geometry(&self) -> (Geometry, usize, usize) {
            square_window(self.h, self.w, self.k, self.stride, self.dil, self.same)
        }
        fn weighted<'a>(&'a self, channels: usize, filter: &'a [i8]) -> Weighted<'a> {
            let stage = OutputStage {
                input_offset: -self.zp_in,
                output_offset: self.zp_out,
                act_min: self.act.0,
                act_max: self.act.1,
                multipliers: &self.mults[..channels],
            };
            Weighted { stage, filter, bias: Some(&self.bias[..channels]) }
        }
        /// The output region and the input window a patch would hold for it.
        fn window(&self, oh: usize, ow: usize) -> (Rect, Rect) {
            let (y, x, h, w) = self.region;
            let region = Rect::new(y % oh, x % ow, 1 + h % (oh - y % oh), 1 + w % (ow - x % ow));
            (region, self.input_for(region, oh, ow))
        }
        /// The input window a patch would hold for output `region`.
        fn input_for(&self, region: Rect, oh: usize, ow: usize) -> Rect {
            let a = Axis { kernel: self.k, stride: self.stride, dilation: self.dil };
            let p = if self.same { Padding::Same } else { Padding::Valid };
            crate::op::window_rect(p, a, a, region, (self.h, self.w), (oh, ow))
        }
        /// Rectangle `r` of every batch of the `[n, h, w, c]` input.
        fn crop(&self, r: Rect) -> Vec<i8> {
            let img = self.h * self.w * self.c;
            (0..self.n)
                .flat_map(|b| crate::kernels::testing::crop(&self.input[b * img..(b + 1) * img], self.w, self.c, r))
                .collect()
        }
    }

    fn problem(max_c: usize) -> impl Strategy<Value = Problem> {
        problem_sized(max_c, 11)
    }

    /// Problems up to `max_w` pixels wide (the wasm kernels' 8-pixel groups need wide rows).
    fn problem_sized(max_c: usize, max_w: usize) -> impl Strategy<Value = Problem> {
        (
            (1usize..=2, 1usize..=11, 1usize..=max_w, 1usize..=max_c, 1usize..=max_c),
            (
                prop::sample::select(alloc::vec![1usize, 3, 5]),
                1usize..=2,
                prop::sample::select(alloc::vec![1usize, 1, 2]),
            ),
            any::<bool>(),
        )
            .prop_flat_map(|((n, h, w, c, oc), (k, stride, dil), same)| {
                let cmax = c.max(oc);
                (
                    Just((n, h, w, c, oc, k, stride, dil, same)),
                    prop::collection::vec(any::<i8>(), n * h * w * c),
                    prop::collection::vec(-127i8..=127, oc.max(1) * k * k * cmax),
                    prop::collection::vec(-5000i32..5000, cmax),
                    (
                        -128i32..=127,
                        -128i32..=127,
                        // `i32::MIN`: RELU, the lower bound at the output zero
                        // point; `i32::MAX`: one below it.
                        prop::sample::select(alloc::vec![
                            (-128, 127),
                            (-20, 127),
                            (-128, 30),
                            (i32::MIN, 127),
                            (i32::MAX, 127)
                        ]),
                    ),
                    prop::collection::vec((1u32 << 30..u32::MAX >> 1, -12i32..2), cmax),
                    any::<(usize, usize, usize, usize)>(),
                )
            })
            .prop_map(
                |((n, h, w, c, oc, k, stride, dil, same), input, filter, bias, (zp_in, zp_out, act), m, region)| {
                    let act = match act.0 {
                        i32::MIN => (zp_out, act.1),
                        i32::MAX => ((zp_out - 1).max(-128), act.1),
                        _ => act,
                    };
                    Problem {
                        n,
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
                        act,
                        mults: m
                            .into_iter()
                            .map(|(q, s)| QuantizedMultiplier { multiplier: q as i32, shift: s })
                            .collect(),
                        region,
                    }
                },
            )
    }

    type Depthwise = fn(&Geometry, usize, &Weighted, &[i32], &[i8], Window, &mut [i8], Window, Rect);

    /// Every NHWC depthwise form (the target's, the boards' without the
    /// SIMD ones, and the dilated kernel the operator calls for dilated
    /// windows off the boards) on output `region`, from the whole input and
    /// from the window `ir` a patch would hold, against the reference.
    fn depthwise_forms_equal_the_reference(
        p: &Problem,
        g: &Geometry,
        region: Rect,
        ir: Rect,
    ) -> Result<(), TestCaseError> {
        let filter = &p.filter[..p.k * p.k * p.c];
        let k = p.weighted(p.c, filter);
        let sums: Vec<i32> = super::depthwise::folded_bias(filter, p.c, k.bias, k.stage.input_offset).collect();
        let forms: [Depthwise; 3] = [
            super::depthwise::depthwise_conv2d,
            super::depthwise::depthwise_conv2d_portable,
            super::depthwise::dilated,
        ];
        let (_, oh, ow) = p.geometry();
        // The output as the region's own window (a patch's tensor) and as
        // the whole output (a stage's output, held whole: rows stop short
        // of the window's).
        for (iwin, input, owin) in [
            (Window::full(p.n, p.h, p.w, p.c), p.input.clone(), Window::new(p.n, region, p.c)),
            (Window::new(p.n, ir, p.c), p.crop(ir), Window::new(p.n, region, p.c)),
            (Window::new(p.n, ir, p.c), p.crop(ir), Window::full(p.n, oh, ow, p.c)),
        ] {
            let (mut want, mut got) = (alloc::vec![7i8; owin.len()], alloc::vec![7i8; owin.len()]);
            crate::kernels::depthwise::depthwise_conv2d(g, 1, &k, &input, iwin, &mut want, owin, region);
            for form in forms {
                got.fill(7);
                form(g, 1, &k, &sums, &input, iwin, &mut got, owin, region);
                prop_assert_eq!(&got, &want);
            }
        }
        Ok(())
    }

    /// In place (one image): the buffer holds the input, then the output from offset 0.
    fn inplace_equals_the_reference(p: &Problem) -> Result<(), TestCaseError> {
        let (g, oh, ow) = p.geometry();
        let filter = &p.filter[..p.k * p.k * p.c];
        let k = p.weighted(p.c, filter);
        let sums: Vec<i32> = super::depthwise::folded_bias(filter, p.c, k.bias, k.stage.input_offset).collect();
        let img = &p.input[..p.h * p.w * p.c];
        let len = (oh * ow * p.c).max(img.len());
        let mut want = img.to_vec();
        want.resize(len, 0);
        let mut plane = alloc::vec![0i8; p.h * p.w];
        crate::kernels::depthwise::depthwise_conv2d_inplace(&g, &k, &mut want, p.c, (oh, ow), &mut plane);
        for inplace in INPLACE {
            let mut got = img.to_vec();
            got.resize(len, 0);
            inplace(&g, &k, &sums, &mut got, p.c, (oh, ow), &mut plane);
            prop_assert_eq!(&got[..oh * ow * p.c], &want[..oh * ow * p.c]);
        }
        Ok(())
    }

    use super::packed::Form;

    /// The packed convolution as the target runs it (AVX-512 or AVX2 where
    /// the CPU has it), and its AVX2 and portable forms too.
    const PACKED: [Form; 3] = [Form::Best, Form::Avx2, Form::Portable];

    /// Each form of [`PACKED`], and the target's best with the blocks'
    /// requantization kept as a program keeps it ([`super::packed::units`]).
    fn forms(k: &Weighted, folded: &[i32], oc: usize, taps: usize) -> Vec<(Form, Vec<i32>)> {
        let mut forms: Vec<(Form, Vec<i32>)> = PACKED.iter().map(|&f| (f, Vec::new())).collect();
        if let Some(units) = super::packed::units(&k.stage, k.bias, folded, oc, taps) {
            forms.push((Form::Best, units));
        }
        forms
    }

    type Inplace = fn(&Geometry, &Weighted, &[i32], &mut [i8], usize, (usize, usize), &mut [i8]);

    /// The in-place depthwise as the target runs it, and on x86-64 without AVX2 too.
    const INPLACE: &[Inplace] = &[
        super::depthwise::depthwise_conv2d_inplace,
        #[cfg(target_arch = "x86_64")]
        super::depthwise::depthwise_conv2d_inplace_portable,
    ];

    proptest! {
        #[test]
        fn conv_equals_the_reference(p in problem(20)) {
            let (g, oh, ow) = p.geometry();
            prop_assume!(oh > 0 && ow > 0);
            let filter = &p.filter[..p.oc * p.k * p.k * p.c];
            let k = p.weighted(p.oc, filter);
            let sums: Vec<i32> = super::conv::folded_bias(filter, p.oc, k.bias, k.stage.input_offset).collect();
            let (region, ir) = p.window(oh, ow);
            // As in `depthwise_forms_equal_the_reference`: the output as the
            // region's window and as the whole output.
            for (iwin, input, owin) in [
                (Window::full(p.n, p.h, p.w, p.c), p.input.clone(), Window::new(p.n, region, p.oc)),
                (Window::new(p.n, ir, p.c), p.crop(ir), Window::new(p.n, region, p.oc)),
                (Window::new(p.n, ir, p.c), p.crop(ir), Window::full(p.n, oh, ow, p.oc)),
            ] {
                let (mut want, mut got) = (alloc::vec![7i8; owin.len()], alloc::vec![7i8; owin.len()]);
                crate::kernels::conv::conv2d(&g, &k, &input, iwin, &mut want, owin, region);
                super::conv::conv2d(&g, &k, &sums, &input, iwin, &mut got, owin, region);
                prop_assert_eq!(got, want);
            }
        }

        #[test]
        fn packed_conv_equals_the_reference(p in problem(20)) {
            let (g, oh, ow) = p.geometry();
            prop_assume!(oh > 0 && ow > 0);
            let filter = &p.filter[..p.oc * p.k * p.k * p.c];
            let k = p.weighted(p.oc, filter);
            let sums: Vec<i32> = super::conv::folded_bias(filter, p.oc, k.bias, k.stage.input_offset).collect();
            let packed: Vec<i8> = super::packed::pack(filter, p.oc, p.k, p.k * p.c).collect();
            let (region, ir) = p.window(oh, ow);
            for (iwin, input) in [(Window::full(p.n, p.h, p.w, p.c), p.input.clone()), (Window::new(p.n, ir, p.c), p.crop(ir))] {
                let owin = Window::new(p.n, region, p.oc);
                let (mut want, mut got) = (alloc::vec![0i8; owin.len()], alloc::vec![1i8; owin.len()]);
                crate::kernels::conv::conv2d(&g, &k, &input, iwin, &mut want, owin, region);
                for (packed_conv, units) in forms(&k, &sums, p.oc, p.k * p.k * p.c) {
                    got.fill(1);
                    super::packed::conv2d_in(packed_conv, &g, &k, &sums, (&packed, &units), &input, iwin, &mut got, owin, region);
                    prop_assert_eq!(&got, &want);
                }
            }
        }

        /// Kernel rows longer than the AVX2 form's widened chunk (128 bytes).
        #[test]
        fn deep_packed_conv_equals_the_reference(
            mut p in problem_sized(3, 6),
            c in 40usize..300,
            oc in 1usize..20,
            seed in any::<u32>(),
        ) {
            let (g, oh, ow) = p.geometry();
            prop_assume!(oh > 0 && ow > 0);
            // Values from a linear congruential generator of the seed (the vectors would be large for proptest).
            let mut state = seed;
            let mut next = move || {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as i8
            };
            p.input = (0..p.n * p.h * p.w * c).map(|_| next()).collect();
            let filter: Vec<i8> = (0..oc * p.k * p.k * c).map(|_| next()).collect();
            p.bias.resize(oc, 7);
            p.mults.resize(oc, QuantizedMultiplier { multiplier: 1 << 30, shift: -9 });
            (p.c, p.oc) = (c, oc);
            let k = p.weighted(oc, &filter);
            let sums: Vec<i32> = super::conv::folded_bias(&filter, oc, k.bias, k.stage.input_offset).collect();
            let packed: Vec<i8> = super::packed::pack(&filter, oc, p.k, p.k * c).collect();
            let (region, ir) = p.window(oh, ow);
            let (iwin, input) = (Window::new(p.n, ir, c), p.crop(ir));
            let owin = Window::new(p.n, region, oc);
            let (mut want, mut got) = (alloc::vec![0i8; owin.len()], alloc::vec![1i8; owin.len()]);
            crate::kernels::conv::conv2d(&g, &k, &input, iwin, &mut want, owin, region);
            for (packed_conv, units) in forms(&k, &sums, oc, p.k * p.k * c) {
                got.fill(1);
                super::packed::conv2d_in(packed_conv, &g, &k, &sums, (&packed, &units), &input, iwin, &mut got, owin, region);
                prop_assert_eq!(&got, &want);
            }
        }

        /// The vectorized requantization over its whole domain: any
        /// multiplier (i32::MIN included), every shift, any output offset.
        #[test]
        fn packed_conv_requantizes_as_the_reference(
            input in prop::collection::vec(any::<i8>(), 5 * 12),
            filter in prop::collection::vec(any::<i8>(), 11 * 12),
            bias in prop::collection::vec(any::<i32>(), 11),
            mults in prop::collection::vec((any::<i32>(), -31i32..=30), 11),
            special in prop::sample::select(alloc::vec![i32::MIN, i32::MAX, 0, 1, 1 << 30]),
            zp_in in -128i32..=127,
            zp_out in prop_oneof![-128i32..=127, any::<i32>()],
            per_channel in any::<bool>(),
        ) {
            let (c, oc) = (12, 11);
            let (g, oh, ow) = square_window(1, 5, 1, 1, 1, false);
            let mut mults: Vec<QuantizedMultiplier> =
                mults.into_iter().map(|(multiplier, shift)| QuantizedMultiplier { multiplier, shift }).collect();
            mults[3].multiplier = special;
            if !per_channel {
                mults.truncate(1);
            }
            let stage = OutputStage { input_offset: -zp_in, output_offset: zp_out, act_min: -128, act_max: 127, multipliers: &mults };
            let k = Weighted { stage, filter: &filter, bias: Some(&bias) };
            let sums: Vec<i32> = super::conv::folded_bias(&filter, oc, k.bias, k.stage.input_offset).collect();
            let packed: Vec<i8> = super::packed::pack(&filter, oc, 1, c).collect();
            let (iwin, owin) = (Window::full(1, 1, 5, c), Window::full(1, oh, ow, oc));
            let region = Rect::full(oh, ow);
            let (mut want, mut got) = (alloc::vec![0i8; owin.len()], alloc::vec![1i8; owin.len()]);
            crate::kernels::conv::conv2d(&g, &k, &input, iwin, &mut want, owin, region);
            for (packed_conv, units) in forms(&k, &sums, oc, c) {
                got.fill(1);
                super::packed::conv2d_in(packed_conv, &g, &k, &sums, (&packed, &units), &input, iwin, &mut got, owin, region);
                prop_assert_eq!(&got, &want);
            }
        }

        /// The in-place depthwise on rows wide enough for several 8-pixel
        /// groups at stride 2, and for more than one 64-pixel run of the
        /// boards' padded 3×3 kernel at stride 1.
        #[test]
        fn wide_inplace_depthwise_equals_the_reference(p in problem_sized(5, 80)) {
            let (_, oh, ow) = p.geometry();
            prop_assume!(oh > 0 && ow > 0);
            inplace_equals_the_reference(&p)?;
        }

        /// Rows longer than one run of [`RUN`](super::requant::RUN)
        /// pixels: half the cases the boards' NHWC 3×3 depthwise at stride 1
        /// (`nhwc_3x3`, on rows of 8 pixels or more: layers whose input a
        /// residual still needs, and patch stages), the others any window
        /// and stride (channel blocks across pixels); whole tensors and
        /// windows of them; up to 40 channels, so that the host's
        /// 16-channel blocks run too.
        #[test]
        fn wide_depthwise_equals_the_reference(
            mut p in problem_sized(40, 160),
            (x, slack, y, h) in (0usize..8, 0usize..8, 0usize..4, 1usize..12),
            three in any::<bool>(),
        ) {
            if three {
                (p.k, p.stride, p.dil) = (3, 1, 1);
                let f = p.filter.clone();
                p.filter = (0..9 * p.c).map(|i| f[i % f.len()]).collect();
            }
            let (g, oh, ow) = p.geometry();
            prop_assume!(oh > 0 && ow >= 8);
            let x = x.min(ow - 8);
            let w = ow - x - slack.min(ow - x - 8);
            let region = Rect::new(y % oh, x, h.min(oh - y % oh), w);
            depthwise_forms_equal_the_reference(&p, &g, region, p.input_for(region, oh, ow))?;
        }

        #[test]
        fn depthwise_equals_the_reference(p in problem(37)) {
            let (g, oh, ow) = p.geometry();
            prop_assume!(oh > 0 && ow > 0);
            let (region, ir) = p.window(oh, ow);
            depthwise_forms_equal_the_reference(&p, &g, region, ir)?;
            inplace_equals_the_reference(&p)?;
        }
    }
}
