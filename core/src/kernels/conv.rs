//! CONV_2D, int8 with per-channel weights (TFLite `ConvPerChannel`).

use super::clamp_i8;
use crate::fixedpoint::QuantizedMultiplier;
use crate::region::{Rect, Window};

/// Geometry of one convolution (also used by depthwise convolution and pools).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub in_h: usize,
    pub in_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dil_h: usize,
    pub dil_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
}

impl Geometry {
    /// Kernel taps of output row `oy` that fall inside the input: `(first, end)` tap
    /// indices and the input row of tap 0 (may be negative).
    #[inline(always)]
    pub(crate) fn taps(origin: isize, k: usize, dil: usize, size: usize) -> (usize, usize) {
        // Taps t with 0 <= origin + t*dil < size.
        let d = dil as isize;
        let first = if origin >= 0 { 0 } else { ((-origin) + d - 1) / d };
        let end = if origin >= size as isize { 0 } else { (((size as isize - origin) + d - 1) / d).min(k as isize) };
        (first as usize, (end as usize).max(first as usize))
    }
    #[inline(always)]
    pub(crate) fn origin_y(&self, oy: usize) -> isize {
        (oy * self.stride_h) as isize - self.pad_top as isize
    }
    #[inline(always)]
    pub(crate) fn origin_x(&self, ox: usize) -> isize {
        (ox * self.stride_w) as isize - self.pad_left as isize
    }
}

/// Requantization of an accumulator to an int8 output.
#[derive(Clone, Copy, Debug)]
pub struct OutputStage<'a> {
    pub input_offset: i32,
    pub output_offset: i32,
    pub act_min: i32,
    pub act_max: i32,
    /// One multiplier per output channel, or a single one for all.
    pub multipliers: &'a [QuantizedMultiplier],
}

impl OutputStage<'_> {
    #[inline(always)]
    pub fn requantize(&self, acc: i32, ch: usize) -> i8 {
        let m = if self.multipliers.len() == 1 { self.multipliers[0] } else { self.multipliers[ch] };
        clamp_i8(m.apply(acc).saturating_add(self.output_offset), self.act_min, self.act_max)
    }
}

/// Per-channel multipliers `input_scale * filter_scale[c] / output_scale`,
/// computed in double precision as TFLite does.
pub fn channel_multipliers(
    input_scale: f32,
    filter_scales: &[f32],
    output_scale: f32,
) -> impl Iterator<Item = QuantizedMultiplier> + '_ {
    filter_scales
        .iter()
        .map(move |&fs| QuantizedMultiplier::from_f64(input_scale as f64 * fs as f64 / output_scale as f64))
}

/// Computes the `region` of a convolution's output into `output`, a buffer
/// holding output window `ow` (which contains `region`). `filter` is
/// `[out_c, kh, kw, in_c]`.
#[allow(clippy::too_many_arguments)]
pub fn conv2d(
    g: &Geometry,
    q: &OutputStage,
    input: &[i8],
    iw: Window,
    filter: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
    ow: Window,
    region: Rect,
) {
    let in_c = iw.c;
    let out_c = ow.c;
    let f_row = g.kw * in_c;
    let f_ch = g.kh * f_row;
    for b in 0..ow.n {
        for oy in region.y..region.y_end() {
            let y0 = g.origin_y(oy);
            let (ty0, ty1) = Geometry::taps(y0, g.kh, g.dil_h, g.in_h);
            for ox in region.x..region.x_end() {
                let mut o = ow.offset(b, oy, ox);
                let x0 = g.origin_x(ox);
                let (tx0, tx1) = Geometry::taps(x0, g.kw, g.dil_w, g.in_w);
                for oc in 0..out_c {
                    let f_base = oc * f_ch;
                    let mut acc: i32 = 0;
                    for ty in ty0..ty1 {
                        let iy = (y0 + (ty * g.dil_h) as isize) as usize;
                        for tx in tx0..tx1 {
                            let ix = (x0 + (tx * g.dil_w) as isize) as usize;
                            let i_base = iw.offset(b, iy, ix);
                            let px = &input[i_base..i_base + in_c];
                            let fb = f_base + ty * f_row + tx * in_c;
                            let fw = &filter[fb..fb + in_c];
                            for (x, w) in px.iter().zip(fw) {
                                acc += (*x as i32 + q.input_offset) * *w as i32;
                            }
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
