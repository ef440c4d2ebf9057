//! Requantization of a block of up to [`MAX`] channels at once: what the
//! optimized kernels do with a pixel's accumulators, equal to
//! [`OutputStage::requantize`] lane by lane.
//!
//! On wasm32 `simd128` four channels are one vector (see [`Block`]); elsewhere
//! each lane goes through [`PreparedMultiplier`](crate::fixedpoint::PreparedMultiplier),
//! its constants worked out once for the block.
#![allow(unsafe_code)]

use crate::fixedpoint::QuantizedMultiplier;
use crate::kernels::conv::{acc_bound, OutputStage, Requantize};

/// Most channels one [`Block`] holds.
pub const MAX: usize = 16;

/// The multipliers of channels `ch..ch + lanes` (zero past `lanes`).
fn multipliers(stage: &OutputStage, ch: usize, lanes: usize) -> [QuantizedMultiplier; MAX] {
    let mut ms = [QuantizedMultiplier { multiplier: 0, shift: 0 }; MAX];
    for (l, m) in ms.iter_mut().enumerate().take(lanes.min(MAX)) {
        *m = stage.multipliers[if stage.multipliers.len() == 1 { 0 } else { ch + l }];
    }
    ms
}

pub use imp::Block;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use imp::{Octet, Ready, Variant};

/// Most `|acc|` of channels `ch..ch + lanes` of a weighted kernel with
/// `taps` products per accumulator ([`acc_bound`] of each), for
/// [`Block::bounded`].
pub fn block_bound(bias: Option<&[i32]>, ch: usize, lanes: usize, taps: usize) -> u64 {
    let known = bias.is_none_or(|b| ch + lanes <= b.len());
    if !known {
        return u64::MAX;
    }
    (ch..ch + lanes).map(|c| acc_bound(bias, c, taps)).max().unwrap_or(0)
}

/// Pixels a kernel accumulates into a stack buffer before it requantizes
/// them with [`store_strided`]. A run costs calls and their set-up (the
/// `asm!` loops', `store_strided`'s), so 64 rather than 32: on the
/// Cortex-M7, mbv2 71.3 → 70.0 M instructions, yolofpn 34.8 → 34.1 M, and
/// a patch's 41-pixel rows take one run, not two (the second odd). The
/// buffers grow by as much on the stack; the measured high-water marks
/// did not move (the deepest frames are elsewhere).
pub const RUN: usize = 64;

// The loop of [`store_strided`], as text: the same
// body called through a shared inlined function changed `store_strided`'s
// register allocation (mbv2 +0.5 M Cortex-M7 instructions, spills in its
// set-up).
macro_rules! strided {
    ($r:expr, $acc:expr, $out:expr, $stride:expr) => {{
        let (r, acc, out, stride) = ($r, $acc, $out, $stride);
        let Some(last) = acc.len().checked_sub(1) else { return };
        assert!(last.checked_mul(stride).is_some_and(|e| e < out.len()));
        let mut o = out.as_mut_ptr();
        if r.full_range() {
            for &a in acc {
                // SAFETY: as below.
                unsafe { *o = r.unclamped(a).clamp(-128, 127) as i8 };
                o = o.wrapping_add(stride);
            }
            return;
        }
        for &a in acc {
            // SAFETY: write `i` is at `i·stride ≤ (acc.len() − 1)·stride < out.len()`
            // (the assert); the pointer steps past the end only after the last
            // write, with `wrapping_add`, and is not used again.
            unsafe { *o = r.requantize(a) };
            o = o.wrapping_add(stride);
        }
    }};
}

/// `out[i·stride] = r(acc[i])` for each accumulator: one channel of a run
/// of NHWC pixels. A function of its own so that the channel's constants
/// get registers of their own (inlined into a kernel's loop they were
/// spilled and reloaded for every pixel). `r` by reference: by value, the
/// seven-word stage was copied for every call, once per run.
#[inline(never)]
pub fn store_strided<R: Requantize>(r: &R, acc: &[i32], out: &mut [i8], stride: usize) {
    strided!(r, acc, out, stride)
}

/// [`store_lanes`] over rows of `w` pixels (`n` a multiple of it): channel
/// `l`'s pixel `i` of row `k` to `out[l + k·pitch + i·stride]`. A patch's
/// rows are short, and a call per row paid the block's set-up per row.
#[inline(never)]
pub fn store_lanes_rows<R: Requantize, const L: usize>(
    r: &[R; L],
    acc: &[[i32; RUN]; L],
    (n, w): (usize, usize),
    out: &mut [i8],
    (stride, pitch): (usize, usize),
) {
    let n = n.min(RUN);
    if n == 0 || w == 0 {
        return;
    }
    let rows = n / w;
    // The last lane's last write: every other comes before it.
    let last = (rows.checked_sub(1))
        .and_then(|r| r.checked_mul(pitch))
        .and_then(|e| e.checked_add((w - 1).checked_mul(stride)?))
        .map(|e| e + L - 1);
    assert!(rows * w == n && last.is_some_and(|e| e < out.len()));
    for (l, (r, acc)) in r.iter().zip(acc).enumerate() {
        // The channel's constants in locals, for every row.
        let r = *r;
        let base = out.as_mut_ptr().wrapping_add(l);
        let full = r.full_range();
        for (k, row) in acc[..n].chunks_exact(w).enumerate() {
            let mut o = base.wrapping_add(k * pitch);
            for &a in row {
                let v = if full { r.unclamped(a).clamp(-128, 127) as i8 } else { r.requantize(a) };
                // SAFETY: lane `l`'s write `i` of row `k` is at `l + k·pitch
                // + i·stride ≤ (rows − 1)·pitch + (w − 1)·stride + L − 1 <
                // out.len()` (the assert); the pointer steps past a row's
                // end only after its last write, with `wrapping_add`.
                unsafe { *o = v };
                o = o.wrapping_add(stride);
            }
        }
    }
}

/// [`store_strided`] for each channel of a block in one call: channel
/// `l`'s run `acc[l][..n]` to `out[l + i·stride]` ([`store_lanes_rows`]
/// with one row; a function of its own per channel cost a depthwise run
/// about 35 instructions of set-up per channel on the Cortex-M7, paid once
/// per row of a patch).
#[inline(always)]
pub fn store_lanes<R: Requantize, const L: usize>(
    r: &[R; L],
    acc: &[[i32; RUN]; L],
    n: usize,
    out: &mut [i8],
    stride: usize,
) {
    store_lanes_rows(r, acc, (n, n), out, (stride, 0))
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    use super::{multipliers, OutputStage, MAX};
    use crate::kernels::conv::ChannelStage;

    /// Channels `ch..ch + lanes` of an output stage.
    pub struct Block {
        q: [ChannelStage; MAX],
    }

    impl Block {
        pub fn new(stage: &OutputStage, ch: usize, lanes: usize) -> Self {
            let ms = multipliers(stage, ch, lanes);
            Block { q: core::array::from_fn(|l| stage.with(ms[l])) }
        }

        /// [`new`](Self::new); the bound only matters to the wasm form.
        pub fn bounded(stage: &OutputStage, ch: usize, lanes: usize, _bound: u64) -> Self {
            Self::new(stage, ch, lanes)
        }

        /// `out[l]` = lane `l` of `acc` requantized, for each `l < out.len()` (≤ `N`).
        #[inline(always)]
        pub fn store<const N: usize>(&self, acc: &[i32; N], out: &mut [i8]) {
            for (l, o) in out.iter_mut().enumerate().take(N) {
                *o = self.q[l].requantize(acc[l]);
            }
        }
    }
}

/// wasm32 `simd128`: the arithmetic of
/// [`PreparedMultiplier::apply`](crate::fixedpoint::PreparedMultiplier::apply)
/// on four lanes: `x·2^left`, the rounding doubling high multiply as one
/// widening multiply (`i64x2.extmul_*_i32x4_s`) plus `2^30`, whose bits
/// 31..62 are the high halves after a left shift by one, and the rounding
/// right shift by a per-lane `right` (wasm shifts take one amount for all
/// lanes) as `floor(high / 2^right)`: the bits 31..62 of `high · 2^(31 −
/// right)` (a lane with `right = 0` keeps `high`), with the remainder
/// `high & (2^right − 1)` deciding the rounding. Only operations V8 maps to
/// single SSE instructions: no `i64x2.mul` or `i64x2.shr_s`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use super::{multipliers, OutputStage, MAX};
    use crate::fixedpoint::QuantizedMultiplier;
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    struct Quad {
        left: v128,
        m: v128,
        /// `2^(31 − right)` (1 where `right` is 0).
        down: v128,
        /// All ones in the lanes whose `right` is 0.
        keep: v128,
        /// `2^right − 1`.
        mask: v128,
        /// `(2^right − 1) >> 1`.
        half: v128,
    }

    impl Quad {
        fn new(q: &[QuantizedMultiplier]) -> Self {
            // One pass over the lanes (no closures: this runs for every block of every call).
            let [mut left, mut m, mut down, mut keep, mut mask, mut half] = [[0i32; 4]; 6];
            for (l, q) in q.iter().enumerate().take(4) {
                let right = (-q.shift).max(0) as u32;
                left[l] = 1 << q.shift.max(0);
                m[l] = q.multiplier;
                down[l] = if right == 0 { 1 } else { 1 << (31 - right) };
                keep[l] = if right == 0 { -1 } else { 0 };
                mask[l] = ((1u64 << right) - 1) as i32;
                half[l] = mask[l] >> 1;
            }
            let v = |a: [i32; 4]| i32x4(a[0], a[1], a[2], a[3]);
            Quad { left: v(left), m: v(m), down: v(down), keep: v(keep), mask: v(mask), half: v(half) }
        }

        /// Unused lanes (the block is [`Fused`]).
        fn zero() -> Self {
            let z = i32x4_splat(0);
            Quad { left: z, m: z, down: z, keep: z, mask: z, half: z }
        }
    }

    /// Bits 31..62 of each `i64` lane of `lo` and `hi`, as four `i32`s.
    #[inline(always)]
    fn bits_31_62(lo: v128, hi: v128) -> v128 {
        i32x4_shuffle::<1, 3, 5, 7>(i64x2_shl(lo, 1), i64x2_shl(hi, 1))
    }

    /// A quad in one rounding (see [`Block::bounded`]): lane `l`'s result
    /// is `floor((x·2^e + k) · m / 2^T)`-shaped, precisely bits `T..T + 31`
    /// of `x·2^e·m + k`, with `T = 31 + r` for the quad's largest right
    /// shift `r`, `e = left + r − right` the lane's pre-scale and `k` a
    /// constant that depends on the accumulator's sign.
    ///
    /// Why it is the reference: with `h = (p + 2^30) >> 31` the rounding
    /// doubling high multiply of `p = x·2^left·m`, the rounding shift by
    /// `s = right ≥ 1` (half away from zero) is
    /// `floor((h + 2^(s−1) − [h < 0]) / 2^s)`, and nested floors by powers
    /// of two are one floor: `floor((p + 2^30 + 2^(30+s) − 2^31·[h < 0]) / 2^(31+s))`.
    /// For `m` 0 or in `[2^30, 2^31)`, `h < 0` is `x < 0` but for `x = −1,
    /// m = 2^30`, where both give 0. Scaling numerator and denominator by
    /// `2^(r − s)` makes `T` one for the whole quad (wasm shifts take one
    /// amount), which needs `x·2^e` exact: the caller's accumulator bound.
    #[derive(Clone, Copy)]
    struct Fused {
        /// `2^e` per lane.
        pre: v128,
        m: v128,
        /// `k` for lanes 0–1 and 2–3 (`i64`), for `x ≥ 0` and `x < 0`.
        pos: [v128; 2],
        neg: [v128; 2],
        /// `r`.
        right: u32,
    }

    impl Fused {
        /// `None` where the form would not be exact (a multiplier below
        /// `2^30`, or a pre-scale the bound does not allow).
        fn new(q: &[QuantizedMultiplier], bound: u64) -> Option<Self> {
            let left = |m: &QuantizedMultiplier| m.shift.max(0) as u32;
            let right = |m: &QuantizedMultiplier| (-m.shift).max(0) as u32;
            let r = q.iter().map(right).max()?;
            for m in q {
                let e = left(m) + r - right(m);
                let canonical = m.multiplier == 0 || m.multiplier >= 1 << 30;
                // A pre-scale past the reference's own (wrapping) left shift must not wrap.
                let exact = r == right(m) || bound < (1u64 << 31) >> e.min(31);
                if !canonical || !exact || e > 30 {
                    return None;
                }
            }
            let k = |m: &QuantizedMultiplier, negative: bool| -> i64 {
                let (s, d) = (right(m), r - right(m));
                match s {
                    0 => 1 << (30 + r),
                    _ => (1i64 << (30 + d)) + (1i64 << (30 + r)) - if negative { 1i64 << (31 + d) } else { 0 },
                }
            };
            let pair = |a: &QuantizedMultiplier, b: &QuantizedMultiplier, n: bool| i64x2(k(a, n), k(b, n));
            Some(Fused {
                pre: i32x4(
                    1 << (left(&q[0]) + r - right(&q[0])),
                    1 << (left(&q[1]) + r - right(&q[1])),
                    1 << (left(&q[2]) + r - right(&q[2])),
                    1 << (left(&q[3]) + r - right(&q[3])),
                ),
                m: i32x4(q[0].multiplier, q[1].multiplier, q[2].multiplier, q[3].multiplier),
                pos: [pair(&q[0], &q[1], false), pair(&q[2], &q[3], false)],
                neg: [pair(&q[0], &q[1], true), pair(&q[2], &q[3], true)],
                right: r,
            })
        }

        /// `signed`: a negative accumulator's result is not clamped away
        /// (see [`Block::multiply`]); without it the `x ≥ 0` constant serves
        /// every lane.
        #[inline(always)]
        fn multiply(&self, x: v128, scaled: bool, signed: bool) -> v128 {
            let x = if scaled { i32x4_mul(x, self.pre) } else { x };
            let (lo, hi) = (i64x2_extmul_low_i32x4(x, self.m), i64x2_extmul_high_i32x4(x, self.m));
            if self.right == 0 || !signed {
                if self.right > 0 {
                    let high = i32x4_shuffle::<1, 3, 5, 7>(i64x2_add(lo, self.pos[0]), i64x2_add(hi, self.pos[1]));
                    return i32x4_shr(high, self.right - 1);
                }
                return bits_31_62(i64x2_add(lo, self.pos[0]), i64x2_add(hi, self.pos[1]));
            }
            let sign = i32x4_shr(x, 31);
            let k0 = v128_bitselect(self.neg[0], self.pos[0], i32x4_shuffle::<0, 0, 1, 1>(sign, sign));
            let k1 = v128_bitselect(self.neg[1], self.pos[1], i32x4_shuffle::<2, 2, 3, 3>(sign, sign));
            let high = i32x4_shuffle::<1, 3, 5, 7>(i64x2_add(lo, k0), i64x2_add(hi, k1));
            i32x4_shr(high, self.right - 1)
        }
    }

    /// Eight channels in the form converter output takes ([`Fused`] quads
    /// that shift right, the offset and clamp int8). A kernel takes it
    /// [`ready`](Octet::ready) once per block: the constants as plain
    /// values LLVM keeps in locals, the form's variant picked once
    /// ([`Octet::variant`]). A [`Block`] in memory is read, and its
    /// options tested, for every pixel (LLVM reloads it after each output
    /// store, which may alias it).
    #[derive(Clone, Copy)]
    pub struct Octet {
        /// The multipliers, read from here at each use (see [`Ready::bytes`]).
        m: [v128; 2],
        c: Constants,
    }

    /// An [`Octet`]'s constants but the multipliers.
    #[derive(Clone, Copy)]
    struct Constants {
        /// `2^e` per lane (see [`Fused`]).
        pre: [v128; 2],
        /// `k` per quad, lanes 0–1 and 2–3 (`i64`), for `x ≥ 0` and `x < 0`.
        pos: [[v128; 2]; 2],
        neg: [[v128; 2]; 2],
        /// The quads' `r − 1`.
        shift: [u32; 2],
        out: v128,
        lo: v128,
        hi: v128,
        scaled: bool,
        signed: bool,
    }

    /// Which arithmetic an [`Octet`] needs: some lane pre-scales, and
    /// negative accumulators can give results the clamp keeps.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Variant {
        Plain,
        Scaled,
        Signed,
        ScaledSigned,
    }

    /// The four `i32` lanes of `v`.
    fn lanes(v: v128) -> [i32; 4] {
        [i32x4_extract_lane::<0>(v), i32x4_extract_lane::<1>(v), i32x4_extract_lane::<2>(v), i32x4_extract_lane::<3>(v)]
    }

    /// Largest shift the merged form takes (`2^15 >> 7 = 256`: a saturated
    /// `i16` still saturates the int8 output).
    const MERGED_SHIFT: u32 = 7;

    /// An [`Octet`] taken for a block's pixels.
    pub struct Ready<'a> {
        m: &'a [v128; 2],
        c: Constants,
    }

    impl Octet {
        /// Channels `ch..ch + lanes` (`lanes ≤ 8`) for accumulators of
        /// magnitude at most `bound`; `None` where the form does not hold.
        /// Inlined, so that the octet is built where the kernel keeps it
        /// (returned, it was copied there by `memory.copy`, a call into
        /// V8's runtime).
        #[inline(always)]
        pub fn new(stage: &OutputStage, ch: usize, lanes: usize, bound: u64) -> Option<Self> {
            // What `Fused::new` works out, for both quads in one pass
            // without its closures and `Option`s: this runs for every block
            // of every call (two `Fused::new` were 4 % of mbv2's time in V8).
            let lanes = lanes.clamp(1, 8);
            let all = stage.multipliers;
            let per_channel = all.len() != 1;
            if per_channel && all.len() < ch + lanes {
                return None;
            }
            if [stage.output_offset, stage.act_min, stage.act_max].iter().any(|v| !(-128..=127).contains(v)) {
                return None;
            }
            let (mut pre, mut m, mut pos, mut neg, mut shift) = ([0i32; 8], [0i32; 8], [0i64; 8], [0i64; 8], [0u32; 2]);
            for k in 0..2 {
                // Lanes past the block repeat its last channel (their accumulators are 0).
                let q: [QuantizedMultiplier; 4] =
                    core::array::from_fn(|l| all[if per_channel { ch + (4 * k + l).min(lanes - 1) } else { 0 }]);
                let mut r = 0;
                for q in &q {
                    let canonical = q.multiplier == 0 || q.multiplier >= 1 << 30;
                    if !canonical || !(-31..=30).contains(&q.shift) {
                        return None;
                    }
                    r = r.max((-q.shift).max(0) as u32);
                }
                if r == 0 {
                    return None;
                }
                for (l, q) in q.iter().enumerate() {
                    let (left, s) = (q.shift.max(0) as u32, (-q.shift).max(0) as u32);
                    let (e, d) = (left + r - s, r - s);
                    // A pre-scale past the reference's own (wrapping) left shift must not wrap.
                    if e > 30 || (d != 0 && bound >= (1u64 << 31) >> e) {
                        return None;
                    }
                    let at = 4 * k + l;
                    pre[at] = 1 << e;
                    m[at] = q.multiplier;
                    (pos[at], neg[at]) = match s {
                        0 => (1 << (30 + r), 1 << (30 + r)),
                        _ => {
                            let p = (1i64 << (30 + d)) + (1i64 << (30 + r));
                            (p, p - (1i64 << (31 + d)))
                        }
                    };
                }
                shift[k] = r - 1;
            }
            let v = |a: &[i32]| i32x4(a[0], a[1], a[2], a[3]);
            let w = |a: &[i64]| [i64x2(a[0], a[1]), i64x2(a[2], a[3])];
            Some(Octet {
                m: [v(&m[..4]), v(&m[4..])],
                c: Constants {
                    pre: [v(&pre[..4]), v(&pre[4..])],
                    pos: [w(&pos[..4]), w(&pos[4..])],
                    neg: [w(&neg[..4]), w(&neg[4..])],
                    shift,
                    out: i16x8_splat(stage.output_offset as i16),
                    lo: i8x16_splat(stage.act_min as i8),
                    hi: i8x16_splat(stage.act_max as i8),
                    scaled: pre.iter().any(|&p| p != 1),
                    signed: stage.act_min < stage.output_offset,
                },
            })
        }

        /// `i32`s of [`to_words`](Self::to_words).
        pub const WORDS: usize = 64;

        /// The octet as plain words, for a program to keep (a
        /// convolution's octets depend on its weights alone; building them
        /// in every call cost 3 % of mbv2's time in V8, its in-place
        /// layers being called row by row).
        pub fn to_words(&self) -> [i32; Self::WORDS] {
            let c = &self.c;
            let vectors = [self.m[0], self.m[1], c.pre[0], c.pre[1], c.pos[0][0], c.pos[0][1], c.pos[1][0]];
            let more = [c.pos[1][1], c.neg[0][0], c.neg[0][1], c.neg[1][0], c.neg[1][1], c.out, c.lo, c.hi];
            let mut w = [0i32; Self::WORDS];
            for (k, v) in vectors.iter().chain(&more).enumerate() {
                for (l, word) in lanes(*v).into_iter().enumerate() {
                    w[4 * k + l] = word;
                }
            }
            w[60..].copy_from_slice(&[c.shift[0] as i32, c.shift[1] as i32, c.scaled as i32, c.signed as i32]);
            w
        }

        /// The octet [`to_words`](Self::to_words) wrote.
        #[inline(always)]
        pub fn from_words(w: &[i32; Self::WORDS]) -> Self {
            let v = |k: usize| i32x4(w[4 * k], w[4 * k + 1], w[4 * k + 2], w[4 * k + 3]);
            Octet {
                m: [v(0), v(1)],
                c: Constants {
                    pre: [v(2), v(3)],
                    pos: [[v(4), v(5)], [v(6), v(7)]],
                    neg: [[v(8), v(9)], [v(10), v(11)]],
                    out: v(12),
                    lo: v(13),
                    hi: v(14),
                    shift: [w[60] as u32, w[61] as u32],
                    scaled: w[62] != 0,
                    signed: w[63] != 0,
                },
            }
        }

        /// Whether both quads shift right by one amount of at most 7 (see
        /// [`Ready::bytes`]'s `MERGED`).
        pub fn merged(&self) -> bool {
            self.c.shift[0] == self.c.shift[1] && self.c.shift[0] <= MERGED_SHIFT
        }

        pub fn variant(&self) -> Variant {
            match (self.c.scaled, self.c.signed) {
                (false, false) => Variant::Plain,
                (true, false) => Variant::Scaled,
                (false, true) => Variant::Signed,
                (true, true) => Variant::ScaledSigned,
            }
        }

        /// The octet for a block's pixels. (Copying the whole octet into a
        /// local instead made LLVM copy it with `memory.copy` every time.)
        #[inline(always)]
        pub fn ready(&self) -> Ready<'_> {
            Ready { m: &self.m, c: self.c }
        }
    }

    impl Ready<'_> {
        /// The eight channels' outputs in the low eight bytes, for an
        /// octet of variant `(SCALED, SIGNED)` (what [`Octet::variant`] says):
        /// [`Fused::multiply`] of each quad, then as `Block::store_vectors`
        /// (the offset on the saturated words is exact). `MERGED` (what
        /// [`Octet::merged`] says): the quads' one shift `s ≤ 7` after
        /// narrowing to `i16`, one shift for eight lanes (in V8 a shift by a
        /// variable amount is four instructions). Exact: where the unshifted
        /// value fits `i16` the floor is the same; where it saturates,
        /// `±2^15 >> s` is at least 255 in magnitude, as is the true result,
        /// and both saturate the int8 output the same way after the offset.
        #[inline(always)]
        pub fn bytes<const SCALED: bool, const SIGNED: bool, const MERGED: bool>(&self, acc: [v128; 2]) -> v128 {
            let c = &self.c;
            let quad = |k: usize| {
                let x = if SCALED { i32x4_mul(acc[k], c.pre[k]) } else { acc[k] };
                // Read where it is used: a multiplier LLVM sees as
                // loop-invariant gets its sign extension hoisted, and the
                // widening multiplies become `i64x2.mul`, which V8 expands
                // to three `PMULUDQ`s.
                // SAFETY: a read of a field.
                let m = unsafe { core::ptr::read_volatile(&self.m[k]) };
                let (lo, hi) = (i64x2_extmul_low_i32x4(x, m), i64x2_extmul_high_i32x4(x, m));
                let (k0, k1) = if SIGNED {
                    let sign = i32x4_shr(x, 31);
                    (
                        v128_bitselect(c.neg[k][0], c.pos[k][0], i32x4_shuffle::<0, 0, 1, 1>(sign, sign)),
                        v128_bitselect(c.neg[k][1], c.pos[k][1], i32x4_shuffle::<2, 2, 3, 3>(sign, sign)),
                    )
                } else {
                    (c.pos[k][0], c.pos[k][1])
                };
                i32x4_shuffle::<1, 3, 5, 7>(i64x2_add(lo, k0), i64x2_add(hi, k1))
            };
            let w = if MERGED {
                i16x8_shr(i16x8_narrow_i32x4(quad(0), quad(1)), c.shift[0])
            } else {
                i16x8_narrow_i32x4(i32x4_shr(quad(0), c.shift[0]), i32x4_shr(quad(1), c.shift[1]))
            };
            let w = i16x8_add_sat(w, c.out);
            i8x16_min(i8x16_max(i8x16_narrow_i16x8(w, w), c.lo), c.hi)
        }
    }

    /// Channels `ch..ch + lanes` of an output stage.
    pub struct Block {
        quads: [Quad; MAX / 4],
        /// Some lane shifts left.
        left: bool,
        out: v128,
        /// The clamp minus the output offset (see `quad`).
        lo: v128,
        hi: v128,
        /// Some multiplier is outside the vector form's domain: the block
        /// requantizes lane by lane (never for converter output).
        scalar: Option<[QuantizedMultiplier; MAX]>,
        /// Every quad in one rounding, and whether some lane pre-scales.
        fused: Option<([Fused; MAX / 4], bool)>,
        /// Negative accumulators can give results the clamp keeps: the
        /// activation's lower bound is below the output offset.
        signed: bool,
        /// The output offset as `i16`s and the clamp as `i8`s, where all
        /// three are int8 values (always, for converter output): the offset
        /// and the clamp then go on the narrowed bytes.
        bytes: Option<(v128, v128, v128)>,
        stage: (i32, i32, i32),
    }

    impl Block {
        pub fn new(stage: &OutputStage, ch: usize, lanes: usize) -> Self {
            Self::bounded(stage, ch, lanes, u64::MAX)
        }

        /// [`new`](Self::new) for accumulators of magnitude at most `bound`
        /// (see [`block_bound`](super::block_bound)), which lets quads whose
        /// lanes shift right by different amounts take the shorter
        /// [`Fused`] form.
        pub fn bounded(stage: &OutputStage, ch: usize, lanes: usize, bound: u64) -> Self {
            let ms = multipliers(stage, ch, lanes);
            // The vector form needs `x << left` to be `x · 2^left` (left ≤ 30),
            // `right ≤ 31`, and no multiplier i32::MIN (whose product with
            // itself the reference saturates).
            let vector = ms.iter().all(|m| m.multiplier != i32::MIN && (-31..=30).contains(&m.shift))
                && stage.output_offset.unsigned_abs() < 1 << 24;
            let safe = if vector { ms } else { [QuantizedMultiplier { multiplier: 0, shift: 0 }; MAX] };
            let fused = if vector { Self::fused(&safe, bound) } else { None };
            // The two-rounding quads only where the block is not fused.
            let quad = |k: usize| if fused.is_some() { Quad::zero() } else { Quad::new(&safe[4 * k..4 * k + 4]) };
            Block {
                quads: [quad(0), quad(1), quad(2), quad(3)],
                left: safe.iter().any(|m| m.shift > 0),
                out: i32x4_splat(stage.output_offset),
                lo: i32x4_splat(stage.act_min.saturating_sub(stage.output_offset)),
                hi: i32x4_splat(stage.act_max.saturating_sub(stage.output_offset)),
                scalar: if vector { None } else { Some(ms) },
                fused,
                signed: stage.act_min < stage.output_offset,
                bytes: [stage.output_offset, stage.act_min, stage.act_max]
                    .iter()
                    .all(|v| (-128..=127).contains(v))
                    .then(|| {
                        let (lo, hi) = (stage.act_min as i8, stage.act_max as i8);
                        (i16x8_splat(stage.output_offset as i16), i8x16_splat(lo), i8x16_splat(hi))
                    }),
                stage: (stage.output_offset, stage.act_min, stage.act_max),
            }
        }

        /// [`Fused`] quads for all four, if every one has that form.
        fn fused(ms: &[QuantizedMultiplier; MAX], bound: u64) -> Option<([Fused; MAX / 4], bool)> {
            let quads = [0, 1, 2, 3].map(|k| Fused::new(&ms[4 * k..4 * k + 4], bound));
            let quads = [quads[0]?, quads[1]?, quads[2]?, quads[3]?];
            let one = i32x4_splat(1);
            let scaled = quads.iter().any(|q| !i32x4_all_true(i32x4_eq(q.pre, one)));
            Some((quads, scaled))
        }

        /// Every quad takes the [`Fused`] form.
        #[cfg(test)]
        pub fn is_fused(&self) -> bool {
            self.fused.is_some()
        }

        /// The block is requantized as vectors (its multipliers are all in the vector form's domain).
        pub fn is_vector(&self) -> bool {
            self.scalar.is_none()
        }

        /// Four channels' accumulators to their outputs, as `i32` lanes.
        #[inline(always)]
        fn quad(&self, x: v128, k: usize) -> v128 {
            let v = self.multiply(x, k);
            // `saturating_add(out)` then the clamp to `[lo, hi]` is the clamp
            // to `[lo − out, hi − out]` then `+ out` (|out| < 2^24: no sum saturates).
            i32x4_add(i32x4_min(i32x4_max(v, self.lo), self.hi), self.out)
        }

        /// `apply(x)` of quad `k`'s four multipliers, lane by lane (only
        /// when [`is_vector`](Self::is_vector)), wherever the block's stage
        /// tells results apart: plus the output offset and clamped to the
        /// activation, it is the reference's output. (Where the clamp's lower
        /// bound is at or above the output offset, every result of a negative
        /// accumulator clamps to it, and [`Fused`] skips the sign's constant:
        /// the `x ≥ 0` one gives such lanes a result ≤ 0 as well.)
        #[inline(always)]
        pub fn multiply(&self, x: v128, k: usize) -> v128 {
            if let Some((quads, scaled)) = &self.fused {
                return quads[k].multiply(x, *scaled, self.signed);
            }
            let c = &self.quads[k];
            let x = if self.left { i32x4_mul(x, c.left) } else { x };
            let round = i64x2_splat(1 << 30);
            let high = bits_31_62(
                i64x2_add(i64x2_extmul_low_i32x4(x, c.m), round),
                i64x2_add(i64x2_extmul_high_i32x4(x, c.m), round),
            );
            let q = bits_31_62(i64x2_extmul_low_i32x4(high, c.down), i64x2_extmul_high_i32x4(high, c.down));
            let q = v128_bitselect(high, q, c.keep);
            // Half away from zero: a negative value rounds up only past the half.
            let rem = v128_and(high, c.mask);
            let threshold = i32x4_sub(c.half, i32x4_lt(high, i32x4_splat(0)));
            i32x4_sub(q, i32x4_gt(rem, threshold))
        }

        #[inline(always)]
        fn load(acc: &[i32], at: usize) -> v128 {
            i32x4(acc[at], acc[at + 1], acc[at + 2], acc[at + 3])
        }

        /// `out[l]` = lane `l` of `acc` requantized, for each `l < out.len()` (≤ `N`, `N` 4, 8 or 16).
        #[inline(always)]
        pub fn store<const N: usize>(&self, acc: &[i32; N], out: &mut [i8]) {
            let v: [v128; MAX / 4] =
                core::array::from_fn(|k| if 4 * k + 4 <= N { Self::load(acc, 4 * k) } else { i32x4_splat(0) });
            self.store_vectors(&v[..N / 4], out)
        }

        /// [`store`](Self::store) of accumulators already in vectors (four lanes each, 1 to 4 of them).
        #[inline(always)]
        pub fn store_vectors(&self, acc: &[v128], out: &mut [i8]) {
            let n = out.len().min(4 * acc.len());
            if let Some(ms) = &self.scalar {
                let mut lanes = [0i32; MAX];
                for (k, v) in acc.iter().enumerate().take(MAX / 4) {
                    // SAFETY: lanes 4k..4k + 4 of a 16-lane array (k < 4).
                    unsafe { v128_store(lanes.as_mut_ptr().add(4 * k).cast(), *v) };
                }
                let (off, lo, hi) = self.stage;
                for (l, o) in out.iter_mut().enumerate().take(n) {
                    *o = crate::kernels::clamp_i8(ms[l].apply_fast(lanes[l]).saturating_add(off), lo, hi);
                }
                return;
            }
            let zero = i32x4_splat(0);
            let mut v = [zero; MAX / 4];
            let bytes = if let Some((out, lo, hi)) = self.bytes {
                for (k, (v, a)) in v.iter_mut().zip(acc).enumerate() {
                    *v = self.multiply(*a, k);
                }
                // `clamp(r + out)` with `r + out` saturated to i16, then to
                // i8: exact, as a sum that saturates (|out| ≤ 128) is past
                // every int8 bound on the same side.
                let words = |a, b| i16x8_add_sat(i16x8_narrow_i32x4(a, b), out);
                let b = i8x16_narrow_i16x8(words(v[0], v[1]), words(v[2], v[3]));
                i8x16_min(i8x16_max(b, lo), hi)
            } else {
                for (k, (v, a)) in v.iter_mut().zip(acc).enumerate() {
                    *v = self.quad(*a, k);
                }
                // Every lane is in [-128, 127] by now: the saturating narrows are exact.
                i8x16_narrow_i16x8(i16x8_narrow_i32x4(v[0], v[1]), i16x8_narrow_i32x4(v[2], v[3]))
            };
            if n == 16 {
                // SAFETY: `out` holds 16 bytes.
                unsafe { v128_store(out.as_mut_ptr().cast(), bytes) };
            } else if n == 8 {
                // SAFETY: `out` holds 8 bytes.
                unsafe { v128_store64_lane::<0>(bytes, out.as_mut_ptr().cast()) };
            } else {
                let mut tmp = [0i8; 16];
                // SAFETY: 16 bytes into a 16-byte array.
                unsafe { v128_store(tmp.as_mut_ptr().cast(), bytes) };
                out[..n].copy_from_slice(&tmp[..n]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    proptest! {
        /// Every lane as the reference's requantization, over the whole
        /// domain: any accumulator, any multiplier (i32::MIN included),
        /// every shift, any output offset and clamp, short blocks.
        #[test]
        fn a_block_requantizes_as_the_reference(
            acc in prop::array::uniform16(any::<i32>()),
            ms in prop::collection::vec((any::<i32>(), -31i32..=30), 20),
            special in prop::sample::select(alloc::vec![i32::MIN, i32::MAX, 0, 1, 1 << 30, -1]),
            out in prop_oneof![-128i32..=127, any::<i32>()],
            clamp in prop::sample::select(alloc::vec![(-128, 127), (-20, 127), (-128, 30), (5, -5)]),
            ch in 0usize..4,
            lanes in 1usize..=16,
            per_channel in any::<bool>(),
        ) {
            let mut ms: Vec<QuantizedMultiplier> =
                ms.into_iter().map(|(multiplier, shift)| QuantizedMultiplier { multiplier, shift }).collect();
            ms[ch + 2].multiplier = special;
            if !per_channel {
                ms.truncate(1);
            }
            let stage = OutputStage { input_offset: 0, output_offset: out, act_min: clamp.0, act_max: clamp.1, multipliers: &ms };
            let b = Block::new(&stage, ch, lanes);
            let want: Vec<i8> = (0..lanes).map(|l| stage.requantize(acc[l], ch + l)).collect();
            let mut got = alloc::vec![0i8; lanes];
            b.store(&acc, &mut got);
            prop_assert_eq!(&got, &want);
            if lanes <= 8 {
                let acc8: [i32; 8] = core::array::from_fn(|l| acc[l]);
                let mut got = alloc::vec![0i8; lanes];
                b.store(&acc8, &mut got);
                prop_assert_eq!(&got, &want);
            }
        }

        /// Converter-like blocks (multipliers in `[2^30, 2^31)`, a few
        /// neighbouring shifts, left ones too) on accumulators within the
        /// bound they are built with: the single-rounding form on wasm,
        /// compared with the reference near its rounding points too
        /// (small accumulators, exact halves).
        #[test]
        fn a_bounded_block_requantizes_as_the_reference(
            base in -24i32..=3,
            spread in prop::collection::vec(0i32..=4, 16),
            ms in prop::collection::vec(prop_oneof![(1i32 << 30)..=i32::MAX, Just(1 << 30), Just(i32::MAX), Just(0)], 16),
            bound_log in 0u32..=31,
            acc in prop::collection::vec(any::<i32>(), 16),
            near in prop::collection::vec(-4i32..=4, 16),
            out in -128i32..=127,
            clamp in prop::sample::select(alloc::vec![(-128, 127), (-20, 127), (-128, 30), (5, -5)]),
            relu in 0usize..4,
            lanes in 1usize..=16,
        ) {
            // RELU-like clamps too: a lower bound at the output offset (RELU,
            // RELU6) or above it, where negative accumulators clamp away, and
            // one just below it, where they do not.
            let clamp = match relu {
                0 => clamp,
                r => ((out + [-1, 0, 2][r - 1]).clamp(-128, 127), 127),
            };
            let ms: Vec<QuantizedMultiplier> = ms
                .iter()
                .zip(&spread)
                .map(|(&multiplier, &d)| QuantizedMultiplier { multiplier, shift: (base + d).min(30) })
                .collect();
            let bound = (1u64 << bound_log) - 1;
            // Accumulators anywhere in [-bound, bound], at its ends, and
            // around the rounding shift's ties.
            let acc: [i32; 16] = core::array::from_fn(|l| {
                let b = bound as i64;
                let x = match l % 4 {
                    0 => acc[l] as i64 % (b + 1),
                    1 => if acc[l] < 0 { -b } else { b },
                    _ => {
                        // `x` whose high multiply `h ≈ x·m / 2^31` is (2k + 1)·2^(s−1),
                        // a tie of the rounding shift by `s`, give or take a few.
                        let s = (-ms[l].shift).max(1) as u32;
                        let tie = (2 * (acc[l] as i64 % 8) + 1) << (s - 1);
                        (tie << 31) / (ms[l].multiplier.max(1) as i64) + near[l] as i64
                    }
                };
                x.clamp(-b, b) as i32
            });
            let stage = OutputStage { input_offset: 0, output_offset: out, act_min: clamp.0, act_max: clamp.1, multipliers: &ms };
            let b = Block::bounded(&stage, 0, lanes, bound);
            let want: Vec<i8> = (0..lanes).map(|l| stage.requantize(acc[l], l)).collect();
            let mut got = alloc::vec![0i8; lanes];
            b.store(&acc, &mut got);
            prop_assert_eq!(&got, &want);
            // The eight-channel form, where it holds, in the variant it names.
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            for ch in [0, 8] {
                let n = lanes.saturating_sub(ch).min(8);
                let Some(q) = (n > 0).then(|| Octet::new(&stage, ch, n, bound)).flatten() else { continue };
                // As a program keeps it: through its words.
                let q = Octet::from_words(&q.to_words());
                use core::arch::wasm32::*;
                let a = |k: usize| i32x4(acc[k], acc[k + 1], acc[k + 2], acc[k + 3]);
                let acc = [a(ch), a(ch + 4)];
                let bytes = match (q.variant(), q.merged()) {
                    (Variant::Plain, false) => q.ready().bytes::<false, false, false>(acc),
                    (Variant::Scaled, false) => q.ready().bytes::<true, false, false>(acc),
                    (Variant::Signed, false) => q.ready().bytes::<false, true, false>(acc),
                    (Variant::ScaledSigned, false) => q.ready().bytes::<true, true, false>(acc),
                    (Variant::Plain, true) => q.ready().bytes::<false, false, true>(acc),
                    (Variant::Scaled, true) => q.ready().bytes::<true, false, true>(acc),
                    (Variant::Signed, true) => q.ready().bytes::<false, true, true>(acc),
                    (Variant::ScaledSigned, true) => q.ready().bytes::<true, true, true>(acc),
                };
                let mut out = [0i8; 16];
                // SAFETY: 16 bytes into a 16-byte array.
                unsafe { v128_store(out.as_mut_ptr().cast(), bytes) };
                prop_assert_eq!(&out[..n], &want[ch..ch + n]);
            }
        }
    }

    proptest! {
        /// [`store_strided`] with a [`NarrowStage`](crate::kernels::conv::NarrowStage)
        /// under RELU-like clamps (at, above and just below the output
        /// offset), on accumulators at the rounding shift's ties, where the
        /// sign correction decides.
        #[test]
        fn a_narrow_run_requantizes_as_the_reference_under_relu_clamps(
            m in (1i32 << 30)..=i32::MAX,
            shift in -12i32..=1,
            out in -128i32..=127,
            rel in prop::sample::select(alloc::vec![-1, 0, 2]),
            k in -64i64..64,
            near in prop::collection::vec(-3i64..=3, 8),
        ) {
            let ms = [QuantizedMultiplier { multiplier: m, shift }];
            let act_min = (out + rel).clamp(-128, 127);
            let stage = OutputStage { input_offset: 0, output_offset: out, act_min, act_max: 127, multipliers: &ms };
            // `h ≈ acc·m / 2^31` at (2k + 1)·2^(s−1), give or take a few.
            let s = (-shift).max(1) as u32;
            let tie = ((2 * k + 1) << (s - 1) << 31) / m as i64;
            let acc: Vec<i32> = near.iter().map(|d| (tie + d) as i32).collect();
            let bound = acc.iter().map(|a| a.unsigned_abs() as u64).max().unwrap_or(0);
            let narrow = stage.narrow(0, bound).expect("small accumulators");
            let want: Vec<i8> = acc.iter().map(|&a| stage.requantize(a, 0)).collect();
            let mut got = alloc::vec![0i8; acc.len()];
            store_strided(&narrow, &acc, &mut got, 1);
            prop_assert_eq!(got, want);
        }
    }

    /// A converter's block (mbv2-like: shifts -7 and -6 side by side,
    /// accumulators under 2^22) takes the fused form on wasm.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[test]
    fn converter_blocks_take_the_fused_form() {
        let ms: Vec<QuantizedMultiplier> =
            (0..8).map(|l| QuantizedMultiplier { multiplier: (1 << 30) + 12345 * l, shift: -6 - (l % 2) }).collect();
        let stage = OutputStage { input_offset: 0, output_offset: -3, act_min: -128, act_max: 127, multipliers: &ms };
        assert!(Block::bounded(&stage, 0, 8, 1 << 22).is_fused());
        // Without a bound only a quad of equal shifts can.
        assert!(!Block::new(&stage, 0, 8).is_fused());
        let even: Vec<QuantizedMultiplier> = ms.iter().map(|m| QuantizedMultiplier { shift: -6, ..*m }).collect();
        assert!(Block::new(&OutputStage { multipliers: &even, ..stage }, 0, 8).is_fused());
        // The eight-channel form too, in each variant; short blocks as well.
        let octet = |stage: &OutputStage, lanes| Octet::new(stage, 0, lanes, 1 << 22).map(|q| q.variant());
        assert_eq!(octet(&stage, 8), Some(Variant::ScaledSigned));
        assert_eq!(octet(&stage, 3), Some(Variant::ScaledSigned));
        let relu = OutputStage { act_min: -3, ..stage };
        assert_eq!(octet(&relu, 8), Some(Variant::Scaled));
        assert_eq!(octet(&OutputStage { multipliers: &even, ..relu }, 8), Some(Variant::Plain));
        assert_eq!(octet(&OutputStage { multipliers: &even, ..stage }, 8), Some(Variant::Signed));
        // Not where an offset is not int8.
        assert_eq!(octet(&OutputStage { output_offset: 200, ..stage }, 8), None);
    }
}
