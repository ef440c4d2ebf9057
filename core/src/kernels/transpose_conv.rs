//! TRANSPOSE_CONV, int8 with per-channel weights. TFLite's reference scatters
//! every input pixel through the filter into an int32 buffer the size of the
//! output; here each output pixel gathers the taps that land on it instead,
//! which needs no scratch and computes any output region on its own (so the
//! operator can sit in a patch stage). The int32 sums are the same numbers
//! added in another order, hence the same bytes.

use super::conv::Weighted;
use crate::region::{Rect, Window};

/// Geometry of one transposed convolution: input pixel `i` feeds output
/// `i * stride - pad + tap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upsampling {
    pub in_h: usize,
    pub in_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
}

/// `(input index, tap)` pairs along one axis that land on output `o`.
#[inline(always)]
fn sources(o: usize, pad: usize, k: usize, stride: usize, size: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..k).filter_map(move |t| {
        let at = (o + pad).checked_sub(t)?;
        (at % stride == 0 && at / stride < size).then_some((at / stride, t))
    })
}

impl Upsampling {
    /// Input rows (or columns) `[lo, hi)` that outputs `[o0, o1)` read along one axis.
    pub fn input_span(o0: usize, o1: usize, pad: usize, k: usize, stride: usize, size: usize) -> (usize, usize) {
        if o1 <= o0 || size == 0 {
            return (0, 0);
        }
        let lo = (o0 + pad).saturating_sub(k - 1).div_ceil(stride).min(size);
        let hi = ((o1 - 1 + pad) / stride + 1).min(size);
        (lo, hi.max(lo))
    }
}

/// Computes `region` of the output into `output` (holding window `ow`) from
/// `input` (holding window `iw`, which covers what the region reads).
/// `filter` is `[out_c, kh, kw, in_c]`.
pub fn transpose_conv(
    g: &Upsampling,
    k: &Weighted,
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    let (in_c, out_c) = (iw.c, ow.c);
    let f_row = g.kw * in_c;
    let f_ch = g.kh * f_row;
    for b in 0..ow.n {
        for oy in region.y..region.y_end() {
            for ox in region.x..region.x_end() {
                let o = ow.offset(b, oy, ox);
                for oc in 0..out_c {
                    let mut acc: i32 = 0;
                    for (iy, ty) in sources(oy, g.pad_top, g.kh, g.stride_h, g.in_h) {
                        for (ix, tx) in sources(ox, g.pad_left, g.kw, g.stride_w, g.in_w) {
                            let i = iw.offset(b, iy, ix);
                            let f = oc * f_ch + ty * f_row + tx * in_c;
                            for (x, w) in input[i..i + in_c].iter().zip(&k.filter[f..f + in_c]) {
                                acc = acc.wrapping_add((*x as i32 + k.stage.input_offset) * *w as i32);
                            }
                        }
                    }
                    output[o + oc] = k.output(acc, oc);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The gathering kernel against a transcription of TFLite's scattering
    //! `TransposeConv` (int32 scratch, then bias and requantization), on
    //! whole tensors and on output regions computed from the input rows
    //! `input_span` says they read.
    use super::*;
    use crate::fixedpoint::QuantizedMultiplier;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct Problem {
        g: Upsampling,
        out_h: usize,
        out_w: usize,
        c: usize,
        oc: usize,
        input: Vec<i8>,
        filter: Vec<i8>,
        bias: Vec<i32>,
        zp_in: i32,
        zp_out: i32,
        mults: Vec<QuantizedMultiplier>,
    }

    impl Problem {
        fn weighted(&self) -> Weighted<'_> {
            crate::kernels::testing::weighted(self.zp_in, self.zp_out, &self.mults, &self.filter, &self.bias)
        }

        fn reference(&self) -> Vec<i8> {
            let g = &self.g;
            let mut scratch = alloc::vec![0i32; self.out_h * self.out_w * self.oc];
            for iy in 0..g.in_h {
                for ix in 0..g.in_w {
                    for ic in 0..self.c {
                        for ty in 0..g.kh {
                            for tx in 0..g.kw {
                                let oy = (iy * g.stride_h + ty) as isize - g.pad_top as isize;
                                let ox = (ix * g.stride_w + tx) as isize - g.pad_left as isize;
                                if oy < 0 || ox < 0 || oy >= self.out_h as isize || ox >= self.out_w as isize {
                                    continue;
                                }
                                for oc in 0..self.oc {
                                    let x = self.input[(iy * g.in_w + ix) * self.c + ic] as i32 - self.zp_in;
                                    let w = self.filter[((oc * g.kh + ty) * g.kw + tx) * self.c + ic] as i32;
                                    scratch[((oy as usize) * self.out_w + ox as usize) * self.oc + oc] += x * w;
                                }
                            }
                        }
                    }
                }
            }
            let k = self.weighted();
            scratch.iter().enumerate().map(|(i, &acc)| k.output(acc, i % self.oc)).collect()
        }
    }

    fn problem() -> impl Strategy<Value = Problem> {
        (1usize..=5, 1usize..=5, 1usize..=3, 1usize..=3, 1usize..=4, 1usize..=4, 1usize..=3, 0usize..3, 0usize..3)
            .prop_flat_map(|(ih, iw, c, oc, kh, kw, s, extra_h, extra_w)| {
                let (out_h, out_w) = (ih * s + extra_h, iw * s + extra_w);
                (
                    Just((ih, iw, c, oc, kh, kw, s, out_h, out_w)),
                    prop::collection::vec(any::<i8>(), ih * iw * c),
                    prop::collection::vec(any::<i8>(), oc * kh * kw * c),
                    prop::collection::vec(-5000i32..5000, oc),
                    -128i32..=127,
                    -128i32..=127,
                    prop::collection::vec(0.0005f64..0.05, oc),
                    0usize..3,
                    0usize..3,
                )
            })
            .prop_map(|((ih, iw, c, oc, kh, kw, s, out_h, out_w), input, filter, bias, zi, zo, m, pt, pl)| Problem {
                g: Upsampling {
                    in_h: ih,
                    in_w: iw,
                    kh,
                    kw,
                    stride_h: s,
                    stride_w: s,
                    pad_top: pt.min(kh - 1),
                    pad_left: pl.min(kw - 1),
                },
                out_h,
                out_w,
                c,
                oc,
                input,
                filter,
                bias,
                zp_in: zi,
                zp_out: zo,
                mults: m.into_iter().map(QuantizedMultiplier::from_f64).collect(),
            })
    }

    proptest! {
        #[test]
        fn gathering_equals_scattering(p in problem(), r in (0usize..8, 0usize..8, 1usize..8, 1usize..8)) {
            let want = p.reference();
            let (iw, ow) = (Window::full(1, p.g.in_h, p.g.in_w, p.c), Window::full(1, p.out_h, p.out_w, p.oc));
            let mut got = alloc::vec![0i8; want.len()];
            transpose_conv(&p.g, &p.weighted(), &p.input, iw, &mut got, ow, ow.rect);
            prop_assert_eq!(&got, &want);

            // One region, from just the input rows and columns it reads.
            let (y, x) = (r.0 % p.out_h, r.1 % p.out_w);
            let region = Rect::new(y, x, r.2.min(p.out_h - y), r.3.min(p.out_w - x));
            let g = &p.g;
            let (y0, y1) = Upsampling::input_span(region.y, region.y_end(), g.pad_top, g.kh, g.stride_h, g.in_h);
            let (x0, x1) = Upsampling::input_span(region.x, region.x_end(), g.pad_left, g.kw, g.stride_w, g.in_w);
            let in_r = Rect::new(y0, x0, y1 - y0, x1 - x0);
            let input = crate::kernels::testing::crop(&p.input, g.in_w, p.c, in_r);
            let mut out = alloc::vec![0i8; region.area() * p.oc];
            let w = Window::new(1, in_r, p.c);
            transpose_conv(g, &p.weighted(), &input, w, &mut out, Window::new(1, region, p.oc), region);
            prop_assert_eq!(out, crate::kernels::testing::crop(&want, p.out_w, p.oc, region));
        }
    }
}
