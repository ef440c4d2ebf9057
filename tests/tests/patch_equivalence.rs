//! Patch-based execution is byte-identical to layer-by-layer on every shipped
//! model over a grid of schedules, and its measured arena high-water mark
//! equals the planned arena.

use patchwise_core::exec;
use patchwise_core::graph::Graph;
use patchwise_core::patch::{legal_splits, CacheSet, Halo, InputMode, PatchExecutor};
use patchwise_tests::{root, run_layers};

fn load(name: &str) -> Graph {
    patchwise_core::loader::load(&std::fs::read(root().join("models").join(name)).unwrap()).unwrap()
}

fn golden_input(stem: &str) -> Vec<u8> {
    let p = root().join(format!("tests/golden/models/{stem}.random.in0.npy"));
    patchwise_cli::io::parse_npy(&std::fs::read(p).unwrap()).unwrap().data
}

/// Runs patch-based under two paints; returns outputs, the measured high-water mark and the planned arena.
pub fn run_patched(
    g: &Graph,
    split: usize,
    grid: (usize, usize),
    mode: InputMode,
    halo: Halo,
    input: &[u8],
) -> (Vec<Vec<u8>>, usize, usize) {
    let ex = PatchExecutor::with_halo(g, split, grid, mode, halo).unwrap();
    let m = exec::run_measured(&ex.program(), input, &|| 0.0).unwrap();
    (m.outputs, m.arena_hwm, ex.arena_size())
}

/// Under halo caching the stage computes each pixel of each tensor once: its
/// MACs equal the stage's once-through MACs, never more than recomputing.
fn check_cached_macs(g: &Graph, split: usize, grid: (usize, usize)) -> (u64, u64, u64) {
    use patchwise_core::patch::PatchSchedule;
    let re = PatchSchedule::new(g, split, grid).unwrap();
    let ca = PatchSchedule::with_halo(g, split, grid, Halo::Cache).unwrap();
    let (once, recompute, cache) = (re.stage_macs_once(g), re.stage_macs(g), ca.stage_macs(g));
    assert!(cache <= recompute, "split {split} grid {grid:?}: caching computes more ({cache} > {recompute})");
    // On the shipped models every stage tensor is cached and each of its pixels computed exactly once.
    assert_eq!(cache, once, "split {split} grid {grid:?}: a cached schedule recomputes");
    (once, recompute, cache)
}

fn check_model(name: &str, grids: &[(usize, usize)]) {
    let g = load(name);
    let stem = name.trim_end_matches(".tflite");
    let input = golden_input(stem);
    let (want, _) = run_layers(&g, &[&input]).unwrap();
    let splits = legal_splits(&g);
    assert!(!splits.is_empty(), "{name}: no legal split");
    // Stages that end inside a block keep tensors whole for the rest of the
    // network: there are many of them; check up to ten, spread over the
    // network, on the first two grids.
    let branching: Vec<usize> =
        splits.iter().copied().filter(|&s| !patchwise_core::patch::kept_tensors(&g, s).is_empty()).collect();
    let stride = branching.len().div_ceil(10).max(1);
    let sampled: Vec<usize> = branching.iter().copied().step_by(stride).collect();
    let mut checked = 0;
    // Halo MACs beyond once-through, summed over the schedules: recomputed, cached.
    let mut excess = (0u64, 0u64);
    for &split in &splits {
        let grids = if !branching.contains(&split) {
            grids
        } else if sampled.contains(&split) {
            &grids[..grids.len().min(2)]
        } else {
            continue;
        };
        let o = g.tensors[g.nodes[split].output()].nhwc();
        for (k, &grid) in grids.iter().enumerate() {
            if grid.0 > o[1] || grid.1 > o[2] {
                continue;
            }
            // On each split's first grid also a per-layer mixture: every other stage op cached.
            let mixed = CacheSet::of((split % 2..=split).step_by(2)).map(Halo::Layers);
            for mode in [InputMode::InArena, InputMode::Streamed] {
                for halo in [Halo::Recompute, Halo::Cache].into_iter().chain(mixed.filter(|_| k == 0)) {
                    let (got, measured, planned) = run_patched(&g, split, grid, mode, halo, &input);
                    assert_eq!(
                        got, want,
                        "{name} split {split} grid {grid:?} {mode:?} {halo:?}: output differs from layer-by-layer"
                    );
                    assert_eq!(
                        measured, planned,
                        "{name} split {split} grid {grid:?} {mode:?} {halo:?}: measured arena differs from the plan"
                    );
                    checked += 1;
                }
            }
            let (once, recompute, cache) = check_cached_macs(&g, split, grid);
            excess.0 += recompute - once;
            excess.1 += cache - once;
        }
    }
    eprintln!(
        "{name}: {} legal splits ({} keep tensors whole, {} of those checked), {checked} schedules checked; halo MACs recomputed {}, cached {}",
        splits.len(),
        branching.len(),
        sampled.len(),
        excess.0,
        excess.1
    );
}

#[test]
fn opsnet_every_split_every_small_grid() {
    let grids: Vec<(usize, usize)> = (1..=4).flat_map(|r| (1..=4).map(move |c| (r, c))).collect();
    check_model("opsnet-int8.tflite", &grids);
}

#[test]
fn blazeface_every_split() {
    check_model("blazeface-short-int8.tflite", &[(1, 1), (2, 2), (3, 2), (4, 4), (5, 7)]);
}

#[test]
fn mbv2_every_split() {
    check_model("mbv2-w0.35-r144-int8.tflite", &[(2, 2), (3, 3), (4, 1)]);
}

/// Every single-operator golden case that can form a patch stage (a local
/// operator on a 4-D image) runs patch by patch byte-identical to
/// TFLite's reference output, on grids that split its output unevenly.
#[test]
fn every_local_op_case_runs_patch_based_like_the_reference() {
    let dir = root().join("tests/golden/ops");
    let mut checked = std::collections::BTreeMap::<&'static str, usize>::new();
    for case in patchwise_tests::cases(&dir, None) {
        let g = patchwise_core::loader::load(&std::fs::read(&case.model).unwrap()).unwrap();
        if g.inputs.len() != 1 || !legal_splits(&g).contains(&0) {
            continue;
        }
        let o = g.tensors[g.nodes[0].output()].nhwc();
        for grid in [(2, 2), (3, 2), (1, 3)] {
            if grid.0 > o[1] || grid.1 > o[2] {
                continue;
            }
            for mode in [InputMode::InArena, InputMode::Streamed] {
                // A SPLIT's other parts read the input after a one-part stage: it cannot stream.
                let s = patchwise_core::patch::PatchSchedule::new(&g, 0, grid).unwrap();
                if s.check_mode(mode).is_err() {
                    continue;
                }
                for halo in [Halo::Recompute, Halo::Cache] {
                    let (got, measured, planned) = run_patched(&g, 0, grid, mode, halo, &case.inputs[0].data);
                    let want: Vec<&Vec<u8>> = case.outputs.iter().map(|o| &o.data).collect();
                    assert_eq!(got.iter().collect::<Vec<_>>(), want, "{} grid {grid:?} {mode:?} {halo:?}", case.name);
                    assert_eq!(measured, planned, "{} grid {grid:?} {mode:?} {halo:?}: arena", case.name);
                }
            }
        }
        *checked.entry(g.nodes[0].op.name()).or_default() += 1;
    }
    eprintln!("patch-based op cases: {checked:?}");
    for op in
        ["CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "ADD", "MUL", "TANH", "PAD", "MAX_POOL_2D", "SLICE", "SPLIT"]
    {
        assert!(checked.contains_key(op), "no {op} case ran patch-based");
    }
}

/// BlazeFace's 16×16 features feed a detector head and the 8×8 stage: a patch
/// stage past that branch keeps them whole (they count in the peak), and the
/// output is still byte-identical to layer by layer (`blazeface_every_split`
/// runs those splits too).
#[test]
fn blazeface_has_branching_stages_that_keep_tensors_whole() {
    use patchwise_core::patch::PatchSchedule;
    let g = load("blazeface-short-int8.tflite");
    let branching: Vec<(usize, Vec<usize>)> = legal_splits(&g)
        .into_iter()
        .filter_map(|s| {
            let k = PatchSchedule::new(&g, s, (2, 2)).unwrap().kept;
            (!k.is_empty()).then_some((s, k))
        })
        .collect();
    assert!(!branching.is_empty(), "no legal split of BlazeFace branches");
    let (split, kept) = &branching[0];
    let input = golden_input("blazeface-short-int8");
    let (want, _) = run_layers(&g, &[&input]).unwrap();
    let ex = PatchExecutor::new(&g, *split, (2, 2), InputMode::Streamed).unwrap();
    let m = exec::run_measured(&ex.program(), &input, &|| 0.0).unwrap();
    assert_eq!(m.outputs, want);
    // Each kept tensor has a whole buffer in the arena.
    for &t in kept {
        let b = ex.layout.buffer_of[t].unwrap();
        assert!(ex.layout.buffers[b].size >= g.tensors[t].bytes(), "kept tensor {t} is not whole");
    }
    eprintln!("blazeface branching splits: {:?}", branching.iter().map(|(s, k)| (*s, k.len())).collect::<Vec<_>>());
}

#[test]
fn mbv3se_every_split() {
    check_model("mbv3se-int8.tflite", &[(2, 2), (3, 4), (8, 8)]);
}

/// The detector's stride-8 features leave the patch stage for the pyramid:
/// later splits keep them whole.
#[test]
fn yolofpn_every_split() {
    check_model("yolofpn-int8.tflite", &[(2, 2), (4, 5), (3, 1)]);
}

#[test]
fn torchconv_every_split() {
    check_model("torchconv-int8.tflite", &[(1, 1), (2, 3)]);
}

/// What a page shows of a run and a timeline replays: an observed run visits
/// each patch-stage node once per patch (patches in order), then every later
/// node once, whole — and observing changes no output byte.
#[test]
fn an_observed_run_visits_the_stage_per_patch_then_the_rest() {
    let g = load("blazeface-short-int8.tflite");
    let input = golden_input("blazeface-short-int8");
    let split = legal_splits(&g)[3];
    let ex = PatchExecutor::new(&g, split, (2, 2), InputMode::InArena).unwrap();
    let mut steps = Vec::new();
    let m = exec::run_measured_observed(&ex.program(), &input, &|| 0.0, &mut |pass, s, _| {
        if pass == 0 {
            steps.push(s)
        }
    })
    .unwrap();
    assert_eq!(m.outputs, exec::run_measured(&ex.program(), &input, &|| 0.0).unwrap().outputs);
    let (stage, rest): (Vec<exec::Step>, Vec<exec::Step>) = steps.iter().partition(|s| s.patch.is_some());
    for p in 0..4 {
        let nodes: Vec<usize> = stage.iter().filter(|s| s.patch == Some(p)).map(|s| s.node).collect();
        assert_eq!(nodes, (0..=split).collect::<Vec<_>>(), "patch {p}");
    }
    assert!(stage.windows(2).all(|w| w[0].patch <= w[1].patch), "patches run in order");
    assert_eq!(rest.iter().map(|s| s.node).collect::<Vec<_>>(), (split + 1..g.nodes.len()).collect::<Vec<_>>());
    assert_eq!(steps.len(), stage.len() + rest.len());
    assert!(steps.iter().position(|s| s.patch.is_none()) == Some(stage.len()), "the rest runs after every patch");
}
