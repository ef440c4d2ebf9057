//! The per-axis shortcut ([`StageAxis`]) gives exactly the rectangles of the
//! per-patch back-propagation, and the search built on it gives exactly the
//! peaks and MACs the full schedule gives, on every shipped model, every
//! preset, every single-input op golden case and random networks — and the
//! fall-back to the per-patch walk is exercised.

use patchwise_core::graph::Graph;
use patchwise_core::patch::{legal_splits, patch_layout, InputMode, PatchSchedule, StageAxis};
use patchwise_core::plan::{search, search_within, MAX_GRID};
use patchwise_core::planner::GreedyBySize;
use patchwise_core::spec::{build, ArchSpec};
use patchwise_tests::root;

/// Schedules compared, and how many of them took the per-patch walk.
#[derive(Default, Debug)]
struct Count {
    grids: usize,
    unseparated: usize,
}

fn check_rects(g: &Graph, name: &str, count: &mut Count) {
    for split in legal_splits(g) {
        let o = g.tensors[g.nodes[split].output()].nhwc();
        let stage = PatchSchedule::empty(g, split, (1, 1)).unwrap();
        for rows in 1..=MAX_GRID.min(o[1]) {
            for cols in 1..=MAX_GRID.min(o[2]) {
                let want = PatchSchedule::new_unseparated(g, split, (rows, cols)).unwrap();
                assert_eq!(
                    PatchSchedule::new(g, split, (rows, cols)).unwrap(),
                    want,
                    "{name} split {split} {rows}x{cols}"
                );
                let (r, c) = (StageAxis::new(g, &stage, true, rows), StageAxis::new(g, &stage, false, cols));
                count.grids += 1;
                count.unseparated += usize::from(!StageAxis::combine(&r, &c));
            }
        }
    }
}

fn check_search(g: &Graph, name: &str) {
    for mode in [InputMode::InArena, InputMode::Streamed] {
        let s = search(g, mode);
        let base = s.base_macs;
        for c in &s.candidates {
            let Some(split) = c.schedule.split else { continue };
            let p = PatchSchedule::new_unseparated(g, split, c.schedule.grid).unwrap();
            let l = patch_layout(g, &p, mode, &GreedyBySize, Default::default());
            assert_eq!(
                (c.peak_bytes, c.macs),
                (l.arena_size(), base + p.overhead_macs(g)),
                "{name} {mode:?} {:?}",
                c.schedule
            );
        }
    }
}

/// `search_within` gives what the full search and `best_within` give, for
/// budgets at, just below and just above Pareto points spread over the front.
fn check_within(g: &Graph, name: &str) {
    for mode in [InputMode::InArena, InputMode::Streamed] {
        let s = search(g, mode);
        let mut budgets = vec![0, usize::MAX];
        // Up to six Pareto points, spread over the front (the first and the last among them).
        let step = s.pareto.len().div_ceil(5).max(1);
        for p in s.pareto.iter().step_by(step).chain(s.pareto.last()) {
            budgets.extend([p.peak_bytes - 1, p.peak_bytes, p.peak_bytes + 1]);
        }
        for budget in budgets {
            let w = search_within(g, mode, budget);
            assert_eq!(w.best, s.best_within(budget).ok(), "{name} {mode:?} budget {budget}");
            assert_eq!(w.smallest, s.pareto[0], "{name} {mode:?}");
            assert_eq!(
                (w.layer_peak_bytes, w.base_macs, w.splits_untried),
                (s.layer_peak_bytes, s.base_macs, s.splits_untried)
            );
        }
    }
}

fn model(name: &str) -> Graph {
    patchwise_core::loader::load(&std::fs::read(root().join("models").join(name)).unwrap()).unwrap()
}

#[test]
fn shipped_models_and_presets() {
    let mut count = Count::default();
    for entry in std::fs::read_dir(root().join("models")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".tflite") {
            let g = model(&name);
            check_rects(&g, &name, &mut count);
            check_search(&g, &name);
            check_within(&g, &name);
        }
    }
    for name in ArchSpec::PRESETS.into_iter().filter(|n| n.starts_with("mbv2-w0.35") || n.starts_with("mcunet")) {
        let g = build(&ArchSpec::preset(name).unwrap()).unwrap().graph;
        check_rects(&g, name, &mut count);
        check_search(&g, name);
        check_within(&g, name);
    }
    eprintln!("models and presets: {count:?}");
    assert!(count.grids > 1000 && count.unseparated > 0, "{count:?}");
}

/// Windows wholly in padding, kept tensors with fewer rows than the grid:
/// the op cases reach the fall-back most.
#[test]
fn op_golden_cases() {
    let mut count = Count::default();
    for case in patchwise_tests::cases(&root().join("tests/golden/ops"), None) {
        let g = patchwise_core::loader::load(&std::fs::read(&case.model).unwrap()).unwrap();
        if g.inputs.len() == 1 {
            check_rects(&g, &case.name, &mut count);
            check_search(&g, &case.name);
        }
    }
    eprintln!("op cases: {count:?}");
    assert!(count.grids > 1000 && count.unseparated > 0, "{count:?}");
}

/// Random networks of both explorer families at random sizes: `search_within` equals the full search.
#[test]
fn within_equals_search_on_explorer_specs() {
    use patchwise_core::explore::Family;
    // A fixed spread over the sweep's range (a proptest would rebuild the same few shapes).
    for (i, (res, width)) in
        [(64, 0.25), (96, 0.5), (112, 0.35), (128, 0.75), (80, 1.0), (144, 1.4)].into_iter().enumerate()
    {
        for family in Family::ALL {
            let rd = i % 2 == 1;
            let g = build(&family.spec(res, width, rd, 2)).unwrap().graph;
            check_within(&g, &format!("{} r{res} w{width} rd {rd}", family.name()));
        }
    }
}
