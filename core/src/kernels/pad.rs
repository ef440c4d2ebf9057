//! PAD, int8: fills with the output zero point.

use crate::region::{Rect, Window};

/// Computes `region` of the output of `PAD` (into a buffer holding window `ow`) with `paddings[d] = [before, after]`
/// (NHWC). Batch and channel padding are supported on whole windows.
pub fn pad(
    paddings: &[[usize; 2]; 4],
    in_shape: [usize; 4],
    pad_value: i8,
    input: &[i8],
    iw: Window,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    let [in_n, in_h, in_w, _] = in_shape;
    let [pn, py, px, pc] = [paddings[0][0], paddings[1][0], paddings[2][0], paddings[3][0]];
    let in_c = iw.c;
    for b in 0..ow.n {
        let ib = b.wrapping_sub(pn);
        let b_in = b >= pn && ib < in_n;
        for oy in region.y..region.y_end() {
            let iy = oy.wrapping_sub(py);
            let y_in = oy >= py && iy < in_h;
            for ox in region.x..region.x_end() {
                let o = ow.offset(b, oy, ox);
                let ix = ox.wrapping_sub(px);
                let x_in = ox >= px && ix < in_w;
                if b_in && y_in && x_in {
                    // Channels `pc..pc + in_c` come from the input, the rest is padding.
                    let base = iw.offset(ib, iy, ix);
                    let (lo, hi) = (pc.min(ow.c), (pc + in_c).min(ow.c));
                    let px = &mut output[o..o + ow.c];
                    px[..lo].fill(pad_value);
                    px[lo..hi].copy_from_slice(&input[base..base + (hi - lo)]);
                    px[hi..].fill(pad_value);
                } else {
                    output[o..o + ow.c].fill(pad_value);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The kernel against a plain transcription of TFLite's `PadImpl` (every
    //! output element either the input element it maps to or the pad value),
    //! on whole tensors with padding on all four dimensions, and on spatial
    //! windows.
    use super::*;
    use crate::kernels::testing::crop;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct PadProblem {
        shape: [usize; 4],
        paddings: [[usize; 2]; 4],
        value: i8,
        input: Vec<i8>,
    }

    impl PadProblem {
        fn out_shape(&self) -> [usize; 4] {
            core::array::from_fn(|d| self.shape[d] + self.paddings[d][0] + self.paddings[d][1])
        }

        fn reference(&self) -> Vec<i8> {
            let (s, o) = (self.shape, self.out_shape());
            let mut out = Vec::new();
            for b in 0..o[0] {
                for y in 0..o[1] {
                    for x in 0..o[2] {
                        for c in 0..o[3] {
                            let at = [b, y, x, c];
                            let inside =
                                (0..4).all(|d| at[d] >= self.paddings[d][0] && at[d] - self.paddings[d][0] < s[d]);
                            out.push(if inside {
                                let i: [usize; 4] = core::array::from_fn(|d| at[d] - self.paddings[d][0]);
                                self.input[((i[0] * s[1] + i[1]) * s[2] + i[2]) * s[3] + i[3]]
                            } else {
                                self.value
                            });
                        }
                    }
                }
            }
            out
        }
    }

    fn problem(spatial_only: bool) -> impl Strategy<Value = PadProblem> {
        let pad = move |spatial: bool| if spatial_only && !spatial { 0usize..=0 } else { 0usize..=3 };
        (
            [1usize..=2, 1usize..=6, 1usize..=6, 1usize..=3],
            [[pad(false), pad(false)], [pad(true), pad(true)], [pad(true), pad(true)], [pad(false), pad(false)]],
            any::<i8>(),
        )
            .prop_flat_map(|(shape, paddings, value)| {
                let n = shape.iter().product::<usize>();
                (Just((shape, paddings, value)), prop::collection::vec(any::<i8>(), n))
            })
            .prop_map(|((shape, paddings, value), input)| PadProblem { shape, paddings, value, input })
    }

    proptest! {
        #[test]
        fn whole_tensor_matches_reference(p in problem(false)) {
            let [n, h, w, c] = p.shape;
            let o = p.out_shape();
            let ow = Window::full(o[0], o[1], o[2], o[3]);
            let mut out = alloc::vec![0i8; ow.len()];
            pad(&p.paddings, p.shape, p.value, &p.input, Window::full(n, h, w, c), &mut out, ow, ow.rect);
            prop_assert_eq!(out, p.reference());
        }

        #[test]
        fn a_window_matches_the_same_region_of_the_whole(p in problem(true), y in 0usize..12, x in 0usize..12, rh in 1usize..12, rw in 1usize..12) {
            prop_assume!(p.shape[0] == 1);
            let [_, h, w, c] = p.shape;
            let o = p.out_shape();
            let region = Rect::new(y % o[1], x % o[2], rh.min(o[1] - y % o[1]), rw.min(o[2] - x % o[2]));
            let ir = crate::op::Pad { paddings: p.paddings }.input_rect(region, (h, w));
            let ow = Window::new(1, region, c);
            let mut out = alloc::vec![0i8; ow.len()];
            pad(&p.paddings, p.shape, p.value, &crop(&p.input, w, c, ir), Window::new(1, ir, c), &mut out, ow, region);
            prop_assert_eq!(out, crop(&p.reference(), o[2], c, region));
        }
    }
}
