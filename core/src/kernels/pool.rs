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
    let c = ow.c;
    for b in 0..ow.n {
        for oy in region.y..region.y_end() {
            let y0 = g.origin_y(oy);
            let (ty0, ty1) = Geometry::taps(y0, g.kh, 1, g.in_h);
            for ox in region.x..region.x_end() {
                let mut o = ow.offset(b, oy, ox);
                let x0 = g.origin_x(ox);
                let (tx0, tx1) = Geometry::taps(x0, g.kw, 1, g.in_w);
                let count = ((ty1 - ty0) * (tx1 - tx0)) as i32;
                for ch in 0..c {
                    let mut max = i8::MIN as i32;
                    let mut sum = 0i32;
                    for ty in ty0..ty1 {
                        let iy = (y0 + ty as isize) as usize;
                        for tx in tx0..tx1 {
                            let ix = (x0 + tx as isize) as usize;
                            let v = input[iw.offset(b, iy, ix) + ch] as i32;
                            max = max.max(v);
                            sum += v;
                        }
                    }
                    let v = match kind {
                        PoolKind::Max => max,
                        PoolKind::Average if count == 0 => 0,
                        PoolKind::Average => {
                            if sum > 0 {
                                (sum + count / 2) / count
                            } else {
                                (sum - count / 2) / count
                            }
                        }
                    };
                    output[o] = clamp_i8(v, act_min, act_max);
                    o += 1;
                }
            }
        }
    }
}
