//! DEPTHWISE_CONV_2D, optimized: equal to the reference kernels in
//! [`crate::kernels::depthwise`] byte for byte.
//!
//! Depth multiplier 1 and dilation 1 (the MobileNet/BlazeFace case; dilated
//! windows have [`dilated`]): inside the input, each pixel accumulates
//! blocks of [`LANES`] channels tap by tap through [`mac_lanes`] (channels
//! are contiguous in NHWC and in the `[1, kh, kw, c]` filter), starting from
//! `bias + input_offset·Σw` (prepared once, [`folded_bias`]). Pixels whose
//! window reaches into the padding sum their valid taps (`border_band`).
//!
//! The 3×3 kernel (MobileNet's, BlazeFace's, YOLO's) has faster forms that
//! read the padding as the input zero point: on boards in place a channel
//! at a time over a ring of three zero-padded rows (`padded_3x3`; NHWC on
//! wide rows `nhwc_3x3`), on x86-64 AVX2 and wasm with channels in the
//! lanes (`lanes_3x3`, the shared `ring` driver). On boards the NHWC 3×3
//! and 5×5 run blocks of four channels through one loop (`dsp_lanes`),
//! border pixels over zero-point padded strips (`Lanes::border_runs`).

use super::conv::{border, interior};
use super::dot::{dot, mac_lanes, mac_taps, Taps, LANES};
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use super::requant::{store_lanes, store_lanes_rows};
use super::requant::{store_strided, RUN};
use crate::kernels::conv::{acc_bound, with_bias, Geometry, NarrowStage, Requantize, Weighted};
use crate::kernels::depthwise::{depthwise_conv2d as reference, depthwise_conv2d_inplace as reference_inplace};
use crate::region::{Rect, Window};

/// Computes `region` of the output into `output` (window `ow`), like the
/// reference; `folded[c]` is `bias[c] + input_offset·Σ_taps filter[tap][c]`.
#[allow(clippy::too_many_arguments)]
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
    depthwise_conv2d_in(g, depth_multiplier, k, folded, input, iw, output, ow, region, &mut Runs::new())
}

/// The accumulators of a run of pixels, a row per channel of a block (on
/// wasm, where a block requantizes as vectors, nothing): scratch for
/// [`depthwise_conv2d_in`] on its caller's stack. One for all of a call's
/// blocks: cleared per block (1 KiB on a board) it cost a fine patch grid
/// more than the blocks' set-up; in the kernel's own frame it deepened the
/// deepest firmware's stack by 204 B (the operator dispatch, where
/// [`crate::ops`] puts it, has a larger frame for another family anyway).
pub struct Runs {
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    acc: [[i32; RUN]; LANES],
}

impl Runs {
    #[inline(always)]
    pub fn new() -> Self {
        Runs {
            #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
            acc: [[0; RUN]; LANES],
        }
    }
}

impl Default for Runs {
    fn default() -> Self {
        Self::new()
    }
}

/// [`depthwise_conv2d`] with its run buffer from the caller.
#[allow(clippy::too_many_arguments)]
// Not inlined: one call per node, and profiles see the kernel by name.
#[inline(never)]
pub fn depthwise_conv2d_in(
    g: &Geometry,
    depth_multiplier: usize,
    k: &Weighted,
    folded: &[i32],
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
    runs: &mut Runs,
) {
    nhwc(g, depth_multiplier, k, folded, input, iw, output, ow, region, true, runs)
}

/// [`depthwise_conv2d`] without the SIMD kernels with channels in the
/// lanes (for the tests to compare the boards' forms on the host).
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn depthwise_conv2d_portable(
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
    nhwc(g, depth_multiplier, k, folded, input, iw, output, ow, region, false, &mut Runs::new())
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn nhwc(
    g: &Geometry,
    depth_multiplier: usize,
    k: &Weighted,
    folded: &[i32],
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
    #[allow(unused)] lanes: bool,
    runs: &mut Runs,
) {
    let c = ow.c;
    let fits = k.filter.len() >= g.kh * g.kw * c && folded.len() == c && iw.c == c;
    if depth_multiplier != 1 || g.dil_h != 1 || g.dil_w != 1 || !fits {
        return reference(g, depth_multiplier, k, input, iw, output, ow, region);
    }
    #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
    if lanes {
        let io = ring::Io {
            src: input.as_ptr(),
            src_len: input.len(),
            iw,
            dst: output.as_mut_ptr(),
            dst_len: output.len(),
            ow,
        };
        if lanes_3x3(g, k, folded, &io, region) {
            return;
        }
    }
    // At stride 1 and on rows of at least `wide` pixels: a channel's row
    // costs a gather and two calls whatever its width, and at stride 2 each
    // output row gathers two input rows; there channel blocks across pixels
    // cost less. (The bound was 16 until the row's set-up got cheaper; at 8
    // YOLO-FPN takes 1.9 % and BlazeFace 1.5 % fewer instructions, at 4
    // their fine patch grids take more.) On Armv7E-M the blocks have their
    // own loop (`dsp_lanes`), border pixels included, and win up to 48
    // pixels: YOLO-FPN's 2×3 patches take 0.7 % fewer instructions than at
    // 16, its layer by layer 0.2 % more (0.5 % more with no ring at all).
    let wide = if cfg!(all(feature = "dsp", target_arch = "arm")) { 48 } else { 8 };
    let ring_fits =
        g.stride_h == 1 && g.stride_w == 1 && region.w >= wide && (-128..=127).contains(&-k.stage.input_offset);
    if let Some(cols) = ring::columns(g, iw, region, STACK_RING).filter(|_| ring_fits) {
        return nhwc_3x3(g, k, folded, input, iw, output, ow, region, cols);
    }
    let inner = interior(g, region);
    // On boards a block's border pixels run through the block's own loop
    // over zero-point padded strips (`Lanes::border_runs`), for the windows
    // that loop has a form for (asked of it: skipped here, they would be
    // computed nowhere).
    #[cfg(all(feature = "dsp", target_arch = "arm"))]
    let board_form = dsp_lanes::Window::has_form(g.kh, g.kw);
    #[cfg(not(all(feature = "dsp", target_arch = "arm")))]
    let board_form = false;
    let padded = board_form && c >= LANES && (-128..=127).contains(&-k.stage.input_offset);
    if !padded {
        for band in border(region, inner) {
            border_band(g, k, input, iw, output, ow, band);
        }
    }
    let f_row = g.kw * c;
    // A 3×3 window's nine taps, from its origin, in the input and the filter.
    let row = iw.rect.w * c;
    let xt: Taps<9> = Taps::new(core::array::from_fn(|t| t / 3 * row + t % 3 * c));
    let wt: Taps<9> = Taps::new(core::array::from_fn(|t| t * c));
    // Channel blocks outermost, so that each block's requantization
    // constants are worked out once for all its pixels (and, on wasm, the
    // block requantizes as vectors).
    // A last partial block overlaps the one before it (its channels are
    // computed twice, to the same bytes): cheaper than a scalar tail.
    let tail = (c % LANES != 0 && c > LANES).then(|| c - LANES);
    for ch in (0..c / LANES).map(|i| i * LANES).chain(tail) {
        let f: [i32; LANES] = core::array::from_fn(|l| folded[ch + l]);
        let border = if padded { region } else { inner };
        Lanes { g, k, input, iw, ow, inner, border, ch, f, xt: &xt, wt: &wt }.run(output, runs);
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

/// [`depthwise_conv2d`] for dilated windows, which the operator calls for
/// them off the boards (a second kernel call there moved the undilated
/// kernel's Cortex-M7 code; boards keep the reference): the interior of
/// the windows' extent in blocks of [`LANES`] channels, a tap each
/// [`mac_lanes`] (a last partial block overlapping the one before it, as in
/// [`depthwise_conv2d`]); the pixels whose windows reach into the padding
/// (a dilated window's valid taps are not one range), and layers of fewer
/// channels than a block, by the reference.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn dilated(
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
    if depth_multiplier != 1 || !fits {
        return reference(g, depth_multiplier, k, input, iw, output, ow, region);
    }
    let extent = Geometry { kh: (g.kh - 1) * g.dil_h + 1, kw: (g.kw - 1) * g.dil_w + 1, ..*g };
    let inner = interior(&extent, region);
    for band in border(region, inner) {
        reference(g, 1, k, input, iw, output, ow, band);
    }
    if c < LANES {
        return reference(g, 1, k, input, iw, output, ow, inner);
    }
    // The last partial block overlaps the one before it (its channels
    // computed twice, to the same bytes), rather than the reference
    // recomputing every channel of the interior.
    let tail = (c % LANES != 0).then(|| c - LANES);
    let f_row = g.kw * c;
    for b in 0..ow.n {
        for oy in inner.y..inner.y_end() {
            let y0 = g.origin_y(oy) as usize;
            for ox in inner.x..inner.x_end() {
                let x0 = g.origin_x(ox) as usize;
                let o = ow.offset(b, oy, ox);
                for ch in (0..c / LANES).map(|i| i * LANES).chain(tail) {
                    let mut acc: [i32; LANES] = core::array::from_fn(|l| folded[ch + l]);
                    for ky in 0..g.kh {
                        let (at, w) = (iw.offset(b, y0 + ky * g.dil_h, x0) + ch, ky * f_row + ch);
                        for kx in 0..g.kw {
                            mac_lanes(&mut acc, &input[at + kx * g.dil_w * c..], &k.filter[w + kx * c..]);
                        }
                    }
                    for (l, &a) in acc.iter().enumerate() {
                        output[o + ch + l] = k.stage.requantize_fast(a, ch + l);
                    }
                }
            }
        }
    }
}

/// One block of [`LANES`] channels of the NHWC depthwise interior, by runs:
/// each output row's pixels in runs of up to [`RUN`], their accumulators
/// (a pixel's whole window per block: [`mac_taps`] for 3×3) kept per
/// channel, then each channel's run requantized by [`store_strided`] — the
/// short [`NarrowStage`] when the block's accumulators are provably small.
/// (On wasm each pixel's block requantizes as vectors instead, [`Block`].)
struct Lanes<'a> {
    g: &'a Geometry,
    k: &'a Weighted<'a>,
    input: &'a [i8],
    iw: Window,
    ow: Window,
    inner: Rect,
    /// The region whose pixels outside `inner` the block computes too
    /// (`inner` itself where `border_band` does).
    #[cfg_attr(not(all(feature = "dsp", target_arch = "arm")), allow(dead_code))]
    border: Rect,
    ch: usize,
    f: [i32; LANES],
    xt: &'a Taps<9>,
    wt: &'a Taps<9>,
}

impl Lanes<'_> {
    /// On wasm: each pixel's block requantized as vectors.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn run(&self, output: &mut [i8], _: &mut Runs) {
        let (g, c, ch) = (self.g, self.ow.c, self.ch);
        let f_row = g.kw * c;
        let bound = super::requant::block_bound(self.k.bias, ch, LANES, g.kh * g.kw);
        let q = super::requant::Block::bounded(&self.k.stage, ch, LANES, bound);
        for b in 0..self.ow.n {
            for oy in self.inner.y..self.inner.y_end() {
                let y0 = g.origin_y(oy) as usize;
                for ox in self.inner.x..self.inner.x_end() {
                    let acc = self.pixel(b, y0, g.origin_x(ox) as usize, f_row);
                    let o = self.ow.offset(b, oy, ox) + ch;
                    q.store(&acc, &mut output[o..o + LANES]);
                }
            }
        }
    }

    /// The block's accumulators for the window at input row `y0`, column `x0`.
    #[inline(always)]
    fn pixel(&self, b: usize, y0: usize, x0: usize, f_row: usize) -> [i32; LANES] {
        let (g, c, ch) = (self.g, self.ow.c, self.ch);
        let mut acc = self.f;
        if (g.kh, g.kw) == (3, 3) {
            mac_taps(&mut acc, self.input, self.iw.offset(b, y0, x0) + ch, self.xt, self.k.filter, ch, self.wt);
        } else {
            for ky in 0..g.kh {
                let (at, w) = (self.iw.offset(b, y0 + ky, x0) + ch, ky * f_row + ch);
                for kx in 0..g.kw {
                    mac_lanes(&mut acc, &self.input[at + kx * c..], &self.k.filter[w + kx * c..]);
                }
            }
        }
        acc
    }

    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    fn run(&self, output: &mut [i8], runs: &mut Runs) {
        let acc_run = &mut runs.acc;
        let taps = self.g.kh * self.g.kw;
        let narrow: [Option<NarrowStage>; LANES] =
            core::array::from_fn(|l| self.k.stage.narrow(self.ch + l, acc_bound(self.k.bias, self.ch + l, taps)));
        if narrow.iter().all(Option::is_some) {
            self.runs(output, narrow.map(Option::unwrap_or_default), acc_run);
        } else {
            self.runs(output, core::array::from_fn(|l| self.k.stage.channel(self.ch + l)), acc_run);
        }
    }

    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    #[inline(always)]
    fn runs<R: Requantize>(&self, output: &mut [i8], r: [R; LANES], acc_run: &mut [[i32; RUN]; LANES]) {
        #[cfg(all(feature = "dsp", target_arch = "arm"))]
        if let Some(w) = dsp_lanes::Window::new(self.k.filter, (self.g.kh, self.g.kw), self.ow.c, self.ch, self.f) {
            return self.runs_with(output, r, Some(w), acc_run);
        }
        self.runs_with(output, r, None::<()>, acc_run)
    }

    /// [`runs`](Self::runs) with the board's loop for the window, if it has one.
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    #[inline(always)]
    fn runs_with<R: Requantize, P: Pixels>(
        &self,
        output: &mut [i8],
        r: [R; LANES],
        mut dsp: Option<P>,
        acc_run: &mut [[i32; RUN]; LANES],
    ) {
        let (g, c, ch) = (self.g, self.ow.c, self.ch);
        let f_row = g.kw * c;
        let w = self.inner.w;
        if let Some(block) = dsp.as_mut().filter(|_| w > 0 && w <= RUN / 2) {
            self.short_rows(block, output, &r, acc_run);
            return self.border_runs(block, output, &r, acc_run);
        }
        for b in 0..self.ow.n {
            for oy in self.inner.y..self.inner.y_end() {
                let y0 = g.origin_y(oy) as usize;
                let mut done = 0;
                while done < self.inner.w {
                    let n = (self.inner.w - done).min(RUN);
                    if let Some(block) = dsp.as_mut() {
                        let at = self.iw.offset(b, y0, g.origin_x(self.inner.x + done) as usize) + ch;
                        let (row, step) = (self.iw.rect.w * c, g.stride_w * c);
                        block.run(self.input, at, (c, row, step), acc_run, (0, n));
                    }
                    for i in 0..if dsp.is_some() { 0 } else { n } {
                        let acc = self.pixel(b, y0, g.origin_x(self.inner.x + done + i) as usize, f_row);
                        for (run, a) in acc_run.iter_mut().zip(acc) {
                            run[i] = a;
                        }
                    }
                    let o = self.ow.offset(b, oy, self.inner.x + done) + ch;
                    store_lanes(&r, acc_run, n, &mut output[o..o + (n - 1) * c + LANES], c);
                    done += n;
                }
            }
        }
        if let Some(block) = dsp.as_mut() {
            self.border_runs(block, output, &r, acc_run);
        }
    }

    /// The interior when its rows are at most half a run (a patch's,
    /// mostly): the board's loop takes as many as fit one buffer a row at a
    /// time, requantized together (a row a run, short rows paid
    /// `store_lanes`'s set-up each; on YOLO-FPN's 2×3 patches, whose edge
    /// patches' rows stop short of the window's, 0.5 points of its patch
    /// overhead).
    // Not inlined: one call a block, its loop state out of the kernel's
    // frame (the deepest on the firmware's stack).
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    #[inline(never)]
    fn short_rows<R: Requantize, P: Pixels>(
        &self,
        block: &mut P,
        output: &mut [i8],
        r: &[R; LANES],
        acc_run: &mut [[i32; RUN]; LANES],
    ) {
        let (g, c, ch, w) = (self.g, self.ow.c, self.ch, self.inner.w);
        let (row, step) = (self.iw.rect.w * c, g.stride_w * c);
        // Rows as wide as the output window are one run of pixels in it:
        // stored as one row.
        let whole = self.inner.x == self.ow.rect.x && w == self.ow.rect.w;
        for b in 0..self.ow.n {
            let mut oy = self.inner.y;
            while oy < self.inner.y_end() {
                let rows = (self.inner.y_end() - oy).min(RUN / w.max(1));
                for i in 0..rows {
                    let at = self.iw.offset(b, g.origin_y(oy + i) as usize, g.origin_x(self.inner.x) as usize) + ch;
                    block.run(self.input, at, (c, row, step), acc_run, (i * w, w));
                }
                // (`rows·w ≤ RUN` already; the `min` lets LLVM see it, as it
                // sees every other caller's: store_lanes then kept a `min`
                // and took 4 % more instructions.)
                let (o, n) = (self.ow.offset(b, oy, self.inner.x) + ch, (rows * w).min(RUN));
                let (run_w, pitch) = if whole { (n, 0) } else { (w, self.ow.rect.w * c) };
                let span = (n / run_w - 1) * pitch + (run_w - 1) * c + LANES;
                store_lanes_rows(r, acc_run, (n, run_w), &mut output[o..o + span], (c, pitch));
                oy += rows;
            }
        }
    }

    /// The pixels of `border` outside `inner`, 3×3 or 5×5 on a board: runs
    /// of them along a row (the bands above and below the interior) or down
    /// a column (left and right of it) have their windows copied into a
    /// strip of `k` rows or `k` columns, the taps outside the input as the
    /// input zero point (`(zp + off)·w = 0`: the folded bias cancels them,
    /// as the reference skips them), and go through the interior's loop.
    /// Tap by tap (`border_band`) a border pixel took about 70 instructions
    /// a tap, spilling.
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    // Not inlined: its strip is on the stack only while it runs.
    #[inline(never)]
    fn border_runs<R: Requantize, P: Pixels>(
        &self,
        block: &mut P,
        output: &mut [i8],
        r: &[R; LANES],
        acc_run: &mut [[i32; RUN]; LANES],
    ) {
        // A strip's bytes: 16 3×3 windows at stride 2 (8 of 5×5), on the
        // stack while this runs (the deepest firmware's stack went from 7,812
        // to 7,840 B; strips half as long cost BlazeFace 0.2 M instructions).
        const BYTES: usize = 3 * 33 * LANES;
        // Most of a patch grid's patches touch no padding: no strip to clear.
        if border(self.border, self.inner).next().is_none() {
            return;
        }
        let (g, c, ch, k) = (self.g, self.ow.c, self.ch, block.k());
        // The strip's longer side, in taps.
        let span_max = BYTES / LANES / k;
        let zp = [(-self.k.stage.input_offset) as i8; LANES];
        let mut strip = [0i8; BYTES];
        let (in_h, in_w) = (g.in_h as isize, g.in_w as isize);
        for band in border(self.border, self.inner) {
            // Along the band's longer side: (pixel step in the output, stride).
            let across = band.w >= band.h;
            let (len, lines, stride) = if across { (band.w, band.h, g.stride_w) } else { (band.h, band.w, g.stride_h) };
            let most = ((span_max - k) / stride.max(1) + 1).min(RUN);
            for b in 0..self.ow.n {
                for line in 0..lines {
                    let mut done = 0;
                    while done < len {
                        let n = (len - done).min(most);
                        let (oy, ox) =
                            if across { (band.y + line, band.x + done) } else { (band.y + done, band.x + line) };
                        let span = (n - 1) * stride + k;
                        let (rows, cols) = if across { (k, span) } else { (span, k) };
                        let (y0, x0) = (g.origin_y(oy), g.origin_x(ox));
                        // Each strip row: zero points, the input's columns `lo..hi`, zero points.
                        let (lo, hi) =
                            ((-x0).clamp(0, cols as isize) as usize, (in_w - x0).clamp(0, cols as isize) as usize);
                        for ty in 0..rows {
                            let y = y0 + ty as isize;
                            let dst = &mut strip[ty * cols * LANES..][..cols * LANES];
                            let (lo, hi) = if (0..in_h).contains(&y) && lo < hi { (lo, hi) } else { (cols, cols) };
                            let (left, rest) = dst.split_at_mut(lo * LANES);
                            let (mid, right) = rest.split_at_mut((hi - lo) * LANES);
                            for word in left.chunks_exact_mut(LANES).chain(right.chunks_exact_mut(LANES)) {
                                word.copy_from_slice(&zp);
                            }
                            if lo < hi {
                                let at = self.iw.offset(b, y as usize, (x0 + lo as isize) as usize) + ch;
                                let src = &self.input[at..at + (hi - lo - 1) * c + LANES];
                                for (j, word) in mid.chunks_exact_mut(LANES).enumerate() {
                                    word.copy_from_slice(&src[j * c..j * c + LANES]);
                                }
                            }
                        }
                        let row = cols * LANES;
                        let step = if across { stride * LANES } else { stride * row };
                        block.run(&strip, 0, (LANES, row, step), acc_run, (0, n));
                        let o = self.ow.offset(b, oy, ox) + ch;
                        let pitch = if across { c } else { self.ow.rect.w * c };
                        store_lanes(r, acc_run, n, &mut output[o..o + (n - 1) * pitch + LANES], pitch);
                        done += n;
                    }
                }
            }
        }
    }
}

/// A board's loop over a run of `k × k` windows of one block of channels
/// ([`dsp_lanes`] on Armv7E-M); `()` where there is none (never called).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
trait Pixels {
    fn k(&self) -> usize;
    /// `acc[l][first + i]` = the block's folded bias `l` + the window of
    /// pixel `i` (of `n`) over its channel `l`, the windows' origins
    /// `at + i·step` in `input` (`cs` = `(c, row, step)`: channels `c` and
    /// rows `row` bytes apart).
    fn run(
        &mut self,
        input: &[i8],
        at: usize,
        cs: (usize, usize, usize),
        acc: &mut [[i32; RUN]; LANES],
        first_n: (usize, usize),
    );
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
impl Pixels for () {
    fn k(&self) -> usize {
        0
    }
    fn run(&mut self, _: &[i8], _: usize, _: (usize, usize, usize), _: &mut [[i32; RUN]; LANES], _: (usize, usize)) {}
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
    out: (usize, usize),
    plane: &mut [i8],
) {
    inplace(g, k, folded, buffer, channels, out, plane, true)
}

/// [`depthwise_conv2d_inplace`] without the x86-64 AVX2 form (for the
/// tests to compare the portable form on a CPU with AVX2).
#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) fn depthwise_conv2d_inplace_portable(
    g: &Geometry,
    k: &Weighted,
    folded: &[i32],
    buffer: &mut [i8],
    channels: usize,
    out: (usize, usize),
    plane: &mut [i8],
) {
    inplace(g, k, folded, buffer, channels, out, plane, false)
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn inplace(
    g: &Geometry,
    k: &Weighted,
    folded: &[i32],
    buffer: &mut [i8],
    channels: usize,
    (out_h, out_w): (usize, usize),
    plane: &mut [i8],
    #[allow(unused)] lanes: bool,
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
    #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
    if lanes {
        let iw = Window::full(1, g.in_h, g.in_w, c);
        let (dst, dst_len) = (buffer.as_mut_ptr(), buffer.len());
        let io = ring::Io { src: dst, src_len: dst_len, iw, dst, dst_len, ow };
        // One buffer read and written through one pointer, output row `oy`
        // landing on input pixels `oy·out_w..`, rows the windows of row `oy`
        // start at or after.
        if lanes_3x3(g, k, folded, &io, ow.rect) {
            // The ring lived on the stack; the layout is every target's, and
            // the plane scratch it planned is still this node's: its last
            // byte is written as the boards' ring writes it, so the measured
            // high-water mark stays the planned one.
            if let Some(last) = plane.last_mut() {
                *last = 0;
            }
            return;
        }
    }
    let mut wl = [0i8; MAX_TAPS];
    // Every pixel of a 3×3 kernel through one path, the padding read as
    // the input zero point (not on wasm, whose vector kernel reads the plane).
    let padded = cfg!(not(all(target_arch = "wasm32", target_feature = "simd128")))
        && (g.kh, g.kw) == (3, 3)
        && (-128..=127).contains(&-off)
        && plane.len() >= 3 * (g.in_w + 2)
        && g.pad_left <= 1
        && g.origin_x(ow.rect.w.saturating_sub(1)) + 3 <= g.in_w as isize + 1;
    // The ring's rows at the end of the plane scratch (which this path does
    // not otherwise use): its last byte is written, so the arena's measured
    // high-water mark stays the planned one.
    let (rest, rows) = plane.split_at_mut(if padded { plane.len() - 3 * (g.in_w + 2) } else { plane.len() });
    let mut ring = Ring { rows, pitch: g.in_w + 2, held: [isize::MIN; 3], zp: (-off) as i8 };
    let plane = rest;
    for ch in 0..c {
        for (t, w) in wl.iter_mut().take(taps).enumerate() {
            *w = k.filter[t * c + ch];
        }
        if padded {
            let w: [i8; 9] = core::array::from_fn(|t| wl[t]);
            ring.held = [isize::MIN; 3];
            match k.stage.narrow(ch, acc_bound(k.bias, ch, 9)) {
                Some(r) => padded_3x3::<NarrowStage>(g, folded[ch], &w, buffer, ow, ch, &mut ring, r),
                None => padded_3x3(g, folded[ch], &w, buffer, ow, ch, &mut ring, k.stage.channel(ch)),
            }
            continue;
        }
        gather(plane, buffer, ch, c, g.in_h * g.in_w);
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

/// `plane[p] = buffer[p·c + ch]` for the `n` pixels: channel `ch` of an NHWC
/// buffer as a plane.
#[allow(unsafe_code)]
fn gather(plane: &mut [i8], buffer: &[i8], ch: usize, c: usize, n: usize) {
    let Some(last) = n.checked_sub(1) else { return };
    assert!(n <= plane.len() && last.checked_mul(c).and_then(|e| e.checked_add(ch)).is_some_and(|e| e < buffer.len()));
    let mut src = buffer[ch..].as_ptr();
    // SAFETY (both loops): read `p` is at `ch + p·c ≤ ch + (n − 1)·c <
    // buffer.len()` (the assert); the pointer passes the end only after the
    // last read, with `wrapping_add`, and is not read again.
    let mut four = plane[..n].chunks_exact_mut(4);
    for v in four.by_ref() {
        // Four bytes a step, written as one word.
        let b: [i8; 4] = core::array::from_fn(|k| unsafe { *src.wrapping_add(k * c) });
        v.copy_from_slice(&b);
        src = src.wrapping_add(4 * c);
    }
    for v in four.into_remainder() {
        *v = unsafe { *src };
        src = src.wrapping_add(c);
    }
}

/// The widest ring row [`nhwc_3x3`] keeps on the stack (three of them).
const STACK_RING: usize = 130;

/// `region` of a 3×3 NHWC depthwise channel by channel as the in-place
/// kernel runs it ([`padded_3x3`]: every pixel over zero-point padded rows,
/// runs through [`accumulate_3x3`], requantized by [`store_strided`]), the
/// ring of three input rows on the stack: what a patch stage's depthwise
/// (its own input and output buffers) costs is then what the same layer
/// costs in place. `(x0, width)` from [`ring::columns`].
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn nhwc_3x3(
    g: &Geometry,
    k: &Weighted,
    folded: &[i32],
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
    (x0, width): (isize, usize),
) {
    let c = ow.c;
    let zp = (-k.stage.input_offset) as i8;
    // Columns of a ring row inside the input: `lo..hi`. The others are
    // zero points in every row, so the ring starts as zero points and a
    // row's gather writes only `lo..hi`.
    let lo = ((-x0).max(0) as usize).min(width);
    let hi = ((g.in_w as isize - x0).max(0) as usize).min(width).max(lo);
    let mut ring = [zp; 3 * STACK_RING];
    let mut acc = [0i32; RUN];
    // Stride 1 (the caller's condition): each output row reads one input
    // row the row before it did not, so the ring's slots rotate instead of
    // being looked up (three `rem_euclid`s and as many checks an output row).
    // Only `nhwc` calls this, and only at stride 1: a fallback here moved the
    // kernel's Cortex-M7 code (MobileNetV3 +1 %), so the condition is asserted.
    debug_assert!(g.stride_h == 1);
    for (ch, &bias) in folded.iter().enumerate().take(c) {
        let w: [i8; 9] = core::array::from_fn(|t| k.filter[t * c + ch]);
        let kernel = Kernel3x3::new(&w, bias);
        let narrow = k.stage.narrow(ch, acc_bound(k.bias, ch, 9));
        for b in 0..ow.n {
            // Input row `iy` of channel `ch` into slot `s`.
            let load = |ring: &mut [i8; 3 * STACK_RING], s: usize, iy: isize| {
                let row = &mut ring[s * STACK_RING..][lo..hi];
                if iy < 0 || iy >= g.in_h as isize {
                    row.fill(zp);
                } else if lo < hi {
                    let from = iw.offset(b, iy as usize, (x0 + lo as isize) as usize);
                    gather(row, &input[from..], ch, c, hi - lo);
                }
            };
            let y_first = g.origin_y(region.y);
            load(&mut ring, 0, y_first);
            load(&mut ring, 1, y_first + 1);
            // The slots of input rows `y0`, `y0 + 1` and `y0 + 2`.
            let mut order = [0usize, 1, 2];
            for oy in region.y..region.y_end() {
                let y0 = g.origin_y(oy);
                load(&mut ring, order[2], y0 + 2);
                let rows: [&[i8]; 3] = order.map(|s| &ring[s * STACK_RING..][..width]);
                let mut done = 0;
                while done < region.w {
                    let n = (region.w - done).min(RUN);
                    let ox = region.x + done;
                    let x = (g.origin_x(ox) - x0) as usize;
                    accumulate_3x3(rows, x, g.stride_w, &kernel, &mut acc[..n]);
                    let o = ow.offset(b, oy, ox) + ch;
                    let out = &mut output[o..o + (n - 1) * c + 1];
                    match narrow {
                        Some(r) => store_strided(&r, &acc[..n], out, c),
                        None => store_strided(&k.stage.channel(ch), &acc[..n], out, c),
                    }
                    done += n;
                }
                order = [order[1], order[2], order[0]];
            }
        }
    }
}

/// The three input rows of one channel that a 3×3 window reads, each
/// gathered from the NHWC buffer between two zero points (`held[s]`: the
/// input row in slot `s`, one outside the input for a row of zero points).
/// Consecutive output rows share rows, so each input row is gathered once
/// per channel — and before any output row is written over it: output row
/// `oy` lands on input pixels `oy·out_w..(oy + 1)·out_w`, rows the windows
/// of rows up to `oy` have already read (the in-place proptests check it).
struct Ring<'a> {
    /// Three rows of `pitch` bytes (the input width and two zero points).
    rows: &'a mut [i8],
    pitch: usize,
    held: [isize; 3],
    /// The input zero point (the padding).
    zp: i8,
}

impl Ring<'_> {
    /// Slot of input row `iy` of channel `ch` (of `c`), gathered from
    /// `buffer` (or zero points outside the input) if not held.
    #[inline(always)]
    fn row(&mut self, iy: isize, buffer: &[i8], ch: usize, c: usize, (in_h, in_w): (usize, usize), zp: i8) -> usize {
        let s = iy.rem_euclid(3) as usize;
        if self.held[s] != iy {
            let row = &mut self.rows[s * self.pitch..][..in_w + 2];
            if iy < 0 || iy >= in_h as isize {
                row.fill(zp);
            } else {
                row[0] = zp;
                gather(&mut row[1..=in_w], &buffer[iy as usize * in_w * c..], ch, c, in_w);
                row[in_w + 1] = zp;
            }
            self.held[s] = iy;
        }
        s
    }
}

/// Every pixel of one channel of a 3×3 in-place depthwise, the border ones
/// included, as if the plane were padded with the input zero point `zp`:
/// its products with the weights the folded bias cancels
/// (`(zp + off)·w = 0`, as the reference's skipped taps contribute
/// nothing), so every accumulator is `folded + Σ x·w` over nine taps. Each
/// output row reads three rows of `ring`, each an input row between two zero
/// points (rows above and below the plane all zero points), so the whole
/// row goes through [`accumulate_3x3`] in runs, edges included (one edge
/// pixel summed tap by tap cost as much as 30 interior ones). Each run is
/// requantized by [`store_strided`]. The caller checked that a window
/// reaches at most one column past either side of the input.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn padded_3x3<R: Requantize>(
    g: &Geometry,
    folded: i32,
    w: &[i8; 9],
    buffer: &mut [i8],
    ow: Window,
    ch: usize,
    ring: &mut Ring,
    r: R,
) {
    let (in_w, in_h, c, sw) = (g.in_w, g.in_h, ow.c, g.stride_w);
    let (out_h, out_w) = (ow.rect.h, ow.rect.w);
    let zp = ring.zp;
    // The first window's first column in a padded row (its zero point is column −1).
    let x0 = (g.origin_x(0) + 1) as usize;
    let mut acc = [0i32; RUN];
    let kernel = Kernel3x3::new(w, folded);
    for oy in 0..out_h {
        let y0 = g.origin_y(oy);
        let slots: [usize; 3] = core::array::from_fn(|t| ring.row(y0 + t as isize, buffer, ch, c, (in_h, in_w), zp));
        let pitch = ring.pitch;
        let rows: [&[i8]; 3] = slots.map(|s| &ring.rows[s * pitch..][..in_w + 2]);
        let mut done = 0;
        while done < out_w {
            let n = (out_w - done).min(RUN);
            accumulate_3x3(rows, x0 + done * sw, sw, &kernel, &mut acc[..n]);
            let o = ow.offset(0, oy, done) + ch;
            store_strided(&r, &acc[..n], &mut buffer[o..o + (n - 1) * c + 1], c);
            done += n;
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
/// case, a third of its instructions on a Cortex-M7): each output row in
/// runs of up to [`RUN`] pixels, first the accumulators ([`accumulate_3x3`],
/// the nine weights in registers), then the run requantized by
/// [`store_strided`] with the channel's constants in registers — the short
/// [`NarrowStage`] when the accumulators are provably small. Nine int8
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
    if inner.is_empty() {
        return;
    }
    let w: [i8; 9] = core::array::from_fn(|t| wl[t]);
    match k.stage.narrow(ch, acc_bound(k.bias, ch, 9)) {
        Some(r) => rows_3x3::<NarrowStage>(g, folded, &w, plane, buffer, ow, inner, ch, r),
        None => rows_3x3(g, folded, &w, plane, buffer, ow, inner, ch, k.stage.channel(ch)),
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn rows_3x3<R: Requantize>(
    g: &Geometry,
    folded: i32,
    w: &[i8; 9],
    plane: &[i8],
    buffer: &mut [i8],
    ow: Window,
    inner: Rect,
    ch: usize,
    r: R,
) {
    let (in_w, c, sw) = (g.in_w, ow.c, g.stride_w);
    let x0 = g.origin_x(inner.x) as usize;
    let mut acc = [0i32; RUN];
    let kernel = Kernel3x3::new(w, folded);
    for oy in inner.y..inner.y_end() {
        let y0 = g.origin_y(oy) as usize;
        let mut done = 0;
        while done < inner.w {
            let n = (inner.w - done).min(RUN);
            let at = y0 * in_w + x0 + done * sw;
            let rows = [&plane[at..], &plane[at + in_w..], &plane[at + 2 * in_w..]];
            accumulate_3x3(rows, 0, sw, &kernel, &mut acc[..n]);
            let o = ow.offset(0, oy, inner.x + done) + ch;
            store_strided(&r, &acc[..n], &mut buffer[o..o + (n - 1) * c + 1], c);
            done += n;
        }
    }
}

/// One channel's 3×3 weights and folded bias as [`accumulate_3x3`] takes
/// them: prepared once a channel, not once a run (packed for every run,
/// they cost mbv2 0.76 M of its 73.5 M Cortex-M7 instructions).
#[derive(Clone, Copy)]
struct Kernel3x3 {
    w: [i8; 9],
    folded: i32,
    #[cfg(all(feature = "dsp", target_arch = "arm"))]
    dsp: [u32; 6],
}

impl Kernel3x3 {
    #[inline(always)]
    fn new(w: &[i8; 9], folded: i32) -> Self {
        Kernel3x3 {
            w: *w,
            folded,
            #[cfg(all(feature = "dsp", target_arch = "arm"))]
            dsp: dsp::table(w, folded),
        }
    }
}

/// `acc[i]` = `folded` + the 3×3 window whose rows start at `rows[t][x + i·stride]`
/// against `w`, for a run of pixels of one output row.
#[inline(always)]
fn accumulate_3x3(rows: [&[i8]; 3], x: usize, stride: usize, kernel: &Kernel3x3, acc: &mut [i32]) {
    let n = acc.len();
    if n == 0 {
        return;
    }
    let span = (n - 1) * stride + 3;
    let rows = rows.map(|r| &r[x..][..span]);
    #[cfg(all(feature = "dsp", target_arch = "arm"))]
    if stride <= 2 {
        return dsp::accumulate_3x3(rows, stride, kernel, acc);
    }
    let (folded, w) = (kernel.folded, &kernel.w);
    let w: [i32; 9] = core::array::from_fn(|t| w[t] as i32);
    if stride == 1 {
        // The window slides one column per pixel: each pixel loads the three
        // bytes of its new column and keeps the other six from the pixel before.
        let [r0, r1, r2] = rows;
        let (mut a0, mut a1) = (r0[0] as i32, r0[1] as i32);
        let (mut b0, mut b1) = (r1[0] as i32, r1[1] as i32);
        let (mut d0, mut d1) = (r2[0] as i32, r2[1] as i32);
        for (o, ((&a2, &b2), &d2)) in acc.iter_mut().zip(r0[2..].iter().zip(&r1[2..]).zip(&r2[2..])) {
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
            *o = folded.wrapping_add(s);
            (a0, a1, b0, b1, d0, d1) = (a1, a2, b1, b2, d1, d2);
        }
        return;
    }
    for (i, o) in acc.iter_mut().enumerate() {
        let x = i * stride;
        let (a, b, d) = (&rows[0][x..x + 3], &rows[1][x..x + 3], &rows[2][x..x + 3]);
        let s = a[0] as i32 * w[0]
            + a[1] as i32 * w[1]
            + a[2] as i32 * w[2]
            + b[0] as i32 * w[3]
            + b[1] as i32 * w[4]
            + b[2] as i32 * w[5]
            + d[0] as i32 * w[6]
            + d[1] as i32 * w[7]
            + d[2] as i32 * w[8];
        *o = folded.wrapping_add(s);
    }
}

/// Armv7E-M: the 3×3 window two pixels at a time. One word of a row holds
/// `p0..p3`; `SXTB16` makes `e = (p0, p2)` and `o = (p1, p3)`, and each
/// row's outer weights are packed as `(w0, w2)`. At stride 1 pixel 0 takes
/// `SMLAD(e, (w0, w2)) + p1·w1` and pixel 1 `SMLAD(o, (w0, w2)) + p2·w1`
/// (`SMLAxy` picks `p1`, `p2` and the row's `w1` from halfwords): 22
/// instructions for 18 MACs. At stride 2 pixel 1 reads `p2..p4`: `p2·w0`,
/// `p3·w1` from the halves and `p4·w2` from one more byte. The whole run is
/// one `asm!` loop (the weights loaded from a six-word table as they are
/// needed, so that pointers, accumulators and temporaries fit the
/// registers): 32 instructions per pair at stride 1, 38 at stride 2, for 18
/// MACs.
#[cfg(all(feature = "dsp", target_arch = "arm"))]
mod dsp {
    #![allow(unsafe_code)]
    use core::arch::asm;

    fn halves(lo: i8, hi: i8) -> u32 {
        (lo as i16 as u16 as u32) | ((hi as i16 as u16 as u32) << 16)
    }

    /// The weights as the loop loads them: each row's outer pair, the
    /// middle ones of rows 0 and 1, row 2's middle one, then `folded`.
    pub fn table(w: &[i8; 9], folded: i32) -> [u32; 6] {
        [halves(w[0], w[2]), halves(w[3], w[5]), halves(w[6], w[8]), halves(w[1], w[4]), halves(w[7], 0), folded as u32]
    }

    // Not inlined: its registers are its own.
    #[inline(never)]
    pub fn accumulate_3x3(rows: [&[i8]; 3], stride: usize, kernel: &super::Kernel3x3, acc: &mut [i32]) {
        let n = acc.len();
        // Each row holds the (n − 1)·stride + 3 bytes the run reads (the caller sliced them).
        assert!(n > 0 && (stride == 1 || stride == 2) && rows.iter().all(|r| r.len() >= (n - 1) * stride + 3));
        let (k, w, folded) = (&kernel.dsp, &kernel.w, kernel.folded);
        let [mut p0, mut p1, mut p2] = rows.map(|r| r.as_ptr());
        let pairs = n / 2;
        let mut out = acc.as_mut_ptr();
        // One loop a run: a pair's accumulators start from `folded`, the
        // three rows' taps (`$tap` lines), then both stores.
        macro_rules! pairs_loop {
            ($($tap:literal),* $(,)?) => {
                asm!(
                    "2:",
                    "ldr {a}, [{k}, #20]",
                    "mov {b}, {a}",
                    $($tap,)*
                    "str {a}, [{out}], #4",
                    "str {b}, [{out}], #4",
                    "subs {cnt}, {cnt}, #1",
                    "bne 2b",
                    p0 = inout(reg) p0,
                    p1 = inout(reg) p1,
                    p2 = inout(reg) p2,
                    out = inout(reg) out,
                    cnt = inout(reg) pairs => _,
                    k = in(reg) k.as_ptr(),
                    a = out(reg) _,
                    b = out(reg) _,
                    t = out(reg) _,
                    e = out(reg) _,
                    o = out(reg) _,
                    w = out(reg) _,
                    options(nostack),
                )
            };
        }
        // SAFETY: pair j (pixels 2j, 2j + 1) reads bytes x..x + 4 of each row
        // at stride 1 (x = 2j, x + 4 ≤ n + 2) and x..x + 5 at stride 2 (x = 4j,
        // x + 5 ≤ 2n + 1), inside the row by the assert; it writes `acc[2j]`
        // and `acc[2j + 1]`, below n; `k` is six words. LDR may be unaligned
        // on Armv7-M; the rest is register arithmetic.
        if pairs > 0 {
            unsafe {
                if stride == 1 {
                    pairs_loop!(
                        "ldr {t}, [{p0}], #2",
                        "sxtb16 {e}, {t}",
                        "sxtb16 {o}, {t}, ror #8",
                        "ldr {w}, [{k}]",
                        "smlad {a}, {e}, {w}, {a}",
                        "smlad {b}, {o}, {w}, {b}",
                        "ldr {w}, [{k}, #12]",
                        "smlabb {a}, {o}, {w}, {a}",
                        "smlatb {b}, {e}, {w}, {b}",
                        "ldr {t}, [{p1}], #2",
                        "sxtb16 {e}, {t}",
                        "sxtb16 {o}, {t}, ror #8",
                        "smlabt {a}, {o}, {w}, {a}",
                        "smlatt {b}, {e}, {w}, {b}",
                        "ldr {w}, [{k}, #4]",
                        "smlad {a}, {e}, {w}, {a}",
                        "smlad {b}, {o}, {w}, {b}",
                        "ldr {t}, [{p2}], #2",
                        "sxtb16 {e}, {t}",
                        "sxtb16 {o}, {t}, ror #8",
                        "ldr {w}, [{k}, #8]",
                        "smlad {a}, {e}, {w}, {a}",
                        "smlad {b}, {o}, {w}, {b}",
                        "ldr {w}, [{k}, #16]",
                        "smlabb {a}, {o}, {w}, {a}",
                        "smlatb {b}, {e}, {w}, {b}",
                    );
                } else {
                    pairs_loop!(
                        "ldr {t}, [{p0}], #4",
                        "sxtb16 {e}, {t}",
                        "sxtb16 {o}, {t}, ror #8",
                        "ldrsb {t}, [{p0}]",
                        "ldr {w}, [{k}]",
                        "smlad {a}, {e}, {w}, {a}",
                        "smlatb {b}, {e}, {w}, {b}",
                        "smlabt {b}, {t}, {w}, {b}",
                        "ldr {w}, [{k}, #12]",
                        "smlabb {a}, {o}, {w}, {a}",
                        "smlatb {b}, {o}, {w}, {b}",
                        "ldr {t}, [{p1}], #4",
                        "sxtb16 {e}, {t}",
                        "sxtb16 {o}, {t}, ror #8",
                        "ldrsb {t}, [{p1}]",
                        "smlabt {a}, {o}, {w}, {a}",
                        "smlatt {b}, {o}, {w}, {b}",
                        "ldr {w}, [{k}, #4]",
                        "smlad {a}, {e}, {w}, {a}",
                        "smlatb {b}, {e}, {w}, {b}",
                        "smlabt {b}, {t}, {w}, {b}",
                        "ldr {t}, [{p2}], #4",
                        "sxtb16 {e}, {t}",
                        "sxtb16 {o}, {t}, ror #8",
                        "ldrsb {t}, [{p2}]",
                        "ldr {w}, [{k}, #8]",
                        "smlad {a}, {e}, {w}, {a}",
                        "smlatb {b}, {e}, {w}, {b}",
                        "smlabt {b}, {t}, {w}, {b}",
                        "ldr {w}, [{k}, #16]",
                        "smlabb {a}, {o}, {w}, {a}",
                        "smlatb {b}, {o}, {w}, {b}",
                    );
                }
            }
        }
        let _ = (p0, p1, p2, out);
        let i = 2 * pairs;
        if i < n {
            let mut s = 0i32;
            for (r, row) in rows.iter().enumerate() {
                for t in 0..3 {
                    s += row[i * stride + t] as i32 * w[3 * r + t] as i32;
                }
            }
            acc[i] = folded.wrapping_add(s);
        }
    }
}

/// Armv7E-M: a 3×3 or 5×5 NHWC depthwise over one block of four channels
/// (the [`LANES`] of a board), a run of pixels of one output row per call.
/// A tap's word holds the four channels; `SXTB16` splits it into channels
/// (0, 2) and (1, 3), each multiplied by the tap's weights widened the same
/// way once per block (`SMLABB`/`SMLATT`): 8 instructions per tap, 86 a
/// 3×3 pixel with the stores, where the same window through [`mac_taps`]
/// took 162 (the weights' addresses reloaded from the stack and a bounds
/// check each pixel).
#[cfg(all(feature = "dsp", target_arch = "arm"))]
mod dsp_lanes {
    #![allow(unsafe_code)]
    use super::{LANES, RUN};
    use core::arch::asm;

    /// What the loop reads and updates: the widened weights of the `T`
    /// taps (two words a tap), the block's folded biases, then the output
    /// pointer, the pixel count and the step back from the window's last
    /// row to the next pixel's first.
    #[repr(C, align(8))]
    pub struct Block<const T: usize> {
        w: [[u32; 2]; T],
        folded: [i32; LANES],
        out: *mut i32,
        count: usize,
        back: usize,
    }

    fn halves(lo: i8, hi: i8) -> u32 {
        (lo as i16 as u16 as u32) | ((hi as i16 as u16 as u32) << 16)
    }

    impl<const T: usize> Block<T> {
        /// Channels `ch..ch + 4` of the `[1, k, k, c]` filter (`T = k²`).
        // Inlined: built in its caller's frame, not copied there.
        #[inline(always)]
        pub fn new(filter: &[i8], c: usize, ch: usize, folded: [i32; LANES]) -> Self {
            let w = core::array::from_fn(|t| {
                let f = &filter[t * c + ch..][..LANES];
                [halves(f[0], f[2]), halves(f[1], f[3])]
            });
            Block { w, folded, out: core::ptr::null_mut(), count: 0, back: 0 }
        }

        /// The checks and state before the loop for a `k × k` window: the
        /// first window's address and the block's.
        #[inline(always)]
        fn start(
            &mut self,
            k: usize,
            input: &[i8],
            at: usize,
            (c, row, step): (usize, usize, usize),
            acc: &mut [[i32; RUN]; LANES],
            (first, n): (usize, usize),
        ) -> (*const i8, *mut Self) {
            // The last window's last word: every read is inside `input`.
            let end = (n.wrapping_sub(1))
                .checked_mul(step)
                .and_then(|e| e.checked_add(at))
                .and_then(|e| e.checked_add(row.checked_mul(k - 1)?))
                .and_then(|e| e.checked_add(c.checked_mul(k - 1)?))
                .and_then(|e| e.checked_add(LANES));
            assert!(n > 0 && first <= RUN && n <= RUN - first && end.is_some_and(|e| e <= input.len()));
            self.out = acc.as_mut_ptr().cast::<i32>().wrapping_add(first);
            self.count = n;
            // The window's last row leaves the pointer `k − 1` rows on (and
            // two taps, 5×5: its rows step halfway).
            let last = if k == 5 { 2 * c } else { 0 };
            self.back = step.wrapping_sub((k - 1) * row).wrapping_sub(last);
            (input.as_ptr().wrapping_add(at), self)
        }
    }

    /// One tap: its word, split into channels (0, 2) and (1, 3), against
    /// the tap's two weight words (at byte `$t` of the block).
    macro_rules! tap {
        ($addr:literal, $t:literal) => {
            concat!(
                "ldr {x}, ",
                $addr,
                "\n",
                "ldrd {we}, {wo}, [{k}, #",
                $t,
                "]\n",
                "sxtb16 {xe}, {x}\n",
                "sxtb16 {x}, {x}, ror #8\n",
                "smlabb {a0}, {xe}, {we}, {a0}\n",
                "smlatt {a2}, {xe}, {we}, {a2}\n",
                "smlabb {a1}, {x}, {wo}, {a1}\n",
                "smlatt {a3}, {x}, {wo}, {a3}\n",
            )
        };
    }

    /// A window row of three taps.
    macro_rules! row3 {
        ($t0:literal, $t1:literal, $t2:literal) => {
            concat!(tap!("[{p}]", $t0), tap!("[{p}, {c}]", $t1), tap!("[{p}, {c}, lsl #1]", $t2))
        };
    }

    /// A window row of five taps: the pointer moves two taps on halfway
    /// (and `{row}`, between rows, is the row's bytes less two taps').
    macro_rules! row5 {
        ($t0:literal, $t1:literal, $t2:literal, $t3:literal, $t4:literal) => {
            concat!(
                tap!("[{p}]", $t0),
                tap!("[{p}, {c}]", $t1),
                tap!("[{p}, {c}, lsl #1]", $t2),
                "add {p}, {p}, {c}, lsl #1\n",
                tap!("[{p}, {c}]", $t3),
                tap!("[{p}, {c}, lsl #1]", $t4),
            )
        };
    }

    /// A pixel loop: the accumulators from the folded biases, the window
    /// (`$rows`, `{row}` on between them), the four stores, then the next pixel.
    macro_rules! pixels {
        ($p:expr, $c:expr, $row:expr, $block:expr, [$f0:literal, $f2:literal, $out:literal, $count:literal, $back:literal], $($rows:expr),*) => {
            asm!(
                "2:",
                concat!("ldrd {a0}, {a1}, [{k}, #", $f0, "]"),
                concat!("ldrd {a2}, {a3}, [{k}, #", $f2, "]"),
                $($rows,)*
                concat!("ldr {x}, [{k}, #", $out, "]"),
                "str {a1}, [{x}, #256]",
                "str {a2}, [{x}, #512]",
                "str {a3}, [{x}, #768]",
                "str {a0}, [{x}], #4",
                concat!("str {x}, [{k}, #", $out, "]"),
                concat!("ldr {x}, [{k}, #", $back, "]"),
                "add {p}, {p}, {x}",
                concat!("ldr {x}, [{k}, #", $count, "]"),
                "subs {x}, {x}, #1",
                concat!("str {x}, [{k}, #", $count, "]"),
                "bne 2b",
                p = inout(reg) $p => _,
                c = in(reg) $c,
                row = in(reg) $row,
                k = in(reg) $block,
                a0 = out(reg) _,
                a1 = out(reg) _,
                a2 = out(reg) _,
                a3 = out(reg) _,
                x = out(reg) _,
                xe = out(reg) _,
                we = out(reg) _,
                wo = out(reg) _,
                options(nostack),
            )
        };
    }

    // SAFETY (both loops): pixel i reads the words at `at + i·step + r·row
    // + t·c` (r, t < k), each ending by `end ≤ input.len()` (`start`'s
    // assert; LDR may be unaligned on Armv7-M); it writes `acc[l][i]`
    // (`out` steps four bytes a pixel, lane l at l·RUN words) for i < n ≤
    // RUN. The block is word-aligned (LDRD) and read and written only at
    // its own fields; the pointer's wrapping steps are undone before its
    // next read.
    impl Block<9> {
        // Not inlined: its registers are its own.
        #[inline(never)]
        fn run(
            &mut self,
            input: &[i8],
            at: usize,
            cs: (usize, usize, usize),
            acc: &mut [[i32; RUN]; LANES],
            run: (usize, usize),
        ) {
            let (c, row, _) = cs;
            let (p, k) = self.start(3, input, at, cs, acc, run);
            unsafe {
                pixels!(
                    p,
                    c,
                    row,
                    k,
                    ["72", "80", "88", "92", "96"],
                    row3!("0", "8", "16"),
                    "add {p}, {p}, {row}",
                    row3!("24", "32", "40"),
                    "add {p}, {p}, {row}",
                    row3!("48", "56", "64")
                )
            }
        }
    }

    impl Block<25> {
        #[inline(never)]
        fn run(
            &mut self,
            input: &[i8],
            at: usize,
            cs: (usize, usize, usize),
            acc: &mut [[i32; RUN]; LANES],
            run: (usize, usize),
        ) {
            let (c, row, _) = cs;
            let (p, k) = self.start(5, input, at, cs, acc, run);
            unsafe {
                pixels!(
                    p,
                    c,
                    row.wrapping_sub(2 * c),
                    k,
                    ["200", "208", "216", "220", "224"],
                    row5!("0", "8", "16", "24", "32"),
                    "add {p}, {p}, {row}",
                    row5!("40", "48", "56", "64", "72"),
                    "add {p}, {p}, {row}",
                    row5!("80", "88", "96", "104", "112"),
                    "add {p}, {p}, {row}",
                    row5!("120", "128", "136", "144", "152"),
                    "add {p}, {p}, {row}",
                    row5!("160", "168", "176", "184", "192")
                )
            }
        }
    }

    /// The window's block, by size.
    pub enum Window {
        K3(Block<9>),
        K5(Block<25>),
    }

    impl Window {
        /// Channels `ch..ch + 4` of a `[1, kh, kw, c]` filter, if the loop has a form for the window.
        #[inline(always)]
        pub fn new(filter: &[i8], (kh, kw): (usize, usize), c: usize, ch: usize, folded: [i32; LANES]) -> Option<Self> {
            match (kh, kw) {
                (3, 3) => Some(Window::K3(Block::new(filter, c, ch, folded))),
                (5, 5) => Some(Window::K5(Block::new(filter, c, ch, folded))),
                _ => None,
            }
        }

        /// [`new`](Self::new) has a form for a `kh × kw` window.
        pub fn has_form(kh: usize, kw: usize) -> bool {
            matches!((kh, kw), (3, 3) | (5, 5))
        }
    }

    impl super::Pixels for Window {
        fn k(&self) -> usize {
            match self {
                Window::K3(_) => 3,
                Window::K5(_) => 5,
            }
        }

        #[inline(always)]
        fn run(
            &mut self,
            input: &[i8],
            at: usize,
            cs: (usize, usize, usize),
            acc: &mut [[i32; RUN]; LANES],
            run: (usize, usize),
        ) {
            match self {
                Window::K3(b) => b.run(input, at, cs, acc, run),
                Window::K5(b) => b.run(input, at, cs, acc, run),
            }
        }
    }

    // The offsets the loops' text uses.
    const _: () = {
        assert!(core::mem::offset_of!(Block<9>, folded) == 72);
        assert!(core::mem::offset_of!(Block<9>, out) == 88);
        assert!(core::mem::offset_of!(Block<9>, count) == 92);
        assert!(core::mem::offset_of!(Block<9>, back) == 96);
        assert!(core::mem::offset_of!(Block<25>, folded) == 200);
        assert!(core::mem::offset_of!(Block<25>, out) == 216);
        assert!(core::mem::offset_of!(Block<25>, count) == 220);
        assert!(core::mem::offset_of!(Block<25>, back) == 224);
        assert!(RUN * 4 == 256 && LANES == 4);
    };
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

/// x86-64 AVX2 (chosen at run time): the 3×3 depthwise with channels in
/// the lanes, NHWC and in place. Sixteen channels at a time, every pixel as
/// if the input were padded with its zero point (as [`padded_3x3`]): the
/// three input rows a window reads are widened to `i16` into a ring of
/// three on the stack (each input row gathered before any output row lands
/// on it, as [`Ring`], so the same code runs in place), and a pixel's nine
/// taps go as five pairs through `VPMADDWD` (`VPUNPCKLWD`/`VPUNPCKHWD`
/// interleave two taps' sixteen channels as channels 0–3, 8–11 and 4–7,
/// 12–15, the weights interleaved alike), two `i32x8` accumulators
/// requantized by [`Requant8`](super::x86::Requant8) in that lane order,
/// which the packs to bytes put back in channel order.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    #![allow(unsafe_code)]
    use super::super::x86::Requant8;
    use super::ring::{drive, Io, Lanes, PAIRS};
    use crate::kernels::conv::{Geometry, Weighted};
    use crate::region::Rect;
    use core::arch::x86_64::*;

    /// The accumulators' channel of each lane: the unpacks' order.
    const LO: [usize; 8] = [0, 1, 2, 3, 8, 9, 10, 11];
    const HI: [usize; 8] = [4, 5, 6, 7, 12, 13, 14, 15];

    /// `region` of the output (image by image, every channel) from the
    /// input; `(x0, width)` from [`super::ring::columns`].
    ///
    /// # Safety
    /// The CPU has AVX2; the rest as [`super::ring`] says.
    #[target_feature(enable = "avx2")]
    pub unsafe fn depthwise_3x3(
        g: &Geometry,
        k: &Weighted,
        folded: &[i32],
        io: &Io,
        region: Rect,
        cols: (isize, usize),
    ) {
        drive::<16, Avx2>(g, k, folded, io, region, cols)
    }

    /// Used only by [`depthwise_3x3`], under its AVX2 precondition.
    struct Avx2;

    /// A block of sixteen channels: the paired taps' interleaved weights, the
    /// folded biases and requantizations in the unpacks' lane order.
    struct Block {
        w: [[__m256i; 5]; 2],
        bias: [__m256i; 2],
        rq: [Requant8; 2],
    }

    impl Lanes<16> for Avx2 {
        type Block = Block;

        #[inline(always)]
        unsafe fn block(k: &Weighted, folded: &[i32], c: usize, c0: usize, lanes: usize) -> Block {
            // Plain loops, not closures: a closure does not inherit this
            // function's AVX2, and its intrinsics became calls.
            let mut taps16 = [[0i16; 16]; 10];
            for (t, row) in taps16.iter_mut().enumerate().take(9) {
                for (l, w) in row.iter_mut().enumerate().take(lanes) {
                    *w = k.filter[t * c + c0 + l] as i16;
                }
            }
            let mut taps = [_mm256_setzero_si256(); 10];
            for (v, row) in taps.iter_mut().zip(&taps16) {
                *v = _mm256_loadu_si256(row.as_ptr().cast());
            }
            let mut w = [[_mm256_setzero_si256(); 5]; 2];
            for (p, &(a, b)) in PAIRS.iter().enumerate() {
                w[0][p] = _mm256_unpacklo_epi16(taps[a], taps[b]);
                w[1][p] = _mm256_unpackhi_epi16(taps[a], taps[b]);
            }
            let mut bias = [[0i32; 8]; 2];
            let mut chans = [[None; 8]; 2];
            for (h, order) in [LO, HI].iter().enumerate() {
                for (i, &l) in order.iter().enumerate() {
                    if l < lanes {
                        bias[h][i] = folded[c0 + l];
                        chans[h][i] = Some(c0 + l);
                    }
                }
            }
            Block {
                w,
                bias: [_mm256_loadu_si256(bias[0].as_ptr().cast()), _mm256_loadu_si256(bias[1].as_ptr().cast())],
                rq: [Requant8::lanes(&k.stage, chans[0]), Requant8::lanes(&k.stage, chans[1])],
            }
        }

        #[inline(always)]
        unsafe fn widen(from: *const i8, px: &mut [i16; 16]) {
            _mm256_storeu_si256(px.as_mut_ptr().cast(), _mm256_cvtepi8_epi16(_mm_loadu_si128(from.cast())));
        }

        #[inline(always)]
        unsafe fn pixel(b: &Block, taps: [&[i16; 16]; 10], out: *mut i8, lanes: usize) {
            let (mut lo, mut hi) = (b.bias[0], b.bias[1]);
            for (p, &(i, j)) in PAIRS.iter().enumerate() {
                let (va, vb) =
                    (_mm256_loadu_si256(taps[i].as_ptr().cast()), _mm256_loadu_si256(taps[j].as_ptr().cast()));
                lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(va, vb), b.w[0][p]));
                hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(va, vb), b.w[1][p]));
            }
            // Lanes (0–3, 8–11) and (4–7, 12–15): the 128-bit packs put them in order.
            let words = _mm256_packs_epi32(b.rq[0].requantize(lo), b.rq[1].requantize(hi));
            let bytes = _mm256_castsi256_si128(_mm256_permute4x64_epi64::<0b1000>(_mm256_packs_epi16(words, words)));
            if lanes == 16 {
                _mm_storeu_si128(out.cast(), bytes);
            } else {
                let mut tmp = [0i8; 16];
                _mm_storeu_si128(tmp.as_mut_ptr().cast(), bytes);
                core::ptr::copy_nonoverlapping(tmp.as_ptr(), out, lanes);
            }
        }
    }
}

/// `region` by a 3×3 depthwise with channels in the lanes, if the target
/// has one (AVX2 checked at run time) and the geometry suits it (`false`:
/// nothing written). `io` as [`ring`]'s contract asks.
#[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
#[allow(unsafe_code)]
fn lanes_3x3(g: &Geometry, k: &Weighted, folded: &[i32], io: &ring::Io, region: Rect) -> bool {
    if !(-128..=127).contains(&-k.stage.input_offset) {
        return false;
    }
    let Some(cols) = ring::columns(g, io.iw, region, ring::MAX_W) else { return false };
    #[cfg(target_arch = "x86_64")]
    if super::x86::avx2() {
        // SAFETY: the CPU has AVX2; the zero point and columns checked
        // above, the pointers and order by the callers.
        unsafe { avx2::depthwise_3x3(g, k, folded, io, region, cols) };
        return true;
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        // SAFETY: as above.
        unsafe { lanes::depthwise_3x3(g, k, folded, io, region, cols) };
        return true;
    }
    #[allow(unreachable_code)]
    false
}

/// What the SIMD 3×3 depthwise kernels with channels in the lanes (x86-64
/// AVX2, wasm `simd128`) share: where they read and write, and which input
/// columns a region's windows read (the ring's width).
///
/// Their safety contract: `io`'s pointers are valid for their lengths; the
/// input zero point (`−input_offset`) is an int8; [`columns`] gave
/// `(x0, width)` for this geometry, window and region. In place (one
/// buffer), output row `oy` may only land on input rows up to the first one
/// the windows of row `oy` read (as the in-place layouts do), because each
/// input row is gathered into the ring before any output row is written.
mod ring {
    #![allow(unsafe_code)]
    use crate::kernels::conv::Geometry;
    #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
    use crate::kernels::conv::Weighted;
    use crate::region::{Rect, Window};

    /// The widest ring row of the SIMD kernels (input columns a row of
    /// windows reads); wider rows take another path.
    #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
    pub const MAX_W: usize = 258;

    /// Where a 3×3 depthwise reads and writes: NHWC windows of `c` channels,
    /// through raw pointers so that input and output may be one buffer.
    #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
    pub struct Io {
        pub src: *const i8,
        pub src_len: usize,
        pub iw: Window,
        pub dst: *mut i8,
        pub dst_len: usize,
        pub ow: Window,
    }

    #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
    impl Io {
        /// Every read and write the kernel makes is inside the buffers.
        pub fn check(&self, region: Rect) {
            let (iw, ow, c) = (self.iw, self.ow, self.ow.c);
            let last_in = iw.offset(iw.n - 1, iw.rect.y_end() - 1, iw.rect.x_end() - 1) + c;
            let last_out = ow.offset(ow.n - 1, region.y_end() - 1, region.x_end() - 1) + c;
            assert!(last_in <= self.src_len && last_out <= self.dst_len && ow.n == iw.n && iw.c == c);
        }
    }

    /// The taps paired for the dot products (tap 9 is a zero weight).
    #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
    pub const PAIRS: [(usize, usize); 5] = [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)];

    /// A SIMD kernel with `CB` channels in the lanes: what [`drive`] asks of it.
    #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
    pub trait Lanes<const CB: usize> {
        /// A block of channels, prepared once (weights, biases, requantization).
        type Block;
        /// Channels `c0..c0 + lanes` (of `c`).
        ///
        /// # Safety
        /// The target features the kernel needs are there.
        unsafe fn block(k: &Weighted, folded: &[i32], c: usize, c0: usize, lanes: usize) -> Self::Block;
        /// `px` = the `CB` bytes at `from` widened.
        ///
        /// # Safety
        /// As `block`; `from..from + CB` is readable.
        unsafe fn widen(from: *const i8, px: &mut [i16; CB]);
        /// One output pixel from its nine taps (`taps[9]` is zeros, paired
        /// with tap 8), its first `lanes` bytes stored at `out`.
        ///
        /// # Safety
        /// As `block`; `out..out + lanes` is writable.
        unsafe fn pixel(b: &Self::Block, taps: [&[i16; CB]; 10], out: *mut i8, lanes: usize);
        /// [`pixel`](Self::pixel) for each output column `ox` of `xs`, from
        /// `taps(ox)` to `out(ox)`: where a kernel picks its block's form
        /// once a row.
        ///
        /// # Safety
        /// As `pixel`, for every column.
        #[inline(always)]
        unsafe fn row<'a>(
            b: &Self::Block,
            xs: core::ops::Range<usize>,
            taps: impl Fn(usize) -> [&'a [i16; CB]; 10],
            out: impl Fn(usize) -> *mut i8,
            lanes: usize,
        ) {
            for ox in xs {
                Self::pixel(b, taps(ox), out(ox), lanes);
            }
        }
    }

    /// `region` of the output (image by image, every channel) from the
    /// input, `CB` channels at a time through `K`; `(x0, width)` from
    /// [`columns`].
    ///
    /// # Safety
    /// As this module says; the target features `K` needs are there.
    #[cfg(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128")))]
    #[inline(always)]
    pub unsafe fn drive<const CB: usize, K: Lanes<CB>>(
        g: &Geometry,
        k: &Weighted,
        folded: &[i32],
        io: &Io,
        region: Rect,
        (x0, width): (isize, usize),
    ) {
        io.check(region);
        let (c, iw, ow) = (io.ow.c, io.iw, io.ow);
        let zp = -k.stage.input_offset as i16;
        let zeros = [0i16; CB];
        let mut ring = [[0i16; CB]; 3 * MAX_W];
        for c0 in (0..c).step_by(CB) {
            let lanes = CB.min(c - c0);
            let block = K::block(k, folded, c, c0, lanes);
            for b in 0..ow.n {
                let mut held = [isize::MIN; 3];
                for oy in region.y..region.y_end() {
                    let y0 = g.origin_y(oy);
                    let mut rows = [0usize; 3];
                    for (t, at) in rows.iter_mut().enumerate() {
                        let iy = y0 + t as isize;
                        let slot = iy.rem_euclid(3) as usize;
                        if held[slot] != iy {
                            let row = &mut ring[slot * MAX_W..][..width];
                            for (i, px) in row.iter_mut().enumerate() {
                                let ix = x0 + i as isize;
                                if iy < 0 || iy >= g.in_h as isize || ix < 0 || ix >= g.in_w as isize {
                                    *px = [zp; CB];
                                    continue;
                                }
                                let from = io.src.add(iw.offset(b, iy as usize, ix as usize) + c0);
                                if lanes == CB {
                                    K::widen(from, px);
                                } else {
                                    for (l, d) in px.iter_mut().enumerate() {
                                        *d = if l < lanes { *from.add(l) as i16 } else { 0 };
                                    }
                                }
                            }
                            held[slot] = iy;
                        }
                        *at = slot * MAX_W;
                    }
                    let r = ring.as_ptr();
                    let taps = |ox: usize| {
                        let x = (g.origin_x(ox) - x0) as usize;
                        // Unchecked: the nine bounds checks were a tenth of
                        // the browser's pixel. `x + 2 < width ≤ MAX_W` (the
                        // columns are the windows' own), and a row starts at
                        // `slot · MAX_W` with `slot < 3`.
                        debug_assert!(x + 2 < width && width <= MAX_W);
                        core::array::from_fn(|t| if t < 9 { &*r.add(rows[t / 3] + x + t % 3) } else { &zeros })
                    };
                    let out = |ox: usize| io.dst.add(ow.offset(b, oy, ox) + c0);
                    K::row(&block, region.x..region.x_end(), taps, out, lanes);
                }
            }
        }
    }

    /// The input columns `region`'s windows read (`x0..x0 + width`, from −1
    /// for a zero-point column) when they fit the ring and the input window
    /// holds every row and column inside the input they read; `None`
    /// otherwise.
    pub fn columns(g: &Geometry, iw: Window, region: Rect, max_w: usize) -> Option<(isize, usize)> {
        if region.is_empty() || (g.kh, g.kw, g.dil_h, g.dil_w) != (3, 3, 1, 1) {
            return None;
        }
        let x0 = g.origin_x(region.x);
        let x1 = g.origin_x(region.x_end() - 1) + 3;
        let (y0, y1) = (g.origin_y(region.y), g.origin_y(region.y_end() - 1) + 3);
        let inside = |lo: isize, hi: isize, n: usize, w_lo: usize, w_n: usize| {
            let (lo, hi) = (lo.max(0) as usize, (hi.max(0) as usize).min(n));
            lo >= hi || (lo >= w_lo && hi <= w_lo + w_n)
        };
        let width = (x1 - x0) as usize;
        (width <= max_w && inside(x0, x1, g.in_w, iw.rect.x, iw.rect.w) && inside(y0, y1, g.in_h, iw.rect.y, iw.rect.h))
            .then_some((x0, width))
    }
}

/// wasm32 `simd128`: the 3×3 depthwise with channels in the lanes, as
/// [`avx2`] with eight channels a block: the ring holds `i16x8`s, a pixel's
/// nine taps go as five pairs through `i32x4.dot_i16x8_s` (a shuffle
/// interleaves two taps' channels 0–3, another 4–7, the weights alike), and
/// the two `i32x4`s are channels 0–7 in order, requantized by
/// [`Block`](super::requant::Block).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    #![allow(unsafe_code)]
    use super::super::requant::{Block, Octet, Variant};
    use super::ring::{drive, Io, Lanes, PAIRS};
    use crate::kernels::conv::{Geometry, Weighted};
    use crate::region::Rect;
    use core::arch::wasm32::*;

    #[inline(always)]
    fn interleave_low(a: v128, b: v128) -> v128 {
        i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(a, b)
    }

    #[inline(always)]
    fn interleave_high(a: v128, b: v128) -> v128 {
        i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(a, b)
    }

    /// `region` of the output (image by image, every channel) from the
    /// input; `(x0, width)` from [`super::ring::columns`].
    ///
    /// # Safety
    /// As [`super::ring`] says.
    pub unsafe fn depthwise_3x3(
        g: &Geometry,
        k: &Weighted,
        folded: &[i32],
        io: &Io,
        region: Rect,
        cols: (isize, usize),
    ) {
        drive::<8, Simd>(g, k, folded, io, region, cols)
    }

    struct Simd;

    /// A block of eight channels: the paired taps' interleaved weights
    /// (channels 0–3, 4–7), the folded biases and the requantization (an
    /// [`Octet`] wherever converter output allows).
    struct Prepared {
        w: [[v128; 5]; 2],
        bias: [v128; 2],
        rq: Result<Octet, Block>,
    }

    /// One pixel's two accumulators from its taps.
    #[inline(always)]
    unsafe fn accumulate(w: &[[v128; 5]; 2], bias: [v128; 2], taps: [&[i16; 8]; 10]) -> [v128; 2] {
        let [mut lo, mut hi] = bias;
        for (p, &(i, j)) in PAIRS.iter().enumerate() {
            let (va, vb) = (v128_load(taps[i].as_ptr().cast()), v128_load(taps[j].as_ptr().cast()));
            lo = i32x4_add(lo, i32x4_dot_i16x8(interleave_low(va, vb), w[0][p]));
            hi = i32x4_add(hi, i32x4_dot_i16x8(interleave_high(va, vb), w[1][p]));
        }
        [lo, hi]
    }

    /// [`Lanes::row`] for a block requantized by octet `q` of variant `(SCALED, SIGNED)`, merged or not (`MERGED`).
    #[inline(always)]
    unsafe fn row_with<'a, const SCALED: bool, const SIGNED: bool, const MERGED: bool>(
        b: &Prepared,
        q: &Octet,
        xs: core::ops::Range<usize>,
        taps: impl Fn(usize) -> [&'a [i16; 8]; 10],
        out: impl Fn(usize) -> *mut i8,
        lanes: usize,
    ) {
        // In locals: the stores below cannot make LLVM reload them.
        let (w, bias, q) = (b.w, b.bias, q.ready());
        for ox in xs {
            let bytes = q.bytes::<SCALED, SIGNED, MERGED>(accumulate(&w, bias, taps(ox)));
            let out = out(ox);
            if lanes == 8 {
                v128_store64_lane::<0>(bytes, out.cast());
            } else {
                let mut tmp = [0i8; 16];
                v128_store(tmp.as_mut_ptr().cast(), bytes);
                core::ptr::copy_nonoverlapping(tmp.as_ptr(), out, lanes);
            }
        }
    }

    impl Lanes<8> for Simd {
        type Block = Prepared;

        #[inline(always)]
        unsafe fn block(k: &Weighted, folded: &[i32], c: usize, c0: usize, lanes: usize) -> Prepared {
            let taps: [v128; 10] = core::array::from_fn(|t| {
                let a: [i16; 8] =
                    core::array::from_fn(|l| if t < 9 && l < lanes { k.filter[t * c + c0 + l] as i16 } else { 0 });
                v128_load(a.as_ptr().cast())
            });
            let bias: [i32; 8] = core::array::from_fn(|l| if l < lanes { folded[c0 + l] } else { 0 });
            Prepared {
                w: [
                    PAIRS.map(|(a, b)| interleave_low(taps[a], taps[b])),
                    PAIRS.map(|(a, b)| interleave_high(taps[a], taps[b])),
                ],
                bias: [v128_load(bias.as_ptr().cast()), v128_load(bias.as_ptr().add(4).cast())],
                rq: {
                    let bound = super::super::requant::block_bound(k.bias, c0, lanes, 9);
                    Octet::new(&k.stage, c0, lanes, bound).ok_or_else(|| Block::bounded(&k.stage, c0, lanes, bound))
                },
            }
        }

        #[inline(always)]
        unsafe fn widen(from: *const i8, px: &mut [i16; 8]) {
            v128_store(px.as_mut_ptr().cast(), i16x8_load_extend_i8x8(from.cast()));
        }

        /// One column of [`row`](Lanes::row) (the ring drives rows; this is
        /// the trait's per-pixel entry).
        #[inline(always)]
        unsafe fn pixel(b: &Prepared, taps: [&[i16; 8]; 10], out: *mut i8, lanes: usize) {
            Self::row(b, 0..1, |_| taps, |_| out, lanes)
        }

        #[inline(always)]
        unsafe fn row<'a>(
            b: &Prepared,
            xs: core::ops::Range<usize>,
            taps: impl Fn(usize) -> [&'a [i16; 8]; 10],
            out: impl Fn(usize) -> *mut i8,
            lanes: usize,
        ) {
            let q = match &b.rq {
                Ok(q) => q,
                Err(block) => {
                    for ox in xs {
                        let acc = accumulate(&b.w, b.bias, taps(ox));
                        block.store_vectors(&acc, core::slice::from_raw_parts_mut(out(ox), lanes));
                    }
                    return;
                }
            };
            match (q.variant(), q.merged()) {
                (Variant::Plain, false) => row_with::<false, false, false>(b, q, xs, taps, out, lanes),
                (Variant::Scaled, false) => row_with::<true, false, false>(b, q, xs, taps, out, lanes),
                (Variant::Signed, false) => row_with::<false, true, false>(b, q, xs, taps, out, lanes),
                (Variant::ScaledSigned, false) => row_with::<true, true, false>(b, q, xs, taps, out, lanes),
                (Variant::Plain, true) => row_with::<false, false, true>(b, q, xs, taps, out, lanes),
                (Variant::Scaled, true) => row_with::<true, false, true>(b, q, xs, taps, out, lanes),
                (Variant::Signed, true) => row_with::<false, true, true>(b, q, xs, taps, out, lanes),
                (Variant::ScaledSigned, true) => row_with::<true, true, true>(b, q, xs, taps, out, lanes),
            }
        }
    }
}
