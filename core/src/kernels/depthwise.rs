//! DEPTHWISE_CONV_2D, int8 per-channel, any depth multiplier
//! (TFLite `DepthwiseConvPerChannel`).

use super::conv::{Geometry, OutputStage};
use crate::region::{Rect, Window};

/// Computes `region` of the output into `output`, which holds window `ow`. `filter` is `[1, kh, kw, in_c * depth_multiplier]`.
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d(
    g: &Geometry,
    depth_multiplier: usize,
    q: &OutputStage,
    input: &[i8],
    iw: Window,
    filter: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    let out_c = ow.c;
    let in_c = iw.c;
    let f_row = g.kw * out_c;
    for b in 0..ow.n {
        for oy in region.y..region.y_end() {
            let y0 = g.origin_y(oy);
            let (ty0, ty1) = Geometry::taps(y0, g.kh, g.dil_h, g.in_h);
            for ox in region.x..region.x_end() {
                let mut o = ow.offset(b, oy, ox);
                let x0 = g.origin_x(ox);
                let (tx0, tx1) = Geometry::taps(x0, g.kw, g.dil_w, g.in_w);
                for ic in 0..in_c {
                    for m in 0..depth_multiplier {
                        let oc = ic * depth_multiplier + m;
                        let mut acc: i32 = 0;
                        for ty in ty0..ty1 {
                            let iy = (y0 + (ty * g.dil_h) as isize) as usize;
                            for tx in tx0..tx1 {
                                let ix = (x0 + (tx * g.dil_w) as isize) as usize;
                                let x = input[iw.offset(b, iy, ix) + ic] as i32;
                                let w = filter[ty * f_row + tx * out_c + oc] as i32;
                                acc += (x + q.input_offset) * w;
                            }
                        }
                        if let Some(bias) = bias {
                            acc = acc.wrapping_add(bias[oc]);
                        }
                        output[o] = q.requantize(acc, oc);
                        o += 1;
                    }
                }
            }
        }
    }
}

/// In-place depthwise convolution (depth multiplier 1, one image), channel by
/// channel as TinyEngine does: each input channel plane is first copied to
/// `plane` (`in_h × in_w` bytes), then that channel's outputs are written
/// over the buffer, whose channel-`c` slots are no longer needed. `buffer`
/// holds the input `[1, in_h, in_w, c]` on entry and the output
/// `[1, out_h, out_w, c]` (from offset 0) on return.
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_inplace(
    g: &Geometry,
    q: &OutputStage,
    buffer: &mut [i8],
    channels: usize,
    out_h: usize,
    out_w: usize,
    filter: &[i8],
    bias: Option<&[i32]>,
    plane: &mut [i8],
) {
    let c = channels;
    for ch in 0..c {
        for (p, v) in plane.iter_mut().take(g.in_h * g.in_w).enumerate() {
            *v = buffer[p * c + ch];
        }
        for oy in 0..out_h {
            let y0 = g.origin_y(oy);
            let (ty0, ty1) = Geometry::taps(y0, g.kh, g.dil_h, g.in_h);
            for ox in 0..out_w {
                let x0 = g.origin_x(ox);
                let (tx0, tx1) = Geometry::taps(x0, g.kw, g.dil_w, g.in_w);
                let mut acc: i32 = 0;
                for ty in ty0..ty1 {
                    let iy = (y0 + (ty * g.dil_h) as isize) as usize;
                    for tx in tx0..tx1 {
                        let ix = (x0 + (tx * g.dil_w) as isize) as usize;
                        let x = plane[iy * g.in_w + ix] as i32;
                        acc += (x + q.input_offset) * filter[(ty * g.kw + tx) * c + ch] as i32;
                    }
                }
                if let Some(bias) = bias {
                    acc = acc.wrapping_add(bias[ch]);
                }
                buffer[(oy * out_w + ox) * c + ch] = q.requantize(acc, ch);
            }
        }
    }
}
