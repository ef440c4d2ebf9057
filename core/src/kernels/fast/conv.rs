//! CONV_2D, optimized: equal to [`crate::kernels::conv::conv2d`] byte for byte.
//!
//! Pixels whose whole window lies inside the input (all of a 1×1
//! convolution's, nearly all of a k×k one's) start from
//! `bias + input_offset·Σw` (prepared once, [`folded_bias`]) and accumulate
//! `Σ x·w` through [`FilterPair::run`] on two neighbouring pixels × two
//! output channels, one kernel row at a time (with dilation 1 a row of taps
//! is `kw·in_c` contiguous bytes in NHWC). Output channel pairs are the
//! outer loop: a pair's filters are set up once (widened for `SMLAD` on
//! Armv7E-M) and its requantization constants worked out once, for every
//! pixel — the short [`NarrowStage`] when the accumulators are provably
//! small, as they are for ordinary layers ([`acc_bound`]). Pixels whose window reaches
//! into the padding read it as the input zero point from a stack copy of
//! the window (`border_band`); dilated convolutions run the reference kernel.

use super::dot::{dot, FilterPair};
use super::requant::{store_strided, RUN};
use crate::kernels::conv::{acc_bound, conv2d as reference, with_bias, Geometry, NarrowStage, Requantize, Weighted};
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
    let filter = &k.filter[..out_c * f_ch];
    for band in border(region, inner) {
        border_band(g, k, filter, folded, input, iw, output, ow, band);
    }
    if inner.is_empty() {
        return;
    }
    let inner = flat(g, region, inner, iw, ow).unwrap_or(inner);
    let px = Pixels { g, iw, ow, inner, step: g.stride_w * in_c, row_step: iw.rect.w * in_c };
    let mut pair = FilterPair::new();
    let mut acc = [[0i32; RUN]; 2];
    let narrow = |oc: usize| k.stage.narrow(oc, acc_bound(k.bias, oc, f_ch));
    let mut oc = 0;
    while oc + 2 <= out_c {
        pair.load(&filter[oc * f_ch..][..f_ch], &filter[(oc + 1) * f_ch..][..f_ch], g.kh, f_row);
        let f = (folded[oc], folded[oc + 1]);
        match (narrow(oc), narrow(oc + 1)) {
            (Some(r0), Some(r1)) => pairs::<NarrowStage>(&px, &pair, input, output, &mut acc, oc, f, (r0, r1)),
            _ => pairs(&px, &pair, input, output, &mut acc, oc, f, (k.stage.channel(oc), k.stage.channel(oc + 1))),
        }
        oc += 2;
    }
    if oc < out_c {
        single(&px, &filter[oc * f_ch..][..f_ch], f_row, input, output, oc, folded[oc], k.stage.channel(oc));
    }
}

/// Where the interior pixels are: the geometry, windows, the interior
/// rectangle, and the input steps to the next pixel and the next kernel row.
struct Pixels<'a> {
    g: &'a Geometry,
    iw: Window,
    ow: Window,
    inner: Rect,
    step: usize,
    row_step: usize,
}

impl Pixels<'_> {
    /// For each batch and output row of the interior: the input offset of its
    /// first pixel's window and the output offset of that pixel.
    #[inline(always)]
    fn rows(&self, mut f: impl FnMut(usize, usize)) {
        for b in 0..self.ow.n {
            for oy in self.inner.y..self.inner.y_end() {
                // Inside `inner` the window origin is never in the padding.
                let (y0, x0) = (self.g.origin_y(oy) as usize, self.g.origin_x(self.inner.x) as usize);
                f(self.iw.offset(b, y0, x0), self.ow.offset(b, oy, self.inner.x));
            }
        }
    }
}

/// Output channels `oc` and `oc + 1` of every interior pixel: each output row
/// in runs of up to [`RUN`] pixels, first the accumulators two pixels at a
/// time into `acc`, then each channel's run requantized in a loop of its own
/// (its constants stay in registers there; mixed into the accumulation loop
/// they were spilled and reloaded for every pixel).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn pairs<R: Requantize>(
    px: &Pixels,
    pair: &FilterPair,
    input: &[i8],
    output: &mut [i8],
    acc: &mut [[i32; RUN]; 2],
    oc: usize,
    (f0, f1): (i32, i32),
    (r0, r1): (R, R),
) {
    let out_c = px.ow.c;
    px.rows(|at, o| {
        let mut done = 0;
        while done < px.inner.w {
            let n = (px.inner.w - done).min(RUN);
            let [a0, a1] = acc;
            let (a0, a1) = (&mut a0[..n], &mut a1[..n]);
            pair.run(input, at + done * px.step, px.step, px.row_step, (f0, f1), a0, a1);
            let first = o + done * out_c + oc;
            let span = (n - 1) * out_c + 1;
            store_strided(&r0, a0, &mut output[first..first + span], out_c);
            store_strided(&r1, a1, &mut output[first + 1..first + 1 + span], out_c);
            done += n;
        }
    });
}

/// Most taps (`kh·kw·in_c`) [`border_band`] copies a window of.
const WINDOW: usize = 512;

/// Pixels whose window reaches into the padding (dilation 1): each window
/// is copied to the stack with its padded taps set to the input zero point,
/// whose products the folded bias cancels (`(zp + off)·w = 0`, as the
/// reference's skipped taps contribute nothing), then every output channel
/// is `folded + dot(window, filter)`. Wider windows run the reference.
#[allow(clippy::too_many_arguments)]
fn border_band(
    g: &Geometry,
    k: &Weighted,
    filter: &[i8],
    folded: &[i32],
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    band: Rect,
) {
    let (in_c, out_c) = (iw.c, ow.c);
    let (f_row, f_ch) = (g.kw * in_c, g.kh * g.kw * in_c);
    let zp = -(k.stage.input_offset as i64);
    if f_ch > WINDOW || !(-128..=127).contains(&zp) {
        return reference(g, k, input, iw, output, ow, band);
    }
    let mut window = [0i8; WINDOW];
    let window = &mut window[..f_ch];
    for b in 0..ow.n {
        for oy in band.y..band.y_end() {
            let y0 = g.origin_y(oy);
            for ox in band.x..band.x_end() {
                let x0 = g.origin_x(ox);
                for ky in 0..g.kh {
                    let iy = y0 + ky as isize;
                    for kx in 0..g.kw {
                        let ix = x0 + kx as isize;
                        let tap = &mut window[ky * f_row + kx * in_c..][..in_c];
                        if iy < 0 || ix < 0 || iy >= g.in_h as isize || ix >= g.in_w as isize {
                            tap.fill(zp as i8);
                        } else {
                            tap.copy_from_slice(&input[iw.offset(b, iy as usize, ix as usize)..][..in_c]);
                        }
                    }
                }
                let o = ow.offset(b, oy, ox);
                for (oc, (f, out)) in filter.chunks_exact(f_ch).zip(&mut output[o..o + out_c]).enumerate() {
                    *out = k.stage.requantize_fast(folded[oc].wrapping_add(dot(window, f)), oc);
                }
            }
        }
    }
}

/// Output channel `oc` (filter `f`) of every interior pixel.
#[allow(clippy::too_many_arguments)]
fn single(
    px: &Pixels,
    f: &[i8],
    f_row: usize,
    input: &[i8],
    output: &mut [i8],
    oc: usize,
    folded: i32,
    r: crate::kernels::conv::ChannelStage,
) {
    let out_c = px.ow.c;
    px.rows(|mut at, o| {
        for ox in 0..px.inner.w {
            let mut s = folded;
            for (ky, w) in f.chunks_exact(f_row).enumerate() {
                s = s.wrapping_add(dot(&input[at + ky * px.row_step..][..f_row], w));
            }
            output[o + ox * out_c + oc] = r.requantize(s);
            at += px.step;
        }
    });
}

/// A 1×1 convolution at stride 1 over rows as wide as both windows reads
/// and writes its pixels one after the other: `inner` as one row of all its
/// pixels (the same offsets for its first pixel), so runs are as long as
/// the kernel allows — a patch's rows are short, and each run has a cost of
/// its own (on the Cortex-M7 a call and two stores per pair of channels).
pub(crate) fn flat(g: &Geometry, region: Rect, inner: Rect, iw: Window, ow: Window) -> Option<Rect> {
    let ok = (g.kh, g.kw, g.stride_h, g.stride_w, g.pad_top, g.pad_left) == (1, 1, 1, 1, 0, 0)
        && inner == region
        && (region.x, region.w) == (ow.rect.x, ow.rect.w)
        && (region.x, region.w) == (iw.rect.x, iw.rect.w);
    ok.then(|| Rect::new(inner.y, inner.x, 1, inner.h * inner.w))
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
