//! Int8 inner products, one implementation per target (chosen at compile time).
//!
//! `dot(x, w)` is `Σ x[i]·w[i]` over the common length in wrapping `i32`
//! arithmetic, and `dot_2x2` is the four products of two inputs by two
//! weight rows (a 2×2 register block, as a GEMM micro-kernel: each loaded
//! word is used twice). Integer addition is associative, so every
//! implementation gives the reference loop's sum exactly; the order of the
//! products differs (`SMLAD` pairs even and odd bytes, SIMD sums lanes).
#![allow(unsafe_code)]

/// `Σ x[i]·w[i]` over `min(x.len(), w.len())` elements.
#[inline]
pub fn dot(x: &[i8], w: &[i8]) -> i32 {
    imp::dot(x, w)
}

/// `[x0·w0, x0·w1, x1·w0, x1·w1]`; all four slices have the same length.
#[inline]
pub fn dot_2x2(x0: &[i8], x1: &[i8], w0: &[i8], w1: &[i8]) -> [i32; 4] {
    imp::dot_2x2(x0, x1, w0, w1)
}

/// Capacity of a [`FilterPair`]'s widened copy in words: two filters of up
/// to this many taps (on Armv7E-M; 1.5 KiB of stack).
pub const PAIR_WORDS: usize = 384;

/// Two output channels' filters (`kh` rows of `f_row` bytes each), set up
/// once for [`run`](Self::run) over every pixel of a layer.
///
/// On Armv7E-M the filters are widened into a copy on the stack, each group
/// of four taps as four words `[w0 even, w0 odd, w1 even, w1 odd]` (the
/// halfword pairs `SXTB16` makes of an input word), so the inner loop loads
/// them ready for `SMLAD` and only the inputs are extended: 18 instructions
/// per 16 MACs, the accumulators in registers. A kernel row whose length is
/// not a multiple of four is padded with zero weights to whole groups (the
/// input bytes read past the row are multiplied by zero), so there is no
/// tail loop; windows too near the end of the input for that read run the
/// byte-wise form.
pub struct FilterPair<'a> {
    w0: &'a [i8],
    w1: &'a [i8],
    kh: usize,
    f_row: usize,
    #[cfg(all(feature = "dsp", target_arch = "arm"))]
    wide: imp::Widened,
}

impl<'a> FilterPair<'a> {
    pub fn new() -> Self {
        FilterPair {
            w0: &[],
            w1: &[],
            kh: 0,
            f_row: 0,
            #[cfg(all(feature = "dsp", target_arch = "arm"))]
            wide: imp::Widened::new(),
        }
    }

    /// Takes filters `w0` and `w1` (at least `kh·f_row` bytes each).
    pub fn load(&mut self, w0: &'a [i8], w1: &'a [i8], kh: usize, f_row: usize) {
        let n = kh * f_row;
        (self.w0, self.w1, self.kh, self.f_row) = (&w0[..n], &w1[..n], kh, f_row);
        #[cfg(all(feature = "dsp", target_arch = "arm"))]
        imp::widen(self);
    }

    /// `[x_a·w0, x_a·w1, x_b·w0, x_b·w1]` summed over the filters' rows, the
    /// windows at input offsets `a` and `b` and each row `row_step` further.
    #[inline(always)]
    pub fn dot_2x2(&self, input: &[i8], a: usize, b: usize, row_step: usize) -> [i32; 4] {
        let mut acc = [0i32; 4];
        for ky in 0..self.kh {
            let (xa, xb) = (&input[a + ky * row_step..][..self.f_row], &input[b + ky * row_step..][..self.f_row]);
            let (w0, w1) = (&self.w0[ky * self.f_row..][..self.f_row], &self.w1[ky * self.f_row..][..self.f_row]);
            let d = dot_2x2(xa, xb, w0, w1);
            for (s, v) in acc.iter_mut().zip(d) {
                *s = s.wrapping_add(v);
            }
        }
        acc
    }

    /// A run of pixels: `a0[i]` and `a1[i]` are `f0`/`f1` plus the window at
    /// input offset `x + i·step` (rows `row_step` apart) against `w0`/`w1`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn run(
        &self,
        input: &[i8],
        x: usize,
        step: usize,
        row_step: usize,
        (f0, f1): (i32, i32),
        a0: &mut [i32],
        a1: &mut [i32],
    ) {
        let n = a0.len().min(a1.len());
        if n == 0 {
            return;
        }
        #[cfg(all(feature = "dsp", target_arch = "arm"))]
        if self.wide.written() > 0 {
            let wide = &self.wide;
            // The last window's last byte: every other window ends before it.
            // (read as whole groups of four taps)
            let end = (n - 1)
                .checked_mul(step)
                .and_then(|o| o.checked_add(x))
                .and_then(|o| o.checked_add((self.kh - 1) * row_step + 4 * self.f_row.div_ceil(4)));
            if end.is_some_and(|e| e <= input.len()) {
                return imp::run_wide(self, wide, input, x, step, row_step, (f0, f1), &mut a0[..n], &mut a1[..n]);
            }
        }
        let mut i = 0;
        while i + 2 <= n {
            let a = x + i * step;
            let d = self.dot_2x2(input, a, a + step, row_step);
            (a0[i], a0[i + 1]) = (f0.wrapping_add(d[0]), f0.wrapping_add(d[2]));
            (a1[i], a1[i + 1]) = (f1.wrapping_add(d[1]), f1.wrapping_add(d[3]));
            i += 2;
        }
        if i < n {
            let a = x + i * step;
            let d = self.dot_2x2(input, a, a, row_step);
            (a0[i], a1[i]) = (f0.wrapping_add(d[0]), f1.wrapping_add(d[1]));
        }
    }
}

impl Default for FilterPair<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// Channels a depthwise accumulator block holds: what fits the target's registers.
#[cfg(target_arch = "arm")]
pub const LANES: usize = 4;
#[cfg(not(target_arch = "arm"))]
pub const LANES: usize = 16;

/// `acc[l] += x[l]·w[l]` for each of the [`LANES`] lanes (a depthwise tap over a block of channels).
#[inline]
pub fn mac_lanes(acc: &mut [i32; LANES], x: &[i8], w: &[i8]) {
    imp::mac_lanes(acc, x, w)
}

/// Offsets of a window's taps from its origin, with their maximum (so one
/// bounds check covers every tap).
#[derive(Clone, Copy, Debug)]
pub struct Taps<const T: usize> {
    pub at: [usize; T],
    pub max: usize,
}

impl<const T: usize> Taps<T> {
    pub fn new(at: [usize; T]) -> Self {
        Self { at, max: at.iter().copied().max().unwrap_or(0) }
    }
}

/// `acc[l] += Σ_t x[xb + xt.at[t] + l]·w[wb + wt.at[t] + l]` for each of the
/// [`LANES`] lanes: a depthwise pixel's whole window over one block of channels.
#[inline(always)]
pub fn mac_taps<const T: usize>(
    acc: &mut [i32; LANES],
    x: &[i8],
    xb: usize,
    xt: &Taps<T>,
    w: &[i8],
    wb: usize,
    wt: &Taps<T>,
) {
    #[cfg(all(feature = "dsp", target_arch = "arm"))]
    {
        // Checked sums: the unchecked reads rely on this test, so it must not
        // wrap (every tap offset is at most `max`).
        let fits = |b: usize, max: usize, len: usize| {
            b.checked_add(max).and_then(|e| e.checked_add(LANES)).is_some_and(|e| e <= len)
        };
        if fits(xb, xt.max, x.len()) && fits(wb, wt.max, w.len()) {
            return imp::mac_taps_checked(acc, x, xb, xt, w, wb, wt);
        }
    }
    for t in 0..T {
        imp::mac_lanes(acc, &x[xb + xt.at[t]..], &w[wb + wt.at[t]..]);
    }
}

/// The plain form: LLVM vectorizes it where the target has vectors (SSE2
/// `pmaddwd` on x86-64), and it is the tail of the other forms.
#[allow(dead_code)]
mod portable {
    #[inline(always)]
    pub fn dot(x: &[i8], w: &[i8]) -> i32 {
        let mut acc = 0i32;
        for (&a, &b) in x.iter().zip(w) {
            acc = acc.wrapping_add(a as i32 * b as i32);
        }
        acc
    }

    #[inline(always)]
    pub fn dot_2x2(x0: &[i8], x1: &[i8], w0: &[i8], w1: &[i8]) -> [i32; 4] {
        let n = x0.len().min(x1.len()).min(w0.len()).min(w1.len());
        let (x0, x1, w0, w1) = (&x0[..n], &x1[..n], &w0[..n], &w1[..n]);
        let mut acc = [0i32; 4];
        for i in 0..n {
            let (a, b) = (x0[i] as i32, x1[i] as i32);
            let (u, v) = (w0[i] as i32, w1[i] as i32);
            acc[0] = acc[0].wrapping_add(a * u);
            acc[1] = acc[1].wrapping_add(a * v);
            acc[2] = acc[2].wrapping_add(b * u);
            acc[3] = acc[3].wrapping_add(b * v);
        }
        acc
    }

    #[inline(always)]
    pub fn mac_lanes(acc: &mut [i32; super::LANES], x: &[i8], w: &[i8]) {
        let (x, w) = (&x[..super::LANES], &w[..super::LANES]);
        for l in 0..super::LANES {
            acc[l] = acc[l].wrapping_add(x[l] as i32 * w[l] as i32);
        }
    }
}

#[cfg(not(any(
    all(feature = "dsp", target_arch = "arm"),
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
use portable as imp;

/// Armv7E-M (Cortex-M4/M7): four int8 per word, `SXTB16` sign-extends the
/// even and (rotated by 8) odd bytes into two halfwords, and `SMLAD` adds both
/// halfword products to the accumulator: 4 MACs per 2 loads + 4 extends + 2 MACs.
#[cfg(all(feature = "dsp", target_arch = "arm"))]
mod imp {
    use core::arch::asm;

    // The text shared by the two pair loops (`run_rows1`, `rows_pairs`),
    // whose registers are: r0 pixel pointer, r1 pixel step, r2 and r4 the
    // input words, r5 and r8 their even halves, r3 the widened filters, r6
    // the group counter, r9–r12 the accumulators (pixel 0's filters 0 and 1,
    // pixel 1's), lr and r7 a filter's two weight words (lr also the pair
    // loop's scratch); the state words below the stack pointer are the
    // folded biases (0, 4), the filters' address (8), the group count (12),
    // the output pointer (16), its end (20) and the input step to the next
    // pair (24).

    /// Copies the state words at r2 to the stack pointer, two at a time (one
    /// offset per pair of words).
    macro_rules! copy_state {
        ($($at:literal),*) => {
            concat!($("ldrd r4, r5, [r2, #", $at, "]\n", "strd r4, r5, [sp, #", $at, "]\n"),*)
        };
    }

    /// One kernel row's groups of four taps, both pixels against both
    /// filters (18 instructions per 16 MACs: each filter's two widened words
    /// in one `LDRD`).
    macro_rules! groups_loop {
        () => {
            concat!(
                "4:\n",
                "ldr r4, [r0, r1]\n",
                "ldr r2, [r0], #4\n",
                "ldrd lr, r7, [r3], #8\n",
                "sxtb16 r5, r2\n",
                "sxtb16 r8, r4\n",
                "smlad r9, r5, lr, r9\n",
                "smlad r11, r8, lr, r11\n",
                "sxtb16 r2, r2, ror #8\n",
                "sxtb16 r4, r4, ror #8\n",
                "smlad r9, r2, r7, r9\n",
                "smlad r11, r4, r7, r11\n",
                "ldrd lr, r7, [r3], #8\n",
                "smlad r10, r5, lr, r10\n",
                "smlad r12, r8, lr, r12\n",
                "smlad r10, r2, r7, r10\n",
                "smlad r12, r4, r7, r12\n",
                "subs r6, r6, #1\n",
                "bne 4b\n",
            )
        };
    }

    /// Filter 1's accumulators of both pixels (`{a1}` bytes on), then
    /// filter 0's, stepping the output pointer; the next pair's input; back
    /// to label 3 while the output pointer is short of its end.
    macro_rules! store_pair {
        () => {
            concat!(
                "ldr lr, [sp, #16]\n",
                "strd r10, r12, [lr, #{a1}]\n",
                "strd r9, r11, [lr], #8\n",
                "str lr, [sp, #16]\n",
                "ldrd r4, r5, [sp, #20]\n",
                "add r0, r0, r5\n",
                "cmp lr, r4\n",
                "bne 3b\n",
            )
        };
    }

    #[inline(always)]
    fn word(c: &[i8]) -> u32 {
        let c = &c[..4];
        // One (unaligned) LDR: Armv7-M allows unaligned word loads. Written
        // as a byte array, LLVM kept four LDRBs and three ORRs in the
        // depthwise kernel's loop.
        // SAFETY: `c` holds four bytes; any four bytes are a valid `u32`.
        u32::from_le(unsafe { core::ptr::read_unaligned(c.as_ptr().cast::<u32>()) })
    }

    /// Bytes 0 and 2 sign-extended into the two halfwords.
    #[inline(always)]
    fn even(x: u32) -> u32 {
        let r: u32;
        // SAFETY: register-only arithmetic, no memory or stack access.
        unsafe { asm!("sxtb16 {0}, {1}", out(reg) r, in(reg) x, options(pure, nomem, nostack, preserves_flags)) };
        r
    }

    /// Bytes 1 and 3 sign-extended into the two halfwords.
    #[inline(always)]
    fn odd(x: u32) -> u32 {
        let r: u32;
        // SAFETY: register-only arithmetic, no memory or stack access.
        unsafe {
            asm!("sxtb16 {0}, {1}, ror #8", out(reg) r, in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }

    /// `acc + a.lo·b.lo + a.hi·b.hi` (halfwords signed; the sum wraps, only the Q flag notes overflow).
    #[inline(always)]
    fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: register-only arithmetic (SMLAD may set the Q flag, which nothing here reads).
        unsafe {
            asm!("smlad {0}, {1}, {2}, {3}", out(reg) r, in(reg) a, in(reg) b, in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    #[inline(always)]
    pub fn dot(x: &[i8], w: &[i8]) -> i32 {
        let n = x.len().min(w.len());
        let (x, w) = (&x[..n], &w[..n]);
        let mut acc = 0i32;
        let (xc, wc) = (x.chunks_exact(4), w.chunks_exact(4));
        let (xt, wt) = (xc.remainder(), wc.remainder());
        for (a, b) in xc.zip(wc) {
            let (a, b) = (word(a), word(b));
            acc = smlad(even(a), even(b), acc);
            acc = smlad(odd(a), odd(b), acc);
        }
        acc.wrapping_add(super::portable::dot(xt, wt))
    }

    #[inline(always)]
    pub fn dot_2x2(x0: &[i8], x1: &[i8], w0: &[i8], w1: &[i8]) -> [i32; 4] {
        let n = x0.len().min(x1.len()).min(w0.len()).min(w1.len());
        let (x0, x1, w0, w1) = (&x0[..n], &x1[..n], &w0[..n], &w1[..n]);
        let main = n & !3;
        let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
        let (c0, c1) = (x0[..main].chunks_exact(4), x1[..main].chunks_exact(4));
        let (c2, c3) = (w0[..main].chunks_exact(4), w1[..main].chunks_exact(4));
        for (((a, b), u), v) in c0.zip(c1).zip(c2).zip(c3) {
            let (u, v) = (word(u), word(v));
            let (ue, uo, ve, vo) = (even(u), odd(u), even(v), odd(v));
            let a = word(a);
            let (ae, ao) = (even(a), odd(a));
            a0 = smlad(ao, uo, smlad(ae, ue, a0));
            a1 = smlad(ao, vo, smlad(ae, ve, a1));
            let b = word(b);
            let (be, bo) = (even(b), odd(b));
            a2 = smlad(bo, uo, smlad(be, ue, a2));
            a3 = smlad(bo, vo, smlad(be, ve, a3));
        }
        if main == n {
            return [a0, a1, a2, a3];
        }
        let t = super::portable::dot_2x2(&x0[main..], &x1[main..], &w0[main..], &w1[main..]);
        [a0.wrapping_add(t[0]), a1.wrapping_add(t[1]), a2.wrapping_add(t[2]), a3.wrapping_add(t[3])]
    }

    /// A pair's widened filters: the first `len` words written by
    /// [`widen`], the rest never read — and never cleared (clearing the
    /// 1.5 KiB cost every kernel call about 1,100 instructions, paid once
    /// per patch). Read only through [`as_ptr`](Self::as_ptr), within `len`.
    pub struct Widened {
        words: core::mem::MaybeUninit<[u32; super::PAIR_WORDS]>,
        len: usize,
    }

    impl Widened {
        pub const fn new() -> Self {
            Widened { words: core::mem::MaybeUninit::uninit(), len: 0 }
        }

        /// Words written; 0 when the filters did not fit.
        pub fn written(&self) -> usize {
            self.len
        }

        pub fn as_ptr(&self) -> *const u32 {
            self.words.as_ptr().cast()
        }

        /// Writes group `n` (words `4n..4n + 4`).
        ///
        /// # Safety
        /// `n < PAIR_WORDS / 4`.
        #[inline(always)]
        unsafe fn set(&mut self, n: usize, group: [u32; 4]) {
            debug_assert!(n < super::PAIR_WORDS / 4);
            // SAFETY: the caller's contract keeps the group inside the
            // array; writing a `MaybeUninit`'s bytes initializes them.
            unsafe { self.words.as_mut_ptr().cast::<[u32; 4]>().add(n).write(group) };
        }
    }

    /// Fills the pair's widened copy, or leaves it empty when the filters
    /// do not fit (the pair then reads them as bytes).
    pub fn widen(p: &mut super::FilterPair) {
        let groups = p.f_row.div_ceil(4);
        if p.kh * groups * 4 > super::PAIR_WORDS || groups == 0 {
            p.wide.len = 0;
            return;
        }
        let main = p.f_row & !3;
        // Each word's two halfword pairs are what `SXTB16` makes of it.
        let group = |u: u32, v: u32| [even(u), odd(u), even(v), odd(v)];
        // `load` cut both filters to `kh` rows: `kh·groups` groups in all,
        // at most `PAIR_WORDS / 4` (checked above).
        let mut n = 0;
        for (u, v) in p.w0.chunks_exact(p.f_row).zip(p.w1.chunks_exact(p.f_row)) {
            for (u, v) in u[..main].chunks_exact(4).zip(v[..main].chunks_exact(4)) {
                // SAFETY: n < kh·groups ≤ PAIR_WORDS / 4 (above).
                unsafe { p.wide.set(n, group(word(u), word(v))) };
                n += 1;
            }
            if main < p.f_row {
                // The row's last taps, padded with zero weights to a group
                // (byte by byte: `copy_from_slice` called memcpy for 1–3 bytes).
                let (mut u4, mut v4) = ([0i8; 4], [0i8; 4]);
                for k in 0..p.f_row - main {
                    (u4[k], v4[k]) = (u[main + k], v[main + k]);
                }
                // SAFETY: as above.
                unsafe { p.wide.set(n, group(word(&u4), word(&v4))) };
                n += 1;
            }
        }
        p.wide.len = 4 * n;
    }

    /// [`super::FilterPair::run`] once every window's rows, read as whole
    /// groups of four taps (`4·⌈f_row/4⌉` bytes, the padding weights zero),
    /// are known to lie inside `input`: two pixels at a time, each kernel
    /// row four taps a step in one `asm!` block (two input words, four
    /// extends, four widened weights, eight `SMLAD`s). Not inlined: its
    /// registers are its own (inlined, the caller's state spilled around
    /// the loop).
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    pub fn run_wide(
        p: &super::FilterPair,
        wide: &Widened,
        input: &[i8],
        x: usize,
        step: usize,
        row_step: usize,
        (f0, f1): (i32, i32),
        a0: &mut [i32],
        a1: &mut [i32],
    ) {
        let n = a0.len().min(a1.len());
        let groups = p.f_row.div_ceil(4);
        debug_assert!(p.kh * groups * 4 <= wide.written() && n > 0);
        debug_assert!(x + (n - 1) * step + (p.kh - 1) * row_step + 4 * groups <= input.len());
        if p.kh == 1 {
            return run_rows1(wide, groups, input, x, step, (f0, f1), a0, a1);
        }
        let (a0, a1) = (&mut a0[..n], &mut a1[..n]);
        let mut at = x;
        let pairs = n / 2;
        let adjacent = a1.as_ptr() as usize == a0.as_ptr() as usize + A1_OFFSET;
        if pairs > 0 && groups > 0 && adjacent {
            // SAFETY: as for `run_rows1`'s loop, each pair reading `kh` rows
            // of `4·groups` bytes `row_step` apart (the caller checked the
            // last window's last row).
            unsafe {
                rows_pairs(wide, groups, p.kh, input.as_ptr().add(at), step, row_step, (f0, f1), a0.as_mut_ptr(), pairs)
            };
            at += 2 * pairs * step;
        }
        let done = if adjacent { 2 * pairs } else { 0 };
        let (a0, a1) = (&mut a0[done..], &mut a1[done..]);
        for (o0, o1) in a0.chunks_mut(2).zip(a1.chunks_mut(2)) {
            let (mut c0, mut c1, mut c2, mut c3) = (f0, f1, f0, f1);
            let mut wp = wide.as_ptr();
            // A pair, or a last odd pixel on its own (as a pair with itself
            // it cost twice its MACs, on a patch's odd rows once per row).
            let pair = o0.len() == 2;
            for ky in 0..p.kh {
                // SAFETY: the caller checked that the last window's last row,
                // read as whole groups, ends inside `input`; rows of windows
                // `i` and `i + 1` (at `row` and `row + step`) come before it.
                // `wp` walks the `kh·groups·4` words `widen` wrote
                // (≤ PAIR_WORDS). LDR may be unaligned on Armv7-M; the rest
                // is register arithmetic.
                unsafe {
                    let mut xp = input.as_ptr().add(at + ky * row_step);
                    for _ in 0..groups {
                        if pair {
                            group(&mut xp, &mut wp, step, [&mut c0, &mut c1, &mut c2, &mut c3]);
                        } else {
                            group1(&mut xp, &mut wp, [&mut c0, &mut c1]);
                        }
                    }
                }
            }
            o0[0] = c0;
            o1[0] = c1;
            if pair {
                o0[1] = c2;
                o1[1] = c3;
            }
            at += 2 * step;
        }
    }

    /// [`run_wide`]'s pixel pairs for filters of `kh > 1` rows, as one `asm!`
    /// loop ([`run_rows1`]'s, with a loop over the kernel rows: each row's
    /// groups, then the input pointer on to the next row): the pair's
    /// accumulators are written to `o0` (filter 0) and `o0 + A1_OFFSET`
    /// bytes (filter 1).
    ///
    /// # Safety
    /// Pair `i`'s windows start at `x + 2i·step` and `+ step`; every row of
    /// them, read as `4·groups` bytes `row_step` apart, must be readable;
    /// `wide` holds `kh·groups` groups; `o0` has `2·pairs` words and so does
    /// `o0 + A1_OFFSET` bytes.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn rows_pairs(
        wide: &Widened,
        groups: usize,
        kh: usize,
        x: *const i8,
        step: usize,
        row_step: usize,
        (f0, f1): (i32, i32),
        o0: *mut i32,
        pairs: usize,
    ) {
        let state: [u32; 10] = [
            f0 as u32,
            f1 as u32,
            wide.as_ptr() as u32,
            groups as u32,
            o0 as u32,
            o0.wrapping_add(2 * pairs) as u32,
            (2 * step).wrapping_sub(kh * row_step) as u32,
            0, // rows left in this pair
            row_step.wrapping_sub(4 * groups) as u32,
            kh as u32,
        ];
        // SAFETY: the caller's contract; registers as in `run_rows1`.
        unsafe {
            asm!(
                "push {{r6, r7}}",
                "sub sp, sp, #40",
                copy_state!(0, 8, 16, 24, 32),
                // A pair: accumulators from the folded biases, the filters' address, `kh` rows to go.
                "3:",
                "ldrd r9, r10, [sp, #0]",
                "mov r11, r9",
                "mov r12, r10",
                "ldr r3, [sp, #8]",
                "ldr lr, [sp, #36]",
                "str lr, [sp, #28]",
                // A kernel row: its groups of four taps.
                "5:",
                "ldr r6, [sp, #12]",
                groups_loop!(),
                // The next kernel row of both windows.
                "ldr lr, [sp, #32]",
                "add r0, r0, lr",
                "ldr lr, [sp, #28]",
                "subs lr, lr, #1",
                "str lr, [sp, #28]",
                "bne 5b",
                // Store as `run_rows1` does; the next pair's input.
                store_pair!(),
                "add sp, sp, #40",
                "pop {{r6, r7}}",
                a1 = const A1_OFFSET,
                inout("r0") x => _,
                in("r1") step,
                inout("r2") state.as_ptr() => _,
                out("r3") _,
                out("r4") _,
                out("r5") _,
                out("r8") _,
                out("r9") _,
                out("r10") _,
                out("r11") _,
                out("r12") _,
                out("lr") _,
            );
        }
    }

    /// Four taps of two pixels (`*xp`, `*xp + off`) against two filters'
    /// widened words at `*wp`, both pointers stepped past them.
    ///
    /// # Safety
    /// Four bytes at `*xp` and at `*xp + off`, and four words at `*wp`, must be readable.
    #[inline(always)]
    unsafe fn group(xp: &mut *const i8, wp: &mut *const u32, off: usize, c: [&mut i32; 4]) {
        let [c0, c1, c2, c3] = c;
        // SAFETY: the caller's contract; the rest is register arithmetic.
        unsafe {
            asm!(
                "ldr {b}, [{x}, {off}]",
                "ldr {a}, [{x}], #4",
                "ldr {w}, [{wp}], #4",
                "sxtb16 {ae}, {a}",
                "sxtb16 {be}, {b}",
                "smlad {c0}, {ae}, {w}, {c0}",
                "smlad {c2}, {be}, {w}, {c2}",
                "ldr {w}, [{wp}], #4",
                "sxtb16 {a}, {a}, ror #8",
                "sxtb16 {b}, {b}, ror #8",
                "smlad {c0}, {a}, {w}, {c0}",
                "smlad {c2}, {b}, {w}, {c2}",
                "ldr {w}, [{wp}], #4",
                "smlad {c1}, {ae}, {w}, {c1}",
                "smlad {c3}, {be}, {w}, {c3}",
                "ldr {w}, [{wp}], #4",
                "smlad {c1}, {a}, {w}, {c1}",
                "smlad {c3}, {b}, {w}, {c3}",
                x = inout(reg) *xp,
                wp = inout(reg) *wp,
                off = in(reg) off,
                a = out(reg) _,
                b = out(reg) _,
                ae = out(reg) _,
                be = out(reg) _,
                w = out(reg) _,
                c0 = inout(reg) *c0,
                c1 = inout(reg) *c1,
                c2 = inout(reg) *c2,
                c3 = inout(reg) *c3,
                options(readonly, nostack),
            );
        }
    }

    /// [`group`] for one pixel: four taps at `*xp` against both filters'
    /// widened words at `*wp`, both pointers stepped past them.
    ///
    /// # Safety
    /// Four bytes at `*xp` and four words at `*wp` must be readable.
    #[inline(always)]
    unsafe fn group1(xp: &mut *const i8, wp: &mut *const u32, c: [&mut i32; 2]) {
        let [c0, c1] = c;
        // SAFETY: the caller's contract; the rest is register arithmetic.
        unsafe {
            asm!(
                "ldr {a}, [{x}], #4",
                "ldrd {w}, {v}, [{wp}], #8",
                "sxtb16 {ae}, {a}",
                "sxtb16 {a}, {a}, ror #8",
                "smlad {c0}, {ae}, {w}, {c0}",
                "smlad {c0}, {a}, {v}, {c0}",
                "ldrd {w}, {v}, [{wp}], #8",
                "smlad {c1}, {ae}, {w}, {c1}",
                "smlad {c1}, {a}, {v}, {c1}",
                x = inout(reg) *xp,
                wp = inout(reg) *wp,
                a = out(reg) _,
                ae = out(reg) _,
                w = out(reg) _,
                v = out(reg) _,
                c0 = inout(reg) *c0,
                c1 = inout(reg) *c1,
                options(readonly, nostack),
            );
        }
    }

    /// Where filter 1's accumulators lie after filter 0's in a kernel's run
    /// (`[[i32; RUN]; 2]`, see `conv`): the pair loop stores both with one
    /// pointer.
    const A1_OFFSET: usize = super::super::requant::RUN * 4;

    /// [`run_wide`] for a filter of one row (every 1×1 convolution): the
    /// pixel pairs in one `asm!` loop, the odd last pixel after it. The
    /// inner loop (18 instructions for 16 MACs: each filter's two widened
    /// words in one `LDRD`) takes fourteen registers (two pointers, the pixel
    /// step, a counter, four accumulators, four temporaries and two weight
    /// words, r6 and r7 among them, saved and restored), so
    /// the pair loop keeps its own state — the folded biases, the widened
    /// filters' address, the group count, the output pointer and its end,
    /// and the input step to the next pair — in eight words below the stack
    /// pointer, and stores filter 1's accumulators at a constant offset from
    /// filter 0's ([`A1_OFFSET`]; other layouts take the loop written in
    /// Rust). Written by the compiler, the pair loop spilled and reloaded
    /// its state: 27 instructions a pair around the inner loop, 12 here.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn run_rows1(
        wide: &Widened,
        groups: usize,
        input: &[i8],
        x: usize,
        step: usize,
        (f0, f1): (i32, i32),
        a0: &mut [i32],
        a1: &mut [i32],
    ) {
        let n = a0.len().min(a1.len());
        // SAFETY: as in `run_wide` (the caller checked that the last window,
        // `x + (n − 1)·step + 4·groups`, ends inside `input`); the pair loop
        // writes `a0`/`a1` at `2i` and `2i + 1` for `2i + 1 < n`, the odd
        // last pixel at `n − 1`.
        unsafe {
            let (mut o0, mut o1) = (a0.as_mut_ptr(), a1.as_mut_ptr());
            let mut at = input.as_ptr().add(x);
            let pairs = n / 2;
            // The accumulators of a kernel's run lie one after the other
            // (`[[i32; RUN]; 2]`): filter 1's at a constant offset from filter 0's.
            let adjacent = a1.as_ptr() as usize == a0.as_ptr() as usize + A1_OFFSET;
            if pairs > 0 && groups > 0 && adjacent {
                // The pair loop's state, copied below the stack pointer by the loop itself.
                let state: [u32; 8] = [
                    f0 as u32,
                    f1 as u32,
                    wide.as_ptr() as u32,
                    groups as u32,
                    o0 as u32,
                    o0.add(2 * pairs) as u32,
                    (2 * step).wrapping_sub(4 * groups) as u32,
                    0,
                ];
                let mut xp = at;
                // Registers named in full (see the macros above): `asm!` may
                // give r6 out as an operand (though it cannot be named as
                // one), and the loop needs it and r7 besides the operands,
                // saved and restored.
                asm!(
                    "push {{r6, r7}}",
                    "sub sp, sp, #32",
                    copy_state!(0, 8, 16, 24),
                    // A pair of pixels: both accumulators of each start from
                    // the folded biases; the filters' address and group count.
                    "3:",
                    "ldrd r9, r10, [sp, #0]",
                    "mov r11, r9",
                    "mov r12, r10",
                    "ldrd r3, r6, [sp, #8]",
                    groups_loop!(),
                    store_pair!(),
                    "add sp, sp, #32",
                    "pop {{r6, r7}}",
                    a1 = const A1_OFFSET,
                    inout("r0") xp,
                    in("r1") step,
                    inout("r2") state.as_ptr() => _,
                    out("r3") _,
                    out("r4") _,
                    out("r5") _,
                    out("r8") _,
                    out("r9") _,
                    out("r10") _,
                    out("r11") _,
                    out("r12") _,
                    out("lr") _,
                );
                at = xp;
                (o0, o1) = (o0.add(2 * pairs), o1.add(2 * pairs));
            } else {
                for _ in 0..pairs {
                    let (mut c0, mut c1, mut c2, mut c3) = (f0, f1, f0, f1);
                    let (mut xp, mut wp) = (at, wide.as_ptr());
                    for _ in 0..groups {
                        group(&mut xp, &mut wp, step, [&mut c0, &mut c1, &mut c2, &mut c3]);
                    }
                    (*o0, *o0.add(1), *o1, *o1.add(1)) = (c0, c2, c1, c3);
                    (o0, o1) = (o0.add(2), o1.add(2));
                    at = at.add(2 * step);
                }
            }
            if n % 2 == 1 {
                let (mut c0, mut c1) = (f0, f1);
                let (mut xp, mut wp) = (at, wide.as_ptr());
                for _ in 0..groups {
                    group1(&mut xp, &mut wp, [&mut c0, &mut c1]);
                }
                (*o0, *o1) = (c0, c1);
            }
        }
    }

    /// `acc + a.lo·b.lo` (bottom halfwords, signed).
    #[inline(always)]
    fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: register-only arithmetic.
        unsafe {
            asm!("smlabb {0}, {1}, {2}, {3}", out(reg) r, in(reg) a, in(reg) b, in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// `acc + a.hi·b.hi` (top halfwords, signed).
    #[inline(always)]
    fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: register-only arithmetic.
        unsafe {
            asm!("smlatt {0}, {1}, {2}, {3}", out(reg) r, in(reg) a, in(reg) b, in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// [`super::mac_taps`] once its bounds are checked: every tap's word
    /// read with one unaligned LDR, no check between them.
    #[inline(always)]
    pub fn mac_taps_checked<const T: usize>(
        acc: &mut [i32; super::LANES],
        x: &[i8],
        xb: usize,
        xt: &super::Taps<T>,
        w: &[i8],
        wb: usize,
        wt: &super::Taps<T>,
    ) {
        debug_assert!(xb + xt.max + super::LANES <= x.len() && wb + wt.max + super::LANES <= w.len());
        let (xp, wp) = (x.as_ptr(), w.as_ptr());
        let (mut a0, mut a1, mut a2, mut a3) = (acc[0], acc[1], acc[2], acc[3]);
        for t in 0..T {
            // One tap as one block, so that LLVM keeps the taps in order
            // (unrolled and regrouped by lane, it spilled every word to the
            // stack): two word loads, four extends, four halfword MACs.
            // SAFETY: the caller checked `xb + max(xt) + 4 <= x.len()` and the
            // same for `w`, so each four-byte read is inside its slice (LDR
            // may be unaligned on Armv7-M); the rest is register arithmetic.
            unsafe {
                asm!(
                    "ldr {a}, [{xp}]",
                    "ldr {b}, [{wp}]",
                    "sxtb16 {ae}, {a}",
                    "sxtb16 {be}, {b}",
                    "sxtb16 {a}, {a}, ror #8",
                    "sxtb16 {b}, {b}, ror #8",
                    "smlabb {a0}, {ae}, {be}, {a0}",
                    "smlatt {a2}, {ae}, {be}, {a2}",
                    "smlabb {a1}, {a}, {b}, {a1}",
                    "smlatt {a3}, {a}, {b}, {a3}",
                    xp = in(reg) xp.add(xb + xt.at[t]),
                    wp = in(reg) wp.add(wb + wt.at[t]),
                    a = out(reg) _,
                    b = out(reg) _,
                    ae = out(reg) _,
                    be = out(reg) _,
                    a0 = inout(reg) a0,
                    a1 = inout(reg) a1,
                    a2 = inout(reg) a2,
                    a3 = inout(reg) a3,
                    options(pure, readonly, nostack),
                );
            }
        }
        *acc = [a0, a1, a2, a3];
    }

    /// Four channels per word: even bytes are lanes 0 and 2, odd bytes lanes 1 and 3.
    #[inline(always)]
    pub fn mac_lanes(acc: &mut [i32; super::LANES], x: &[i8], w: &[i8]) {
        let (a, b) = (word(&x[..4]), word(&w[..4]));
        let (ae, be, ao, bo) = (even(a), even(b), odd(a), odd(b));
        acc[0] = smlabb(ae, be, acc[0]);
        acc[2] = smlatt(ae, be, acc[2]);
        acc[1] = smlabb(ao, bo, acc[1]);
        acc[3] = smlatt(ao, bo, acc[3]);
    }
}

/// wasm32 with `simd128`: 16 int8 per vector, widened to two `i16x8`, and
/// `i32x4.dot_i16x8_s` adds adjacent products into four `i32` lanes.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[inline(always)]
    fn load(c: &[i8]) -> v128 {
        debug_assert!(c.len() >= 16);
        // SAFETY: callers pass chunks of at least 16 bytes; v128_load has no alignment requirement.
        unsafe { v128_load(c.as_ptr() as *const v128) }
    }

    /// `acc + dot(a, b)` lane-wise over the 16 int8 of each vector.
    #[inline(always)]
    fn mac(acc: v128, a: v128, b: v128) -> v128 {
        let lo = i32x4_dot_i16x8(i16x8_extend_low_i8x16(a), i16x8_extend_low_i8x16(b));
        let hi = i32x4_dot_i16x8(i16x8_extend_high_i8x16(a), i16x8_extend_high_i8x16(b));
        i32x4_add(acc, i32x4_add(lo, hi))
    }

    #[inline(always)]
    fn sum(v: v128) -> i32 {
        i32x4_extract_lane::<0>(v)
            .wrapping_add(i32x4_extract_lane::<1>(v))
            .wrapping_add(i32x4_extract_lane::<2>(v))
            .wrapping_add(i32x4_extract_lane::<3>(v))
    }

    #[inline(always)]
    pub fn dot(x: &[i8], w: &[i8]) -> i32 {
        let n = x.len().min(w.len());
        let main = n & !15;
        let mut acc = i32x4_splat(0);
        let mut i = 0;
        while i < main {
            acc = mac(acc, load(&x[i..i + 16]), load(&w[i..i + 16]));
            i += 16;
        }
        sum(acc).wrapping_add(super::portable::dot(&x[main..n], &w[main..n]))
    }

    #[inline(always)]
    pub fn dot_2x2(x0: &[i8], x1: &[i8], w0: &[i8], w1: &[i8]) -> [i32; 4] {
        let n = x0.len().min(x1.len()).min(w0.len()).min(w1.len());
        let main = n & !15;
        let mut acc = [i32x4_splat(0); 4];
        let mut i = 0;
        while i < main {
            let (u, v) = (load(&w0[i..i + 16]), load(&w1[i..i + 16]));
            let (a, b) = (load(&x0[i..i + 16]), load(&x1[i..i + 16]));
            acc[0] = mac(acc[0], a, u);
            acc[1] = mac(acc[1], a, v);
            acc[2] = mac(acc[2], b, u);
            acc[3] = mac(acc[3], b, v);
            i += 16;
        }
        let t = super::portable::dot_2x2(&x0[main..n], &x1[main..n], &w0[main..n], &w1[main..n]);
        [0, 1, 2, 3].map(|k| sum(acc[k]).wrapping_add(t[k]))
    }

    // LLVM vectorizes the plain lane loop into i16x8/i32x4 multiplies.
    pub use super::portable::mac_lanes;
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn plain(x: &[i8], w: &[i8]) -> i32 {
        x.iter().zip(w).map(|(&a, &b)| a as i32 * b as i32).sum()
    }

    proptest! {
        #[test]
        fn dots_are_the_plain_sums(v in prop::collection::vec(any::<(i8, i8, i8, i8)>(), 0..80)) {
            let x0: Vec<i8> = v.iter().map(|t| t.0).collect();
            let x1: Vec<i8> = v.iter().map(|t| t.1).collect();
            let w0: Vec<i8> = v.iter().map(|t| t.2).collect();
            let w1: Vec<i8> = v.iter().map(|t| t.3).collect();
            prop_assert_eq!(dot(&x0, &w0), plain(&x0, &w0));
            let want = [plain(&x0, &w0), plain(&x0, &w1), plain(&x1, &w0), plain(&x1, &w1)];
            prop_assert_eq!(dot_2x2(&x0, &x1, &w0, &w1), want);
            if x0.len() >= LANES {
                let mut acc = [7i32; LANES];
                mac_lanes(&mut acc, &x0, &w0);
                let want: Vec<i32> = (0..LANES).map(|l| 7 + x0[l] as i32 * w0[l] as i32).collect();
                prop_assert_eq!(acc.to_vec(), want);
            }
        }
    }

    #[test]
    fn extremes_do_not_saturate() {
        // -128·-128, the largest int8 product, 67 times: main loop and tail, every lane.
        let x = [i8::MIN; 67];
        assert_eq!(dot(&x, &x), 67 * 16384);
        assert_eq!(dot_2x2(&x, &x, &x, &x), [67 * 16384; 4]);
    }
}
