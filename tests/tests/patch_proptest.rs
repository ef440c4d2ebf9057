//! Property: on random small convolution networks (strides, SAME padding,
//! depthwise, residual adds, kernels 1–7), every legal patch schedule gives
//! outputs byte-identical to layer-by-layer, and the measured arena high-water
//! mark equals the planned arena. Shrunk failures are kept by proptest in
//! `tests/proptest-regressions/` and replayed first.

use patchwise_core::exec;
use patchwise_core::patch::{legal_splits, CacheSet, Halo, InputMode, PatchExecutor};
use patchwise_core::spec::{build, ArchSpec, BlockGroup};
use patchwise_tests::run_layers;
use proptest::prelude::*;

fn group() -> impl Strategy<Value = BlockGroup> {
    (
        prop::sample::select(vec![1usize, 3, 5, 7]),
        1usize..=3,
        1usize..=2,
        prop::sample::select(vec![8usize, 16]),
        1usize..=2,
    )
        .prop_map(|(kernel, expansion, stride, out_channels, repeat)| BlockGroup {
            kernel,
            expansion,
            stride,
            out_channels,
            repeat,
            se: false,
        })
}

fn spec() -> impl Strategy<Value = ArchSpec> {
    (
        8usize..=24,
        prop::sample::select(vec![1usize, 3]),
        1usize..=2,
        prop::collection::vec(group(), 1..=3),
        any::<u64>(),
    )
        .prop_map(|(resolution, first_kernel, first_stride, blocks, seed)| ArchSpec {
            name: "random".into(),
            resolution,
            width_multiplier: 1.0,
            first_channels: 8,
            first_kernel,
            first_stride,
            blocks,
            head_channels: 16,
            classes: 3,
            seed,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn patch_based_equals_layer_by_layer(spec in spec(), rows in 1usize..=4, cols in 1usize..=4, streamed in any::<bool>(), seed in any::<u64>(), mask in any::<u64>()) {
        let g = build(&spec).unwrap().graph;
        let n = g.tensors[g.inputs[0]].bytes();
        let input: Vec<u8> = (0..n as u64).map(|i| (seed.wrapping_mul(6364136223846793005).wrapping_add(i.wrapping_mul(1442695040888963407)) >> 56) as u8).collect();
        let (want, _) = run_layers(&g, &[&input]).unwrap();
        let mode = if streamed { InputMode::Streamed } else { InputMode::InArena };
        for split in legal_splits(&g) {
            let o = g.tensors[g.nodes[split].output()].nhwc();
            let grid = (rows.min(o[1]), cols.min(o[2]));
            // A random per-layer choice too: cached tensors next to recomputed ones.
            for halo in [Halo::Recompute, Halo::Cache, Halo::Layers(CacheSet::from_bits(mask))] {
                let ex = PatchExecutor::with_halo(&g, split, grid, mode, halo).unwrap();
                let m = exec::run_measured(&ex.program(), &input, &|| 0.0).unwrap();
                let (got, measured) = (m.outputs, m.arena_hwm);
                prop_assert_eq!(&got, &want, "split {} grid {:?} {:?}", split, grid, halo);
                prop_assert_eq!(measured, ex.arena_size(), "split {} grid {:?} {:?}", split, grid, halo);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    /// Two patch stages: a random first stage, a random later one (its own
    /// grid and halo mode, starting right after the first or further on), and
    /// a third when the network leaves room: byte-identical to layer by
    /// layer, measured arena == planned.
    #[test]
    fn several_patch_stages_equal_layer_by_layer(
        spec in spec(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), 0usize..3, 1usize..=3, 1usize..=3, any::<bool>()), 3),
        streamed in any::<bool>(),
        seed in any::<u64>(),
    ) {
        use patchwise_core::patch::{check_stage, PatchSchedule};
        let g = build(&spec).unwrap().graph;
        let n = g.tensors[g.inputs[0]].bytes();
        let input: Vec<u8> = (0..n as u64).map(|i| (seed.wrapping_mul(6364136223846793005).wrapping_add(i.wrapping_mul(1442695040888963407)) >> 56) as u8).collect();
        let (want, _) = run_layers(&g, &[&input]).unwrap();
        let mode = if streamed { InputMode::Streamed } else { InputMode::InArena };
        let mut stages = Vec::new();
        let mut next = 0;
        for (k, &(at, gap, rows, cols, cache)) in picks.iter().enumerate() {
            // Stage k starts `gap` ops after the previous one (the first at op 0) and
            // ends at a random legal operator.
            let first = if k == 0 { 0 } else { next + gap };
            let lasts: Vec<usize> = (first..g.nodes.len()).take_while(|&l| check_stage(&g, first, l).is_ok()).collect();
            if lasts.is_empty() {
                break;
            }
            let last = lasts[at.index(lasts.len())];
            let o = g.tensors[g.nodes[last].output()].nhwc();
            let halo = if cache { Halo::Cache } else { Halo::Recompute };
            stages.push(PatchSchedule::stage_with_halo(&g, first, last, (rows.min(o[1]), cols.min(o[2])), halo).unwrap());
            next = last + 1;
        }
        prop_assume!(stages.len() >= 2);
        let what: Vec<_> = stages.iter().map(|s| (s.first, s.split, s.grid, s.is_cached(s.output))).collect();
        let ex = match PatchExecutor::from_stages(&g, stages, mode) {
            Ok(ex) => ex,
            // Only a network reading its input after the first stage refuses streaming.
            Err(e) => { prop_assert!(streamed && e.to_string().contains("cannot be streamed"), "{:?}: {}", what, e); return Ok(()); }
        };
        let m = exec::run_measured(&ex.program(), &input, &|| 0.0).unwrap();
        prop_assert_eq!(&m.outputs, &want, "{:?}", what);
        prop_assert_eq!(m.arena_hwm, ex.arena_size(), "{:?}", what);
    }
}

/// Shrunk from the proptest: with only op 5 cached, op 4 (an ADD, recomputed)
/// has nothing new to give op 5 in the last column of patches, so its window
/// there is empty; the interpreter must skip it rather than read outside it.
#[test]
fn a_recomputed_tensor_with_an_empty_window_is_skipped() {
    let spec = ArchSpec {
        name: "random".into(),
        resolution: 21,
        width_multiplier: 1.0,
        first_channels: 8,
        first_kernel: 1,
        first_stride: 1,
        blocks: vec![
            BlockGroup { kernel: 3, expansion: 2, stride: 1, out_channels: 8, repeat: 1, se: false },
            BlockGroup { kernel: 7, expansion: 1, stride: 2, out_channels: 8, repeat: 2, se: false },
        ],
        head_channels: 16,
        classes: 3,
        seed: 0,
    };
    let g = build(&spec).unwrap().graph;
    let input: Vec<u8> = (0..g.tensors[g.inputs[0]].bytes()).map(|i| (i * 31 % 256) as u8).collect();
    let (want, _) = run_layers(&g, &[&input]).unwrap();
    let halo = Halo::Layers(CacheSet::of([5]).unwrap());
    let ex = PatchExecutor::with_halo(&g, 7, (2, 4), InputMode::InArena, halo).unwrap();
    assert_eq!(ex.schedule().rects[3][g.nodes[4].output()].map(|r| r.w), Some(0), "the case this test is about");
    let m = exec::run_measured(&ex.program(), &input, &|| 0.0).unwrap();
    assert_eq!(m.outputs, want);
    assert_eq!(m.arena_hwm, ex.arena_size());
}
