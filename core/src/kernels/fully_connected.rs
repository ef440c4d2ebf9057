//! FULLY_CONNECTED, int8, per-tensor or per-channel weights.
//!
//! Unlike the convolutions, TFLite's reference kernel rescales the int32
//! accumulator in double precision (`round(acc * scale)`), not in fixed point.

use super::clamp_i8;

#[derive(Clone, Copy, Debug)]
pub struct FcStage<'a> {
    pub input_offset: i32,
    /// Added to every weight: `-zero_point` for per-tensor weights, 0 for per-channel.
    pub filter_offset: i32,
    pub output_offset: i32,
    pub act_min: i32,
    pub act_max: i32,
    /// `input_scale * filter_scale[u] / output_scale`, one per unit or one for all.
    pub scales: &'a [f64],
}

/// `input` is `[batches, depth]`, `filter` is `[units, depth]`, `output` is `[batches, units]`.
pub fn fully_connected(
    q: &FcStage,
    input: &[i8],
    filter: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
    depth: usize,
    units: usize,
) {
    if depth == 0 || units == 0 {
        return;
    }
    for (x, out) in input.chunks_exact(depth).zip(output.chunks_exact_mut(units)) {
        for (u, o) in out.iter_mut().enumerate() {
            let w = &filter[u * depth..(u + 1) * depth];
            let mut acc: i32 = 0;
            for (a, b) in x.iter().zip(w) {
                acc += (*a as i32 + q.input_offset) * (*b as i32 + q.filter_offset);
            }
            if let Some(bias) = bias {
                acc = acc.wrapping_add(bias[u]);
            }
            let scale = if q.scales.len() == 1 { q.scales[0] } else { q.scales[u] };
            let v = libm::round(acc as f64 * scale) as i32;
            *o = clamp_i8(v.saturating_add(q.output_offset), q.act_min, q.act_max);
        }
    }
}
