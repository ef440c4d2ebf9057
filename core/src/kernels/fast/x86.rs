//! x86-64 AVX2 and AVX-512 building blocks for the host's kernels, chosen
//! at run time ([`avx2`], [`avx512`]): a CLI binary runs on any x86-64, so
//! these forms are `#[target_feature]` functions behind a CPU check, and the
//! portable forms stay for CPUs without them.
//!
//! [`Requant8`] is [`OutputStage`]'s requantization of eight channels as one
//! `__m256i` ([`Requant16`]: sixteen, one `__m512i`), the arithmetic of
//! [`PreparedMultiplier::apply`](crate::fixedpoint::PreparedMultiplier::apply)
//! lane by lane: AVX2 has per-lane shifts (`VPSLLVD`, `VPSRAVD`), and the
//! rounding doubling high multiply is two widening multiplies (`VPMULDQ`,
//! even and odd lanes) whose bits 31..62 are the result.
#![allow(unsafe_code)]

use crate::fixedpoint::QuantizedMultiplier;
use crate::kernels::conv::OutputStage;
use core::arch::x86_64::*;

cpufeatures::new!(cpuid_avx2, "avx2");
cpufeatures::new!(cpuid_avx512, "avx512f", "avx512bw", "avx512vl");

/// The CPU has AVX2 (detected once, then a relaxed atomic load).
#[inline]
pub fn avx2() -> bool {
    cpuid_avx2::get()
}

/// The CPU has AVX-512 F, BW and VL (and so AVX2).
#[inline]
pub fn avx512() -> bool {
    cpuid_avx512::get() && avx2()
}

/// Per-lane requantization constants of `N` channels, for the vector forms.
struct Lanes<const N: usize> {
    ms: [QuantizedMultiplier; N],
    /// Every multiplier is in the vector forms' domain.
    vector: bool,
    left: [i32; N],
    m: [i32; N],
    right: [i32; N],
    mask: [i32; N],
    half: [i32; N],
}

impl<const N: usize> Lanes<N> {
    /// Lane `l` requantizes channel `chans[l]` of `stage` (`None`: a lane
    /// whose result is not stored).
    fn new(stage: &OutputStage, chans: [Option<usize>; N]) -> Self {
        let ms: [QuantizedMultiplier; N] = chans.map(|ch| match ch {
            Some(ch) => stage.multipliers[if stage.multipliers.len() == 1 { 0 } else { ch }],
            None => QuantizedMultiplier { multiplier: 0, shift: 0 },
        });
        // `x << left` must be `x · 2^left` in wrapping i32 (left ≤ 30), the
        // right shift at most 31, and no multiplier i32::MIN (whose square
        // the reference saturates); the offset small enough for the clamp
        // (see `Requant8::apply`).
        let vector = ms.iter().all(|m| m.multiplier != i32::MIN && (-31..=30).contains(&m.shift))
            && stage.output_offset.unsigned_abs() < 1 << 24;
        // One pass over the lanes (this runs for every channel block of every call).
        let mut c = Lanes { ms, vector, left: [0; N], m: [0; N], right: [0; N], mask: [0; N], half: [0; N] };
        if vector {
            for (l, q) in ms.iter().enumerate() {
                let right = (-q.shift).max(0);
                c.left[l] = q.shift.max(0);
                c.m[l] = q.multiplier;
                c.right[l] = right;
                c.mask[l] = ((1u64 << right) - 1) as i32;
                c.half[l] = c.mask[l] >> 1;
            }
        }
        c
    }
}

/// Lane by lane (outside the vector forms' domain), with `ms`, the lanes' multipliers.
fn scalar<const N: usize>(ms: &[QuantizedMultiplier; N], stage: (i32, i32, i32), acc: &mut [i32; N]) {
    let (off, lo, hi) = stage;
    for (v, m) in acc.iter_mut().zip(ms) {
        *v = m.apply_fast(*v).saturating_add(off).max(lo).min(hi);
    }
}

/// Eight channels' requantization constants (one per lane).
pub struct Requant8 {
    left: __m256i,
    m: __m256i,
    /// `m` of the odd lanes, moved down to the even ones (for `VPMULDQ`).
    m_odd: __m256i,
    right: __m256i,
    mask: __m256i,
    half: __m256i,
    out: __m256i,
    /// The clamp minus the output offset (see `apply`).
    lo: __m256i,
    hi: __m256i,
    /// Some multiplier is outside the vector form's domain: lane by lane
    /// (never for converter output).
    scalar: Option<[QuantizedMultiplier; 8]>,
    /// Output offset and clamp, for the lane-by-lane form.
    stage: (i32, i32, i32),
}

impl Requant8 {
    /// Channels `ch..ch + lanes` (`lanes ≤ 8`) of `stage`.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub fn new(stage: &OutputStage, ch: usize, lanes: usize) -> Self {
        Self::lanes(stage, core::array::from_fn(|l| (l < lanes).then_some(ch + l)))
    }

    /// Lane `l` requantizes channel `chans[l]` of `stage` (`None`: a lane
    /// whose result is not stored).
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub fn lanes(stage: &OutputStage, chans: [Option<usize>; 8]) -> Self {
        let c = Lanes::<8>::new(stage, chans);
        // A macro, not a closure: a closure would not inherit AVX2, and its intrinsic became a call.
        macro_rules! v {
            // SAFETY: 32 bytes read from a 32-byte array.
            ($a:expr) => {
                unsafe { _mm256_loadu_si256($a.as_ptr().cast()) }
            };
        }
        Requant8 {
            left: v!(c.left),
            m: v!(c.m),
            m_odd: _mm256_srli_epi64::<32>(v!(c.m)),
            right: v!(c.right),
            mask: v!(c.mask),
            half: v!(c.half),
            out: _mm256_set1_epi32(stage.output_offset),
            lo: _mm256_set1_epi32(stage.act_min.saturating_sub(stage.output_offset)),
            hi: _mm256_set1_epi32(stage.act_max.saturating_sub(stage.output_offset)),
            stage: (stage.output_offset, stage.act_min, stage.act_max),
            scalar: (!c.vector).then_some(c.ms),
        }
    }

    /// Each lane of `acc` requantized and clamped to the activation's range, as `i32`.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub fn requantize(&self, acc: __m256i) -> __m256i {
        let Some(c) = &self.scalar else { return self.apply(acc) };
        let mut lanes = [0i32; 8];
        // SAFETY: 32 bytes to and from a 32-byte array.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), acc) };
        scalar(c, self.stage, &mut lanes);
        // SAFETY: as above.
        unsafe { _mm256_loadu_si256(lanes.as_ptr().cast()) }
    }

    /// [`requantize`](Self::requantize) as vectors (only without `scalar`).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn apply(&self, acc: __m256i) -> __m256i {
        let x = _mm256_sllv_epi32(acc, self.left);
        let round = _mm256_set1_epi64x(1 << 30);
        // `(x·m + 2^30) >> 31`: the even lanes' products, then the odd lanes' (moved down).
        let even = _mm256_add_epi64(_mm256_mul_epi32(x, self.m), round);
        let odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64::<32>(x), self.m_odd), round);
        // Bits 31..62 of each product: in the low half of an even lane, the high half of an odd one.
        let high = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<31>(even), _mm256_slli_epi64::<1>(odd));
        // Rounding right shift, half away from zero.
        let negative = _mm256_cmpgt_epi32(_mm256_setzero_si256(), high);
        let threshold = _mm256_sub_epi32(self.half, negative);
        let rem = _mm256_and_si256(high, self.mask);
        let q = _mm256_sub_epi32(_mm256_srav_epi32(high, self.right), _mm256_cmpgt_epi32(rem, threshold));
        // `saturating_add(out)` then the clamp to `[lo, hi]` is the clamp to
        // `[lo − out, hi − out]` then `+ out` (no sum saturates: |out| < 2^24).
        _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, self.lo), self.hi), self.out)
    }

    /// `out[l]` = lane `l` of `acc` requantized, for each `l < out.len()` (≤ 8).
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub fn store(&self, acc: __m256i, out: &mut [i8]) {
        let v = self.requantize(acc);
        // Every lane is in [-128, 127]: the saturating packs are exact.
        let words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let bytes = _mm_packs_epi16(words, words);
        if out.len() >= 8 {
            // SAFETY: `out` holds at least 8 bytes.
            unsafe { _mm_storel_epi64(out.as_mut_ptr().cast(), bytes) };
        } else {
            let mut tmp = [0i8; 16];
            // SAFETY: 16 bytes into a 16-byte array.
            unsafe { _mm_storeu_si128(tmp.as_mut_ptr().cast(), bytes) };
            out.copy_from_slice(&tmp[..out.len()]);
        }
    }
}

/// Sixteen channels' requantization constants (one per lane): [`Requant8`]
/// on `__m512i`, the comparisons as mask registers.
pub struct Requant16 {
    left: __m512i,
    m: __m512i,
    m_odd: __m512i,
    right: __m512i,
    mask: __m512i,
    half: __m512i,
    out: __m512i,
    lo: __m512i,
    hi: __m512i,
    scalar: Option<[QuantizedMultiplier; 16]>,
    stage: (i32, i32, i32),
}

impl Requant16 {
    /// Channels `ch..ch + lanes` (`lanes ≤ 16`) of `stage`.
    ///
    /// # Safety
    /// The CPU has AVX-512 F, BW and VL.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    pub fn new(stage: &OutputStage, ch: usize, lanes: usize) -> Self {
        let c = Lanes::<16>::new(stage, core::array::from_fn(|l| (l < lanes).then_some(ch + l)));
        macro_rules! v {
            // SAFETY: 64 bytes read from a 64-byte array.
            ($a:expr) => {
                unsafe { _mm512_loadu_si512($a.as_ptr().cast()) }
            };
        }
        Requant16 {
            left: v!(c.left),
            m: v!(c.m),
            m_odd: _mm512_srli_epi64::<32>(v!(c.m)),
            right: v!(c.right),
            mask: v!(c.mask),
            half: v!(c.half),
            out: _mm512_set1_epi32(stage.output_offset),
            lo: _mm512_set1_epi32(stage.act_min.saturating_sub(stage.output_offset)),
            hi: _mm512_set1_epi32(stage.act_max.saturating_sub(stage.output_offset)),
            stage: (stage.output_offset, stage.act_min, stage.act_max),
            scalar: (!c.vector).then_some(c.ms),
        }
    }

    /// Each lane of `acc` requantized and clamped, as `i32`.
    ///
    /// # Safety
    /// The CPU has AVX-512 F, BW and VL.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    pub fn requantize(&self, acc: __m512i) -> __m512i {
        if let Some(c) = &self.scalar {
            let mut lanes = [0i32; 16];
            // SAFETY: 64 bytes to and from a 64-byte array.
            unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), acc) };
            scalar(c, self.stage, &mut lanes);
            // SAFETY: as above.
            return unsafe { _mm512_loadu_si512(lanes.as_ptr().cast()) };
        }
        let x = _mm512_sllv_epi32(acc, self.left);
        let round = _mm512_set1_epi64(1 << 30);
        let even = _mm512_add_epi64(_mm512_mul_epi32(x, self.m), round);
        let odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64::<32>(x), self.m_odd), round);
        let high = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64::<31>(even), _mm512_slli_epi64::<1>(odd));
        let one = _mm512_set1_epi32(1);
        let negative = _mm512_cmplt_epi32_mask(high, _mm512_setzero_si512());
        let threshold = _mm512_mask_add_epi32(self.half, negative, self.half, one);
        let rem = _mm512_and_si512(high, self.mask);
        let q = _mm512_srav_epi32(high, self.right);
        let q = _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(rem, threshold), q, one);
        _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, self.lo), self.hi), self.out)
    }

    /// `out[l]` = lane `l` of `acc` requantized, for each `l < lanes` (≤ 16).
    ///
    /// # Safety
    /// The CPU has AVX-512 F, BW and VL; `out..out + lanes` is writable.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    pub unsafe fn store(&self, acc: __m512i, out: *mut i8, lanes: usize) {
        // Every lane is in [-128, 127]: the saturating narrow is exact.
        let bytes = _mm512_cvtsepi32_epi8(self.requantize(acc));
        _mm_mask_storeu_epi8(out, ((1u32 << lanes) - 1) as u16, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    proptest! {
        /// Every lane as the reference's requantization over the whole
        /// domain (any multiplier, i32::MIN included, every shift, any
        /// offset and clamp, short blocks).
        #[test]
        fn requant8_is_the_reference(
            acc in prop::array::uniform8(any::<i32>()),
            ms in prop::collection::vec((any::<i32>(), -31i32..=30), 12),
            special in prop::sample::select(alloc::vec![i32::MIN, i32::MAX, 0, 1, 1 << 30, -1]),
            out in prop_oneof![-128i32..=127, any::<i32>()],
            clamp in prop::sample::select(alloc::vec![(-128, 127), (-20, 127), (-128, 30), (5, -5)]),
            ch in 0usize..4,
            lanes in 1usize..=8,
            per_channel in any::<bool>(),
        ) {
            if !avx2() {
                return Ok(());
            }
            let mut ms: Vec<QuantizedMultiplier> =
                ms.into_iter().map(|(multiplier, shift)| QuantizedMultiplier { multiplier, shift }).collect();
            ms[ch + 1].multiplier = special;
            if !per_channel {
                ms.truncate(1);
            }
            let stage = OutputStage { input_offset: 0, output_offset: out, act_min: clamp.0, act_max: clamp.1, multipliers: &ms };
            let want: Vec<i8> = (0..lanes).map(|l| stage.requantize(acc[l], ch + l)).collect();
            let mut got = alloc::vec![0i8; lanes];
            // SAFETY: the CPU has AVX2 (assumed above).
            unsafe {
                let r = Requant8::new(&stage, ch, lanes);
                r.store(_mm256_loadu_si256(acc.as_ptr().cast()), &mut got);
            }
            prop_assert_eq!(&got, &want);
        }

        /// [`Requant16`] the same way.
        #[test]
        fn requant16_is_the_reference(
            acc in prop::array::uniform16(any::<i32>()),
            ms in prop::collection::vec((any::<i32>(), -31i32..=30), 20),
            special in prop::sample::select(alloc::vec![i32::MIN, i32::MAX, 0, 1, 1 << 30, -1]),
            out in prop_oneof![-128i32..=127, any::<i32>()],
            clamp in prop::sample::select(alloc::vec![(-128, 127), (-20, 127), (-128, 30), (5, -5)]),
            ch in 0usize..4,
            lanes in 1usize..=16,
            per_channel in any::<bool>(),
        ) {
            if !avx512() {
                return Ok(());
            }
            let mut ms: Vec<QuantizedMultiplier> =
                ms.into_iter().map(|(multiplier, shift)| QuantizedMultiplier { multiplier, shift }).collect();
            ms[ch + 1].multiplier = special;
            if !per_channel {
                ms.truncate(1);
            }
            let stage = OutputStage { input_offset: 0, output_offset: out, act_min: clamp.0, act_max: clamp.1, multipliers: &ms };
            let want: Vec<i8> = (0..lanes).map(|l| stage.requantize(acc[l], ch + l)).collect();
            let mut got = alloc::vec![0i8; 16];
            // SAFETY: the CPU has AVX-512 (checked above); 16 bytes writable.
            unsafe {
                let r = Requant16::new(&stage, ch, lanes);
                r.store(_mm512_loadu_si512(acc.as_ptr().cast()), got.as_mut_ptr(), lanes);
            }
            prop_assert_eq!(&got[..lanes], &want[..]);
            prop_assert!(got[lanes..].iter().all(|&b| b == 0));
        }
    }
}
