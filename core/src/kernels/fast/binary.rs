//! ADD, SUB, SQUARED_DIFFERENCE and MUL element functions, optimized: the
//! reference's [`RescaledParams::apply`] and [`MulParams::apply`] with each
//! rescale through [`QuantizedMultiplier::apply_fast`] (proved equal to the
//! reference rounding for every input), so the same bytes in about half the
//! instructions — on BlazeFace a quarter of a Cortex-M7 inference was ADD;
//! long runs of equal-shaped operands tabulate each input's rescale. The
//! host's and the browser's programs tabulate every operand pair instead
//! ([`pair_table`]).

use crate::kernels::binary::{MulParams, Rescale, RescaledParams};
use crate::kernels::clamp_i8;
use crate::kernels::conv::OutputStage;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use crate::kernels::conv::Requantize;

/// [`RescaledParams::apply`], in the same wrapping int32 arithmetic.
#[inline(always)]
pub fn rescaled(p: &RescaledParams, a: i8, b: i8) -> i8 {
    let a = p.input1.apply_fast((a as i32).wrapping_add(p.input1_offset).wrapping_mul(1 << p.left_shift));
    let b = p.input2.apply_fast((b as i32).wrapping_add(p.input2_offset).wrapping_mul(1 << p.left_shift));
    let raw = match p.kind {
        Rescale::Add => a.wrapping_add(b),
        Rescale::Sub => a.wrapping_sub(b),
        Rescale::SquaredDifference => a.wrapping_sub(b).wrapping_mul(a.wrapping_sub(b)),
    };
    clamp_i8(p.output.apply_fast(raw).wrapping_add(p.output_offset), p.act_min, p.act_max)
}

/// Fewest elements worth building [`Tables`] for (an operator's whole
/// region: a patch's rows share one set).
pub const TABLES_FROM: usize = 512;

/// [`rescaled`] over equal-shaped operands, tabulated where the run is long
/// enough ([`Tables`]).
pub fn rescaled_run(p: &RescaledParams, a: &[i8], b: &[i8], out: &mut [i8]) {
    if out.len() < TABLES_FROM {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = rescaled(p, x, y);
        }
        return;
    }
    Tables::new(p).run(p, a, b, out)
}

/// Each input's rescale is a function of its int8 value alone, so it is
/// tabulated (256 entries each, built with [`rescaled`]'s own arithmetic)
/// and an element costs two loads, the combine and the output rescale. Built
/// once per operator step and used for each of its rows.
pub struct Tables {
    t1: [i32; 256],
    t2: [i32; 256],
    /// ADD or SUB whose sums are provably small: the output rescale's short exact form.
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    narrow: Option<crate::kernels::conv::NarrowStage>,
}

impl Tables {
    pub fn new(p: &RescaledParams) -> Self {
        let side = |m: crate::fixedpoint::QuantizedMultiplier, off: i32| -> [i32; 256] {
            core::array::from_fn(|i| {
                m.apply_fast(((i as u8 as i8) as i32).wrapping_add(off).wrapping_mul(1 << p.left_shift))
            })
        };
        let (t1, t2) = (side(p.input1, p.input1_offset), side(p.input2, p.input2_offset));
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        let narrow = matches!(p.kind, Rescale::Add | Rescale::Sub)
            .then(|| {
                // A sum of two table entries is at most the largest of each in magnitude.
                let max = |t: &[i32; 256]| t.iter().map(|v| v.unsigned_abs() as u64).max().unwrap_or(0);
                let m = [p.output];
                output_stage(p, &m).narrow(0, max(&t1) + max(&t2))
            })
            .flatten();
        Tables {
            t1,
            t2,
            #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
            narrow,
        }
    }

    /// [`rescaled`] over `a` and `b` (equal-shaped runs), tables built from `p`.
    pub fn run(&self, p: &RescaledParams, a: &[i8], b: &[i8], out: &mut [i8]) {
        let (t1, t2) = (&self.t1, &self.t2);
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        if let Some(r) = self.narrow {
            return match p.kind {
                Rescale::Sub => tabulated(t1, t2, a, b, out, r, |u, v| u.wrapping_sub(v)),
                _ => tabulated(t1, t2, a, b, out, r, |u, v| u.wrapping_add(v)),
            };
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        let (a, b, out) = {
            let done = simd::run(p, t1, t2, a, b, out);
            (&a[done..], &b[done..], &mut out[done..])
        };
        tail(p, t1, t2, a, b, out)
    }
}

/// The output rescale, offset and clamp of `p` as a one-multiplier stage
/// (`m` holds `p.output`).
fn output_stage<'a>(p: &RescaledParams, m: &'a [crate::fixedpoint::QuantizedMultiplier; 1]) -> OutputStage<'a> {
    OutputStage {
        input_offset: 0,
        output_offset: p.output_offset,
        act_min: p.act_min,
        act_max: p.act_max,
        multipliers: m,
    }
}

/// A tabulated run in the general form.
fn tail(p: &RescaledParams, t1: &[i32; 256], t2: &[i32; 256], a: &[i8], b: &[i8], out: &mut [i8]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let (u, v) = (t1[x as u8 as usize], t2[y as u8 as usize]);
        let raw = match p.kind {
            Rescale::Add => u.wrapping_add(v),
            Rescale::Sub => u.wrapping_sub(v),
            Rescale::SquaredDifference => u.wrapping_sub(v).wrapping_mul(u.wrapping_sub(v)),
        };
        *o = clamp_i8(p.output.apply_fast(raw).wrapping_add(p.output_offset), p.act_min, p.act_max);
    }
}

/// A tabulated run of ADD or SUB (`combine`) with the output rescale `r`;
/// the clamp is constant (`SSAT`) where it is int8's whole range.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(never)]
fn tabulated<R: Requantize>(
    t1: &[i32; 256],
    t2: &[i32; 256],
    a: &[i8],
    b: &[i8],
    out: &mut [i8],
    r: R,
    combine: impl Fn(i32, i32) -> i32,
) {
    let raw = |x: i8, y: i8| combine(t1[x as u8 as usize], t2[y as u8 as usize]);
    if r.full_range() {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = r.unclamped(raw(x, y)).clamp(-128, 127) as i8;
        }
    } else {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = r.requantize(raw(x, y));
        }
    }
}

/// wasm32 `simd128`: a tabulated run eight elements at a time, the output
/// rescale, offset and clamp as vectors (the tables stay scalar loads).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    #![allow(unsafe_code)]
    /// [`super::paired`]'s first elements, sixteen at a time (returns how
    /// many): the indices as `u16`s from two byte shuffles, each entry a
    /// scalar load and store. (Left to LLVM, the loop gathered the entries
    /// into a vector with sixteen dependent `pinsrb`s in V8.)
    pub fn paired(t: &[u8; super::PAIRS], a: &[i8], b: &[i8], out: &mut [i8]) -> usize {
        let n = out.len().min(a.len()).min(b.len()) / 16 * 16;
        let (a, b, out) = (&a[..n], &b[..n], &mut out[..n]);
        for ((x, y), o) in a.chunks_exact(16).zip(b.chunks_exact(16)).zip(out.chunks_exact_mut(16)) {
            // SAFETY: each chunk holds sixteen bytes.
            let (x, y) = unsafe { (v128_load(x.as_ptr().cast()), v128_load(y.as_ptr().cast())) };
            // Little-endian `u16`s `a << 8 | b`: `b`'s byte, then `a`'s.
            let lo = i8x16_shuffle::<16, 0, 17, 1, 18, 2, 19, 3, 20, 4, 21, 5, 22, 6, 23, 7>(x, y);
            let hi = i8x16_shuffle::<24, 8, 25, 9, 26, 10, 27, 11, 28, 12, 29, 13, 30, 14, 31, 15>(x, y);
            let at = |i: u16| t[i as usize] as i8;
            o[0] = at(u16x8_extract_lane::<0>(lo));
            o[1] = at(u16x8_extract_lane::<1>(lo));
            o[2] = at(u16x8_extract_lane::<2>(lo));
            o[3] = at(u16x8_extract_lane::<3>(lo));
            o[4] = at(u16x8_extract_lane::<4>(lo));
            o[5] = at(u16x8_extract_lane::<5>(lo));
            o[6] = at(u16x8_extract_lane::<6>(lo));
            o[7] = at(u16x8_extract_lane::<7>(lo));
            o[8] = at(u16x8_extract_lane::<0>(hi));
            o[9] = at(u16x8_extract_lane::<1>(hi));
            o[10] = at(u16x8_extract_lane::<2>(hi));
            o[11] = at(u16x8_extract_lane::<3>(hi));
            o[12] = at(u16x8_extract_lane::<4>(hi));
            o[13] = at(u16x8_extract_lane::<5>(hi));
            o[14] = at(u16x8_extract_lane::<6>(hi));
            o[15] = at(u16x8_extract_lane::<7>(hi));
        }
        n
    }

    use super::super::requant::Block;
    use crate::kernels::binary::{Rescale, RescaledParams};
    use core::arch::wasm32::*;

    /// Computes the first multiple of eight elements; returns how many (0
    /// where the output multiplier or clamp is outside the vector form).
    pub fn run(p: &RescaledParams, t1: &[i32; 256], t2: &[i32; 256], a: &[i8], b: &[i8], out: &mut [i8]) -> usize {
        let m = [p.output];
        // The real offset and clamp: `multiply` may rely on them (see `Block::multiply`).
        let q = Block::new(&super::output_stage(p, &m), 0, 4);
        if !q.is_vector() || p.act_min < -128 || p.act_max > 127 {
            return 0;
        }
        let n = out.len().min(a.len()).min(b.len()) / 8 * 8;
        // One loop per operation: the combine is then vector arithmetic.
        match p.kind {
            Rescale::Add => eights(p, &q, t1, t2, a, b, out, n, |u, v| i32x4_add(u, v)),
            Rescale::Sub => eights(p, &q, t1, t2, a, b, out, n, |u, v| i32x4_sub(u, v)),
            Rescale::SquaredDifference => {
                eights(p, &q, t1, t2, a, b, out, n, |u, v| i32x4_mul(i32x4_sub(u, v), i32x4_sub(u, v)))
            }
        }
        n
    }

    /// The first `n` (a multiple of eight, at most every slice's length)
    /// elements: each input's table entries as vectors, combined, rescaled.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn eights(
        p: &RescaledParams,
        q: &Block,
        t1: &[i32; 256],
        t2: &[i32; 256],
        a: &[i8],
        b: &[i8],
        out: &mut [i8],
        n: usize,
        combine: impl Fn(v128, v128) -> v128,
    ) {
        let (off, lo, hi) = (i32x4_splat(p.output_offset), i32x4_splat(p.act_min), i32x4_splat(p.act_max));
        // `apply_fast(raw).wrapping_add(offset)`, clamped: in [-128, 127], so the narrows are exact.
        let lanes = |r: v128| i32x4_min(i32x4_max(i32x4_add(q.multiply(r, 0), off), lo), hi);
        let (a, b, out) = (&a[..n], &b[..n], &mut out[..n]);
        for ((x, y), o) in a.chunks_exact(8).zip(b.chunks_exact(8)).zip(out.chunks_exact_mut(8)) {
            let t = |t: &[i32; 256], v: &[i8], k: usize| {
                i32x4(
                    t[v[k] as u8 as usize],
                    t[v[k + 1] as u8 as usize],
                    t[v[k + 2] as u8 as usize],
                    t[v[k + 3] as u8 as usize],
                )
            };
            let r0 = combine(t(t1, x, 0), t(t2, y, 0));
            let r1 = combine(t(t1, x, 4), t(t2, y, 4));
            let h = i16x8_narrow_i32x4(lanes(r0), lanes(r1));
            // SAFETY: `o` is a chunk of eight bytes.
            unsafe { v128_store64_lane::<0>(i8x16_narrow_i16x8(h, h), o.as_mut_ptr().cast()) };
        }
    }
}

/// Entries of a binary's [`pair table`](pair_table): one per int8 operand pair.
pub const PAIRS: usize = 256 * 256;

/// An element function's result for every int8 operand pair, row `a as u8`,
/// column `b as u8`: what the host's and the browser's programs keep per
/// ADD, SUB, SQUARED_DIFFERENCE or MUL (`ops::binary`), so that an element
/// costs one load where the arithmetic (two rescales, the combine and an
/// exact output rescale, or a product and its rescale) cost about eight
/// cycles in V8 — a twentieth of mbv2's browser time. Built with the
/// optimized element functions, each proptested on every pair.
pub fn pair_table(f: impl Fn(i8, i8) -> i8) -> impl Iterator<Item = i8> {
    (0..PAIRS).map(move |i| f((i >> 8) as u8 as i8, i as u8 as i8))
}

/// `out[i] = t[(a[i], b[i])]` over equal-length runs.
#[inline(never)]
pub fn paired(t: &[u8; PAIRS], a: &[i8], b: &[i8], out: &mut [i8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let (a, b, out) = {
        let done = simd::paired(t, a, b, out);
        (&a[done..], &b[done..], &mut out[done..])
    };
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = pair(t, x, y);
    }
}

/// One pair's entry of table `t`.
#[inline(always)]
pub fn pair(t: &[u8; PAIRS], a: i8, b: i8) -> i8 {
    t[(a as u8 as usize) << 8 | b as u8 as usize] as i8
}

/// [`MulParams::apply`].
#[inline(always)]
pub fn mul(p: &MulParams, a: i8, b: i8) -> i8 {
    let prod = (a as i32 + p.input1_offset) * (b as i32 + p.input2_offset);
    clamp_i8(p.output_offset.saturating_add(p.multiplier.apply_fast(prod)), p.act_min, p.act_max)
}

#[cfg(test)]
mod tests {
    //! Every int8 pair, on random scales and zero points (extreme ones
    //! included, where the int32 arithmetic wraps), against the reference.
    use super::*;
    use proptest::prelude::*;

    fn scale() -> impl Strategy<Value = f32> {
        prop_oneof![(-12i32..=4, 1.0f32..2.0).prop_map(|(e, m)| m * 2f32.powi(e)), Just(1e-6f32), Just(1e3f32)]
    }

    proptest! {
        #[test]
        fn rescaled_ops_equal_the_reference_on_every_pair(
            kind in prop::sample::select(alloc::vec![Rescale::Add, Rescale::Sub, Rescale::SquaredDifference]),
            (s1, s2, so) in (scale(), scale(), scale()),
            (z1, z2, zo) in (-128i32..=127, -128i32..=127, -128i32..=127),
            act in prop::sample::select(alloc::vec![(-128, 127), (-20, 100), (0, 127)]),
        ) {
            let p = RescaledParams::prepare(kind, s1, z1, s2, z2, so, zo, act);
            for a in i8::MIN..=i8::MAX {
                for b in i8::MIN..=i8::MAX {
                    prop_assert_eq!(rescaled(&p, a, b), p.apply(a, b), "{:?} {} {}", p, a, b);
                }
            }
        }

        #[test]
        fn a_tabulated_run_equals_the_reference(
            kind in prop::sample::select(alloc::vec![Rescale::Add, Rescale::Sub, Rescale::SquaredDifference]),
            (s1, s2, so) in (scale(), scale(), scale()),
            (z1, z2, zo) in (-128i32..=127, -128i32..=127, -128i32..=127),
            (a, b) in (prop::collection::vec(any::<i8>(), 1500), prop::collection::vec(any::<i8>(), 1500)),
            n in 0usize..1500,
            act in prop::sample::select(alloc::vec![(-128, 127), (-20, 100), (0, 127)]),
        ) {
            let p = RescaledParams::prepare(kind, s1, z1, s2, z2, so, zo, act);
            let want: alloc::vec::Vec<i8> = a[..n].iter().zip(&b[..n]).map(|(&x, &y)| p.apply(x, y)).collect();
            let mut got = alloc::vec![0i8; n];
            rescaled_run(&p, &a[..n], &b[..n], &mut got);
            prop_assert_eq!(&got, &want);
            // The tables an operator builds once for its region, on a row of any length.
            let mut row = alloc::vec![0i8; n];
            Tables::new(&p).run(&p, &a[..n], &b[..n], &mut row);
            prop_assert_eq!(row, want);
        }

        #[test]
        fn a_pair_table_run_equals_the_reference(
            kind in prop::sample::select(alloc::vec![Rescale::Add, Rescale::Sub, Rescale::SquaredDifference]),
            (s1, s2, so) in (scale(), scale(), scale()),
            (z1, z2, zo) in (-128i32..=127, -128i32..=127, -128i32..=127),
            (a, b) in (prop::collection::vec(any::<i8>(), 700), prop::collection::vec(any::<i8>(), 700)),
            act in prop::sample::select(alloc::vec![(-128, 127), (-20, 100), (0, 127)]),
        ) {
            let p = RescaledParams::prepare(kind, s1, z1, s2, z2, so, zo, act);
            let q = MulParams::prepare(s1, z1, s2, z2, so, zo, act);
            let table = |f: &dyn Fn(i8, i8) -> i8| -> alloc::boxed::Box<[u8; PAIRS]> {
                let t: alloc::vec::Vec<u8> = pair_table(f).map(|v| v as u8).collect();
                t.into_boxed_slice().try_into().unwrap()
            };
            let (tr, tm) = (table(&|x, y| rescaled(&p, x, y)), table(&|x, y| mul(&q, x, y)));
            let (mut got_r, mut got_m) = (alloc::vec![0i8; a.len()], alloc::vec![0i8; a.len()]);
            paired(&tr, &a, &b, &mut got_r);
            paired(&tm, &a, &b, &mut got_m);
            for (i, (&x, &y)) in a.iter().zip(&b).enumerate() {
                prop_assert_eq!(got_r[i], p.apply(x, y), "{:?} {} {}", p, x, y);
                prop_assert_eq!(got_m[i], q.apply(x, y), "{:?} {} {}", q, x, y);
            }
        }

        #[test]
        fn mul_equals_the_reference_on_every_pair(
            (s1, s2, so) in (scale(), scale(), scale()),
            (z1, z2, zo) in (-128i32..=127, -128i32..=127, -128i32..=127),
        ) {
            let p = MulParams::prepare(s1, z1, s2, z2, so, zo, (-128, 127));
            for a in i8::MIN..=i8::MAX {
                for b in i8::MIN..=i8::MAX {
                    prop_assert_eq!(mul(&p, a, b), p.apply(a, b), "{:?} {} {}", p, a, b);
                }
            }
        }
    }
}
