//! RESIZE_BILINEAR, int8 (TFLite's `ResizeBilinearInteger`): source
//! coordinates in 10-bit fixed point, raw int8 values interpolated with
//! integer weights, rounded half away from zero. No requantization.

use crate::region::{Rect, Window};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResizeParams {
    pub align_corners: bool,
    pub half_pixel_centers: bool,
    pub in_shape: [usize; 4],
    pub out_shape: [usize; 4],
    /// Input pixels per output pixel, ×1024.
    pub scale_h: i32,
    pub scale_w: i32,
}

fn scale10(align_corners: bool, input: usize, output: usize) -> i32 {
    let (i, o) = (input as i32, output as i32);
    if align_corners && o > 1 {
        ((1 << 10) * (i - 1) + (o - 1) / 2) / (o - 1)
    } else {
        ((1 << 10) * i + o / 2) / o.max(1)
    }
}

impl ResizeParams {
    pub fn prepare(align_corners: bool, half_pixel_centers: bool, in_shape: &[usize], out_shape: &[usize]) -> Self {
        let s = |v: &[usize]| [v[0], v[1], v[2], v[3]];
        Self {
            align_corners,
            half_pixel_centers,
            in_shape: s(in_shape),
            out_shape: s(out_shape),
            scale_h: scale10(align_corners, in_shape[1], out_shape[1]),
            scale_w: scale10(align_corners, in_shape[2], out_shape[2]),
        }
    }

    /// Source position of output coordinate `v` (×1024) and the two input taps.
    #[inline]
    fn interp(&self, v: usize, scale: i32, input: usize) -> (i32, usize, usize) {
        let v = v as i32;
        let sv = if self.half_pixel_centers { v * scale + scale / 2 - (1 << 9) } else { v * scale };
        let lo = (sv / 1024).max(0);
        let hi = ((sv + 1023) / 1024).min(input as i32 - 1);
        (sv, lo as usize, hi.max(0) as usize)
    }

    /// Input rows/columns `[lo, hi]` (inclusive) read by output rows `[o0, o1)`.
    pub fn input_span(&self, o0: usize, o1: usize, horizontal: bool) -> (usize, usize) {
        let (scale, input) =
            if horizontal { (self.scale_w, self.in_shape[2]) } else { (self.scale_h, self.in_shape[1]) };
        let (_, lo, _) = self.interp(o0, scale, input);
        let (_, _, hi) = self.interp(o1 - 1, scale, input);
        (lo, hi)
    }

    pub fn eval(&self, input: &[i8], output: &mut [i8]) {
        let [n, h, w, c] = self.out_shape;
        let iw = Window::full(self.in_shape[0], self.in_shape[1], self.in_shape[2], self.in_shape[3]);
        let ow = Window::full(n, h, w, c);
        self.eval_window(input, iw, output, ow);
    }

    /// Computes output window `ow` from an input window covering its taps.
    pub fn eval_window(&self, input: &[i8], iw: Window, output: &mut [i8], ow: Window) {
        self.eval_region(input, iw, output, ow, ow.rect);
    }

    /// Computes `region` of the output (inside the buffer's window `ow`) from
    /// an input window covering its taps (see [`Self::input_span`]).
    pub fn eval_region(&self, input: &[i8], iw: Window, output: &mut [i8], ow: Window, region: Rect) {
        let c = ow.c;
        for b in 0..ow.n {
            for y in region.y..region.y_end() {
                let (iy, y0, y1) = self.interp(y, self.scale_h, self.in_shape[1]);
                let dy = (iy - 1024 * y0 as i32) as i64;
                for x in region.x..region.x_end() {
                    let mut o = ow.offset(b, y, x);
                    let (ix, x0, x1) = self.interp(x, self.scale_w, self.in_shape[2]);
                    let dx = (ix - 1024 * x0 as i32) as i64;
                    let (p00, p10, p01, p11) =
                        (iw.offset(b, y0, x0), iw.offset(b, y1, x0), iw.offset(b, y0, x1), iw.offset(b, y1, x1));
                    for ch in 0..c {
                        let v = |p: usize| input[p + ch] as i64;
                        let o20 = v(p00) * (1024 - dy) * (1024 - dx)
                            + v(p10) * dy * (1024 - dx)
                            + v(p01) * (1024 - dy) * dx
                            + v(p11) * dy * dx;
                        let round = if o20 > 0 { 1 << 19 } else { -(1 << 19) };
                        output[o] = ((o20 + round) / (1 << 20)) as i8;
                        o += 1;
                    }
                }
            }
        }
    }
}

/// RESIZE_NEAREST_NEIGHBOR (TFLite's `ResizeNearestNeighbor`), on the same
/// parameters: each output pixel copies the input pixel its coordinate maps
/// to, computed in f32 as the reference does (floored, or rounded with
/// `align_corners`). Raw values are copied: no requantization.
impl ResizeParams {
    /// The input coordinate output coordinate `v` reads along an axis of `input` → `output` pixels.
    pub fn nearest(&self, v: usize, input: usize, output: usize) -> usize {
        let (i, o) = (input as i32, output as i32);
        let scale = if self.align_corners && o > 1 { (i - 1) as f32 / (o - 1) as f32 } else { i as f32 / o as f32 };
        let offset = if self.half_pixel_centers { 0.5f32 } else { 0.0 };
        let x = (v as f32 + offset) * scale;
        let s = if self.align_corners { libm::roundf(x) as i32 } else { libm::floorf(x) as i32 };
        s.min(i - 1).max(0) as usize
    }

    pub fn eval_nearest(&self, input: &[i8], output: &mut [i8]) {
        let ([n, ih, iw, c], [_, oh, ow, _]) = (self.in_shape, self.out_shape);
        let (iwin, owin) = (Window::full(n, ih, iw, c), Window::full(n, oh, ow, c));
        self.eval_nearest_region(input, iwin, output, owin, owin.rect);
    }

    /// Input rows (or columns) `[lo, hi]` (inclusive) nearest-neighbour outputs `[o0, o1)` read:
    /// the source index never decreases along an axis.
    pub fn nearest_span(&self, o0: usize, o1: usize, horizontal: bool) -> (usize, usize) {
        let d = if horizontal { 2 } else { 1 };
        let (i, o) = (self.in_shape[d], self.out_shape[d]);
        (self.nearest(o0, i, o), self.nearest(o1 - 1, i, o))
    }

    /// Computes `region` of the nearest-neighbour output (inside `ow`) from an input window covering its sources.
    pub fn eval_nearest_region(&self, input: &[i8], iw: Window, output: &mut [i8], ow: Window, region: Rect) {
        let ([_, ih, iwd, _], [_, oh, owd, _]) = (self.in_shape, self.out_shape);
        let c = ow.c;
        for b in 0..ow.n {
            for y in region.y..region.y_end() {
                let sy = self.nearest(y, ih, oh);
                for x in region.x..region.x_end() {
                    let i = iw.offset(b, sy, self.nearest(x, iwd, owd));
                    let o = ow.offset(b, y, x);
                    output[o..o + c].copy_from_slice(&input[i..i + c]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The kernel against a plain transcription of TFLite's
    //! `ResizeBilinearInteger` (10-bit source coordinates, integer weights,
    //! rounding half away from zero), for both coordinate conventions, on
    //! whole tensors and on output windows fed only the input rows and
    //! columns they read.
    use super::*;
    use crate::kernels::testing::crop;
    use crate::region::Rect;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct ResizeProblem {
        p: ResizeParams,
        input: Vec<i8>,
    }

    impl ResizeProblem {
        fn reference(&self) -> Vec<i8> {
            let ([_, ih, iw, c], [_, oh, ow, _]) = (self.p.in_shape, self.p.out_shape);
            let src = |v: usize, scale: i32| {
                let v = v as i32;
                if self.p.half_pixel_centers {
                    v * scale + scale / 2 - 512
                } else {
                    v * scale
                }
            };
            let mut out = Vec::new();
            for y in 0..oh {
                let sy = src(y, self.p.scale_h);
                let (y0, y1) = ((sy / 1024).max(0) as usize, ((sy + 1023) / 1024).min(ih as i32 - 1).max(0) as usize);
                let dy = (sy - 1024 * y0 as i32) as i64;
                for x in 0..ow {
                    let sx = src(x, self.p.scale_w);
                    let (x0, x1) =
                        ((sx / 1024).max(0) as usize, ((sx + 1023) / 1024).min(iw as i32 - 1).max(0) as usize);
                    let dx = (sx - 1024 * x0 as i32) as i64;
                    for ch in 0..c {
                        let v = |yy: usize, xx: usize| self.input[(yy * iw + xx) * c + ch] as i64;
                        let acc = v(y0, x0) * (1024 - dy) * (1024 - dx)
                            + v(y1, x0) * dy * (1024 - dx)
                            + v(y0, x1) * (1024 - dy) * dx
                            + v(y1, x1) * dy * dx;
                        let half = if acc > 0 { 1 << 19 } else { -(1 << 19) };
                        out.push(((acc + half) / (1 << 20)) as i8);
                    }
                }
            }
            out
        }
    }

    fn problem() -> impl Strategy<Value = ResizeProblem> {
        (1usize..=6, 1usize..=6, 1usize..=3, 1usize..=12, 1usize..=12, 0u8..3).prop_flat_map(
            |(ih, iw, c, oh, ow, mode)| {
                let (align, half) = (mode == 1, mode == 2);
                let p = ResizeParams::prepare(align, half, &[1, ih, iw, c], &[1, oh, ow, c]);
                prop::collection::vec(any::<i8>(), ih * iw * c).prop_map(move |input| ResizeProblem { p, input })
            },
        )
    }

    proptest! {
        #[test]
        fn whole_tensor_matches_reference(p in problem()) {
            let mut out = alloc::vec![0i8; p.p.out_shape.iter().product()];
            p.p.eval(&p.input, &mut out);
            prop_assert_eq!(out, p.reference());
        }

        #[test]
        fn a_window_matches_the_same_region_of_the_whole(p in problem(), y in 0usize..12, x in 0usize..12, rh in 1usize..12, rw in 1usize..12) {
            let ([_, _, iw, c], [_, oh, ow, _]) = (p.p.in_shape, p.p.out_shape);
            let region = Rect::new(y % oh, x % ow, rh.min(oh - y % oh), rw.min(ow - x % ow));
            let (y0, y1) = p.p.input_span(region.y, region.y_end(), false);
            let (x0, x1) = p.p.input_span(region.x, region.x_end(), true);
            let ir = Rect::new(y0, x0, y1 + 1 - y0, x1 + 1 - x0);
            let window = Window::new(1, region, c);
            let mut out = alloc::vec![0i8; window.len()];
            p.p.eval_window(&crop(&p.input, iw, c, ir), Window::new(1, ir, c), &mut out, window);
            prop_assert_eq!(out, crop(&p.reference(), ow, c, region));
        }
    }
}

#[cfg(test)]
mod nearest_tests {
    //! Nearest-neighbour resizing: an integer upscale without flags repeats
    //! every pixel (Keras' `UpSampling2D`), and every mode maps each output
    //! coordinate to an input coordinate in range, monotonically.
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn integer_upscale_repeats_pixels(h in 1usize..=5, w in 1usize..=5, c in 1usize..=3, fy in 1usize..=3, fx in 1usize..=3, seed in any::<u8>()) {
            let input: Vec<i8> = (0..h * w * c).map(|i| (i as u8).wrapping_mul(37).wrapping_add(seed) as i8).collect();
            let p = ResizeParams::prepare(false, false, &[1, h, w, c], &[1, h * fy, w * fx, c]);
            let mut out = alloc::vec![0i8; h * fy * w * fx * c];
            p.eval_nearest(&input, &mut out);
            for y in 0..h * fy {
                for x in 0..w * fx {
                    let (o, i) = ((y * w * fx + x) * c, ((y / fy) * w + x / fx) * c);
                    prop_assert_eq!(&out[o..o + c], &input[i..i + c]);
                }
            }
        }

        #[test]
        fn sources_are_in_range_and_monotonic(input in 1usize..40, output in 1usize..40, mode in 0u8..3) {
            let p = ResizeParams::prepare(mode == 1, mode == 2, &[1, input, 1, 1], &[1, output, 1, 1]);
            let s: Vec<usize> = (0..output).map(|v| p.nearest(v, input, output)).collect();
            prop_assert!(s.iter().all(|&v| v < input));
            prop_assert!(s.windows(2).all(|w| w[0] <= w[1]));
        }
    }
}
