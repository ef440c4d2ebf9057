//! The static tables, run on the host, against core's executors: outputs
//! byte-identical to layer-by-layer and to `PatchExecutor`, and the measured
//! arena high-water mark equal to the planned arena, for many schedules.

mod common;

use patchwise_core::patch::{legal_splits, InputMode, PatchExecutor, PatchSchedule};
use patchwise_core::plan::{self, Schedule};
use patchwise_firmware_export::{reference_outputs, run_static, seeded_input, Lowered};

fn check(
    name: &str,
    g: &patchwise_core::graph::Graph,
    schedule: Schedule,
    mode: InputMode,
    input: &[u8],
    want: &[Vec<u8>],
) {
    let l = Lowered::new(g, schedule, mode).unwrap_or_else(|e| panic!("{name} {schedule:?}: {e}"));
    let run = run_static(&l, input).unwrap_or_else(|e| panic!("{name} {schedule:?} {mode:?}: {e}"));
    assert_eq!(run.outputs, want, "{name} {schedule:?} {mode:?}: outputs differ from the host executor");
    assert_eq!(run.arena_hwm, l.arena_size(), "{name} {schedule:?} {mode:?}: high-water mark");
    if let Some(split) = schedule.split {
        // The patch executor, for the same schedule, in the same arena size.
        let ex = PatchExecutor::new(g, split, schedule.grid, mode).unwrap();
        assert_eq!(ex.arena_size(), l.arena_size());
        let mut arena = vec![0u8; ex.arena_size()];
        let streamed = (mode == InputMode::Streamed).then_some(input);
        if mode == InputMode::InArena {
            ex.input_mut(&mut arena).unwrap().copy_from_slice(input);
        }
        ex.run(&mut arena, streamed).unwrap();
        for (i, w) in want.iter().enumerate() {
            assert_eq!(ex.output(&arena, i).unwrap(), w.as_slice());
        }
    }
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
                let schedule = Schedule { split: Some(split), grid };
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
    for name in ["mbv2-w0.35-r144-int8", "blazeface-short-int8"] {
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
