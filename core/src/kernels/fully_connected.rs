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
                acc = acc.wrapping_add((*a as i32 + q.input_offset) * (*b as i32 + q.filter_offset));
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

#[cfg(test)]
mod tests {
    //! The kernel against a plain transcription of the reference
    //! `FullyConnected` on int8 (offsets added to input and weights, the
    //! accumulator rescaled in double precision and rounded half away from
    //! zero), per-tensor and per-unit scales, with and without bias.
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct FcProblem {
        batches: usize,
        depth: usize,
        units: usize,
        input: Vec<i8>,
        filter: Vec<i8>,
        bias: Option<Vec<i32>>,
        offsets: (i32, i32, i32),
        scales: Vec<f64>,
        act: (i32, i32),
    }

    impl FcProblem {
        fn reference(&self) -> Vec<i8> {
            let (io, fo, oo) = self.offsets;
            let mut out = Vec::new();
            for b in 0..self.batches {
                for u in 0..self.units {
                    let mut acc = 0i32;
                    for d in 0..self.depth {
                        acc += (self.input[b * self.depth + d] as i32 + io)
                            * (self.filter[u * self.depth + d] as i32 + fo);
                    }
                    acc += self.bias.as_ref().map_or(0, |v| v[u]);
                    let scale = self.scales[if self.scales.len() == 1 { 0 } else { u }];
                    let v = libm::round(acc as f64 * scale) as i32 + oo;
                    out.push(v.clamp(self.act.0, self.act.1) as i8);
                }
            }
            out
        }
    }

    fn problem() -> impl Strategy<Value = FcProblem> {
        (
            1usize..=3,
            1usize..=40,
            1usize..=12,
            any::<bool>(),
            -128i32..=127,
            -127i32..=127,
            -128i32..=127,
            -128i32..=0,
            0i32..=127,
        )
            .prop_flat_map(|(batches, depth, units, per_unit, io, fo, oo, lo, hi)| {
                (
                    Just((batches, depth, units, (-io, if per_unit { 0 } else { -fo }, oo), (lo, hi))),
                    prop::collection::vec(any::<i8>(), batches * depth),
                    prop::collection::vec(-127i8..=127, units * depth),
                    prop::option::of(prop::collection::vec(-20_000i32..20_000, units)),
                    prop::collection::vec(1e-5f64..2e-2, if per_unit { units } else { 1 }),
                )
            })
            .prop_map(|((batches, depth, units, offsets, act), input, filter, bias, scales)| FcProblem {
                batches,
                depth,
                units,
                input,
                filter,
                bias,
                offsets,
                scales,
                act,
            })
    }

    proptest! {
        #[test]
        fn matches_reference(p in problem()) {
            let st = FcStage {
                input_offset: p.offsets.0,
                filter_offset: p.offsets.1,
                output_offset: p.offsets.2,
                act_min: p.act.0,
                act_max: p.act.1,
                scales: &p.scales,
            };
            let mut out = alloc::vec![0i8; p.batches * p.units];
            fully_connected(&st, &p.input, &p.filter, p.bias.as_deref(), &mut out, p.depth, p.units);
            prop_assert_eq!(out, p.reference());
        }
    }
}
