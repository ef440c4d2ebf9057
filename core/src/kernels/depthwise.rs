//! DEPTHWISE_CONV_2D, int8 per-channel, any depth multiplier
//! (TFLite `DepthwiseConvPerChannel`).

use super::conv::{Geometry, Weighted};
use crate::region::{Rect, Window};

/// Computes `region` of the output into `output`, which holds window `ow`. `filter` is `[1, kh, kw, in_c * depth_multiplier]`.
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d(
    g: &Geometry,
    depth_multiplier: usize,
    k: &Weighted,
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    let out_c = ow.c;
    let in_c = iw.c;
    let f_row = g.kw * out_c;
    for px in g.pixels(ow, region) {
        for ic in 0..in_c {
            for m in 0..depth_multiplier {
                let oc = ic * depth_multiplier + m;
                let mut acc: i32 = 0;
                for (iy, ix, ty, tx) in px.taps(g) {
                    let x = input[iw.offset(px.b, iy, ix) + ic] as i32;
                    acc = acc.wrapping_add((x + k.stage.input_offset) * k.filter[ty * f_row + tx * out_c + oc] as i32);
                }
                output[px.o + oc] = k.output(acc, oc);
            }
        }
    }
}

/// In-place depthwise convolution (depth multiplier 1, one image), channel by
/// channel as TinyEngine does: each input channel plane is first copied to
/// `plane` (`in_h × in_w` bytes), then that channel's outputs are written
/// over the buffer, whose channel-`c` slots are no longer needed. `buffer`
/// holds the input `[1, in_h, in_w, c]` on entry and the output
/// `[1, out_h, out_w, c]` (from offset 0) on return.
pub fn depthwise_conv2d_inplace(
    g: &Geometry,
    k: &Weighted,
    buffer: &mut [i8],
    channels: usize,
    (out_h, out_w): (usize, usize),
    plane: &mut [i8],
) {
    let c = channels;
    let ow = Window::full(1, out_h, out_w, c);
    for ch in 0..c {
        for (p, v) in plane.iter_mut().take(g.in_h * g.in_w).enumerate() {
            *v = buffer[p * c + ch];
        }
        for px in g.pixels(ow, ow.rect) {
            let mut acc: i32 = 0;
            for (iy, ix, ty, tx) in px.taps(g) {
                acc = acc.wrapping_add(
                    (plane[iy * g.in_w + ix] as i32 + k.stage.input_offset)
                        * k.filter[(ty * g.kw + tx) * c + ch] as i32,
                );
            }
            buffer[px.o + ch] = k.output(acc, ch);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Windowed and in-place depthwise against a plain transcription of
    //! TFLite's `DepthwiseConvPerChannel` loop.
    use super::*;
    use crate::fixedpoint::{multiply_by_quantized_multiplier, QuantizedMultiplier};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct DwProblem {
        h: usize,
        w: usize,
        c: usize,
        k: usize,
        stride: usize,
        same: bool,
        input: Vec<i8>,
        filter: Vec<i8>,
        bias: Vec<i32>,
        zp_in: i32,
        mults: Vec<QuantizedMultiplier>,
    }

    impl DwProblem {
        fn geometry(&self) -> (Geometry, usize, usize) {
            crate::kernels::testing::square_window(self.h, self.w, self.k, self.stride, 1, self.same)
        }

        fn reference(&self) -> Vec<i8> {
            let (g, oh, ow) = self.geometry();
            let mut out = Vec::new();
            for oy in 0..oh {
                for ox in 0..ow {
                    for ch in 0..self.c {
                        let mut acc = 0i32;
                        for ky in 0..self.k {
                            for kx in 0..self.k {
                                let iy = (oy * self.stride + ky) as isize - g.pad_top as isize;
                                let ix = (ox * self.stride + kx) as isize - g.pad_left as isize;
                                if iy < 0 || ix < 0 || iy >= self.h as isize || ix >= self.w as isize {
                                    continue;
                                }
                                let x = self.input[((iy as usize) * self.w + ix as usize) * self.c + ch] as i32;
                                acc += (x - self.zp_in) * self.filter[(ky * self.k + kx) * self.c + ch] as i32;
                            }
                        }
                        acc += self.bias[ch];
                        let v = multiply_by_quantized_multiplier(acc, self.mults[ch].multiplier, self.mults[ch].shift);
                        out.push(v.clamp(-128, 127) as i8);
                    }
                }
            }
            out
        }

        fn weighted(&self) -> Weighted<'_> {
            let stage = crate::kernels::conv::OutputStage {
                input_offset: -self.zp_in,
                output_offset: 0,
                act_min: -128,
                act_max: 127,
                multipliers: &self.mults,
            };
            Weighted { stage, filter: &self.filter, bias: Some(&self.bias) }
        }
    }

    fn problem() -> impl Strategy<Value = DwProblem> {
        (1usize..=9, 1usize..=9, 1usize..=5, prop::sample::select(alloc::vec![1usize, 3, 5]), 1usize..=2, any::<bool>())
            .prop_flat_map(|(h, w, c, k, stride, same)| {
                (
                    Just((h, w, c, k, stride, same)),
                    prop::collection::vec(any::<i8>(), h * w * c),
                    prop::collection::vec(-127i8..=127, k * k * c),
                    prop::collection::vec(-5000i32..5000, c),
                    -128i32..=127,
                    prop::collection::vec((1u32 << 30..u32::MAX >> 1, -12i32..2), c),
                )
            })
            .prop_map(|((h, w, c, k, stride, same), input, filter, bias, zp_in, m)| DwProblem {
                h,
                w,
                c,
                k,
                stride,
                same,
                input,
                filter,
                bias,
                zp_in,
                mults: m.into_iter().map(|(q, s)| QuantizedMultiplier { multiplier: q as i32, shift: s }).collect(),
            })
    }

    proptest! {
        #[test]
        fn whole_tensor_and_in_place_match_reference(p in problem()) {
            let (g, oh, ow) = p.geometry();
            prop_assume!(oh > 0 && ow > 0);
            let want = p.reference();
            let owin = Window::full(1, oh, ow, p.c);
            let mut out = alloc::vec![0i8; owin.len()];
            depthwise_conv2d(&g, 1, &p.weighted(), &p.input, Window::full(1, p.h, p.w, p.c), &mut out, owin, owin.rect);
            prop_assert_eq!(&out, &want);
            // In place: the buffer holds the input, then the output from offset 0.
            let mut buffer = p.input.clone();
            buffer.resize(buffer.len().max(want.len()), 0);
            let mut plane = alloc::vec![0i8; p.h * p.w];
            depthwise_conv2d_inplace(&g, &p.weighted(), &mut buffer, p.c, (oh, ow), &mut plane);
            prop_assert_eq!(&buffer[..want.len()], &want[..]);
        }
    }
}
