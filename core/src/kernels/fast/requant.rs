//! Requantization of a block of up to [`MAX`] channels at once: what the
//! optimized kernels do with a pixel's accumulators, equal to
//! [`OutputStage::requantize`] lane by lane.
//!
//! On wasm32 `simd128` four channels are one vector (see [`Block`]); elsewhere
//! each lane goes through [`PreparedMultiplier`](crate::fixedpoint::PreparedMultiplier),
//! its constants worked out once for the block.
#![allow(unsafe_code)]

use crate::fixedpoint::QuantizedMultiplier;
use crate::kernels::conv::{OutputStage, Requantize};

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

/// Pixels a kernel accumulates into a stack buffer before it requantizes
/// them with [`store_strided`].
pub const RUN: usize = 32;

/// `out[i·stride] = r(acc[i])` for each accumulator: one channel of a run
/// of NHWC pixels. A function of its own so that the channel's constants
/// get registers of their own (inlined into a kernel's loop they were
/// spilled and reloaded for every pixel).
#[inline(never)]
pub fn store_strided<R: Requantize>(r: R, acc: &[i32], out: &mut [i8], stride: usize) {
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
            let left = |m: &QuantizedMultiplier| 1i32 << m.shift.max(0);
            let right = |m: &QuantizedMultiplier| (-m.shift).max(0) as u32;
            let lanes = |f: &dyn Fn(&QuantizedMultiplier) -> i32| i32x4(f(&q[0]), f(&q[1]), f(&q[2]), f(&q[3]));
            let mask = |m: &QuantizedMultiplier| ((1u64 << right(m)) - 1) as i32;
            Quad {
                left: lanes(&left),
                m: lanes(&|m| m.multiplier),
                down: lanes(&|m| if right(m) == 0 { 1 } else { 1 << (31 - right(m)) }),
                keep: lanes(&|m| if right(m) == 0 { -1 } else { 0 }),
                mask: lanes(&mask),
                half: lanes(&|m| mask(m) >> 1),
            }
        }
    }

    /// Bits 31..62 of each `i64` lane of `lo` and `hi`, as four `i32`s.
    #[inline(always)]
    fn bits_31_62(lo: v128, hi: v128) -> v128 {
        i32x4_shuffle::<1, 3, 5, 7>(i64x2_shl(lo, 1), i64x2_shl(hi, 1))
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
        stage: (i32, i32, i32),
    }

    impl Block {
        pub fn new(stage: &OutputStage, ch: usize, lanes: usize) -> Self {
            let ms = multipliers(stage, ch, lanes);
            // The vector form needs `x << left` to be `x · 2^left` (left ≤ 30),
            // `right ≤ 31`, and no multiplier i32::MIN (whose product with
            // itself the reference saturates).
            let vector = ms.iter().all(|m| m.multiplier != i32::MIN && (-31..=30).contains(&m.shift))
                && stage.output_offset.unsigned_abs() < 1 << 24;
            let safe = if vector { ms } else { [QuantizedMultiplier { multiplier: 0, shift: 0 }; MAX] };
            Block {
                quads: core::array::from_fn(|k| Quad::new(&safe[4 * k..4 * k + 4])),
                left: safe.iter().any(|m| m.shift > 0),
                out: i32x4_splat(stage.output_offset),
                lo: i32x4_splat(stage.act_min.saturating_sub(stage.output_offset)),
                hi: i32x4_splat(stage.act_max.saturating_sub(stage.output_offset)),
                scalar: if vector { None } else { Some(ms) },
                stage: (stage.output_offset, stage.act_min, stage.act_max),
            }
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
        /// when [`is_vector`](Self::is_vector)).
        #[inline(always)]
        pub fn multiply(&self, x: v128, k: usize) -> v128 {
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
            for (k, (v, a)) in v.iter_mut().zip(acc).enumerate() {
                *v = self.quad(*a, k);
            }
            // Every lane is in [-128, 127] by now: the saturating narrows are exact.
            let bytes = i8x16_narrow_i16x8(i16x8_narrow_i32x4(v[0], v[1]), i16x8_narrow_i32x4(v[2], v[3]));
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
    }
}
