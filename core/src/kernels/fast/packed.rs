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
//! On x86-64 (AVX2, AVX-512; chosen at run time) and wasm the interior runs
//! in pixel tiles (`tiles`): each pixel's window is widened to `i16` once
//! and run against a group of channel blocks; windows deeper than
//! `WINDOW` run block by block (`blocks_outer`).
//!
//! Boards keep the model's own filter layout (flash is scarce; see
//! [`crate::lower::Packing`]): there the [`conv`](super::conv) kernel runs.
#![allow(unsafe_code)]

use super::requant::Block;
use crate::kernels::conv::{conv2d as reference, Geometry, OutputStage, Weighted};
use crate::region::{Rect, Window};

/// Output channels per packed block (two `i32x4` accumulators a pixel).
pub const OCB: usize = 8;

/// `i16`s of the widened window the pixel tiles keep per pixel.
const WINDOW: usize = 1024;

/// Bytes a packed weight takes: wasm keeps them widened to little-endian
/// `i16` (a depth pair's two vectors are then plain loads: sign-extending
/// them as loaded cost mbv2's convolutions about 5 % in V8), the others
/// the model's bytes.
pub const WEIGHT_BYTES: usize = if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) { 2 } else { 1 };

/// Bytes of the packed form of a `[out_c, kh, f_row]` filter (`f_row` =
/// `kw·in_c`, one kernel row of taps).
pub const fn packed_len(out_c: usize, kh: usize, f_row: usize) -> usize {
    out_c.div_ceil(OCB) * kh * f_row.div_ceil(2) * 2 * OCB * WEIGHT_BYTES
}

/// The packed form of a `[out_c, kh, f_row]` filter: for each block of
/// [`OCB`] output channels, each kernel row `ky`, each depth pair `q` of the
/// row, `2·OCB` weights: channel `oc`'s weights at depths `2q` and `2q + 1`,
/// in channel order; zero past the row's end and past the last channel.
/// Each weight is [`WEIGHT_BYTES`] bytes.
pub fn pack(filter: &[i8], out_c: usize, kh: usize, f_row: usize) -> impl Iterator<Item = i8> + '_ {
    let pairs = f_row.div_ceil(2);
    let f_ch = kh * f_row;
    (0..packed_len(out_c, kh, f_row)).map(move |i| {
        let (i, high) = (i / WEIGHT_BYTES, i % WEIGHT_BYTES == 1);
        let (pair_i, byte) = (i / (2 * OCB), i % (2 * OCB));
        let (lane, second) = (byte / 2, byte % 2);
        let (block, rest) = (pair_i / (kh * pairs), pair_i % (kh * pairs));
        let (ky, q) = (rest / pairs, rest % pairs);
        let (oc, d) = (block * OCB + lane, 2 * q + second);
        let v = if oc < out_c && d < f_row { filter.get(oc * f_ch + ky * f_row + d).copied().unwrap_or(0) } else { 0 };
        // A widened weight's second byte is its sign.
        if high {
            v >> 7
        } else {
            v
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
    (packed, units): (&[i8], &[i32]),
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    Call { g, k, folded, packed, units, input, iw, ow, region }.run(Form::Best, output)
}

/// `i32`s [`units`] keeps per block of [`OCB`] channels.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub const UNIT_WORDS: usize = super::requant::Octet::WORDS + OCB;

/// Each block's requantization (an [`Octet`](super::requant::Octet)) and
/// folded bias as the wasm tiles use them, worked out once when a program
/// is lowered: built in every call they were 3 % of mbv2's time in V8
/// (its in-place 1×1 convolutions run row by row, a call a row). `None`
/// where the target keeps none (its kernels build theirs per call) or a
/// block has no octet; the kernel then builds them itself. `taps` is
/// `kh · kw · in_c`.
#[cfg(feature = "alloc")]
#[allow(unused_variables)]
pub fn units(
    stage: &OutputStage,
    bias: Option<&[i32]>,
    folded: &[i32],
    out_c: usize,
    taps: usize,
) -> Option<alloc::vec::Vec<i32>> {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let mut words = alloc::vec::Vec::with_capacity(out_c.div_ceil(OCB) * UNIT_WORDS);
        for oc in (0..out_c).step_by(OCB) {
            let lanes = OCB.min(out_c - oc);
            let bound = super::requant::block_bound(bias, oc, lanes, taps);
            words.extend(super::requant::Octet::new(stage, oc, lanes, bound)?.to_words());
            words.extend((0..OCB).map(|l| if l < lanes { folded.get(oc + l).copied().unwrap_or(0) } else { 0 }));
        }
        return Some(words);
    }
    #[allow(unreachable_code)]
    None
}

/// A kernel form: the target's best, or (for the tests, on a CPU that has
/// the wider ones) a narrower one.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Form {
    Best,
    #[cfg_attr(not(test), allow(dead_code))]
    Avx2,
    #[cfg_attr(not(test), allow(dead_code))]
    Portable,
}

/// [`conv2d`] in `form` (where the CPU has it; the portable form otherwise).
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv2d_in(
    form: Form,
    g: &Geometry,
    k: &Weighted,
    folded: &[i32],
    (packed, units): (&[i8], &[i32]),
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    Call { g, k, folded, packed, units, input, iw, ow, region }.run(form, output)
}

/// One call's operands but the output.
#[derive(Clone, Copy)]
struct Call<'a> {
    g: &'a Geometry,
    k: &'a Weighted<'a>,
    folded: &'a [i32],
    packed: &'a [i8],
    /// [`units`], or empty.
    #[cfg_attr(not(all(target_arch = "wasm32", target_feature = "simd128")), allow(dead_code))]
    units: &'a [i32],
    input: &'a [i8],
    iw: Window,
    ow: Window,
    region: Rect,
}

impl Call<'_> {
    #[inline(always)]
    fn run(&self, #[allow(unused)] form: Form, output: &mut [i8]) {
        #[cfg(target_arch = "x86_64")]
        if matches!(form, Form::Best) && super::x86::avx512() {
            // SAFETY: the CPU has AVX-512 F, BW, VL and AVX2.
            return unsafe { avx512::conv2d(self, output) };
        }
        #[cfg(target_arch = "x86_64")]
        if matches!(form, Form::Best | Form::Avx2) && super::x86::avx2() {
            // SAFETY: the CPU has AVX2.
            return unsafe { avx2::conv2d(self, output) };
        }
        conv2d_with::<imp::Lanes>(self, output)
    }
}

/// A target's micro-kernel: a channel block's requantization and `P`
/// pixels × that block.
trait Micro: Sized {
    type Rq;
    /// Channels `oc..oc + lanes`' requantization, for accumulators of
    /// magnitude at most `bound`.
    fn requant(stage: &OutputStage, oc: usize, lanes: usize, bound: u64) -> Self::Rq;
    fn block<const P: usize>(r: &mut Row<Self::Rq>, s: &Shape, at: usize, o: usize);
    /// The target runs pixel tiles ([`Micro::tiles`]) for windows of at
    /// most [`WINDOW`] `i16`s, dilated ones too; others go channel block by
    /// channel block ([`blocks_outer`], contiguous kernel rows only).
    const TILES: bool = false;
    /// The interior's pixels in tiles (none of whose windows reaches into the padding).
    #[inline(always)]
    fn tiles(j: &Interior, output: &mut [i8]) {
        blocks_outer::<Self>(j, output)
    }
}

/// What the interior of one call computes: the call's operands (its
/// `region` is the whole call's), and where and how its interior runs.
struct Interior<'a> {
    call: Call<'a>,
    /// The interior's rows, or the rectangle they run as one row for (see `conv::flat`).
    rows: Rect,
    /// The interior, as one row where `flat`.
    inner: Rect,
    shape: Shape,
    /// The tiles also run the call's border pixels (around `rows`), their
    /// padded taps read as this input zero point; `None`: the boards'
    /// kernel ran them.
    #[cfg_attr(
        not(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))),
        allow(dead_code)
    )]
    border: Option<i16>,
}

impl Interior<'_> {
    /// Input and output offsets of output row `oy`'s first pixel (image `b`),
    /// the output's at channel 0; `None` where a read or write of the row
    /// (`out_c` channels) would leave the buffers, the row then run by the
    /// reference.
    #[inline(always)]
    fn row(&self, b: usize, oy: usize, output_len: usize) -> Option<(usize, usize)> {
        let (Call { g, iw, ow, input, .. }, s, inner) = (self.call, &self.shape, self.inner);
        // Inside `inner` the window origin is never in the padding.
        let (y0, x0) = (g.origin_y(oy) as usize, g.origin_x(inner.x) as usize);
        let (at, o) = (iw.offset(b, y0, x0), ow.offset(b, oy, inner.x));
        // The row's last read and write, checked once: the blocks read and write unchecked.
        let last_in = at + (inner.w - 1) * s.step + (s.kh - 1) * s.row + (s.kw - 1) * s.tap + s.in_c;
        let last_out = o + inner.w * s.out_c;
        (last_in <= input.len() && last_out <= output_len).then_some((at, o))
    }

    /// Most `|acc|` of channels `oc..oc + lanes`.
    fn bound(&self, oc: usize, lanes: usize) -> u64 {
        let s = &self.shape;
        super::requant::block_bound(self.call.k.bias, oc, lanes, s.kh * s.f_row)
    }

    /// Border pixel `(b, oy, ox)`'s window widened into `win` in the tiles'
    /// layout, its padded taps as the input zero point `zp` (the folded bias
    /// cancels their products, as the boards' kernel relies on); the
    /// pixel's output offset, or `None` where a read or the write would
    /// leave the buffers.
    #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
    fn border_window(
        &self,
        b: usize,
        oy: usize,
        ox: usize,
        zp: i16,
        win: &mut [i16; WINDOW],
        output_len: usize,
    ) -> Option<usize> {
        let (Call { g, iw, ow, input, .. }, s) = (self.call, &self.shape);
        let o = ow.offset(b, oy, ox);
        if o + s.out_c > output_len {
            return None;
        }
        let wide_row = s.f_row.div_ceil(2) * 2;
        let (y0, x0) = (g.origin_y(oy), g.origin_x(ox));
        for ky in 0..s.kh {
            let row = win.get_mut(ky * wide_row..(ky + 1) * wide_row)?;
            row[s.f_row..].fill(0);
            let iy = y0 + (ky * g.dil_h) as isize;
            for kx in 0..s.kw {
                let ix = x0 + (kx * g.dil_w) as isize;
                let dst = &mut row[kx * s.in_c..(kx + 1) * s.in_c];
                if iy < 0 || ix < 0 || iy as usize >= g.in_h || ix as usize >= g.in_w {
                    dst.fill(zp);
                    continue;
                }
                let at = iw.offset(b, iy as usize, ix as usize);
                for (d, &v) in dst.iter_mut().zip(input.get(at..at + s.in_c)?) {
                    *d = v as i16;
                }
            }
        }
        Some(o)
    }

    /// Output row `oy` by the reference kernel (every image: it is only
    /// the fallback for a window inconsistent with its buffer).
    fn reference_row(&self, oy: usize, output: &mut [i8]) {
        let rect = if self.rows == self.inner { Rect::new(oy, self.inner.x, 1, self.inner.w) } else { self.rows };
        let c = &self.call;
        reference(c.g, c.k, c.input, c.iw, output, c.ow, rect);
    }
}

#[inline(always)]
fn conv2d_with<M: Micro>(call: &Call, output: &mut [i8]) {
    let Call { g, k, folded, packed, input, iw, ow, region, .. } = *call;
    let (out_c, in_c) = (ow.c, iw.c);
    let f_row = g.kw * in_c;
    let fits = folded.len() == out_c
        && packed.len() == packed_len(out_c, g.kh, f_row)
        && f_row > 0
        && (k.stage.multipliers.len() == 1 || k.stage.multipliers.len() >= out_c);
    let tiles = M::TILES && g.kh * f_row.div_ceil(2) * 2 <= WINDOW;
    if !fits || (!tiles && (g.dil_h != 1 || g.dil_w != 1)) {
        return super::conv::conv2d(g, k, folded, input, iw, output, ow, region);
    }
    // The interior of the dilated windows' extent.
    let extent = Geometry { kh: (g.kh - 1) * g.dil_h + 1, kw: (g.kw - 1) * g.dil_w + 1, ..*g };
    let inner = super::conv::interior(&extent, region);
    // Pixels whose window reaches into the padding read it as the input zero
    // point: in the tiles (their windows widened one by one), or by the
    // boards' kernel.
    let zp = -k.stage.input_offset;
    let border = (tiles && (-128..=127).contains(&zp)).then_some(zp as i16);
    if border.is_none() {
        for band in super::conv::border(region, inner) {
            super::conv::conv2d(g, k, folded, input, iw, output, ow, band);
        }
    }
    if inner.is_empty() && border.is_none() {
        return;
    }
    // Rows that follow one another in both windows run as one (see `conv::flat`).
    let (rows, inner) = match super::conv::flat(g, region, inner, iw, ow) {
        Some(one) => (inner, one),
        None => (inner, inner),
    };
    let shape = Shape {
        step: g.stride_w * in_c,
        row: g.dil_h * iw.rect.w * in_c,
        tap: g.dil_w * in_c,
        in_c,
        kh: g.kh,
        kw: g.kw,
        f_row,
        out_c,
    };
    let j = Interior { call: *call, rows, inner, shape, border };
    if tiles {
        M::tiles(&j, output)
    } else {
        blocks_outer::<M>(&j, output)
    }
}

/// The interior channel block by channel block, each block's rows in
/// pixel tiles of [`Micro::block`].
#[inline(always)]
fn blocks_outer<M: Micro>(j: &Interior, output: &mut [i8]) {
    let s = &j.shape;
    let block_bytes = s.kh * s.f_row.div_ceil(2) * 2 * OCB * WEIGHT_BYTES;
    for (bi, w) in j.call.packed.chunks_exact(block_bytes).enumerate() {
        let oc = bi * OCB;
        let lanes = OCB.min(s.out_c - oc);
        let mut bias = [0i32; OCB];
        bias[..lanes].copy_from_slice(&j.call.folded[oc..oc + lanes]);
        let rq = M::requant(&j.call.k.stage, oc, lanes, j.bound(oc, lanes));
        for b in 0..j.call.ow.n {
            for oy in j.inner.y..j.inner.y_end() {
                let Some((at, o)) = j.row(b, oy, output.len()) else {
                    if bi == 0 {
                        j.reference_row(oy, output);
                    }
                    continue;
                };
                let row = Row { input: j.call.input, output: &mut *output, w, bias: &bias, rq: &rq, lanes };
                row.run::<M>(s, at, o + oc, j.inner.w);
            }
        }
    }
}

/// Strides of one convolution, in bytes.
struct Shape {
    /// Input step between neighbouring output pixels.
    step: usize,
    /// Input step between kernel rows (dilation included).
    row: usize,
    /// Input step between kernel columns (`in_c` without dilation: a kernel row is contiguous).
    tap: usize,
    in_c: usize,
    kh: usize,
    kw: usize,
    f_row: usize,
    out_c: usize,
}

impl Shape {
    /// The window's contiguous input runs, kernel row after kernel row:
    /// `(input offset from the window's origin, bytes, offset in the
    /// widened window)`, whose rows are `2·ceil(f_row / 2)` apart.
    #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
    #[inline(always)]
    fn runs(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let wide_row = self.f_row.div_ceil(2) * 2;
        let cols = if self.tap == self.in_c { 1 } else { self.kw };
        let n = if cols == 1 { self.f_row } else { self.in_c };
        (0..self.kh)
            .flat_map(move |ky| (0..cols).map(move |kx| (ky * self.row + kx * self.tap, n, ky * wide_row + kx * n)))
    }
}

/// One output row's pixels × one channel block.
struct Row<'a, 'b, R> {
    input: &'a [i8],
    output: &'b mut [i8],
    /// The block's packed weights.
    w: &'a [i8],
    bias: &'a [i32; OCB],
    rq: &'a R,
    /// Channels of the block that exist (the last block may be short).
    lanes: usize,
}

impl<R> Row<'_, '_, R> {
    #[inline(always)]
    fn run<M: Micro<Rq = R>>(mut self, s: &Shape, mut at: usize, mut o: usize, mut n: usize) {
        while n >= 4 {
            M::block::<4>(&mut self, s, at, o);
            (at, o, n) = (at + 4 * s.step, o + 4 * s.out_c, n - 4);
        }
        match n {
            3 => M::block::<3>(&mut self, s, at, o),
            2 => M::block::<2>(&mut self, s, at, o),
            1 => M::block::<1>(&mut self, s, at, o),
            _ => {}
        }
    }
}

/// Plain Rust (x86-64 and every target without a SIMD form).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    use super::{Block, Micro, OutputStage, Row, Shape, OCB};

    pub struct Lanes;

    impl Micro for Lanes {
        type Rq = Block;
        #[inline(always)]
        fn requant(stage: &OutputStage, oc: usize, lanes: usize, bound: u64) -> Block {
            Block::bounded(stage, oc, lanes, bound)
        }
        #[inline(always)]
        fn block<const P: usize>(r: &mut Row<Block>, s: &Shape, at: usize, o: usize) {
            block::<P>(r, s, at, o)
        }
    }

    /// `P` pixels × the block's channels.
    #[inline(always)]
    fn block<const P: usize>(r: &mut Row<Block>, s: &Shape, at: usize, o: usize) {
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
    use super::super::requant::{Octet, Variant};
    use super::tiles::{pixels_outer, Tiles};
    use super::{Block, Interior, Micro, OutputStage, Row, Shape, OCB};
    use super::{UNIT_WORDS, WEIGHT_BYTES, WINDOW};
    use core::arch::wasm32::*;
    use core::mem::MaybeUninit;

    pub struct Lanes;

    impl Micro for Lanes {
        type Rq = Block;
        #[inline(always)]
        fn requant(stage: &OutputStage, oc: usize, lanes: usize, bound: u64) -> Block {
            Block::bounded(stage, oc, lanes, bound)
        }
        #[inline(always)]
        fn block<const P: usize>(r: &mut Row<Block>, s: &Shape, at: usize, o: usize) {
            block::<P>(r, s, at, o)
        }
        const TILES: bool = true;
        #[inline(always)]
        fn tiles(j: &Interior, output: &mut [i8]) {
            pixels_outer::<Self>(j, output)
        }
    }

    /// Pixel tiles: a unit is one block of eight channels, two `i32x4`
    /// accumulators a pixel; a depth pair's input is one 32-bit splat of
    /// the widened window.
    impl Tiles for Lanes {
        const WIDTH: usize = 1;
        type Unit = (Octet, [v128; 2]);
        #[inline(always)]
        fn unit(j: &Interior, bi: usize) -> Option<Self::Unit> {
            let kept = j.call.units;
            if kept.len() == j.shape.out_c.div_ceil(OCB) * UNIT_WORDS {
                let w = kept.get(bi * UNIT_WORDS..(bi + 1) * UNIT_WORDS)?;
                let (q, b) = w.split_at(Octet::WORDS);
                let q = Octet::from_words(q.try_into().ok()?);
                return Some((q, [i32x4(b[0], b[1], b[2], b[3]), i32x4(b[4], b[5], b[6], b[7])]));
            }
            let oc = bi * OCB;
            let lanes = OCB.min(j.shape.out_c - oc);
            let b: [i32; OCB] = core::array::from_fn(|l| if l < lanes { j.call.folded[oc + l] } else { 0 });
            let q = Octet::new(&j.call.k.stage, oc, lanes, j.bound(oc, lanes))?;
            Some((q, [i32x4(b[0], b[1], b[2], b[3]), i32x4(b[4], b[5], b[6], b[7])]))
        }
        #[inline(always)]
        fn run<const P: usize>(j: &Interior, units: &[Self::Unit], u0: usize, output: &mut [i8], at: usize, o: usize) {
            let s = &j.shape;
            let x = j.call.input.as_ptr();
            if P == 4 && s.tap == s.in_c {
                // Aligned: a load crossing a cache line costs more.
                let mut wide = MaybeUninit::<[v128; WINDOW / 2]>::uninit();
                let wide = wide.as_mut_ptr().cast::<i16>();
                let pairs = s.f_row.div_ceil(2);
                for ky in 0..s.kh {
                    let src = core::array::from_fn(|p| at + p * s.step + ky * s.row);
                    // SAFETY: `Interior::row` checked the windows' reads; they fit `WINDOW`.
                    unsafe { widen4(x, src, s.f_row, wide.add(ky * pairs * 8)) };
                }
                // SAFETY: the four windows are widened just above.
                return unsafe { compute4(j, units, u0, output, o, wide) };
            }
            let mut wide = MaybeUninit::<[[i16; WINDOW]; P]>::uninit();
            let wide = wide.as_mut_ptr().cast::<i16>();
            let wide_row = s.f_row.div_ceil(2) * 2;
            for p in 0..P {
                if s.tap == s.in_c {
                    // Contiguous kernel rows (no dilation along them): one run a row.
                    for ky in 0..s.kh {
                        // SAFETY: `Interior::row` checked the window's reads; it fits `WINDOW`.
                        unsafe {
                            widen(x.add(at + p * s.step + ky * s.row), s.f_row, wide.add(p * WINDOW + ky * wide_row))
                        };
                    }
                    continue;
                }
                for (from, n, to) in s.runs() {
                    // SAFETY: as above.
                    unsafe { widen(x.add(at + p * s.step + from), n, wide.add(p * WINDOW + to)) };
                }
            }
            // SAFETY: the `P` windows are widened just above.
            unsafe { compute::<P>(j, units, u0, output, o, wide) }
        }
        #[inline(always)]
        unsafe fn run_wide(
            j: &Interior,
            units: &[Self::Unit],
            u0: usize,
            output: &mut [i8],
            o: usize,
            wide: *const i16,
        ) {
            // SAFETY: the caller's.
            unsafe { compute::<1>(j, units, u0, output, o, wide) }
        }
    }

    /// `P` pixels whose windows are widened at `wide` ([`WINDOW`] apart) ×
    /// `units` (the first is unit `u0`), written at `o`.
    ///
    /// # Safety
    /// `wide` holds the `P` windows; the pixels' writes lie inside `output`.
    #[inline(always)]
    unsafe fn compute<const P: usize>(
        j: &Interior,
        units: &[(Octet, [v128; 2])],
        u0: usize,
        output: &mut [i8],
        o: usize,
        wide: *const i16,
    ) {
        let s = &j.shape;
        let taps = s.kh * s.f_row.div_ceil(2);
        for (i, (q, bias)) in units.iter().enumerate() {
            let bi = u0 + i;
            // SAFETY: the block holds `taps` pairs of 32 bytes (`i16`s); the widened windows `2·taps` i16s.
            unsafe {
                let mut w = j.call.packed.as_ptr().add(bi * taps * 2 * OCB * WEIGHT_BYTES).cast::<v128>();
                // Whole-vector loads: a copy of `*bias` is lowered to 64-bit
                // moves, and the loop's 128-bit reloads of them then stall
                // (no store forwarding; a twelfth of the kernel's time).
                let b = [v128_load(bias.as_ptr().cast()), v128_load(bias.as_ptr().add(1).cast())];
                let mut acc = [b; P];
                for q in 0..taps {
                    let (w0, w1) = (v128_load(w), v128_load(w.add(1)));
                    w = w.add(2);
                    for (p, acc) in acc.iter_mut().enumerate() {
                        let v = v128_load32_splat(wide.add(p * WINDOW + 2 * q).cast());
                        acc[0] = i32x4_add(acc[0], i32x4_dot_i16x8(w0, v));
                        acc[1] = i32x4_add(acc[1], i32x4_dot_i16x8(w1, v));
                    }
                }
                requantize::<P>(q, &acc, output, o + bi * OCB, s.out_c - bi * OCB, s.out_c);
            }
        }
    }

    /// Four pixels whose windows are widened at `wide` in the interleaved
    /// layout of [`widen4`] × `units`, written at `o`: [`compute`]`::<4>`
    /// with the four pixels' depth pairs side by side, read through one
    /// pointer, where `compute` reads each pixel's window at its own
    /// offset. In Node's V8 (mbv2, per operator) convolutions took 11 %
    /// less time, the thin high-resolution ones up to 27 % (the loop is
    /// smaller, and V8 unrolls it). Tried, slower: one 16-byte load split
    /// by four shuffles (deep layers +15 %: shuffles share one port with
    /// the weights' sign extension), and two depth pairs a loop step
    /// (V8 spilled accumulators).
    ///
    /// # Safety
    /// `wide` holds the four windows; the pixels' writes lie inside `output`.
    #[inline(always)]
    unsafe fn compute4(
        j: &Interior,
        units: &[(Octet, [v128; 2])],
        u0: usize,
        output: &mut [i8],
        o: usize,
        wide: *const i16,
    ) {
        let s = &j.shape;
        let taps = s.kh * s.f_row.div_ceil(2);
        for (i, (q, bias)) in units.iter().enumerate() {
            let bi = u0 + i;
            // SAFETY: the block holds `taps` pairs of 32 bytes (`i16`s); the window `taps` vectors.
            unsafe {
                let mut w = j.call.packed.as_ptr().add(bi * taps * 2 * OCB * WEIGHT_BYTES).cast::<v128>();
                let mut x = wide.cast::<v128>();
                let b = [v128_load(bias.as_ptr().cast()), v128_load(bias.as_ptr().add(1).cast())];
                let mut acc = [b; 4];
                let step = |acc: &mut [[v128; 2]; 4], w: *const v128, x: *const v128| {
                    let (w0, w1) = (v128_load(w), v128_load(w.add(1)));
                    let x = x.cast::<u32>();
                    let splat = [0, 1, 2, 3].map(|p| v128_load32_splat(x.add(p)));
                    for (acc, v) in acc.iter_mut().zip(splat) {
                        acc[0] = i32x4_add(acc[0], i32x4_dot_i16x8(w0, v));
                        acc[1] = i32x4_add(acc[1], i32x4_dot_i16x8(w1, v));
                    }
                };
                for _ in 0..taps {
                    step(&mut acc, w, x);
                    (w, x) = (w.add(2), x.add(1));
                }
                requantize::<4>(q, &acc, output, o + bi * OCB, s.out_c - bi * OCB, s.out_c);
            }
        }
    }

    /// Four pixels' kernel rows (`n` bytes at `x + src[p]`) widened to
    /// `i16` and interleaved by depth pair: pair `q` of the four pixels is
    /// `dst[8q..8q + 8]` (pixel `p`'s two depths at `8q + 2p`), a zero
    /// after the last depth when `n` is odd.
    ///
    /// # Safety
    /// Each `x + src[p]..+ n` is readable, `dst..dst + 8·ceil(n/2)` writable.
    #[inline(always)]
    unsafe fn widen4(x: *const i8, src: [usize; 4], n: usize, dst: *mut i16) {
        // SAFETY: the caller's.
        unsafe {
            let mut i = 0;
            while i + 8 <= n {
                let [a, b, c, d] = src.map(|at| i16x8_load_extend_i8x8(x.add(at + i).cast()));
                // Pairs as 32-bit lanes: a 4×4 transpose.
                let (ab_lo, cd_lo) = (i32x4_shuffle::<0, 4, 1, 5>(a, b), i32x4_shuffle::<0, 4, 1, 5>(c, d));
                let (ab_hi, cd_hi) = (i32x4_shuffle::<2, 6, 3, 7>(a, b), i32x4_shuffle::<2, 6, 3, 7>(c, d));
                let to = dst.add(4 * i).cast::<v128>();
                v128_store(to, i64x2_shuffle::<0, 2>(ab_lo, cd_lo));
                v128_store(to.add(1), i64x2_shuffle::<1, 3>(ab_lo, cd_lo));
                v128_store(to.add(2), i64x2_shuffle::<0, 2>(ab_hi, cd_hi));
                v128_store(to.add(3), i64x2_shuffle::<1, 3>(ab_hi, cd_hi));
                i += 8;
            }
            while i < n {
                for (p, &at) in src.iter().enumerate() {
                    *dst.add(8 * (i / 2) + 2 * p + i % 2) = *x.add(at + i) as i16;
                }
                i += 1;
            }
            if n % 2 == 1 {
                for p in 0..4 {
                    *dst.add(8 * (n / 2) + 2 * p + 1) = 0;
                }
            }
        }
    }

    /// `P` pixels' accumulators of one unit (its first channel at
    /// `output[o]`, `left` channels from there to the pixel's end, pixels
    /// `stride` apart) requantized by `q`, in the variant it names.
    #[inline(always)]
    fn requantize<const P: usize>(
        q: &Octet,
        acc: &[[v128; 2]; P],
        output: &mut [i8],
        o: usize,
        left: usize,
        stride: usize,
    ) {
        let lanes = OCB.min(left);
        let out = &mut output[o..][..(P - 1) * stride + lanes];
        match (q.variant(), q.merged()) {
            (Variant::Plain, false) => store::<P, false, false, false>(q, acc, out, stride, lanes),
            (Variant::Scaled, false) => store::<P, true, false, false>(q, acc, out, stride, lanes),
            (Variant::Signed, false) => store::<P, false, true, false>(q, acc, out, stride, lanes),
            (Variant::ScaledSigned, false) => store::<P, true, true, false>(q, acc, out, stride, lanes),
            (Variant::Plain, true) => store::<P, false, false, true>(q, acc, out, stride, lanes),
            (Variant::Scaled, true) => store::<P, true, false, true>(q, acc, out, stride, lanes),
            (Variant::Signed, true) => store::<P, false, true, true>(q, acc, out, stride, lanes),
            (Variant::ScaledSigned, true) => store::<P, true, true, true>(q, acc, out, stride, lanes),
        }
    }

    /// `P` pixels' accumulators of one unit requantized by `q` (of variant
    /// `(SCALED, SIGNED)`, merged or not), pixel `p`'s `lanes` bytes to `out[p·stride..]`.
    #[inline(always)]
    fn store<const P: usize, const SCALED: bool, const SIGNED: bool, const MERGED: bool>(
        q: &Octet,
        acc: &[[v128; 2]; P],
        out: &mut [i8],
        stride: usize,
        lanes: usize,
    ) {
        // In locals: the stores below cannot make LLVM reload them.
        let q = q.ready();
        for (p, acc) in acc.iter().enumerate() {
            let bytes = q.bytes::<SCALED, SIGNED, MERGED>(*acc);
            let out = &mut out[p * stride..][..lanes];
            if lanes == OCB {
                // SAFETY: `out` holds 8 bytes.
                unsafe { v128_store64_lane::<0>(bytes, out.as_mut_ptr().cast()) };
            } else {
                let mut tmp = [0i8; 16];
                // SAFETY: 16 bytes into a 16-byte array.
                unsafe { v128_store(tmp.as_mut_ptr().cast(), bytes) };
                out.copy_from_slice(&tmp[..lanes]);
            }
        }
    }

    /// `dst[..2·ceil(n/2)]` = the `n` bytes at `src` as `i16`, then a zero
    /// when `n` is odd (the row's last depth pairs with a zero weight).
    ///
    /// # Safety
    /// `src..src + n` is readable, `dst..dst + 2·ceil(n/2)` writable.
    #[inline(always)]
    unsafe fn widen(src: *const i8, n: usize, dst: *mut i16) {
        let mut i = 0;
        while i + 8 <= n {
            v128_store(dst.add(i).cast(), i16x8_load_extend_i8x8(src.add(i).cast()));
            i += 8;
        }
        while i < n {
            *dst.add(i) = *src.add(i) as i16;
            i += 1;
        }
        if n % 2 == 1 {
            *dst.add(n) = 0;
        }
    }

    /// `P` pixels × the block's channels.
    #[inline(always)]
    fn block<const P: usize>(r: &mut Row<Block>, s: &Shape, at: usize, o: usize) {
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
                // the block holds `kh · ceil(f_row / 2)` pairs of 32 bytes (`i16`s).
                unsafe {
                    let (w0, w1) = (v128_load(w.cast()), v128_load(w.add(16).cast()));
                    w = w.add(2 * OCB * WEIGHT_BYTES);
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
                    let (w0, w1) = (v128_load(w.cast()), v128_load(w.add(16).cast()));
                    w = w.add(2 * OCB * WEIGHT_BYTES);
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

/// x86-64 AVX2 (chosen at run time by [`conv2d`]): a pixel's block is one
/// `__m256i` of eight `i32` accumulators; a depth pair's weights for the
/// eight channels are one `i16x16` (sign-extended as loaded, `VPMOVSXBW`),
/// each pixel's input pair is broadcast as two `i16` from a widened stack
/// copy of its row, and `VPMADDWD` adds both products per lane.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::super::x86::Requant8;
    use super::tiles::{pixels_outer, Tiles};
    use super::WINDOW;
    use super::{Call, Interior, Micro, OutputStage, Row, Shape, OCB};
    use core::arch::x86_64::*;
    use core::mem::MaybeUninit;

    /// Input bytes of a kernel row widened at a time (even, so chunks end on
    /// the packed depth pairs).
    const CHUNK: usize = 128;

    /// [`super::conv2d`] with this micro-kernel.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn conv2d(call: &Call, output: &mut [i8]) {
        super::conv2d_with::<Avx2>(call, output)
    }

    /// Used only by [`conv2d`] and `avx512::conv2d`, under their AVX2 precondition.
    pub struct Avx2;

    impl Micro for Avx2 {
        type Rq = Requant8;
        #[inline(always)]
        fn requant(stage: &OutputStage, oc: usize, lanes: usize, _bound: u64) -> Requant8 {
            // SAFETY: reached only from `conv2d` (the CPU has AVX2).
            unsafe { Requant8::new(stage, oc, lanes) }
        }
        #[inline(always)]
        fn block<const P: usize>(r: &mut Row<Requant8>, s: &Shape, at: usize, o: usize) {
            // SAFETY: as above.
            unsafe { block::<P>(r, s, at, o) }
        }
        const TILES: bool = true;
        #[inline(always)]
        fn tiles(j: &Interior, output: &mut [i8]) {
            pixels_outer::<Self>(j, output)
        }
    }

    /// Pixel tiles: a unit is one block of eight channels, one `__m256i` a pixel.
    impl Tiles for Avx2 {
        const WIDTH: usize = 1;
        type Unit = (Requant8, __m256i);
        #[inline(always)]
        fn unit(j: &Interior, bi: usize) -> Option<Self::Unit> {
            let s = &j.shape;
            let oc = bi * OCB;
            let lanes = OCB.min(s.out_c - oc);
            let mut bias = [0i32; OCB];
            bias[..lanes].copy_from_slice(&j.call.folded[oc..oc + lanes]);
            // SAFETY: reached only from `conv2d` (the CPU has AVX2).
            unsafe { Some((Requant8::new(&j.call.k.stage, oc, lanes), _mm256_loadu_si256(bias.as_ptr().cast()))) }
        }
        #[inline(always)]
        fn run<const P: usize>(j: &Interior, units: &[Self::Unit], u0: usize, output: &mut [i8], at: usize, o: usize) {
            // SAFETY: as above; `Interior::row` checked the pixels' reads and writes.
            unsafe { tile::<P>(j, units, u0, output, at, o) }
        }
        #[inline(always)]
        unsafe fn run_wide(
            j: &Interior,
            units: &[Self::Unit],
            u0: usize,
            output: &mut [i8],
            o: usize,
            wide: *const i16,
        ) {
            // SAFETY: as above, and the caller's.
            unsafe { tile_wide::<1>(j, units, u0, output, o, wide) }
        }
    }

    /// `P` pixels (input at `at`, output at `o`) × the units' channels.
    ///
    /// # Safety
    /// The CPU has AVX2; `Interior::row` checked the pixels' reads and writes.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn tile<const P: usize>(
        j: &Interior,
        units: &[(Requant8, __m256i)],
        u0: usize,
        output: &mut [i8],
        at: usize,
        o: usize,
    ) {
        let mut wide = MaybeUninit::<[[i16; WINDOW]; P]>::uninit();
        let wide = wide.as_mut_ptr().cast::<i16>();
        widen_windows::<P>(j, at, wide);
        tile_wide::<P>(j, units, u0, output, o, wide)
    }

    /// `P` pixels whose windows are widened at `wide` ([`WINDOW`] apart) ×
    /// the units' channels, written at `o`.
    ///
    /// # Safety
    /// The CPU has AVX2; `wide` holds the windows; the writes lie inside `output`.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn tile_wide<const P: usize>(
        j: &Interior,
        units: &[(Requant8, __m256i)],
        u0: usize,
        output: &mut [i8],
        o: usize,
        wide: *const i16,
    ) {
        let s = &j.shape;
        let taps = s.kh * s.f_row.div_ceil(2);
        for (i, (rq, bias)) in units.iter().enumerate() {
            let bi = u0 + i;
            let mut w = j.call.packed.as_ptr().add(bi * taps * 2 * OCB);
            let mut acc = [*bias; P];
            for q in 0..taps {
                let wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(w.cast()));
                w = w.add(2 * OCB);
                for (p, acc) in acc.iter_mut().enumerate() {
                    let xv = _mm256_set1_epi32(wide.add(p * WINDOW + 2 * q).cast::<i32>().read_unaligned());
                    *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(wv, xv));
                }
            }
            let lanes = OCB.min(s.out_c - bi * OCB);
            for (p, acc) in acc.iter().enumerate() {
                rq.store(*acc, &mut output[o + p * s.out_c + bi * OCB..][..lanes]);
            }
        }
    }

    /// Each of `P` pixels' windows (from `at`) widened to `i16`, kernel row
    /// after kernel row, [`WINDOW`] apart.
    ///
    /// # Safety
    /// The CPU has AVX2; the window fits [`WINDOW`] and `Interior::row`
    /// checked the reads.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn widen_windows<const P: usize>(j: &Interior, at: usize, wide: *mut i16) {
        let s = &j.shape;
        let x = j.call.input.as_ptr();
        if s.tap == s.in_c {
            // Contiguous kernel rows (no dilation along them): one run a row.
            let wide_row = s.f_row.div_ceil(2) * 2;
            for p in 0..P {
                for ky in 0..s.kh {
                    widen(x.add(at + p * s.step + ky * s.row), s.f_row, wide.add(p * WINDOW + ky * wide_row));
                }
            }
            return;
        }
        for p in 0..P {
            for (from, n, to) in s.runs() {
                widen(x.add(at + p * s.step + from), n, wide.add(p * WINDOW + to));
            }
        }
    }

    /// `dst[..2·ceil(n/2)]` = the `n` bytes at `src` as `i16`, then a zero
    /// when `n` is odd (the row's last depth pairs with a zero weight).
    ///
    /// # Safety
    /// `src..src + n` is readable, `dst..dst + 2·ceil(n/2)` writable.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn widen(src: *const i8, n: usize, dst: *mut i16) {
        let mut i = 0;
        while i + 16 <= n {
            _mm256_storeu_si256(dst.add(i).cast(), _mm256_cvtepi8_epi16(_mm_loadu_si128(src.add(i).cast())));
            i += 16;
        }
        if i + 8 <= n {
            _mm_storeu_si128(dst.add(i).cast(), _mm_cvtepi8_epi16(_mm_loadl_epi64(src.add(i).cast())));
            i += 8;
        }
        while i < n {
            *dst.add(i) = *src.add(i) as i16;
            i += 1;
        }
        if n % 2 == 1 {
            *dst.add(n) = 0;
        }
    }

    /// `P` pixels × the block's channels.
    ///
    /// # Safety
    /// The CPU has AVX2; the caller checked that every pixel's kernel rows
    /// (`f_row` bytes from `at + p·step + ky·row`) lie inside `input`.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn block<const P: usize>(r: &mut Row<Requant8>, s: &Shape, at: usize, o: usize) {
        let mut acc = [_mm256_loadu_si256(r.bias.as_ptr().cast()); P];
        let mut wide = MaybeUninit::<[[i16; CHUNK]; P]>::uninit();
        let wide = wide.as_mut_ptr().cast::<i16>();
        let x = r.input.as_ptr();
        // The block holds `kh · ceil(f_row / 2)` pairs of 16 bytes, read in order.
        let mut w = r.w.as_ptr();
        for ky in 0..s.kh {
            let base = at + ky * s.row;
            let mut d = 0;
            while d < s.f_row {
                let n = CHUNK.min(s.f_row - d);
                for p in 0..P {
                    widen(x.add(base + p * s.step + d), n, wide.add(p * CHUNK));
                }
                for q in 0..n.div_ceil(2) {
                    let wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(w.cast()));
                    w = w.add(16);
                    for (p, acc) in acc.iter_mut().enumerate() {
                        let xv = _mm256_set1_epi32(wide.add(p * CHUNK + 2 * q).cast::<i32>().read_unaligned());
                        *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(wv, xv));
                    }
                }
                d += n;
            }
        }
        for (p, acc) in acc.iter().enumerate() {
            r.rq.store(*acc, &mut r.output[o + p * s.out_c..][..r.lanes]);
        }
    }
}

/// The SIMD interiors (x86-64, wasm `simd128`) in pixel tiles: each
/// pixel's whole window widened once (at most [`WINDOW`] `i16`s) and run
/// against every channel unit of a group, whose requantization and bias are
/// prepared once per call.
#[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
mod tiles {
    use super::{Interior, OCB, WINDOW};
    use crate::region::Rect;
    use core::mem::MaybeUninit;

    /// Channels whose units a group prepares at once.
    const GROUP_CHANNELS: usize = 128;

    /// A vector width's micro-kernel: units of `WIDTH` packed blocks.
    pub trait Tiles {
        /// Packed blocks ([`OCB`] channels) a unit holds.
        const WIDTH: usize;
        /// A unit's requantization and folded bias.
        type Unit;
        /// `None` where the target's form cannot requantize the unit's
        /// channels: the call then runs the boards' kernel.
        fn unit(j: &Interior, unit: usize) -> Option<Self::Unit>;
        /// `P` pixels (input at `at`, output at `o`) × `units`, the first
        /// of which is unit `u0`.
        fn run<const P: usize>(j: &Interior, units: &[Self::Unit], u0: usize, output: &mut [i8], at: usize, o: usize);
        /// One pixel whose window is already widened at `wide` × `units`, written at `o`.
        ///
        /// # Safety
        /// `wide` holds the window (the tiles' layout, at most [`WINDOW`](super::WINDOW)
        /// `i16`s); the pixel's `out_c` bytes from `o` lie inside `output`.
        unsafe fn run_wide(
            j: &Interior,
            units: &[Self::Unit],
            u0: usize,
            output: &mut [i8],
            o: usize,
            wide: *const i16,
        );
    }

    /// The interior (windows at most [`WINDOW`]) in tiles of up to four pixels.
    #[inline(always)]
    pub fn pixels_outer<T: Tiles>(j: &Interior, output: &mut [i8]) {
        let s = &j.shape;
        let units = s.out_c.div_ceil(OCB * T::WIDTH);
        let group = GROUP_CHANNELS / (OCB * T::WIDTH);
        for u0 in (0..units).step_by(group) {
            let n = group.min(units - u0);
            // Only the group's units are built, in place: a unit holds its
            // requantization's vectors (up to a kilobyte with AVX-512), and
            // building every slot cost a tenth of a small layer's time.
            let mut slots = [const { MaybeUninit::<T::Unit>::uninit() }; GROUP_CHANNELS / OCB];
            for (i, slot) in slots.iter_mut().enumerate().take(n) {
                let Some(unit) = T::unit(j, u0 + i) else {
                    // Never for converter output; the whole call again (earlier groups too).
                    let c = &j.call;
                    return crate::kernels::fast::conv::conv2d(
                        c.g, c.k, c.folded, c.input, c.iw, output, c.ow, c.region,
                    );
                };
                slot.write(unit);
            }
            // SAFETY: slots `..n` are initialized just above (`n ≤ GROUP_CHANNELS / OCB`);
            // the units are plain data (nothing to drop).
            let ready = unsafe { core::slice::from_raw_parts(slots.as_ptr().cast::<T::Unit>(), n) };
            for b in 0..j.call.ow.n {
                for oy in j.inner.y..j.inner.y_end() {
                    let Some((mut at, mut o)) = j.row(b, oy, output.len()) else {
                        if u0 == 0 {
                            j.reference_row(oy, output);
                        }
                        continue;
                    };
                    let mut left = j.inner.w;
                    while left >= 4 {
                        T::run::<4>(j, ready, u0, output, at, o);
                        (at, o, left) = (at + 4 * s.step, o + 4 * s.out_c, left - 4);
                    }
                    match left {
                        3 => T::run::<3>(j, ready, u0, output, at, o),
                        2 => T::run::<2>(j, ready, u0, output, at, o),
                        1 => T::run::<1>(j, ready, u0, output, at, o),
                        _ => {}
                    }
                }
            }
            if let Some(zp) = j.border {
                border::<T>(j, ready, u0, zp, output);
            }
        }
    }

    /// The call's border pixels (windows reaching into the padding), one
    /// at a time, × the group's `units`.
    #[inline(never)]
    fn border<T: Tiles>(j: &Interior, units: &[T::Unit], u0: usize, zp: i16, output: &mut [i8]) {
        let c = &j.call;
        let mut win = [0i16; WINDOW];
        for band in crate::kernels::fast::conv::border(c.region, j.rows) {
            for b in 0..c.ow.n {
                for oy in band.y..band.y_end() {
                    for ox in band.x..band.x_end() {
                        let Some(o) = j.border_window(b, oy, ox, zp, &mut win, output.len()) else {
                            if u0 == 0 {
                                crate::kernels::fast::conv::conv2d(
                                    c.g,
                                    c.k,
                                    c.folded,
                                    c.input,
                                    c.iw,
                                    output,
                                    c.ow,
                                    Rect::new(oy, ox, 1, 1),
                                );
                            }
                            continue;
                        };
                        // SAFETY: the window is widened in the tiles' layout and the write checked.
                        unsafe { T::run_wide(j, units, u0, output, o, win.as_ptr()) };
                    }
                }
            }
        }
    }
}

/// x86-64 AVX-512 (F, BW, VL; chosen at run time before AVX2): a unit is
/// two packed blocks, sixteen channels as one `__m512i` of accumulators. A
/// depth pair's weights are the two blocks' 16 bytes side by side,
/// sign-extended to `i16x32`, and `VPMADDWD` adds both products for all
/// sixteen channels; [`Requant16`] requantizes them and `VPMOVSDB` narrows
/// them to the sixteen output bytes. Windows deeper than the tiles take
/// the AVX2 kernel.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::super::x86::Requant16;
    use super::avx2::{widen_windows, Avx2};
    use super::tiles::{pixels_outer, Tiles};
    use super::WINDOW;
    use super::{Call, Interior, Micro, OutputStage, Row, Shape, OCB};
    use crate::kernels::fast::x86::Requant8;
    use core::arch::x86_64::*;
    use core::mem::MaybeUninit;

    /// [`super::conv2d`] with these tiles.
    ///
    /// # Safety
    /// The CPU has AVX-512 F, BW and VL, and AVX2.
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl")]
    pub unsafe fn conv2d(call: &Call, output: &mut [i8]) {
        super::conv2d_with::<Avx512>(call, output)
    }

    /// Used only by [`conv2d`], under its AVX-512 precondition.
    struct Avx512;

    impl Micro for Avx512 {
        type Rq = Requant8;
        #[inline(always)]
        fn requant(stage: &OutputStage, oc: usize, lanes: usize, bound: u64) -> Requant8 {
            Avx2::requant(stage, oc, lanes, bound)
        }
        #[inline(always)]
        fn block<const P: usize>(r: &mut Row<Requant8>, s: &Shape, at: usize, o: usize) {
            Avx2::block::<P>(r, s, at, o)
        }
        const TILES: bool = true;
        #[inline(always)]
        fn tiles(j: &Interior, output: &mut [i8]) {
            // Eight channels or fewer fill half a unit: the AVX2 tiles cost less.
            if j.shape.out_c <= OCB {
                return pixels_outer::<Avx2>(j, output);
            }
            pixels_outer::<Avx512>(j, output)
        }
    }

    impl Tiles for Avx512 {
        const WIDTH: usize = 2;
        type Unit = (Requant16, __m512i);
        #[inline(always)]
        fn unit(j: &Interior, unit: usize) -> Option<Self::Unit> {
            let s = &j.shape;
            let oc = unit * 2 * OCB;
            let lanes = (2 * OCB).min(s.out_c - oc);
            let mut bias = [0i32; 2 * OCB];
            bias[..lanes].copy_from_slice(&j.call.folded[oc..oc + lanes]);
            // SAFETY: reached only from `conv2d` (the CPU has AVX-512).
            unsafe { Some((Requant16::new(&j.call.k.stage, oc, lanes), _mm512_loadu_si512(bias.as_ptr().cast()))) }
        }
        #[inline(always)]
        fn run<const P: usize>(j: &Interior, units: &[Self::Unit], u0: usize, output: &mut [i8], at: usize, o: usize) {
            // SAFETY: as above; `Interior::row` checked the pixels' reads and writes.
            unsafe { tile::<P>(j, units, u0, output, at, o) }
        }
        #[inline(always)]
        unsafe fn run_wide(
            j: &Interior,
            units: &[Self::Unit],
            u0: usize,
            output: &mut [i8],
            o: usize,
            wide: *const i16,
        ) {
            // SAFETY: as above, and the caller's.
            unsafe { tile_wide::<1>(j, units, u0, output, o, wide) }
        }
    }

    /// Sixteen zero bytes: the weights of a unit's missing second block.
    static ZERO: [i8; 16] = [0; 16];

    /// `P` pixels (input at `at`, output at `o`) × the units' channels.
    ///
    /// # Safety
    /// The CPU has AVX-512 F, BW and VL, and AVX2; `Interior::row` checked
    /// the pixels' reads and writes.
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl")]
    #[inline]
    unsafe fn tile<const P: usize>(
        j: &Interior,
        units: &[(Requant16, __m512i)],
        u0: usize,
        output: &mut [i8],
        at: usize,
        o: usize,
    ) {
        let mut wide = MaybeUninit::<[[i16; WINDOW]; P]>::uninit();
        let wide = wide.as_mut_ptr().cast::<i16>();
        widen_windows::<P>(j, at, wide);
        tile_wide::<P>(j, units, u0, output, o, wide)
    }

    /// `P` pixels whose windows are widened at `wide` ([`WINDOW`] apart) ×
    /// the units' channels, written at `o`.
    ///
    /// # Safety
    /// The CPU has AVX-512 F, BW and VL, and AVX2; `wide` holds the
    /// windows; the writes lie inside `output`.
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl")]
    #[inline]
    unsafe fn tile_wide<const P: usize>(
        j: &Interior,
        units: &[(Requant16, __m512i)],
        u0: usize,
        output: &mut [i8],
        o: usize,
        wide: *const i16,
    ) {
        let s = &j.shape;
        let taps = s.kh * s.f_row.div_ceil(2);
        let block_bytes = taps * 2 * OCB;
        let blocks = s.out_c.div_ceil(OCB);
        let out = output.as_mut_ptr();
        for (i, (rq, bias)) in units.iter().enumerate() {
            let b0 = 2 * (u0 + i);
            let mut w0 = j.call.packed.as_ptr().add(b0 * block_bytes);
            let (mut w1, step1) = if b0 + 1 < blocks { (w0.add(block_bytes), 2 * OCB) } else { (ZERO.as_ptr(), 0) };
            let mut acc = [*bias; P];
            for q in 0..taps {
                let pair = _mm256_inserti128_si256::<1>(
                    _mm256_castsi128_si256(_mm_loadu_si128(w0.cast())),
                    _mm_loadu_si128(w1.cast()),
                );
                let wv = _mm512_cvtepi8_epi16(pair);
                (w0, w1) = (w0.add(2 * OCB), w1.add(step1));
                for (p, acc) in acc.iter_mut().enumerate() {
                    let xv = _mm512_set1_epi32(wide.add(p * WINDOW + 2 * q).cast::<i32>().read_unaligned());
                    *acc = _mm512_add_epi32(*acc, _mm512_madd_epi16(wv, xv));
                }
            }
            let oc = b0 * OCB;
            let lanes = (2 * OCB).min(s.out_c - oc);
            for (p, acc) in acc.iter().enumerate() {
                rq.store(*acc, out.add(o + p * s.out_c + oc), lanes);
            }
        }
    }
}
