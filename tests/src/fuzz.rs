//! The fuzz targets' bodies (`fuzz/fuzz_targets/*.rs` call these), here so
//! that every finding kept in `fuzz/regressions/TARGET/` is replayed by
//! `cargo test` (tests/tests/fuzz_regressions.rs) without cargo-fuzz. Each
//! body panics on a violated property: a typed error is fine, a panic, a
//! mismatch or a resource bound broken is not.

use patchwise_core::analysis::total_macs;
use patchwise_core::exec::{run_measured, Executor};
use patchwise_core::graph::{DType, Quant, Tensor};
use patchwise_core::loader::{self, OpStatus, HEAP_PER_FILE_BYTE, HEAP_SLACK};
use patchwise_core::patch::{legal_splits, Halo, InputMode, PatchExecutor};
use patchwise_core::plan::{self, Schedule};
use patchwise_core::spec::{self, ArchSpec, SpecLimits};

/// Measures the heap high-water mark of a closure (bytes beyond what was
/// live before it). The fuzz binaries install a counting allocator; the
/// replay tests pass [`unmetered`].
pub type Meter = fn(&mut dyn FnMut()) -> usize;

pub fn unmetered(f: &mut dyn FnMut()) -> usize {
    f();
    0
}

/// Largest arena (and so input + weights) a fuzzed model is run in: bigger
/// graphs are legal but make one execution slow; `load` and `plan` cover them.
pub const MAX_RUN_ARENA: usize = 4 << 20;
/// Most MACs a fuzzed model is run with (milliseconds per execution).
pub const MAX_RUN_MACS: u64 = 20_000_000;

fn control<const N: usize>(data: &[u8]) -> Option<([u8; N], &[u8])> {
    let (c, rest) = data.split_at_checked(N)?;
    Some((c.try_into().ok()?, rest))
}

fn within_heap(what: &str, heap: usize, file: usize) {
    assert!(heap <= HEAP_PER_FILE_BYTE * file + HEAP_SLACK, "{what} took {heap} B of heap for a {file} B file");
}

/// `.tflite` bytes → loader (parse + validate) and the operator outline.
pub fn load(data: &[u8], meter: Meter) {
    let mut loaded = None;
    let heap = meter(&mut || loaded = Some(loader::load(data)));
    within_heap("load", heap, data.len());
    let loaded = loaded.expect("ran");
    if let Err(e) = &loaded {
        assert!(!e.to_string().is_empty());
    }
    let outline = loader::outline(data);
    if let Ok(g) = &loaded {
        let ops = outline.expect("a model that loads has an outline");
        assert!(ops.iter().all(|o| o.status == OpStatus::Supported), "a loaded model's outline marks an operator");
        assert!(ops.len() <= g.nodes.len());
    }
}

/// `.tflite` bytes → load → the schedule search in both input modes → the
/// report of the best schedule: bounded heap, a consistent result.
pub fn plan(data: &[u8], meter: Meter) {
    let Ok(g) = loader::load(data) else { return };
    for mode in [InputMode::InArena, InputMode::Streamed] {
        let mut search = None;
        let heap = meter(&mut || search = Some(plan::search(&g, mode)));
        within_heap("the search", heap, data.len());
        let s = search.expect("ran");
        assert_eq!(s.candidates[0].schedule, Schedule::LAYER_BY_LAYER);
        assert_eq!(s.candidates[0].peak_bytes, s.layer_peak_bytes);
        assert!(s.pareto.windows(2).all(|w| w[0].peak_bytes < w[1].peak_bytes && w[0].macs > w[1].macs));
        let best = s.best_within(usize::MAX).expect("an unbounded budget always fits");
        let r = plan::report(&g, best.schedule, mode).expect("a searched schedule reports");
        assert_eq!(r.patch_peak_bytes, best.peak_bytes, "{:?}", best.schedule);
        assert_eq!(r.layer_peak_bytes, s.layer_peak_bytes);
        match s.best_within(s.smallest_peak().saturating_sub(1)) {
            Err(e) => assert!(e.to_string().contains("no schedule fits"), "{e}"),
            Ok(c) => panic!("a budget below the smallest peak fits {c:?}"),
        }
    }
}

/// Two control bytes + `.tflite` → load → run layer by layer and under a
/// legal patch schedule the control bytes pick (grid, input mode, halos recomputed or
/// cached), in arenas of the planned
/// size: outputs byte-identical, measured high-water marks equal to the plans.
pub fn run(data: &[u8]) {
    let Some(([a, b], model)) = control::<2>(data) else { return };
    let Ok(g) = loader::load(model) else { return };
    if total_macs(&g) > MAX_RUN_MACS {
        return;
    }
    let Ok(ex) = Executor::new(&g) else { return };
    if ex.arena_size() > MAX_RUN_ARENA {
        return;
    }
    let input = patchwise_firmware_export::seeded_input(&g, u64::from(a));
    let layer = match run_measured(&ex.program(), &input, &|| 0.0) {
        Ok(m) => m,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert_eq!(layer.arena_hwm, ex.arena_size(), "layer by layer: measured arena differs from the plan");
    let splits = legal_splits(&g);
    if splits.is_empty() {
        return;
    }
    let split = splits[usize::from(a) % splits.len()];
    let o = g.tensors[g.nodes[split].output()].nhwc();
    let grid = (1 + usize::from(b & 7) % o[1].min(8), 1 + usize::from(b >> 3 & 7) % o[2].min(8));
    let mode = if b & 0x40 != 0 { InputMode::Streamed } else { InputMode::InArena };
    let halo = if b & 0x80 != 0 { Halo::Cache } else { Halo::Recompute };
    let Ok(px) = PatchExecutor::with_halo(&g, split, grid, mode, halo) else { return };
    let at = format!("split {split} grid {grid:?} {mode:?} {halo:?}");
    let patched = run_measured(&px.program(), &input, &|| 0.0)
        .unwrap_or_else(|e| panic!("{at}: layer by layer ran, patch-based failed: {e}"));
    assert!(patched.outputs == layer.outputs, "{at}: output differs from layer by layer");
    assert_eq!(patched.arena_hwm, px.arena_size(), "{at}: measured arena differs from the plan");
}

/// The playground's spec limits, scaled down so one execution stays short.
const SPEC_LIMITS: SpecLimits = SpecLimits { weights: 4 << 20, activation: 4 << 20 };

/// Architecture-spec JSON → serde → size limits → builder (also with RD) →
/// the layer-by-layer plan and the inferred spec of the built graph.
pub fn spec(data: &[u8]) {
    let Ok(s) = serde_json::from_slice::<ArchSpec>(data) else { return };
    for s in [s.clone(), s.redistribute(spec::DEFAULT_RD_STAGE_GROUPS)] {
        if spec::check_sizes(&s, SPEC_LIMITS).is_err() {
            continue;
        }
        match spec::build(&s) {
            Ok(built) => {
                plan::report(&built.graph, Schedule::LAYER_BY_LAYER, InputMode::InArena)
                    .expect("a built spec plans layer by layer");
                let _ = spec::infer(&built.graph);
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

/// One control byte + image bytes → decoder (with its limits) → the input
/// of an RGB tensor whose shape and type the control byte picks.
pub fn image(data: &[u8]) {
    let Some(([c], bytes)) = control::<1>(data) else { return };
    let Ok(img) = patchwise_image::decode(bytes) else { return };
    assert_eq!(img.pixels.len(), img.width * img.height * 3);
    let side = [1, 7, 96, 128][usize::from(c & 3)];
    let (dtype, quant) = match c >> 2 & 3 {
        0 => (DType::I8, Quant::PerTensor { scale: 1.0 / 128.0, zero_point: 0 }),
        1 => (DType::I8, Quant::PerTensor { scale: 0.02, zero_point: -5 }),
        2 => (DType::F32, Quant::None),
        _ => (DType::U8, Quant::PerTensor { scale: 1.0 / 255.0, zero_point: 128 }),
    };
    let shape = vec![1, side, side + usize::from(c >> 4), 3];
    let t = Tensor { name: "input".into(), dtype, shape, quant, data: None };
    if let Ok(input) = patchwise_image::to_input(&img, &t) {
        assert_eq!(input.len(), t.bytes());
    }
}

/// `.npy` bytes → the CLI's parser (`run` inputs, the goldens).
pub fn npy(data: &[u8], meter: Meter) {
    let mut parsed = None;
    let heap = meter(&mut || parsed = Some(patchwise_cli::io::parse_npy(data)));
    if let Some(Ok(npy)) = parsed {
        let elements: usize = npy.shape.iter().product();
        assert_eq!(npy.data.len(), elements * npy.dtype.size(), "shape {:?}", npy.shape);
    }
    assert!(heap <= 16 * data.len() + (1 << 20), "{heap} B of heap for {} B of .npy", data.len());
}

/// One control byte + `.tflite` → load → firmware lowering and code
/// generation for the QEMU board, layer by layer or under the search's
/// smallest-peak schedule → the project zip.
pub fn export(data: &[u8]) {
    use patchwise_firmware_export::{export, ExportRequest};
    let Some(([c], model)) = control::<1>(data) else { return };
    let Ok(g) = loader::load(model) else { return };
    if total_macs(&g) > MAX_RUN_MACS || plan::layer_layout(&g).arena_size() > MAX_RUN_ARENA {
        return;
    }
    let mode = if c & 1 != 0 { InputMode::Streamed } else { InputMode::InArena };
    let schedule = if c & 2 != 0 {
        plan::search(&g, mode).pareto.first().map_or(Schedule::LAYER_BY_LAYER, |c| c.schedule)
    } else {
        Schedule::LAYER_BY_LAYER
    };
    let board = patchwise_core::boards::board("qemu-mps2-an500").expect("the QEMU board");
    let req = ExportRequest { graph: &g, model_name: "fuzz", board, schedule, input_mode: mode, input: None };
    match export(&req) {
        Ok(project) => {
            project.to_zip().expect("an exported project zips");
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// Runs target `name`'s body on `data` (unmetered): the replay of a finding.
pub fn replay(name: &str, data: &[u8]) {
    match name {
        "load" => load(data, unmetered),
        "plan" => plan(data, unmetered),
        "run" => run(data),
        "spec" => spec(data),
        "image" => image(data),
        "npy" => npy(data, unmetered),
        "export" => export(data),
        other => panic!("no fuzz target {other}"),
    }
}

/// The fuzz targets, in `fuzz/Cargo.toml`'s order.
pub const TARGETS: [&str; 7] = ["load", "plan", "run", "spec", "image", "npy", "export"];
