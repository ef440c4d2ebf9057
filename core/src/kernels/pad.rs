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
                let mut o = ow.offset(b, oy, ox);
                let ix = ox.wrapping_sub(px);
                let x_in = ox >= px && ix < in_w;
                if b_in && y_in && x_in {
                    let base = iw.offset(ib, iy, ix);
                    for ch in 0..ow.c {
                        let ic = ch.wrapping_sub(pc);
                        output[o] = if ch >= pc && ic < in_c { input[base + ic] } else { pad_value };
                        o += 1;
                    }
                } else {
                    output[o..o + ow.c].fill(pad_value);
                }
            }
        }
    }
}
