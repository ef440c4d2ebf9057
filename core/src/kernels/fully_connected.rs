//! FULLY_CONNECTED, int8, per-tensor or per-channel weights.

use super::conv::OutputStage;

/// `input` is `[batches, depth]`, `filter` is `[units, depth]`, `output` is `[batches, units]`.
pub fn fully_connected(
    q: &OutputStage,
    filter_offset: i32,
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
                acc += (*a as i32 + q.input_offset) * (*b as i32 + filter_offset);
            }
            if let Some(bias) = bias {
                acc = acc.wrapping_add(bias[u]);
            }
            *o = q.requantize(acc, u);
        }
    }
}
