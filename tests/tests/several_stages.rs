//! Several patch stages in one network (beyond MCUNetV2's one): on every
//! shipped model, schedules with a second (and a third) patched region run
//! byte-identical to layer by layer, in both input modes and both halo
//! modes, with the measured arena equal to the planned one, the report's
//! peak equal to the executor's arena, and the MACs the stages count equal
//! to what the interpreter's steps run.

use patchwise_core::exec;
use patchwise_core::graph::Graph;
use patchwise_core::patch::{check_stage, legal_splits, Halo, InputMode, PatchExecutor};
use patchwise_core::plan::{self, Later, Schedule, Stage};
use patchwise_tests::{root, run_layers};

fn load(name: &str) -> Graph {
    patchwise_core::loader::load(&std::fs::read(root().join("models").join(name)).unwrap()).unwrap()
}

fn golden_input(stem: &str) -> Vec<u8> {
    let p = root().join(format!("tests/golden/models/{stem}.random.in0.npy"));
    patchwise_cli::io::parse_npy(&std::fs::read(p).unwrap()).unwrap().data
}

/// Later stages `(first, last)` after op `after`: the longest legal run from
/// each start, at most `n` of them spread over the rest of the network.
fn later_stages(g: &Graph, after: usize, n: usize) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    for first in after + 1..g.nodes.len() {
        let Some(last) = (first..g.nodes.len()).take_while(|&l| check_stage(g, first, l).is_ok()).last() else {
            continue;
        };
        let o = g.tensors[g.nodes[last].output()].nhwc();
        if o[1] >= 2 && o[2] >= 2 {
            runs.push((first, last));
        }
    }
    let stride = runs.len().div_ceil(n).max(1);
    runs.into_iter().step_by(stride).collect()
}

fn grid_for(g: &Graph, last: usize, want: (usize, usize)) -> (usize, usize) {
    let o = g.tensors[g.nodes[last].output()].nhwc();
    (want.0.min(o[1]), want.1.min(o[2]))
}

/// Runs `schedule` through the executor and checks it against layer by
/// layer, the plan and the interpreter's steps.
fn check(g: &Graph, name: &str, schedule: Schedule, mode: InputMode, input: &[u8], want: &[Vec<u8>]) {
    let stages = plan::patch_schedules(g, schedule).unwrap();
    let ex = PatchExecutor::from_stages(g, stages, mode).unwrap();
    let m = exec::run_measured(&ex.program(), input, &|| 0.0).unwrap();
    let what = format!("{name} {schedule:?} {mode:?}");
    assert_eq!(m.outputs, want, "{what}: outputs differ from layer by layer");
    assert_eq!(m.arena_hwm, ex.arena_size(), "{what}: measured arena != planned");
    let report = plan::report(g, schedule, mode).unwrap();
    assert_eq!(report.patch_peak_bytes, ex.arena_size(), "{what}: report peak != executor arena");
    // The report's MACs are what the interpreter runs, step by step.
    let steps = patchwise_core::latency::steps(g, schedule, mode).unwrap();
    assert_eq!(steps.iter().map(|s| s.macs).sum::<u64>(), report.macs, "{what}: steps' MACs != report");
    let mut order = Vec::new();
    ex.program()
        .run_observed(&mut vec![0; ex.arena_size()], (mode == InputMode::Streamed).then_some(input), |s, _| {
            order.push((s.node, s.patch))
        })
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let planned: Vec<_> = steps.iter().map(|s| (s.node, s.patch)).collect();
    assert_eq!(order, planned, "{what}: the interpreter's steps differ from latency::steps");
}

#[test]
fn two_stages_equal_layer_by_layer_on_every_shipped_model() {
    let mut checked = 0;
    for name in [
        "blazeface-short-int8.tflite",
        "mbv2-w0.35-r144-int8.tflite",
        "mbv3se-int8.tflite",
        "opsnet-int8.tflite",
        "torchconv-int8.tflite",
        "yolofpn-int8.tflite",
    ] {
        let g = load(name);
        let input = golden_input(name.trim_end_matches(".tflite"));
        let (want, _) = run_layers(&g, &[&input]).unwrap();
        let splits = legal_splits(&g);
        // A short first stage and one half-way through the legal splits.
        let firsts = [splits[0], splits[splits.len() / 2]];
        let mut model_checked = 0;
        for (k, &split) in firsts.iter().enumerate() {
            for (first, last) in later_stages(&g, split, 3) {
                for (halo, later_halo) in [(Halo::Recompute, Halo::Recompute), (Halo::Cache, Halo::Cache)] {
                    let later = Later::of(&[Stage { first, last, grid: grid_for(&g, last, (2, 3)), halo: later_halo }])
                        .unwrap();
                    let schedule =
                        Schedule::patched(split, grid_for(&g, split, (2 + k, 2))).with_halo(halo).then(later);
                    for mode in [InputMode::InArena, InputMode::Streamed] {
                        if plan::layout(&g, schedule, mode).is_err() {
                            continue; // the network reads its input later: it cannot be streamed
                        }
                        check(&g, name, schedule, mode, &input, &want);
                        model_checked += 1;
                    }
                }
            }
        }
        assert!(model_checked > 0, "{name}: no second stage checked");
        checked += model_checked;
    }
    assert!(checked >= 24, "only {checked} two-stage schedules checked");
}

#[test]
fn three_stages_with_mixed_halos_equal_layer_by_layer() {
    let name = "mbv2-w0.35-r144-int8.tflite";
    let g = load(name);
    let input = golden_input("mbv2-w0.35-r144-int8");
    let (want, _) = run_layers(&g, &[&input]).unwrap();
    let split = legal_splits(&g)[2];
    // A second stage that stops short, an op layer by layer, then a third.
    let a = later_stages(&g, split, 1)[0];
    let a = (a.0, (a.0 + 2).min(a.1));
    let b = later_stages(&g, a.1 + 1, usize::MAX).into_iter().find(|r| r.0 > a.1 + 1).expect("a third stage");
    let later = Later::of(&[
        Stage { first: a.0, last: a.1, grid: grid_for(&g, a.1, (3, 2)), halo: Halo::Cache },
        Stage { first: b.0, last: b.1, grid: grid_for(&g, b.1, (2, 2)), halo: Halo::Recompute },
    ])
    .unwrap();
    let schedule = Schedule::patched(split, (2, 2)).then(later);
    for mode in [InputMode::InArena, InputMode::Streamed] {
        check(&g, name, schedule, mode, &input, &want);
    }
}

#[test]
fn overlapping_or_misordered_stages_are_refused() {
    let g = load("mbv2-w0.35-r144-int8.tflite");
    let split = legal_splits(&g)[3];
    let overlapping =
        Later::of(&[Stage { first: split, last: split + 1, grid: (2, 2), halo: Halo::Recompute }]).unwrap();
    let err = plan::layout(&g, Schedule::patched(split, (2, 2)).then(overlapping), InputMode::InArena).unwrap_err();
    assert!(err.to_string().contains("overlap"), "{err}");
    let backwards =
        Later::of(&[Stage { first: split + 3, last: split + 2, grid: (2, 2), halo: Halo::Recompute }]).unwrap();
    let err = plan::layout(&g, Schedule::patched(split, (2, 2)).then(backwards), InputMode::InArena).unwrap_err();
    assert!(err.to_string().contains("after its last"), "{err}");
    // A global operator (MEAN) cannot be in a later stage either.
    let mean = g.nodes.iter().position(|n| n.op.name() == "MEAN").unwrap();
    let global = Later::of(&[Stage { first: split + 1, last: mean, grid: (1, 1), halo: Halo::Recompute }]).unwrap();
    let err = plan::layout(&g, Schedule::patched(split, (2, 2)).then(global), InputMode::InArena).unwrap_err();
    assert!(err.to_string().contains("MEAN"), "{err}");
    assert!(Later::of(&[Stage { first: 1, last: 1, grid: (1, 1), halo: Halo::Recompute }; 4]).is_none());
}

/// The later-stage search lowers mbv2's peak after a short recomputing first
/// stage (MCUNetV2's ≤ 3 % MACs point), every schedule it reports has the
/// peak and MACs its plan has, and its smallest peak runs exactly.
#[test]
fn later_stage_search_lowers_the_peak_and_its_answers_run_exactly() {
    let name = "mbv2-w0.35-r144-int8.tflite";
    let g = load(name);
    let input = golden_input("mbv2-w0.35-r144-int8");
    let (want, _) = run_layers(&g, &[&input]).unwrap();
    let mode = InputMode::Streamed;
    let base = Schedule::patched(5, (2, 3));
    let tried = plan::later_stages(&g, base, mode);
    assert_eq!(tried[0].schedule, base, "the base comes first");
    for c in &tried {
        let r = plan::report(&g, c.schedule, mode).unwrap();
        assert_eq!((r.patch_peak_bytes, r.macs), (c.peak_bytes, c.macs), "{:?}", c.schedule);
    }
    let best = tried.iter().min_by_key(|c| (c.peak_bytes, c.macs)).unwrap();
    assert!(!best.schedule.later.is_empty() && best.peak_bytes < tried[0].peak_bytes, "{best:?} vs {:?}", tried[0]);
    check(&g, name, best.schedule, mode, &input, &want);
}

/// The joint search (`Search::with_later_stages`, what `plan --then auto`
/// and the page weigh): later stages after every one-stage schedule of the
/// front, one front over both. On torchconv one stage stops at 34.1 kB; the
/// joint front goes lower with a second stage, keeps every one-stage point
/// that is not dominated, reports each point as its plan does, and its
/// smallest peak runs exactly.
#[test]
fn the_joint_search_weighs_one_and_several_stages_on_one_front() {
    let name = "torchconv-int8.tflite";
    let g = load(name);
    let input = golden_input("torchconv-int8");
    let (want, _) = run_layers(&g, &[&input]).unwrap();
    let mode = InputMode::Streamed;
    let one = plan::search(&g, mode);
    let joint = one.with_later_stages(&g, mode);
    assert!(joint.candidates.len() > one.candidates.len());
    assert!(joint.candidates.starts_with(&one.candidates), "the one-stage candidates are kept as they were");
    let smallest = joint.pareto[0];
    assert!(!smallest.schedule.later.is_empty(), "{smallest:?}");
    assert!(smallest.peak_bytes < one.smallest_peak(), "{} vs {}", smallest.peak_bytes, one.smallest_peak());
    for c in &joint.pareto {
        let r = plan::report(&g, c.schedule, mode).unwrap();
        assert_eq!((r.patch_peak_bytes, r.macs), (c.peak_bytes, c.macs), "{:?}", c.schedule);
        // A one-stage point leaves the front only when a several-stage one dominates it.
        assert!(!c.schedule.later.is_empty() || one.pareto.contains(c), "{c:?}");
    }
    for c in one.pareto.iter().filter(|c| !joint.pareto.contains(c)) {
        assert!(
            joint
                .pareto
                .iter()
                .any(|d| d.peak_bytes <= c.peak_bytes && d.macs <= c.macs && !d.schedule.later.is_empty()),
            "{c:?} left the front undominated"
        );
    }
    assert_eq!(joint.best_within(smallest.peak_bytes).unwrap(), smallest);
    check(&g, name, smallest.schedule, mode, &input, &want);
}
