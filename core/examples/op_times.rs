//! Where an inference's time goes, operator by operator: each model, `RUNS`
//! runs (default 51), the median time of every node (the clock read between
//! nodes through `Program::run_observed`), layer by layer or, with
//! `SPLIT=15 GRID=1x2`, patch-based (ops 0..=15 in 1×2 patches, each node's
//! patches summed). A model path of `-` reads the model from stdin.
//!
//! On the host (x86-64 kernels) and as wasm32 with simd128 under Node's V8
//! (the browser's kernels, without a browser; that runner,
//! `tools/wasi-run.mjs`, passes no environment: the defaults apply):
//!
//!   cargo run -q --release -p patchwise-core --example op_times -- models/mbv2-w0.35-r144-int8.tflite
//!   cargo run -q --release -p patchwise-core --example op_times --target wasm32-wasip1 -- models/….tflite
//!
//! In a Chromium worker, built as the browser's worker is: `tools/bench-web
//! ops [RUNS] [MODEL...]` (`EXTRA="SPLIT=15 GRID=1x2"`). Timings move
//! between runs on a shared machine: compare within one run.

use patchwise_core::exec::Executor;
use patchwise_core::patch::{InputMode, PatchExecutor};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = std::env::var("RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(51);
    for path in &args {
        // `-`: the model on stdin (a browser's WASI shim need not open files).
        let bytes = if path == "-" {
            let mut b = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).map(|_| b)
        } else {
            std::fs::read(path)
        }
        .unwrap_or_else(|e| panic!("{path}: {e}"));
        let g = patchwise_core::loader::load(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        // SPLIT=N GRID=RxC: patch-based, ops 0..=N in R×C patches.
        let split: Option<usize> = std::env::var("SPLIT").ok().and_then(|s| s.parse().ok());
        let grid = std::env::var("GRID").ok().and_then(|s| {
            let (r, c) = s.split_once('x')?;
            Some((r.parse().ok()?, c.parse().ok()?))
        });
        let (ex, px);
        let (p, size) = match (split, grid) {
            (Some(split), Some(grid)) => {
                px = PatchExecutor::new(&g, split, grid, InputMode::InArena).unwrap_or_else(|e| panic!("{path}: {e}"));
                (px.program(), px.arena_size())
            }
            _ => {
                ex = Executor::new(&g).unwrap_or_else(|e| panic!("{path}: {e}"));
                (ex.program(), ex.arena_size())
            }
        };
        let mut arena = vec![0u8; size];
        let n = g.nodes.len();
        // times[node][run]: a node's time in a run, its patches summed.
        let mut times = vec![Vec::with_capacity(runs); n];
        let mut totals = Vec::with_capacity(runs);
        for _ in 0..runs {
            let mut run = vec![0.0f64; n];
            let mut last: Option<(usize, Instant)> = None;
            let t0 = Instant::now();
            p.run_observed(&mut arena, None, |s, _| {
                let now = Instant::now();
                if let Some((i, t)) = last {
                    run[i] += (now - t).as_secs_f64();
                }
                last = Some((s.node, Instant::now()));
            })
            .unwrap();
            let end = Instant::now();
            if let Some((i, t)) = last {
                run[i] += (end - t).as_secs_f64();
            }
            for (t, r) in times.iter_mut().zip(run) {
                t.push(r);
            }
            totals.push((end - t0).as_secs_f64());
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            if v.is_empty() {
                0.0
            } else {
                v[v.len() / 2]
            }
        };
        let mean = totals.iter().sum::<f64>() / runs.max(1) as f64;
        println!("{path}: {runs} runs, median {:.3} ms, mean {:.3} ms", median(&mut totals) * 1e3, mean * 1e3);
        let mut by_kind: Vec<(&str, f64)> = Vec::new();
        for (i, t) in times.iter_mut().enumerate() {
            let m = median(t);
            let node = &g.nodes[i];
            let shape = node.outputs.first().map(|&o| format!("{:?}", g.tensor(o).shape)).unwrap_or_default();
            println!("  {i:3} {:<22} {shape:<18} {:8.1} µs", node.op.name(), m * 1e6);
            match by_kind.iter_mut().find(|(k, _)| *k == node.op.name()) {
                Some((_, s)) => *s += m,
                None => by_kind.push((node.op.name(), m)),
            }
        }
        by_kind.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (k, s) in by_kind {
            println!("  {k:<22} {:8.1} µs", s * 1e6);
        }
    }
}
