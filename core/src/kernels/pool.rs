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
    for px in g.pixels(ow, region) {
        let count = px.count() as i32;
        for ch in 0..ow.c {
            let mut max = i8::MIN as i32;
            let mut sum = 0i32;
            for (iy, ix, _, _) in px.taps(g) {
                let v = input[iw.offset(px.b, iy, ix) + ch] as i32;
                max = max.max(v);
                sum += v;
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
            output[px.o + ch] = clamp_i8(v, act_min, act_max);
        }
    }
}
