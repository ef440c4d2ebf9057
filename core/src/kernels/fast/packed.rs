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

use crate::kernels::conv::{conv2d as reference, Geometry, OutputStage, Weighted};
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
    let shape = Shape { step: g.stride_w * in_c, row: iw.rect.w * in_c, kh: g.kh, f_row, out_c };
    let block_bytes = g.kh * f_row.div_ceil(2) * 2 * OCB;
    for (bi, w) in packed.chunks_exact(block_bytes).enumerate() {
        let oc = bi * OCB;
        let lanes = OCB.min(out_c - oc);
        let mut bias = [0i32; OCB];
        bias[..lanes].copy_from_slice(&folded[oc..oc + lanes]);
        let rq = imp::Requant::new(&k.stage, oc, lanes);
        for b in 0..ow.n {
            for oy in inner.y..inner.y_end() {
                // Inside `inner` the window origin is never in the padding.
                let (y0, x0) = (g.origin_y(oy) as usize, g.origin_x(inner.x) as usize);
                let (at, o) = (iw.offset(b, y0, x0), ow.offset(b, oy, inner.x) + oc);
                // The row's last read and write, checked once: the blocks read and write unchecked.
                let last_in = at + (inner.w - 1) * shape.step + (g.kh - 1) * shape.row + f_row;
                let last_out = o + (inner.w - 1) * out_c + lanes;
                if last_in > input.len() || last_out > output.len() {
                    reference(g, k, input, iw, output, ow, Rect::new(oy, inner.x, 1, inner.w));
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
    rq: &'a imp::Requant,
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
    use super::{OutputStage, Row, Shape, OCB};
    use crate::kernels::conv::ChannelStage;

    /// The block's channels' requantization, worked out once.
    pub struct Requant([ChannelStage; OCB]);

    impl Requant {
        pub fn new(stage: &OutputStage, oc: usize, lanes: usize) -> Self {
            Requant(core::array::from_fn(|l| stage.channel(if l < lanes { oc + l } else { oc })))
        }
    }

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
            let out = &mut r.output[o + p * s.out_c..][..r.lanes];
            for (l, y) in out.iter_mut().enumerate() {
                *y = r.rq.0[l].requantize(acc[l]);
            }
        }
    }
}

/// wasm32 `simd128`: a pixel's block is two `i32x4` accumulators; a step
/// loads the two depths of eight channels (one `i16x8` per four channels,
/// sign-extended as it is loaded), splats the pixel's two input bytes as
/// `i16` pairs, and `i32x4.dot_i16x8_s` adds both products per lane.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use super::{OutputStage, Row, Shape, OCB};
    use core::arch::wasm32::*;

    /// The requantization of four channels, as lane vectors (see
    /// [`crate::fixedpoint::PreparedMultiplier::apply`], whose arithmetic
    /// this is): `x·2^left`, the rounding doubling high multiply as one
    /// widening `i64x2` multiply-add and shift, and the rounding right shift
    /// by a per-lane `right` (wasm shifts take one amount for all lanes) as
    /// `floor(high / 2^right)` = `(high · 2^(32 − right)) >> 32` in `i64`,
    /// with the remainder `high − q·2^right` for the rounding.
    #[derive(Clone, Copy)]
    struct Quad {
        left: v128,
        m: v128,
        /// `2^(32 − right)` in two `i64x2`.
        down: [v128; 2],
        /// `2^right` (wrapping: `i32::MIN` for 31).
        pow: v128,
        /// `(2^right − 1) >> 1`.
        half: v128,
    }

    pub struct Requant {
        quads: [Quad; OCB / 4],
        out: v128,
        lo: v128,
        hi: v128,
        /// Some channel's multiplier is outside the vector form's domain:
        /// the block requantizes lane by lane (never for converter output).
        scalar: Option<[crate::fixedpoint::QuantizedMultiplier; OCB]>,
        stage: (i32, i32, i32),
    }

    impl Requant {
        pub fn new(stage: &OutputStage, oc: usize, lanes: usize) -> Self {
            let mut ms = [crate::fixedpoint::QuantizedMultiplier { multiplier: 0, shift: 0 }; OCB];
            for (l, m) in ms.iter_mut().enumerate().take(lanes) {
                *m = stage.multipliers[if stage.multipliers.len() == 1 { 0 } else { oc + l }];
            }
            // The vector form needs `x << left` to be `x · 2^left` (left ≤ 30),
            // `right ≤ 31`, and the multiplier not i32::MIN (whose product
            // with itself the reference saturates).
            let vector = ms.iter().all(|m| m.multiplier != i32::MIN && (-31..=30).contains(&m.shift));
            let out_ok = stage.output_offset.unsigned_abs() < 1 << 24;
            let quad = |q: &[crate::fixedpoint::QuantizedMultiplier]| {
                let left = |m: &crate::fixedpoint::QuantizedMultiplier| 1i32 << m.shift.max(0);
                let right = |m: &crate::fixedpoint::QuantizedMultiplier| (-m.shift).max(0) as u32;
                let down = |a: usize, b: usize| i64x2(1i64 << (32 - right(&q[a])), 1i64 << (32 - right(&q[b])));
                let pow = |m| 1u32.wrapping_shl(right(m)) as i32;
                let half = |m| (((1u64 << right(m)) - 1) >> 1) as i32;
                Quad {
                    left: i32x4(left(&q[0]), left(&q[1]), left(&q[2]), left(&q[3])),
                    m: i32x4(q[0].multiplier, q[1].multiplier, q[2].multiplier, q[3].multiplier),
                    down: [down(0, 1), down(2, 3)],
                    pow: i32x4(pow(&q[0]), pow(&q[1]), pow(&q[2]), pow(&q[3])),
                    half: i32x4(half(&q[0]), half(&q[1]), half(&q[2]), half(&q[3])),
                }
            };
            let safe: [crate::fixedpoint::QuantizedMultiplier; OCB] =
                if vector { ms } else { [crate::fixedpoint::QuantizedMultiplier { multiplier: 0, shift: 0 }; OCB] };
            Requant {
                quads: [quad(&safe[0..4]), quad(&safe[4..8])],
                out: i32x4_splat(stage.output_offset),
                lo: i32x4_splat(stage.act_min),
                hi: i32x4_splat(stage.act_max),
                scalar: if vector && out_ok { None } else { Some(ms) },
                stage: (stage.output_offset, stage.act_min, stage.act_max),
            }
        }

        /// Four channels' accumulators to their outputs, as `i32` lanes.
        #[inline(always)]
        fn quad(&self, x: v128, k: usize) -> v128 {
            let c = &self.quads[k];
            let x = i32x4_mul(x, c.left);
            let round = i64x2_splat(1 << 30);
            let h0 = i64x2_shr(i64x2_add(i64x2_extmul_low_i32x4(x, c.m), round), 31);
            let h1 = i64x2_shr(i64x2_add(i64x2_extmul_high_i32x4(x, c.m), round), 31);
            let q0 = i64x2_shr(i64x2_mul(h0, c.down[0]), 32);
            let q1 = i64x2_shr(i64x2_mul(h1, c.down[1]), 32);
            let high = i32x4_shuffle::<0, 2, 4, 6>(h0, h1);
            let q = i32x4_shuffle::<0, 2, 4, 6>(q0, q1);
            let rem = i32x4_sub(high, i32x4_mul(q, c.pow));
            // Half away from zero: a negative value rounds up only past the half.
            let threshold = i32x4_sub(c.half, i32x4_lt(high, i32x4_splat(0)));
            let v = i32x4_sub(q, i32x4_gt(rem, threshold));
            // `saturating_add(out)` then clamp: |v| ≤ 2^30 cannot overflow with |out| < 2^24.
            let limit = 1 << 30;
            let v = i32x4_add(i32x4_min(i32x4_max(v, i32x4_splat(-limit)), i32x4_splat(limit)), self.out);
            i32x4_min(i32x4_max(v, self.lo), self.hi)
        }

        /// Eight accumulators to eight int8 (in the low eight bytes).
        #[inline(always)]
        fn bytes(&self, a: [v128; 2]) -> v128 {
            if let Some(ms) = &self.scalar {
                let mut lanes = [0i32; OCB];
                // SAFETY: two v128 are 32 bytes, as is `[i32; 8]`.
                unsafe {
                    v128_store(lanes.as_mut_ptr().cast(), a[0]);
                    v128_store(lanes.as_mut_ptr().add(4).cast(), a[1]);
                }
                let (out, lo, hi) = self.stage;
                let b = |l: usize| crate::kernels::clamp_i8(ms[l].apply_fast(lanes[l]).saturating_add(out), lo, hi);
                return i8x16(b(0), b(1), b(2), b(3), b(4), b(5), b(6), b(7), 0, 0, 0, 0, 0, 0, 0, 0);
            }
            let (v0, v1) = (self.quad(a[0], 0), self.quad(a[1], 1));
            // Every lane is in [-128, 127] by now: the saturating narrows are exact.
            let h = i16x8_narrow_i32x4(v0, v1);
            i8x16_narrow_i16x8(h, h)
        }
    }

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
            let b = r.rq.bytes(*acc);
            let at = o + p * s.out_c;
            if r.lanes == OCB {
                // SAFETY: the caller checked `o + (pixels − 1)·out_c + lanes ≤ output.len()`.
                unsafe { v128_store64_lane::<0>(b, r.output.as_mut_ptr().add(at) as *mut u64) };
            } else {
                let mut tmp = [0i8; 16];
                // SAFETY: 16 bytes into a 16-byte array.
                unsafe { v128_store(tmp.as_mut_ptr().cast(), b) };
                r.output[at..at + r.lanes].copy_from_slice(&tmp[..r.lanes]);
            }
        }
    }

    #[inline(always)]
    fn v128_load_bias(bias: &[i32; OCB], from: usize) -> v128 {
        i32x4(bias[from], bias[from + 1], bias[from + 2], bias[from + 3])
    }
}
