//! CONV_2D, optimized: equal to [`crate::kernels::conv::conv2d`] byte for byte.
//!
//! Pixels whose whole window lies inside the input (all of a 1×1
//! convolution's, nearly all of a k×k one's) accumulate `Σ x·w` through
//! [`dot_2x2`] on two neighbouring pixels × two output channels, one kernel
//! row at a time (with dilation 1 a row of taps is `kw·in_c` contiguous bytes
//! in NHWC), then add `bias + input_offset·Σw`. The other pixels, and
//! dilated convolutions, run the reference kernel.

use super::dot::{dot, dot_2x2};
use crate::kernels::conv::{conv2d as reference, with_bias, Geometry, Weighted};
use crate::region::{Rect, Window};

/// Computes `region` of the output into `output` (window `ow`), like the
/// reference; `sums[oc]` is `Σ filter[oc]` (over the taps and input channels).
#[allow(clippy::too_many_arguments)]
// Not inlined: one call per node, and profiles see the kernel by name.
#[inline(never)]
pub fn conv2d(
    g: &Geometry,
    k: &Weighted,
    sums: &[i32],
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    let out_c = ow.c;
    if g.dil_h != 1 || g.dil_w != 1 || sums.len() != out_c {
        return reference(g, k, input, iw, output, ow, region);
    }
    let in_c = iw.c;
    let f_row = g.kw * in_c;
    let f_ch = g.kh * f_row;
    if k.filter.len() < out_c * f_ch {
        return reference(g, k, input, iw, output, ow, region);
    }
    let off = k.stage.input_offset;
    // The folded constant of channel `oc`: its bias plus input_offset·Σw.
    let folded = |oc: usize| with_bias(off.wrapping_mul(sums[oc]), k.bias, oc);
    let inner = interior(g, region);
    for band in border(region, inner) {
        reference(g, k, input, iw, output, ow, band);
    }
    for b in 0..ow.n {
        for oy in inner.y..inner.y_end() {
            let (ix0, ix1) = (inner.x, inner.x_end());
            // Inside `inner` the window origin is never in the padding.
            let y0 = g.origin_y(oy) as usize;
            // Input offset of kernel row `ky` of output column `ox`'s window.
            let at = |ox: usize, ky: usize| iw.offset(b, y0 + ky, g.origin_x(ox) as usize);
            let mut ox = ix0;
            while ox < ix1 {
                let pair = ox + 1 < ix1;
                let (o0, o1) = (ow.offset(b, oy, ox), if pair { ow.offset(b, oy, ox + 1) } else { 0 });
                let mut oc = 0;
                while oc < out_c {
                    let two = oc + 1 < out_c;
                    let mut acc = [0i32; 4];
                    for ky in 0..g.kh {
                        let x0 = &input[at(ox, ky)..][..f_row];
                        let f0 = &k.filter[oc * f_ch + ky * f_row..][..f_row];
                        match (pair, two) {
                            (true, true) => {
                                let x1 = &input[at(ox + 1, ky)..][..f_row];
                                let f1 = &k.filter[(oc + 1) * f_ch + ky * f_row..][..f_row];
                                let d = dot_2x2(x0, x1, f0, f1);
                                for (a, v) in acc.iter_mut().zip(d) {
                                    *a = a.wrapping_add(v);
                                }
                            }
                            (true, false) => {
                                let x1 = &input[at(ox + 1, ky)..][..f_row];
                                acc[0] = acc[0].wrapping_add(dot(x0, f0));
                                acc[2] = acc[2].wrapping_add(dot(x1, f0));
                            }
                            (false, true) => {
                                let f1 = &k.filter[(oc + 1) * f_ch + ky * f_row..][..f_row];
                                acc[0] = acc[0].wrapping_add(dot(x0, f0));
                                acc[1] = acc[1].wrapping_add(dot(x0, f1));
                            }
                            (false, false) => acc[0] = acc[0].wrapping_add(dot(x0, f0)),
                        }
                    }
                    let stage = &k.stage;
                    output[o0 + oc] = stage.requantize(acc[0].wrapping_add(folded(oc)), oc);
                    if two {
                        output[o0 + oc + 1] = stage.requantize(acc[1].wrapping_add(folded(oc + 1)), oc + 1);
                    }
                    if pair {
                        output[o1 + oc] = stage.requantize(acc[2].wrapping_add(folded(oc)), oc);
                        if two {
                            output[o1 + oc + 1] = stage.requantize(acc[3].wrapping_add(folded(oc + 1)), oc + 1);
                        }
                    }
                    oc += 2;
                }
                ox += 2;
            }
        }
    }
}

/// The part of `region` whose windows lie wholly inside the input (empty if none).
pub(crate) fn interior(g: &Geometry, region: Rect) -> Rect {
    // Outputs o with o·stride - pad >= 0 and o·stride - pad + k <= size.
    let range = |pad: usize, stride: usize, k: usize, size: usize, r0: usize, r1: usize| {
        let lo = pad.div_ceil(stride);
        let hi = if size + pad >= k { (size + pad - k) / stride + 1 } else { 0 };
        let (lo, hi) = (lo.clamp(r0, r1), hi.clamp(r0, r1));
        (lo, hi.max(lo))
    };
    let (y0, y1) = range(g.pad_top, g.stride_h, g.kh, g.in_h, region.y, region.y_end());
    let (x0, x1) = range(g.pad_left, g.stride_w, g.kw, g.in_w, region.x, region.x_end());
    if y0 == y1 || x0 == x1 {
        return Rect::new(region.y, region.x, 0, 0);
    }
    Rect::new(y0, x0, y1 - y0, x1 - x0)
}

/// `region` minus `inner` (a sub-rectangle of it, or empty) as up to four
/// bands: above, below, left and right of it.
pub(crate) fn border(region: Rect, inner: Rect) -> impl Iterator<Item = Rect> {
    let bands = if inner.is_empty() {
        [region, Rect::default(), Rect::default(), Rect::default()]
    } else {
        [
            Rect::new(region.y, region.x, inner.y - region.y, region.w),
            Rect::new(inner.y_end(), region.x, region.y_end() - inner.y_end(), region.w),
            Rect::new(inner.y, region.x, inner.h, inner.x - region.x),
            Rect::new(inner.y, inner.x_end(), inner.h, region.x_end() - inner.x_end()),
        ]
    };
    bands.into_iter().filter(|r| !r.is_empty())
}

/// Per-output-channel sums of a `[out_c, kh, kw, in_c]` filter.
pub fn filter_sums(filter: &[i8], out_c: usize) -> impl Iterator<Item = i32> + '_ {
    let per = if out_c == 0 { 0 } else { filter.len() / out_c };
    (0..out_c).map(move |oc| filter[oc * per..(oc + 1) * per].iter().map(|&w| w as i32).sum())
}
