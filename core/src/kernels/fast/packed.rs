//! CONV_2D over weights packed for SIMD (the browser's and the host's
//! convolution): equal to [`crate::kernels::conv::conv2d`] byte for byte.
//!
//! The [`conv`](super::conv) kernel takes inner products along the input
//! channels, which leaves most SIMD lanes empty when a layer has 3, 8 or 16
//! of them (the first, high-resolution layers, where patch-based inference
//! spends its time). This one puts output channels in the lanes instead, as
//! a GEMM micro-kernel does: the filter is repacked once, at lowering, into
//! blocks of [`OCB`] output channels × pairs of depth (`i32x4.dot_i16x8_s`
//! multiplies two depths of four channels at once), and a block of up to
//! four pixels × [`OCB`] channels accumulates in registers, one splatted
//! input pair per pixel and step. The requantization is vectorized too.
//!
//! Boards keep the model's own filter layout (flash is scarce; see
//! [`crate::lower::Packing`]): there the [`conv`](super::conv) kernel runs.
#![allow(unsafe_code)]

use super::requant::Block;
use crate::kernels::conv::{conv2d as reference, Geometry, Weighted};
use crate::region::{Rect, Window};

/// Output channels per packed block (two `i32x4` accumulators a pixel).
pub const OCB: usize = 8;

/// Bytes of the packed form of a `[out_c, kh, f_row]` filter (`f_row` =
/// `kw·in_c`, one kernel row of taps).
pub const fn packed_len(out_c: usize, kh: usize, f_row: usize) -> usize {
    out_c.div_ceil(OCB) * kh * f_row.div_ceil(2) * 2 * OCB
}

/// The packed form of a `[out_c, kh, f_row]` filter: for each block of
/// [`OCB`] output channels, each kernel row `ky`, each depth pair `q` of the
/// row, `2·OCB` bytes: channel `oc`'s weights at depths `2q` and `2q + 1`,
/// in channel order; zero past the row's end and past the last channel.
pub fn pack(filter: &[i8], out_c: usize, kh: usize, f_row: usize) -> impl Iterator<Item = i8> + '_ {
    let pairs = f_row.div_ceil(2);
    let f_ch = kh * f_row;
    (0..packed_len(out_c, kh, f_row)).map(move |i| {
        let (pair_i, byte) = (i / (2 * OCB), i % (2 * OCB));
        let (lane, second) = (byte / 2, byte % 2);
        let (block, rest) = (pair_i / (kh * pairs), pair_i % (kh * pairs));
        let (ky, q) = (rest / pairs, rest % pairs);
        let (oc, d) = (block * OCB + lane, 2 * q + second);
        if oc < out_c && d < f_row {
            filter.get(oc * f_ch + ky * f_row + d).copied().unwrap_or(0)
        } else {
            0
        }
    })
}

/// Computes `region` of the output into `output` (window `ow`), like the
/// reference; `folded` as for [`super::conv::conv2d`], `packed` the
/// [`pack`]ed filter.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn conv2d(
    g: &Geometry,
    k: &Weighted,
    folded: &[i32],
    packed: &[i8],
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    let (out_c, in_c) = (ow.c, iw.c);
    let f_row = g.kw * in_c;
    let fits = folded.len() == out_c
        && packed.len() == packed_len(out_c, g.kh, f_row)
        && f_row > 0
        && (k.stage.multipliers.len() == 1 || k.stage.multipliers.len() >= out_c);
    if g.dil_h != 1 || g.dil_w != 1 || !fits {
        return super::conv::conv2d(g, k, folded, input, iw, output, ow, region);
    }
    let inner = super::conv::interior(g, region);
    for band in super::conv::border(region, inner) {
        reference(g, k, input, iw, output, ow, band);
    }
    if inner.is_empty() {
        return;
    }
    // Rows that follow one another in both windows run as one (see `conv::flat`).
    let (rows, inner) = match super::conv::flat(g, region, inner, iw, ow) {
        Some(one) => (inner, one),
        None => (inner, inner),
    };
    let shape = Shape { step: g.stride_w * in_c, row: iw.rect.w * in_c, kh: g.kh, f_row, out_c };
    let block_bytes = g.kh * f_row.div_ceil(2) * 2 * OCB;
    for (bi, w) in packed.chunks_exact(block_bytes).enumerate() {
        let oc = bi * OCB;
        let lanes = OCB.min(out_c - oc);
        let mut bias = [0i32; OCB];
        bias[..lanes].copy_from_slice(&folded[oc..oc + lanes]);
        let rq = Block::new(&k.stage, oc, lanes);
        for b in 0..ow.n {
            for oy in inner.y..inner.y_end() {
                // Inside `inner` the window origin is never in the padding.
                let (y0, x0) = (g.origin_y(oy) as usize, g.origin_x(inner.x) as usize);
                let (at, o) = (iw.offset(b, y0, x0), ow.offset(b, oy, inner.x) + oc);
                // The row's last read and write, checked once: the blocks read and write unchecked.
                let last_in = at + (inner.w - 1) * shape.step + (g.kh - 1) * shape.row + f_row;
                let last_out = o + (inner.w - 1) * out_c + lanes;
                if last_in > input.len() || last_out > output.len() {
                    let rect = if rows == inner { Rect::new(oy, inner.x, 1, inner.w) } else { rows };
                    reference(g, k, input, iw, output, ow, rect);
                    continue;
                }
                let row = Row { input, output: &mut *output, w, bias: &bias, rq: &rq, lanes };
                row.run(&shape, at, o, inner.w);
            }
        }
    }
}

/// Strides of one convolution, in bytes.
struct Shape {
    /// Input step between neighbouring output pixels.
    step: usize,
    /// Input step between kernel rows.
    row: usize,
    kh: usize,
    f_row: usize,
    out_c: usize,
}

/// One output row's pixels × one channel block.
struct Row<'a, 'b> {
    input: &'a [i8],
    output: &'b mut [i8],
    /// The block's packed weights.
    w: &'a [i8],
    bias: &'a [i32; OCB],
    rq: &'a Block,
    /// Channels of the block that exist (the last block may be short).
    lanes: usize,
}

impl Row<'_, '_> {
    #[inline(always)]
    fn run(mut self, s: &Shape, mut at: usize, mut o: usize, mut n: usize) {
        while n >= 4 {
            imp::block::<4>(&mut self, s, at, o);
            (at, o, n) = (at + 4 * s.step, o + 4 * s.out_c, n - 4);
        }
        match n {
            3 => imp::block::<3>(&mut self, s, at, o),
            2 => imp::block::<2>(&mut self, s, at, o),
            1 => imp::block::<1>(&mut self, s, at, o),
            _ => {}
        }
    }
}

/// Plain Rust (x86-64 and every target without a SIMD form).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    use super::{Row, Shape, OCB};

    /// `P` pixels × the block's channels.
    #[inline(always)]
    pub fn block<const P: usize>(r: &mut Row, s: &Shape, at: usize, o: usize) {
        let pairs = s.f_row.div_ceil(2);
        let mut acc = [*r.bias; P];
        for ky in 0..s.kh {
            let w = &r.w[ky * pairs * 2 * OCB..][..pairs * 2 * OCB];
            for (p, acc) in acc.iter_mut().enumerate() {
                let x = &r.input[at + p * s.step + ky * s.row..][..s.f_row];
                for (q, wq) in w.chunks_exact(2 * OCB).enumerate() {
                    let x0 = x[2 * q] as i32;
                    let x1 = x.get(2 * q + 1).map_or(0, |&v| v as i32);
                    for l in 0..OCB {
                        let t = x0 * wq[2 * l] as i32 + x1 * wq[2 * l + 1] as i32;
                        acc[l] = acc[l].wrapping_add(t);
                    }
                }
            }
        }
        for (p, acc) in acc.iter().enumerate() {
            r.rq.store(acc, &mut r.output[o + p * s.out_c..][..r.lanes]);
        }
    }
}

/// wasm32 `simd128`: a pixel's block is two `i32x4` accumulators; a step
/// loads the two depths of eight channels (one `i16x8` per four channels,
/// sign-extended as it is loaded), splats the pixel's two input bytes as
/// `i16` pairs, and `i32x4.dot_i16x8_s` adds both products per lane.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use super::{Row, Shape, OCB};
    use core::arch::wasm32::*;

    /// `P` pixels × the block's channels.
    #[inline(always)]
    pub fn block<const P: usize>(r: &mut Row, s: &Shape, at: usize, o: usize) {
        let pairs = s.f_row / 2;
        let odd = s.f_row % 2 == 1;
        let mut acc = [[v128_load_bias(r.bias, 0), v128_load_bias(r.bias, 4)]; P];
        let x = r.input.as_ptr();
        let mut w = r.w.as_ptr();
        for ky in 0..s.kh {
            let base = at + ky * s.row;
            for q in 0..pairs {
                // SAFETY: the caller checked that every pixel's window rows
                // (`f_row` bytes from `base + p·step`) lie inside `input`, and
                // the block holds `kh · ceil(f_row / 2)` pairs of 16 bytes.
                unsafe {
                    let (w0, w1) =
                        (i16x8_load_extend_i8x8(w as *const _), i16x8_load_extend_i8x8(w.add(8) as *const _));
                    w = w.add(2 * OCB);
                    for (p, acc) in acc.iter_mut().enumerate() {
                        let v = v128_load16_splat(x.add(base + p * s.step + 2 * q) as *const u16);
                        let v = i16x8_extend_low_i8x16(v);
                        acc[0] = i32x4_add(acc[0], i32x4_dot_i16x8(w0, v));
                        acc[1] = i32x4_add(acc[1], i32x4_dot_i16x8(w1, v));
                    }
                }
            }
            if odd {
                // The row's last depth, paired with a zero weight: any second byte will do.
                // SAFETY: as above, one byte at `f_row - 1`.
                unsafe {
                    let (w0, w1) =
                        (i16x8_load_extend_i8x8(w as *const _), i16x8_load_extend_i8x8(w.add(8) as *const _));
                    w = w.add(2 * OCB);
                    for (p, acc) in acc.iter_mut().enumerate() {
                        let v = v128_load8_splat(x.add(base + p * s.step + s.f_row - 1) as *const u8);
                        let v = i16x8_extend_low_i8x16(v);
                        acc[0] = i32x4_add(acc[0], i32x4_dot_i16x8(w0, v));
                        acc[1] = i32x4_add(acc[1], i32x4_dot_i16x8(w1, v));
                    }
                }
            }
        }
        for (p, acc) in acc.iter().enumerate() {
            r.rq.store_vectors(acc, &mut r.output[o + p * s.out_c..][..r.lanes]);
        }
    }

    #[inline(always)]
    fn v128_load_bias(bias: &[i32; OCB], from: usize) -> v128 {
        i32x4(bias[from], bias[from + 1], bias[from + 2], bias[from + 3])
    }
}
