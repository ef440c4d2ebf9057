//! Speed figures for the README: `cargo bench -p patchwise-tests`.
//! - the full schedule search on MobileNetV2-1.0@224 (target: under 1 s);
//! - load + search of BlazeFace, and of the worst hostile graphs the loader
//!   accepts (a 4096-RELU chain: the most splits; a 255-RELU fan: the most
//!   buffers live together; a PAD then 4095 RELUs: no per-axis shortcut;
//!   each stopped by `plan::MAX_SEARCH_WORK`; bound: 1 s);
//! - one inference of each shipped model, layer by layer and patch-based;
//! - the design-space explorer's default sweep (target: under 10 s).

use criterion::{criterion_group, criterion_main, Criterion};
use patchwise_core::exec::Executor;
use patchwise_core::patch::{InputMode, PatchExecutor};
use patchwise_core::plan::search;
use patchwise_core::spec::{build, ArchSpec};
use patchwise_tests::root;

fn search_mbv2_224(c: &mut Criterion) {
    let g = build(&ArchSpec::preset("mbv2-w1.0-r224").unwrap()).unwrap().graph;
    let mut group = c.benchmark_group("search");
    group.sample_size(10);
    group.bench_function("mbv2-w1.0-r224 full search", |b| b.iter(|| search(&g, InputMode::InArena)));
    group.finish();
}

fn inference(c: &mut Criterion) {
    let mut group = c.benchmark_group("inference");
    group.sample_size(20);
    for (name, split, grid) in [("mbv2-w0.35-r144-int8", 12, (3, 3)), ("blazeface-short-int8", 15, (1, 2))] {
        let bytes = std::fs::read(root().join(format!("models/{name}.tflite"))).unwrap();
        let g = patchwise_core::loader::load(&bytes).unwrap();
        let ex = Executor::new(&g).unwrap();
        let mut arena = vec![0u8; ex.arena_size()];
        group.bench_function(format!("{name} layer by layer"), |b| b.iter(|| ex.run(&mut arena).unwrap()));
        let px = PatchExecutor::new(&g, split, grid, InputMode::InArena).unwrap();
        let mut arena = vec![0u8; px.arena_size()];
        group.bench_function(format!("{name} patch-based ops 0..={split} {}x{}", grid.0, grid.1), |b| {
            b.iter(|| px.run(&mut arena, None).unwrap())
        });
    }
    group.finish();
}

fn load_and_search(c: &mut Criterion) {
    let mut group = c.benchmark_group("load + search");
    group.sample_size(10);
    let hostile = patchwise_tests::hostile::relu_chain(patchwise_core::loader::MAX_OPERATORS, 16, 4);
    let fan = patchwise_tests::hostile::relu_fan(patchwise_core::loader::MAX_LIVE_TENSORS - 1, 16, 4);
    let pad = patchwise_tests::hostile::pad_then_relus(patchwise_core::loader::MAX_OPERATORS - 1, 2, 7, 4);
    let blazeface = std::fs::read(root().join("models/blazeface-short-int8.tflite")).unwrap();
    for (name, bytes) in [
        ("blazeface-short-int8", &blazeface),
        ("hostile 4096-RELU chain", &hostile),
        ("hostile 255-RELU fan", &fan),
        ("hostile PAD then 4095 RELUs", &pad),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| search(&patchwise_core::loader::load(bytes).unwrap(), InputMode::InArena))
        });
    }
    group.finish();
}

/// `patchwise explore`'s default sweep (mbv2, 238 specs) for the paper's board, on every core.
fn explore_sweep(c: &mut Criterion) {
    use patchwise_core::explore::{Family, Sweep};
    let board = patchwise_core::boards::board("stm32f746g-disco").unwrap();
    let sweep = Sweep::new(Family::Mbv2);
    let mut group = c.benchmark_group("explore");
    group.sample_size(10);
    group.bench_function("mbv2 default sweep, stm32f746g-disco", |b| {
        b.iter(|| {
            patchwise_cli::explore::evaluate_all(&sweep, board, board.arena_budget(), InputMode::InArena).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, search_mbv2_224, load_and_search, inference, explore_sweep);
criterion_main!(benches);
