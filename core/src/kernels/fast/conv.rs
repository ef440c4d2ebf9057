//! CONV_2D, optimized: equal to [`crate::kernels::conv::conv2d`] byte for byte.
//!
//! Pixels whose whole window lies inside the input (all of a 1×1
//! convolution's, nearly all of a k×k one's) start from
//! `bias + input_offset·Σw` (prepared once, [`folded_bias`]) and accumulate
//! `Σ x·w` through [`dot_2x2`] on two neighbouring pixels × two output
//! channels, one kernel row at a time (with dilation 1 a row of taps is
//! `kw·in_c` contiguous bytes in NHWC). The other pixels, and dilated
//! convolutions, run the reference kernel.

use super::dot::{dot, dot_2x2};
use crate::kernels::conv::{conv2d as reference, with_bias, Geometry, Weighted};
use crate::region::{Rect, Window};

/// Computes `region` of the output into `output` (window `ow`), like the
/// reference; `folded[oc]` is `bias[oc] + input_offset·Σ filter[oc]` (see [`folded_bias`]).
#[allow(clippy::too_many_arguments)]
// Not inlined: one call per node, and profiles see the kernel by name.
#[inline(never)]
pub fn conv2d(
    g: &Geometry,
    k: &Weighted,
    folded: &[i32],
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    let out_c = ow.c;
    let (in_c, f_row) = (iw.c, g.kw * iw.c);
    let f_ch = g.kh * f_row;
    let fits = folded.len() == out_c && k.filter.len() >= out_c * f_ch && f_ch > 0;
    if g.dil_h != 1 || g.dil_w != 1 || !fits {
        return reference(g, k, input, iw, output, ow, region);
    }
    let inner = interior(g, region);
    for band in border(region, inner) {
        reference(g, k, input, iw, output, ow, band);
    }
    if inner.is_empty() {
        return;
    }
    let filter = &k.filter[..out_c * f_ch];
    let stage = &k.stage;
    // Input step between neighbouring output pixels, and the output bytes of a pixel pair.
    let step = g.stride_w * in_c;
    for b in 0..ow.n {
        for oy in inner.y..inner.y_end() {
            // Inside `inner` the window origin is never in the padding.
            let (y0, x0) = (g.origin_y(oy) as usize, g.origin_x(inner.x) as usize);
            // One input row of the window further down: the next kernel row.
            let row_step = iw.rect.w * in_c;
            let o_row = &mut output[ow.offset(b, oy, inner.x)..][..inner.w * out_c];
            let mut pixels = o_row.chunks_exact_mut(2 * out_c);
            let mut at = iw.offset(b, y0, x0);
            for o2 in pixels.by_ref() {
                let (oa, ob) = o2.split_at_mut(out_c);
                pair(input, at, at + step, row_step, g.kh, f_row, filter, f_ch, stage, folded, oa, ob);
                at += 2 * step;
            }
            let last = pixels.into_remainder();
            if !last.is_empty() {
                single(input, at, row_step, g.kh, f_row, filter, f_ch, stage, folded, last);
            }
        }
    }
}

/// Two neighbouring output pixels (windows at input offsets `a`, `b`), every output channel.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn pair(
    input: &[i8],
    a: usize,
    b: usize,
    row_step: usize,
    kh: usize,
    f_row: usize,
    filter: &[i8],
    f_ch: usize,
    stage: &crate::kernels::conv::OutputStage,
    folded: &[i32],
    oa: &mut [i8],
    ob: &mut [i8],
) {
    let out_c = oa.len();
    let mut f2 = filter.chunks_exact(2 * f_ch);
    let mut oc = 0;
    for f in f2.by_ref() {
        let (f0, f1) = f.split_at(f_ch);
        let mut acc = [folded[oc], folded[oc + 1], folded[oc], folded[oc + 1]];
        for ky in 0..kh {
            let (xa, xb) = (&input[a + ky * row_step..][..f_row], &input[b + ky * row_step..][..f_row]);
            let d = dot_2x2(xa, xb, &f0[ky * f_row..][..f_row], &f1[ky * f_row..][..f_row]);
            for (s, v) in acc.iter_mut().zip(d) {
                *s = s.wrapping_add(v);
            }
        }
        oa[oc] = stage.requantize_fast(acc[0], oc);
        oa[oc + 1] = stage.requantize_fast(acc[1], oc + 1);
        ob[oc] = stage.requantize_fast(acc[2], oc);
        ob[oc + 1] = stage.requantize_fast(acc[3], oc + 1);
        oc += 2;
    }
    let f0 = f2.remainder();
    if oc < out_c && !f0.is_empty() {
        let (mut s, mut t) = (folded[oc], folded[oc]);
        for ky in 0..kh {
            let w = &f0[ky * f_row..][..f_row];
            s = s.wrapping_add(dot(&input[a + ky * row_step..][..f_row], w));
            t = t.wrapping_add(dot(&input[b + ky * row_step..][..f_row], w));
        }
        oa[oc] = stage.requantize_fast(s, oc);
        ob[oc] = stage.requantize_fast(t, oc);
    }
}

/// One output pixel (window at input offset `a`), every output channel.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn single(
    input: &[i8],
    a: usize,
    row_step: usize,
    kh: usize,
    f_row: usize,
    filter: &[i8],
    f_ch: usize,
    stage: &crate::kernels::conv::OutputStage,
    folded: &[i32],
    out: &mut [i8],
) {
    for (oc, (f, o)) in filter.chunks_exact(f_ch).zip(out.iter_mut()).enumerate() {
        let mut s = folded[oc];
        for ky in 0..kh {
            s = s.wrapping_add(dot(&input[a + ky * row_step..][..f_row], &f[ky * f_row..][..f_row]));
        }
        *o = stage.requantize_fast(s, oc);
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

/// `bias[oc] + input_offset·Σ filter[oc]` for a `[out_c, kh, kw, in_c]`
/// filter: the constant the optimized kernel starts each accumulator from
/// (wrapping, as the accumulation itself).
pub fn folded_bias<'a>(
    filter: &'a [i8],
    out_c: usize,
    bias: Option<&'a [i32]>,
    input_offset: i32,
) -> impl Iterator<Item = i32> + 'a {
    let per = if out_c == 0 { 0 } else { filter.len() / out_c };
    (0..out_c).map(move |oc| {
        let sum = filter[oc * per..(oc + 1) * per].iter().fold(0i32, |s, &w| s.wrapping_add(w as i32));
        with_bias(input_offset.wrapping_mul(sum), bias, oc)
    })
}
