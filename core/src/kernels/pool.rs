//! MAX_POOL_2D and AVERAGE_POOL_2D, int8. Padded positions are excluded
//! (the average divides by the number of valid taps). Computes `region` of
//! the output into a buffer holding window `ow`.

use super::clamp_i8;
use super::conv::Geometry;
use crate::region::{Rect, Window};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Average,
}

/// Whether the average divides in `f32` (vector lanes: wasm's and x86's
/// integer division is one scalar `idiv` an output, three fifths of
/// opsnet's average pool in V8). Boards divide integers (`SDIV`; the
/// Cortex-M0+ has no FPU).
const FLOAT_DIVISION: bool = !cfg!(target_arch = "arm");

/// Largest tap count the `f32` division is exact for. With `n = sum ±
/// count/2`, `|n| ≤ 128·count + count/2 < 2^24` and `count` are exact in
/// `f32`, and `n / count` is correctly rounded: where the quotient is an
/// integer that integer comes out; otherwise it lies at least `1/count`
/// from every integer, and the rounding moves it at most `2^-24·|n/count|
/// ≤ 2^-24·129`, less than `1/count` while `count < 2^24/129`, so truncating
/// gives the integer division's quotient (checked exhaustively below for
/// small counts).
const MAX_FLOAT_COUNT: i32 = 1 << 16;

#[allow(clippy::too_many_arguments)]
pub fn pool2d(
    kind: PoolKind,
    g: &Geometry,
    act_min: i32,
    act_max: i32,
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    if kind == PoolKind::Max {
        return max_pool(g, act_min, act_max, input, iw, output, ow, region);
    }
    let c = ow.c;
    // Channels a pass sums at once (on the stack); a tap's channels are one
    // contiguous slice, summed as a whole (the compiler vectorizes it).
    const CHUNK: usize = 64;
    for px in g.pixels(ow, region) {
        let count = px.count() as i32;
        for c0 in (0..c).step_by(CHUNK) {
            let n = CHUNK.min(c - c0);
            let mut sum = [0i32; CHUNK];
            for (iy, ix, _, _) in px.taps(g) {
                let at = iw.offset(px.b, iy, ix) + c0;
                for (s, &v) in sum[..n].iter_mut().zip(&input[at..at + n]) {
                    *s += v as i32;
                }
            }
            let out = &mut output[px.o + c0..px.o + c0 + n];
            if FLOAT_DIVISION && (1..=MAX_FLOAT_COUNT).contains(&count) {
                let (half, d) = (count / 2, count as f32);
                for (o, &sum) in out.iter_mut().zip(&sum) {
                    let n = if sum > 0 { sum + half } else { sum - half };
                    *o = clamp_i8((n as f32 / d) as i32, act_min, act_max);
                }
                continue;
            }
            for (o, &sum) in out.iter_mut().zip(&sum) {
                // The reference's rounding: half away from zero.
                let v = match count {
                    0 => 0,
                    _ if sum > 0 => (sum + count / 2) / count,
                    _ => (sum - count / 2) / count,
                };
                *o = clamp_i8(v, act_min, act_max);
            }
        }
    }
}

/// MAX_POOL_2D: each output pixel starts from `i8::MIN` (the reference's
/// start) and takes the channel-wise maximum of its valid taps, a tap's
/// channels as one contiguous slice; then the activation's clamp.
#[allow(clippy::too_many_arguments)]
fn max_pool(
    g: &Geometry,
    act_min: i32,
    act_max: i32,
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    let c = ow.c;
    for px in g.pixels(ow, region) {
        let out = &mut output[px.o..px.o + c];
        out.fill(i8::MIN);
        for (iy, ix, _, _) in px.taps(g) {
            let at = iw.offset(px.b, iy, ix);
            for (o, &v) in out.iter_mut().zip(&input[at..at + c]) {
                *o = (*o).max(v);
            }
        }
        for o in out.iter_mut() {
            *o = clamp_i8(*o as i32, act_min, act_max);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The kernel against a plain transcription of TFLite's int8 `MaxPool` and
    //! `AveragePool` loops (filter bounds clipped to the input, the average
    //! rounded half away from zero over the valid taps), on whole tensors and
    //! on windows.
    use super::*;
    use crate::kernels::testing::{crop, Square};
    use crate::op::{Axis, Padding, Pool2d};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct PoolProblem {
        sq: Square,
        kind: PoolKind,
        act: (i32, i32),
        input: Vec<i8>,
    }

    impl PoolProblem {
        fn geometry(&self) -> (Geometry, usize, usize) {
            self.sq.geometry()
        }

        fn reference(&self) -> Vec<i8> {
            let (g, oh, ow) = self.geometry();
            let mut out = Vec::new();
            for oy in 0..oh {
                for ox in 0..ow {
                    let (y0, x0) = (
                        (oy * self.sq.stride) as isize - g.pad_top as isize,
                        (ox * self.sq.stride) as isize - g.pad_left as isize,
                    );
                    for ch in 0..self.sq.c {
                        let (mut max, mut sum, mut count) = (-128i32, 0i32, 0i32);
                        for ky in 0..self.sq.k as isize {
                            for kx in 0..self.sq.k as isize {
                                let (iy, ix) = (y0 + ky, x0 + kx);
                                if iy < 0 || ix < 0 || iy >= self.sq.h as isize || ix >= self.sq.w as isize {
                                    continue;
                                }
                                let v = self.input[(iy as usize * self.sq.w + ix as usize) * self.sq.c + ch] as i32;
                                max = max.max(v);
                                sum += v;
                                count += 1;
                            }
                        }
                        let v = match self.kind {
                            PoolKind::Max => max,
                            PoolKind::Average if count == 0 => 0,
                            PoolKind::Average if sum > 0 => (sum + count / 2) / count,
                            PoolKind::Average => (sum - count / 2) / count,
                        };
                        out.push(v.clamp(self.act.0, self.act.1) as i8);
                    }
                }
            }
            out
        }

        fn run(&self, input: &[i8], iw: Window, ow: Window, region: Rect) -> Vec<i8> {
            let (g, _, _) = self.geometry();
            let mut out = alloc::vec![0i8; ow.len()];
            pool2d(self.kind, &g, self.act.0, self.act.1, input, iw, &mut out, ow, region);
            out
        }
    }

    fn problem() -> impl Strategy<Value = PoolProblem> {
        (
            1usize..=9,
            1usize..=9,
            // Past 64 channels too: the average sums them in chunks.
            prop_oneof![3 => 1usize..=4, 1 => 60usize..=140],
            1usize..=4,
            1usize..=3,
            any::<bool>(),
            any::<bool>(),
            -128i32..=0,
            0i32..=127,
        )
            .prop_flat_map(|(h, w, c, k, stride, same, max, lo, hi)| {
                (Just((h, w, c, k, stride, same, max, lo, hi)), prop::collection::vec(any::<i8>(), h * w * c))
            })
            .prop_map(|((h, w, c, k, stride, same, max, lo, hi), input)| PoolProblem {
                sq: Square { h, w, c, k, stride, same },
                kind: if max { PoolKind::Max } else { PoolKind::Average },
                act: (lo, hi),
                input,
            })
    }

    /// The `f32` division of the average against the integer one, on every
    /// numerator an average of `count` int8 taps can have.
    #[test]
    fn float_division_is_the_integer_division() {
        for count in (1..=300).chain([1000, 4095, 65535, MAX_FLOAT_COUNT]) {
            let (half, d) = (count / 2, count as f32);
            let step = if count > 300 { 97 } else { 1 };
            for sum in (-128 * count..=127 * count).step_by(step).chain([-128 * count, 127 * count]) {
                let n = if sum > 0 { sum + half } else { sum - half };
                assert_eq!((n as f32 / d) as i32, n / count, "{sum} / {count}");
            }
        }
    }

    /// The 2×2 average of `[-3, -2, -2, -2]`: -9/4 rounds to -2, not -3 (away from zero only on halves).
    #[test]
    fn average_rounds_half_away_from_zero() {
        let p = PoolProblem {
            sq: Square { h: 2, w: 2, c: 1, k: 2, stride: 2, same: false },
            kind: PoolKind::Average,
            act: (-128, 127),
            input: alloc::vec![-3, -2, -2, -2],
        };
        let w = Window::full(1, 1, 1, 1);
        assert_eq!(p.run(&p.input, Window::full(1, 2, 2, 1), w, w.rect), p.reference());
        assert_eq!(p.reference(), alloc::vec![-2]);
    }

    proptest! {
        #[test]
        fn whole_tensor_matches_reference(p in problem()) {
            let (_, oh, ow) = p.geometry();
            prop_assume!(oh > 0 && ow > 0);
            let owin = Window::full(1, oh, ow, p.sq.c);
            prop_assert_eq!(p.run(&p.input, Window::full(1, p.sq.h, p.sq.w, p.sq.c), owin, owin.rect), p.reference());
        }

        #[test]
        fn a_window_matches_the_same_region_of_the_whole(p in problem(), y in 0usize..9, x in 0usize..9, rh in 1usize..9, rw in 1usize..9) {
            let (_, oh, ow) = p.geometry();
            prop_assume!(oh > 0 && ow > 0);
            let region = Rect::new(y % oh, x % ow, rh.min(oh - y % oh), rw.min(ow - x % ow));
            let axis = Axis { kernel: p.sq.k, stride: p.sq.stride, dilation: 1 };
            let op = Pool2d { padding: if p.sq.same { Padding::Same } else { Padding::Valid }, h: axis, w: axis, activation: crate::op::Activation::None };
            let ir = op.input_rect(region, (p.sq.h, p.sq.w), (oh, ow));
            let got = p.run(&crop(&p.input, p.sq.w, p.sq.c, ir), Window::new(1, ir, p.sq.c), Window::new(1, region, p.sq.c), region);
            prop_assert_eq!(got, crop(&p.reference(), ow, p.sq.c, region));
        }
    }
}
