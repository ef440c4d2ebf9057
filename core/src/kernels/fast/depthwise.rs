//! DEPTHWISE_CONV_2D, optimized: equal to the reference kernels in
//! [`crate::kernels::depthwise`] byte for byte.
//!
//! Depth multiplier 1 and dilation 1 (the MobileNet/BlazeFace case): inside
//! the input, each pixel accumulates blocks of [`LANES`] channels tap by tap
//! through [`mac_lanes`] (channels are contiguous in NHWC and in the
//! `[1, kh, kw, c]` filter), starting from `bias + input_offset·Σw`
//! (prepared once, [`folded_bias`]). Pixels whose window reaches into the
//! padding run the reference kernel.

use super::conv::{border, interior};
use super::dot::{dot, mac_lanes, mac_taps, Taps, LANES};
use super::requant::Block;
use crate::kernels::conv::{with_bias, Geometry, Weighted};
use crate::kernels::depthwise::{depthwise_conv2d as reference, depthwise_conv2d_inplace as reference_inplace};
use crate::region::{Rect, Window};

/// Computes `region` of the output into `output` (window `ow`), like the
/// reference; `folded[c]` is `bias[c] + input_offset·Σ_taps filter[tap][c]`.
#[allow(clippy::too_many_arguments)]
// Not inlined: one call per node, and profiles see the kernel by name.
#[inline(never)]
pub fn depthwise_conv2d(
    g: &Geometry,
    depth_multiplier: usize,
    k: &Weighted,
    folded: &[i32],
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    let c = ow.c;
    let fits = k.filter.len() >= g.kh * g.kw * c && folded.len() == c && iw.c == c;
    if depth_multiplier != 1 || g.dil_h != 1 || g.dil_w != 1 || !fits {
        return reference(g, depth_multiplier, k, input, iw, output, ow, region);
    }
    let inner = interior(g, region);
    for band in border(region, inner) {
        border_band(g, k, input, iw, output, ow, band);
    }
    let f_row = g.kw * c;
    // A 3×3 window's nine taps, from its origin, in the input and the filter.
    let row = iw.rect.w * c;
    let xt: Taps<9> = Taps::new(core::array::from_fn(|t| t / 3 * row + t % 3 * c));
    let wt: Taps<9> = Taps::new(core::array::from_fn(|t| t * c));
    let three = (g.kh, g.kw) == (3, 3);
    // Channel blocks outermost, so that each block's requantization
    // constants are worked out once for all its pixels (and, on wasm, the
    // block requantizes as vectors).
    // A last partial block overlaps the one before it (its channels are
    // computed twice, to the same bytes): cheaper than a scalar tail.
    let tail = (c % LANES != 0 && c > LANES).then(|| c - LANES);
    for ch in (0..c / LANES).map(|i| i * LANES).chain(tail) {
        let q = Block::new(&k.stage, ch, LANES);
        let f: [i32; LANES] = core::array::from_fn(|l| folded[ch + l]);
        for b in 0..ow.n {
            for oy in inner.y..inner.y_end() {
                let y0 = g.origin_y(oy) as usize;
                for ox in inner.x..inner.x_end() {
                    let x0 = g.origin_x(ox) as usize;
                    let mut acc = f;
                    if three {
                        mac_taps(&mut acc, input, iw.offset(b, y0, x0) + ch, &xt, k.filter, ch, &wt);
                    } else {
                        for ky in 0..g.kh {
                            let (i, w) = (iw.offset(b, y0 + ky, x0) + ch, ky * f_row + ch);
                            for kx in 0..g.kw {
                                mac_lanes(&mut acc, &input[i + kx * c..], &k.filter[w + kx * c..]);
                            }
                        }
                    }
                    let o = ow.offset(b, oy, ox) + ch;
                    q.store(&acc, &mut output[o..o + LANES]);
                }
            }
        }
    }
    for b in 0..ow.n {
        for oy in inner.y..inner.y_end() {
            let y0 = g.origin_y(oy) as usize;
            for ox in inner.x..inner.x_end() {
                let x0 = g.origin_x(ox) as usize;
                let o = ow.offset(b, oy, ox);
                // Fewer channels than a block.
                for ch in if c < LANES { 0 } else { c }..c {
                    let mut acc = 0i32;
                    for ky in 0..g.kh {
                        let (i, f) = (iw.offset(b, y0 + ky, x0) + ch, ky * f_row + ch);
                        for kx in 0..g.kw {
                            acc = acc.wrapping_add(input[i + kx * c] as i32 * k.filter[f + kx * c] as i32);
                        }
                    }
                    output[o + ch] = k.stage.requantize_fast(acc.wrapping_add(folded[ch]), ch);
                }
            }
        }
    }
}

/// Pixels whose window reaches into the padding (depth multiplier 1): the
/// reference skips the padded taps, so each pixel sums its valid taps only,
/// `Σ x·w + off·Σ w` over them in blocks of [`LANES`] channels, from the
/// bias. (BlazeFace's 5×5 windows put an eighth of its depthwise pixels here.)
#[allow(clippy::too_many_arguments)]
fn border_band(g: &Geometry, k: &Weighted, input: &[i8], iw: Window, output: &mut [i8], ow: Window, band: Rect) {
    let c = ow.c;
    let off = k.stage.input_offset;
    let f_row = g.kw * c;
    for b in 0..ow.n {
        for oy in band.y..band.y_end() {
            let y0 = g.origin_y(oy);
            let ky = (-y0).max(0) as usize..((g.in_h as isize - y0).min(g.kh as isize)).max(0) as usize;
            for ox in band.x..band.x_end() {
                let x0 = g.origin_x(ox);
                let kx = (-x0).max(0) as usize..((g.in_w as isize - x0).min(g.kw as isize)).max(0) as usize;
                let o = ow.offset(b, oy, ox);
                let at = |ty: usize, tx: usize| iw.offset(b, (y0 + ty as isize) as usize, (x0 + tx as isize) as usize);
                let mut ch = 0;
                while ch + LANES <= c {
                    let (mut acc, mut wsum) = ([0i32; LANES], [0i32; LANES]);
                    for ty in ky.clone() {
                        for tx in kx.clone() {
                            let w = &k.filter[ty * f_row + tx * c + ch..][..LANES];
                            mac_lanes(&mut acc, &input[at(ty, tx) + ch..], w);
                            for (s, &v) in wsum.iter_mut().zip(w) {
                                *s += v as i32;
                            }
                        }
                    }
                    for l in 0..LANES {
                        let v = with_bias(acc[l].wrapping_add(off.wrapping_mul(wsum[l])), k.bias, ch + l);
                        output[o + ch + l] = k.stage.requantize_fast(v, ch + l);
                    }
                    ch += LANES;
                }
                for ch in ch..c {
                    let mut acc = 0i32;
                    for ty in ky.clone() {
                        for tx in kx.clone() {
                            let x = input[at(ty, tx) + ch] as i32 + off;
                            acc = acc.wrapping_add(x * k.filter[ty * f_row + tx * c + ch] as i32);
                        }
                    }
                    output[o + ch] = k.stage.requantize_fast(with_bias(acc, k.bias, ch), ch);
                }
            }
        }
    }
}

/// The largest kernel whose taps [`depthwise_conv2d_inplace`] gathers on the stack.
const MAX_TAPS: usize = 64;

/// In-place depthwise convolution channel by channel, like
/// [`crate::kernels::depthwise::depthwise_conv2d_inplace`] (same buffers and
/// contract): a channel's taps are gathered once, and inside the plane each
/// kernel row is a contiguous run of `kw` bytes.
// Not inlined: one call per node, and profiles see the kernel by name.
#[inline(never)]
pub fn depthwise_conv2d_inplace(
    g: &Geometry,
    k: &Weighted,
    folded: &[i32],
    buffer: &mut [i8],
    channels: usize,
    (out_h, out_w): (usize, usize),
    plane: &mut [i8],
) {
    let c = channels;
    let taps = g.kh * g.kw;
    let fits = taps <= MAX_TAPS && k.filter.len() >= taps * c && folded.len() == c && plane.len() >= g.in_h * g.in_w;
    if g.dil_h != 1 || g.dil_w != 1 || !fits {
        return reference_inplace(g, k, buffer, channels, (out_h, out_w), plane);
    }
    let ow = Window::full(1, out_h, out_w, c);
    let inner = interior(g, ow.rect);
    let off = k.stage.input_offset;
    let mut wl = [0i8; MAX_TAPS];
    for ch in 0..c {
        for (p, v) in plane.iter_mut().take(g.in_h * g.in_w).enumerate() {
            *v = buffer[p * c + ch];
        }
        for (t, w) in wl.iter_mut().take(taps).enumerate() {
            *w = k.filter[t * c + ch];
        }
        let q = k.stage.channel(ch);
        // The border pixels of this channel: each sums its valid taps only
        // (their ranges found once per pixel), from the bias, as the reference.
        for band in border(ow.rect, inner) {
            for oy in band.y..band.y_end() {
                let y0 = g.origin_y(oy);
                let ky = (-y0).max(0) as usize..((g.in_h as isize - y0).min(g.kh as isize)).max(0) as usize;
                for ox in band.x..band.x_end() {
                    let x0 = g.origin_x(ox);
                    let kx = (-x0).max(0) as usize..((g.in_w as isize - x0).min(g.kw as isize)).max(0) as usize;
                    let mut acc = 0i32;
                    for ty in ky.clone() {
                        let row = ((y0 + ty as isize) as usize * g.in_w) as isize + x0;
                        for tx in kx.clone() {
                            let x = plane[(row + tx as isize) as usize] as i32 + off;
                            acc = acc.wrapping_add(x * wl[ty * g.kw + tx] as i32);
                        }
                    }
                    buffer[ow.offset(0, oy, ox) + ch] = q.requantize(with_bias(acc, k.bias, ch));
                }
            }
        }
        if (g.kh, g.kw) == (3, 3) {
            interior_3x3(g, k, folded[ch], &wl, plane, buffer, ow, inner, ch);
        } else {
            interior_any(g, k, folded[ch], &wl, plane, buffer, ow, inner, ch);
        }
    }
}

/// The interior of one channel for any kernel: each kernel row is a
/// contiguous run of `kw` bytes of the plane.
#[allow(clippy::too_many_arguments)]
fn interior_any(
    g: &Geometry,
    k: &Weighted,
    folded: i32,
    wl: &[i8; MAX_TAPS],
    plane: &[i8],
    buffer: &mut [i8],
    ow: Window,
    inner: Rect,
    ch: usize,
) {
    let q = k.stage.channel(ch);
    for oy in inner.y..inner.y_end() {
        let y0 = g.origin_y(oy) as usize;
        for ox in inner.x..inner.x_end() {
            let x0 = g.origin_x(ox) as usize;
            let mut acc = folded;
            for ky in 0..g.kh {
                let row = &plane[(y0 + ky) * g.in_w + x0..][..g.kw];
                acc = acc.wrapping_add(dot(row, &wl[ky * g.kw..(ky + 1) * g.kw]));
            }
            buffer[ow.offset(0, oy, ox) + ch] = q.requantize(acc);
        }
    }
}

/// The interior of one channel of a 3×3 in-place depthwise (MobileNet's
/// case, a third of its instructions on a Cortex-M7): the nine weights in
/// registers, the three input rows sliced once per output row, and nine
/// products per pixel with no loop around them (written out: this measured
/// 2.5 % fewer instructions on mbv2 than constant-length loops). Nine int8
/// products sum to at most 9·128² in magnitude, so only the add of `folded`
/// can wrap.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn interior_3x3(
    g: &Geometry,
    k: &Weighted,
    folded: i32,
    wl: &[i8; MAX_TAPS],
    plane: &[i8],
    buffer: &mut [i8],
    ow: Window,
    inner: Rect,
    ch: usize,
) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if g.stride_w <= 2 && !inner.is_empty() {
        return simd::interior_3x3(g, k, folded, wl, plane, buffer, ow, inner, ch);
    }
    let w: [i32; 9] = core::array::from_fn(|t| wl[t] as i32);
    let (in_w, c) = (g.in_w, ow.c);
    if g.stride_w == 1 && !inner.is_empty() {
        return interior_3x3_stride1(g, k, folded, &w, plane, buffer, ow, inner, ch);
    }
    let q = k.stage.channel(ch);
    for oy in inner.y..inner.y_end() {
        let y0 = g.origin_y(oy) as usize;
        let rows = &plane[y0 * in_w..(y0 + 3) * in_w];
        let (r0, rest) = rows.split_at(in_w);
        let (r1, r2) = rest.split_at(in_w);
        let line = ow.offset(0, oy, 0) + ch;
        for ox in inner.x..inner.x_end() {
            let x0 = g.origin_x(ox) as usize;
            let (a, b, d) = (&r0[x0..x0 + 3], &r1[x0..x0 + 3], &r2[x0..x0 + 3]);
            let s = a[0] as i32 * w[0]
                + a[1] as i32 * w[1]
                + a[2] as i32 * w[2]
                + b[0] as i32 * w[3]
                + b[1] as i32 * w[4]
                + b[2] as i32 * w[5]
                + d[0] as i32 * w[6]
                + d[1] as i32 * w[7]
                + d[2] as i32 * w[8];
            buffer[line + ox * c] = q.requantize(folded.wrapping_add(s));
        }
    }
}

/// [`interior_3x3`] with a horizontal stride of 1: the window slides one
/// column per pixel, so each pixel loads the three bytes of its new column
/// and keeps the other six from the pixel before (in registers).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn interior_3x3_stride1(
    g: &Geometry,
    k: &Weighted,
    folded: i32,
    w: &[i32; 9],
    plane: &[i8],
    buffer: &mut [i8],
    ow: Window,
    inner: Rect,
    ch: usize,
) {
    let (in_w, c, n) = (g.in_w, ow.c, inner.w);
    let x0 = g.origin_x(inner.x) as usize;
    let q = k.stage.channel(ch);
    for oy in inner.y..inner.y_end() {
        let y0 = g.origin_y(oy) as usize;
        // The n + 2 bytes of each input row the n pixels read.
        let r0 = &plane[y0 * in_w + x0..][..n + 2];
        let r1 = &plane[(y0 + 1) * in_w + x0..][..n + 2];
        let r2 = &plane[(y0 + 2) * in_w + x0..][..n + 2];
        let out = &mut buffer[ow.offset(0, oy, inner.x) + ch..];
        let (mut a0, mut a1) = (r0[0] as i32, r0[1] as i32);
        let (mut b0, mut b1) = (r1[0] as i32, r1[1] as i32);
        let (mut d0, mut d1) = (r2[0] as i32, r2[1] as i32);
        for (i, ((&a2, &b2), &d2)) in r0[2..].iter().zip(&r1[2..]).zip(&r2[2..]).enumerate() {
            let (a2, b2, d2) = (a2 as i32, b2 as i32, d2 as i32);
            let s = a0 * w[0]
                + a1 * w[1]
                + a2 * w[2]
                + b0 * w[3]
                + b1 * w[4]
                + b2 * w[5]
                + d0 * w[6]
                + d1 * w[7]
                + d2 * w[8];
            out[i * c] = q.requantize(folded.wrapping_add(s));
            (a0, a1, b0, b1, d0, d1) = (a1, a2, b1, b2, d1, d2);
        }
    }
}

/// wasm32 `simd128`: the in-place 3×3 interior eight pixels of a row at a
/// time (pixels in the lanes, as the plane holds one channel), each tap one
/// load, two widening multiplies by the splatted weight and two adds; the
/// channel's eight results requantized as vectors and written to their
/// NHWC places. Stride 2 loads sixteen bytes and keeps the even ones.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    #![allow(unsafe_code)]
    use super::super::requant::Block;
    use crate::kernels::conv::{Geometry, OutputStage, Weighted};
    use crate::region::{Rect, Window};
    use core::arch::wasm32::*;

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn interior_3x3(
        g: &Geometry,
        k: &Weighted,
        folded: i32,
        wl: &[i8; super::MAX_TAPS],
        plane: &[i8],
        buffer: &mut [i8],
        ow: Window,
        inner: Rect,
        ch: usize,
    ) {
        let (in_w, c, sw) = (g.in_w, ow.c, g.stride_w);
        let m = [k.stage.multipliers[if k.stage.multipliers.len() == 1 { 0 } else { ch }]];
        let q = Block::new(&OutputStage { multipliers: &m, ..k.stage }, 0, 8);
        let w: [v128; 9] = core::array::from_fn(|t| i16x8_splat(wl[t] as i16));
        let scalar = k.stage.channel(ch);
        // Bytes a group's tap reads from its first column: 8 at stride 1, 16 at stride 2.
        let span = if sw == 1 { 8 } else { 16 };
        for oy in inner.y..inner.y_end() {
            let y0 = g.origin_y(oy) as usize;
            let line = ow.offset(0, oy, 0) + ch;
            let mut ox = inner.x;
            while ox < inner.x_end() {
                let x0 = g.origin_x(ox) as usize;
                // The group's last read (row y0 + 2, column x0 + 2 + span) inside the plane.
                let fits = ox + 8 <= inner.x_end() && (y0 + 2) * in_w + x0 + 2 + span <= plane.len();
                if !fits {
                    let mut s = folded;
                    for t in 0..9 {
                        let v = plane[(y0 + t / 3) * in_w + x0 + t % 3] as i32 * wl[t] as i32;
                        s = s.wrapping_add(v);
                    }
                    buffer[line + ox * c] = scalar.requantize(s);
                    ox += 1;
                    continue;
                }
                let (mut a0, mut a1) = (i32x4_splat(folded), i32x4_splat(folded));
                for (t, w) in w.iter().enumerate() {
                    let at = (y0 + t / 3) * in_w + x0 + t % 3;
                    // SAFETY: `fits` checked that the furthest tap's `span` bytes lie inside `plane`.
                    let v = unsafe {
                        let p = plane.as_ptr().add(at);
                        if sw == 1 {
                            i16x8_load_extend_i8x8(p.cast())
                        } else {
                            let b = v128_load(p.cast());
                            i16x8_extend_low_i8x16(
                                i8x16_shuffle::<0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14>(b, b),
                            )
                        }
                    };
                    a0 = i32x4_add(a0, i32x4_extmul_low_i16x8(v, *w));
                    a1 = i32x4_add(a1, i32x4_extmul_high_i16x8(v, *w));
                }
                let mut out = [0i8; 8];
                q.store_vectors(&[a0, a1], &mut out);
                for (i, &y) in out.iter().enumerate() {
                    buffer[line + (ox + i) * c] = y;
                }
                ox += 8;
            }
        }
    }
}

/// `bias[c] + input_offset·Σ_taps filter[tap][c]` for a `[1, kh, kw, c]`
/// filter: the constant the optimized kernels start each accumulator from.
pub fn folded_bias<'a>(
    filter: &'a [i8],
    channels: usize,
    bias: Option<&'a [i32]>,
    input_offset: i32,
) -> impl Iterator<Item = i32> + 'a {
    (0..channels).map(move |ch| {
        let sum = filter.iter().skip(ch).step_by(channels.max(1)).fold(0i32, |s, &w| s.wrapping_add(w as i32));
        with_bias(input_offset.wrapping_mul(sum), bias, ch)
    })
}
