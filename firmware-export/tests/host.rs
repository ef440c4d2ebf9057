//! The exported tables, run on the host: outputs byte-identical to layer by
//! layer, the measured arena high-water mark equal to the planned arena, and
//! the tables equal to the ones the host executors run, for many schedules.

mod common;

use patchwise_core::exec::Executor;
use patchwise_core::lower::lower;
use patchwise_core::patch::{legal_splits, InputMode, PatchExecutor, PatchSchedule};
use patchwise_core::plan::{self, Schedule};
use patchwise_firmware_export::{reference_outputs, run_static, seeded_input, Export};

fn check(
    name: &str,
    g: &patchwise_core::graph::Graph,
    schedule: Schedule,
    mode: InputMode,
    input: &[u8],
    want: &[Vec<u8>],
) {
    let e = Export::new(g, schedule, mode).unwrap_or_else(|e| panic!("{name} {schedule:?}: {e}"));
    let run = run_static(&e, input).unwrap_or_else(|e| panic!("{name} {schedule:?} {mode:?}: {e}"));
    assert_eq!(run.outputs, want, "{name} {schedule:?} {mode:?}: outputs differ from layer by layer");
    assert_eq!(run.arena_hwm, e.arena_size(), "{name} {schedule:?} {mode:?}: high-water mark");
    // The exporter lowers the host executor's layout and schedule to the
    // same tables, but for the filters the host packs for its kernels.
    let (host, packed) = match schedule.split {
        Some(split) => {
            let x = PatchExecutor::new(g, split, schedule.grid, mode).unwrap();
            (lower(g, &x.layout, &x.stages, x.mode).unwrap(), x.lowered)
        }
        None => {
            let x = Executor::new(g).unwrap();
            (lower(g, &x.layout, &[], InputMode::InArena).unwrap(), x.lowered)
        }
    };
    assert_eq!(host, e.lowered, "{name} {schedule:?} {mode:?}: exported tables differ from the executor's");
    let same = |l: &patchwise_core::lower::Lowered| {
        (
            l.tensors.clone(),
            l.arena_size,
            (l.stages.clone(), l.stage_rects.clone(), l.stage_kept.clone(), l.stage_caches.clone()),
            l.nodes.len(),
        )
    };
    assert_eq!(same(&packed), same(&e.lowered), "{name} {schedule:?} {mode:?}: the host's packed program differs");
    // The flash check (`fit`) counts the layer-by-layer pools for every schedule.
    assert_eq!(
        e.lowered.pools.flash_bytes(),
        patchwise_core::fit::pool_bytes(g).unwrap(),
        "{name} {schedule:?} {mode:?}: constant pools differ from layer by layer"
    );
}

#[test]
fn opsnet_every_schedule_matches_the_executors() {
    let g = common::load("opsnet-int8");
    let input = seeded_input(&g, 7);
    let want = reference_outputs(&g, &input).unwrap();
    let mut n = 0;
    for mode in [InputMode::InArena, InputMode::Streamed] {
        check("opsnet", &g, Schedule::LAYER_BY_LAYER, mode, &input, &want);
        // Every legal split, on grids from one cell to 8×8 (where the stage output is large enough).
        for split in legal_splits(&g) {
            for grid in [(1, 1), (1, 2), (2, 1), (2, 3), (3, 3), (4, 4), (5, 7), (8, 8)] {
                let schedule = Schedule::patched(split, grid);
                if PatchSchedule::new(&g, split, grid).is_ok() {
                    check("opsnet", &g, schedule, mode, &input, &want);
                    n += 1;
                }
            }
        }
    }
    assert!(n > 40, "only {n} schedules");
}

#[test]
fn shipped_models_pareto_schedules_match_the_executors() {
    for name in ["mbv2-w0.35-r144-int8", "blazeface-short-int8", "yolofpn-int8"] {
        let g = common::load(name);
        let input = seeded_input(&g, 11);
        let want = reference_outputs(&g, &input).unwrap();
        for mode in [InputMode::InArena, InputMode::Streamed] {
            let s = plan::search(&g, mode);
            // Spread over the Pareto front (smallest peak to layer-by-layer) plus a few other grids.
            let step = s.pareto.len().div_ceil(4).max(1);
            let mut picks: Vec<Schedule> = s.pareto.iter().step_by(step).map(|c| c.schedule).collect();
            picks.extend(s.pareto.first().map(|c| c.schedule));
            picks.extend(s.candidates.iter().skip(1).step_by(s.candidates.len() / 2).map(|c| c.schedule));
            picks.sort_by_key(|s| (s.split, s.grid));
            picks.dedup();
            for sch in picks {
                check(name, &g, sch, mode, &input, &want);
            }
        }
    }
}
