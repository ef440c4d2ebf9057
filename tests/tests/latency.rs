//! The latency estimate's steps are the interpreter's: on every shipped model,
//! layer by layer and under patch schedules, `latency::steps` lists the
//! (operator, patch) pairs `Program::run_observed` runs, in its order, and
//! their MACs add up to the report's; an estimate adds its cost model's terms
//! over exactly those steps.

use patchwise_core::exec::Executor;
use patchwise_core::graph::Graph;
use patchwise_core::latency::{self, CostModel, OpCost};
use patchwise_core::patch::{legal_splits, Halo, InputMode, PatchExecutor};
use patchwise_core::plan::{self, Schedule};
use patchwise_tests::root;

const MODELS: [&str; 6] =
    ["blazeface-short-int8", "mbv2-w0.35-r144-int8", "mbv3se-int8", "yolofpn-int8", "torchconv-int8", "opsnet-int8"];

fn load(name: &str) -> Graph {
    patchwise_core::loader::load(&std::fs::read(root().join("models").join(format!("{name}.tflite"))).unwrap()).unwrap()
}

/// The (node, patch) pairs the interpreter runs under `s`.
fn observed(g: &Graph, s: Schedule, mode: InputMode) -> Vec<(usize, Option<usize>)> {
    let input = vec![0u8; g.tensors[g.inputs[0]].bytes()];
    let mut seen = Vec::new();
    let mut run = |p: patchwise_core::program::Program, size: usize| {
        let mut arena = vec![0u8; size];
        let streamed = (mode == InputMode::Streamed).then_some(&input[..]);
        if streamed.is_none() {
            p.input_mut(&mut arena, 0).unwrap().copy_from_slice(&input);
        }
        p.run_observed(&mut arena, streamed, |st, _| seen.push((st.node, st.patch))).unwrap();
    };
    match s.split {
        None => {
            let e = Executor::new(g).unwrap();
            run(e.program(), e.arena_size());
        }
        Some(k) => {
            let e = PatchExecutor::with_halo(g, k, s.grid, mode, s.halo).unwrap();
            run(e.program(), e.arena_size());
        }
    }
    seen
}

#[test]
fn the_steps_are_the_interpreters_and_their_macs_the_reports() {
    for name in MODELS {
        let g = load(name);
        let splits = legal_splits(&g);
        let mut schedules = vec![(Schedule::LAYER_BY_LAYER, InputMode::InArena)];
        for &k in [splits.first(), splits.last()].into_iter().flatten() {
            let o = g.tensors[g.nodes[k].output()].nhwc();
            let grid = (3.min(o[1]), 2.min(o[2]));
            for halo in [Halo::Recompute, Halo::Cache] {
                schedules.push((Schedule::patched(k, grid).with_halo(halo), InputMode::InArena));
                schedules.push((Schedule::patched(k, grid).with_halo(halo), InputMode::Streamed));
            }
        }
        for (s, mode) in schedules {
            let Ok(r) = plan::report(&g, s, mode) else { continue };
            let steps = latency::steps(&g, s, mode).unwrap();
            let pairs: Vec<_> = steps.iter().map(|st| (st.node, st.patch)).collect();
            assert_eq!(pairs, observed(&g, s, mode), "{name} {s:?} {mode:?}: the interpreter's steps");
            let macs: u64 = steps.iter().map(|st| st.macs).sum();
            assert_eq!(macs, r.macs, "{name} {s:?}: the steps' MACs");
            for (i, row) in r.layers.iter().enumerate() {
                let m: u64 = steps.iter().filter(|st| st.node == i).map(|st| st.macs).sum();
                assert_eq!(m, row.scheduled_macs, "{name} {s:?}: op {i}'s MACs");
            }
        }
    }
}

#[test]
fn an_estimate_prices_every_step_by_its_class() {
    let g = load("mbv2-w0.35-r144-int8");
    // One measured class (1×1 convolutions); everything else falls back.
    const OPS: &[OpCost] =
        &[OpCost { op: "CONV_2D", form: "1x1", per_step: 100.0, per_mac: 2.0, per_element: 3.0, samples: 1 }];
    let fallback = OpCost { op: "*", form: "", per_step: 7.0, per_mac: 5.0, per_element: 0.5, samples: 1 };
    let model = CostModel { name: "test", source: "test", per_inference: 1000.0, ops: OPS, fallback };
    let s = Schedule::patched(legal_splits(&g)[2], (2, 2));
    let e = latency::estimate(&g, s, InputMode::InArena, &model).unwrap();
    let mut want = vec![0.0; g.nodes.len()];
    for st in latency::steps(&g, s, InputMode::InArena).unwrap() {
        let c = if latency::class(&g, &st) == ("CONV_2D", "1x1") { &OPS[0] } else { &fallback };
        want[st.node] += c.per_step + c.per_mac * st.macs as f64 + c.per_element * st.elements as f64;
    }
    assert_eq!(e.per_node, want);
    assert_eq!(e.instructions, 1000.0 + want.iter().sum::<f64>());
    let unmeasured: Vec<&str> = e.unmeasured.iter().map(String::as_str).collect();
    assert!(unmeasured.iter().any(|c| c.starts_with("DEPTHWISE_CONV_2D 3x3")), "{unmeasured:?}");
    assert!(unmeasured.contains(&"CONV_2D kxk"), "{unmeasured:?}");
    assert!(!unmeasured.contains(&"CONV_2D 1x1"), "{unmeasured:?}");
    // 216 MHz, one instruction per cycle.
    assert!((e.millis(216_000_000) - e.instructions / 216e3).abs() < 1e-9);
}

#[test]
fn the_plan_document_estimates_every_armv7em_board_and_no_other() {
    let g = load("blazeface-short-int8");
    let l = plan::document::LatencyDoc::new(&g, Schedule::patched(15, (1, 2)), InputMode::InArena).unwrap();
    let names: Vec<&str> = l.boards.iter().map(|b| b.board.as_str()).collect();
    assert_eq!(names, ["stm32f746g-disco", "nucleo-h743zi", "nrf52840-dk", "qemu-mps2-an500"]);
    for b in &l.boards {
        let clock = patchwise_core::boards::board(&b.board).unwrap().clock_hz;
        assert!((b.ms - l.instructions as f64 / f64::from(clock) * 1e3).abs() < 1e-3 * b.ms.max(1.0), "{b:?}");
    }
    assert_eq!(l.layer_instructions.len(), g.nodes.len());
}
