//! The teaching timeline (`watch::Timeline`) is the executor's run: on every
//! shipped model, layer by layer and under patch schedules in both input
//! modes, its last high-water mark is the measured and the planned arena,
//! its live bytes are the layer table's, its MACs the report's, and its
//! recomputed MACs the report's halo overhead.

use patchwise_core::exec;
use patchwise_core::graph::Graph;
use patchwise_core::patch::Halo;
use patchwise_core::patch::{legal_splits, InputMode};
use patchwise_core::plan::{self, Schedule};
use patchwise_core::watch::Timeline;
use patchwise_tests::root;

fn load(name: &str) -> Graph {
    patchwise_core::loader::load(&std::fs::read(root().join("models").join(name)).unwrap()).unwrap()
}

fn golden_input(stem: &str) -> Vec<u8> {
    let p = root().join(format!("tests/golden/models/{stem}.random.in0.npy"));
    patchwise_cli::io::parse_npy(&std::fs::read(p).unwrap()).unwrap().data
}

fn check(g: &Graph, input: &[u8], schedule: Schedule, mode: InputMode, what: &str) {
    let t = Timeline::measure(g, schedule, mode, input).unwrap();
    let r = plan::report(g, schedule, mode).unwrap();
    let peak = if schedule.split.is_some() { r.patch_peak_bytes } else { r.layer_peak_bytes };
    assert_eq!((t.measured_bytes(), t.arena_size), (peak, peak), "{what}: last mark, planned arena");
    let last = t.steps.last().unwrap();
    assert_eq!((last.macs, last.recomputed_macs), (r.macs, r.overhead_macs), "{what}: MACs, recomputed");
    assert!(
        t.start_hwm <= t.steps[0].hwm && t.steps.windows(2).all(|w| w[0].hwm <= w[1].hwm),
        "{what}: marks only grow"
    );
    for s in &t.steps {
        let row = &r.layers[s.node];
        let want = if schedule.split.is_some() { row.scheduled_live_bytes } else { row.layer_live_bytes };
        assert_eq!(s.live_bytes, want, "{what}: live bytes at op {}", s.node);
        assert_eq!(s.patch.is_some(), schedule.split.is_some_and(|k| s.node <= k), "{what}: op {}", s.node);
    }
    // Every live buffer is inside the arena, and a step's live buffers are where its bytes are.
    for k in 0..t.steps.len() {
        assert!(t.live(k).all(|(_, b)| b.offset + b.size <= t.arena_size), "{what}: step {k}");
    }
    // The steps are the interpreter's, in its order.
    let m = exec::run_measured(&exec_program(g, schedule, mode).program(), input, &|| 0.0).unwrap();
    assert_eq!(m.arena_hwm, t.measured_bytes(), "{what}: run_measured's mark");
}

/// The executor `Timeline::measure` runs, to compare with.
enum Ex<'g> {
    L(exec::Executor<'g>),
    P(patchwise_core::patch::PatchExecutor<'g>),
}

impl Ex<'_> {
    fn program(&self) -> patchwise_core::program::Program<'_> {
        match self {
            Ex::L(e) => e.program(),
            Ex::P(e) => e.program(),
        }
    }
}

fn exec_program(g: &Graph, s: Schedule, mode: InputMode) -> Ex<'_> {
    match s.split {
        None => Ex::L(exec::Executor::new(g).unwrap()),
        Some(k) => Ex::P(patchwise_core::patch::PatchExecutor::with_halo(g, k, s.grid, mode, s.halo).unwrap()),
    }
}

#[test]
fn the_timeline_of_every_shipped_model_is_its_measured_run() {
    for name in
        ["blazeface-short-int8", "mbv2-w0.35-r144-int8", "mbv3se-int8", "yolofpn-int8", "torchconv-int8", "opsnet-int8"]
    {
        let g = load(&format!("{name}.tflite"));
        let input = golden_input(name);
        check(&g, &input, Schedule::LAYER_BY_LAYER, InputMode::InArena, &format!("{name} layer by layer"));
        let splits = legal_splits(&g);
        for &split in [splits.first(), splits.get(splits.len() / 3)].iter().flatten() {
            for grid in [(2, 2), (3, 2)] {
                let o = g.tensors[g.nodes[*split].output()].nhwc();
                if grid.0 > o[1] || grid.1 > o[2] {
                    continue;
                }
                for mode in [InputMode::InArena, InputMode::Streamed] {
                    for halo in [Halo::Recompute, Halo::Cache] {
                        let s = Schedule::patched(*split, grid).with_halo(halo);
                        if plan::report(&g, s, mode).is_ok() {
                            check(&g, &input, s, mode, &format!("{name} split {split} {grid:?} {mode:?} {halo:?}"));
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_patch_timeline_runs_each_patch_through_the_stage_before_the_rest() {
    let g = load("blazeface-short-int8.tflite");
    let input = golden_input("blazeface-short-int8");
    let t = Timeline::measure(&g, Schedule::patched(15, (2, 2)), InputMode::InArena, &input).unwrap();
    assert_eq!(t.patches, 4);
    let stage: Vec<(Option<usize>, usize)> = t.steps.iter().take(64).map(|s| (s.patch, s.node)).collect();
    let want: Vec<(Option<usize>, usize)> = (0..4).flat_map(|p| (0..16).map(move |n| (Some(p), n))).collect();
    assert_eq!(stage, want);
    assert_eq!(t.steps.len(), 64 + g.nodes.len() - 16);
    // Halos are recomputed from the second patch on, never in the first.
    assert_eq!(t.steps[15].recomputed_macs, 0);
    assert!(t.steps[63].recomputed_macs > 0);
}
