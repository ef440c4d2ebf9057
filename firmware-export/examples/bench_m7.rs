//! Cortex-M7 instructions per inference of exported firmware, under QEMU.
//!
//! `cargo run --release -p patchwise-firmware-export --example bench_m7 [--profile] [MODEL…]`
//! (or `tools/bench-m7/run`, which installs qemu-system-arm and gcc first).
//! `--profile` also prints where the instructions go, by function.
//! `--costs` fits the latency estimate's cost model instead: every model
//! under its board schedule and a second one, built with step markers,
//! each step's instructions attributed to its operator class
//! (`core/src/latency/cortex_m7.rs` is written from the fit); `--reuse`
//! refits from the counts of the last `--costs` run. `--patches` measures
//! what patching costs in time: each model layer by layer and under patch
//! schedules (recomputed halos at ≤ 3 % MACs and at the smallest peak, and
//! cached halos at the smallest peak), each schedule's extra instructions
//! next to its extra MACs (the speed issue asks for at most 2 points more).
//!
//! For each model (default: every `models/*.tflite`) it exports the firmware
//! for `qemu-mps2-an500` with the schedule the exporter picks for that board
//! (the fewest-MAC one that fits), builds it, checks in QEMU that its outputs
//! equal the host's byte for byte, and counts the instructions between the
//! firmware's `patchwise_inference_start` / `patchwise_inference_end`
//! markers with a TCG plugin (`tools/bench-m7/insn_count.c`, built with gcc).
//! Instruction counts are deterministic: they do not depend on the machine's
//! load. Where the project has TFLM + CMSIS-NN's count for the same file and
//! input convention (measured the same way, see README), it prints the ratio.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use patchwise_core::boards;
use patchwise_core::graph::Graph;
use patchwise_core::latency::{self, CostModel, OpCost};
use patchwise_core::patch::InputMode;
use patchwise_core::plan::Schedule;
use patchwise_firmware_export::run::{cargo_build, check_outputs, parse_output, run_qemu_with};
use patchwise_firmware_export::{best_schedule, export, reference_outputs, request_input, ExportRequest};

/// TFLM (main 90b983c2) + CMSIS-NN (4ab83cc3) instructions per inference on
/// the same files under the same QEMU plugin method, arm-none-eabi-gcc 12.2
/// -O2 -mcpu=cortex-m7 (measured 2026-12-01; see the README's speed section).
const TFLM_CMSIS_NN: &[(&str, u64)] = &[("mbv2-w0.35-r144-int8", 105_466_791), ("blazeface-short-int8", 173_200_320)];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn fail(msg: String) -> ! {
    eprintln!("bench_m7: {msg}");
    std::process::exit(1)
}

/// Address of a global function symbol (`nm`), Thumb bit cleared.
fn symbol(elf: &Path, name: &str) -> Result<u64, String> {
    let out = Command::new("nm").arg(elf).output().map_err(|e| format!("nm: {e} (install binutils)"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            let (addr, _kind, sym) = (f.next()?, f.next()?, f.next()?);
            (sym == name).then(|| u64::from_str_radix(addr, 16).ok()).flatten()
        })
        .map(|a| a & !1)
        .ok_or_else(|| format!("{name} not found in {}", elf.display()))
}

fn build_plugin(dir: &Path) -> PathBuf {
    let so = dir.join("insn_count.so");
    let src = repo().join("tools/bench-m7/insn_count.c");
    let st = Command::new("gcc")
        .args(["-O2", "-shared", "-fPIC", "-Wall", "-o"])
        .arg(&so)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| fail(format!("gcc: {e} (install gcc)")));
    if !st.success() {
        fail("building the QEMU plugin failed".into());
    }
    so
}

/// One firmware measured under QEMU: instructions of one inference, and with
/// step markers the instructions since the start at each step's beginning.
struct Measured {
    insns: u64,
    steps: Vec<u64>,
}

struct Bench {
    board: &'static boards::Board,
    work: PathBuf,
    plugin: PathBuf,
}

impl Bench {
    /// Exports `g` under `schedule`, builds it (with `step-markers`: marked
    /// steps), checks its outputs against the host's in QEMU and counts.
    fn measure(&self, name: &str, g: &Graph, schedule: Schedule, step_markers: bool, profile: bool) -> Measured {
        let req = ExportRequest {
            graph: g,
            model_name: name,
            board: self.board,
            schedule,
            input_mode: InputMode::InArena,
            input: None,
        };
        let project = export(&req).unwrap_or_else(|e| fail(format!("{name}: {e}")));
        // One project directory for every model: the vendored core and the
        // dependencies build once, only model.rs changes.
        let dir = self.work.join("project");
        project.write_to(&dir).expect("write project");
        let features: &[&str] = if step_markers { &["step-markers"] } else { &[] };
        let elf = cargo_build(
            &dir,
            &project.summary.crate_name,
            self.board.target,
            Some(&self.work.join("target")),
            features,
            false,
        )
        .unwrap_or_else(|e| fail(format!("{name}: build failed:\n{e}")));
        let (start, end) = match (symbol(&elf, "patchwise_inference_start"), symbol(&elf, "patchwise_inference_end")) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(e), _) | (_, Err(e)) => fail(e),
        };
        let counts = self.work.join(format!("{name}.counts"));
        let mut arg = format!("{},start={start:#x},end={end:#x},out={}", self.plugin.display(), counts.display());
        if step_markers {
            let step = symbol(&elf, "patchwise_step").unwrap_or_else(|e| fail(e));
            arg.push_str(&format!(",step={step:#x}"));
        }
        let blocks = self.work.join(format!("{name}.blocks"));
        if profile {
            arg.push_str(&format!(",profile={}", blocks.display()));
        }
        let run = run_qemu_with(&elf, Duration::from_secs(600), &["-plugin".into(), arg])
            .unwrap_or_else(|e| fail(format!("qemu-system-arm: {e}")));
        if run.exit_code != Some(0) {
            fail(format!("{name}: QEMU exit {:?}\n{}", run.exit_code, run.stderr));
        }
        let report = parse_output(&run.stdout).unwrap_or_else(|e| fail(format!("{name}: {e}")));
        let want = reference_outputs(g, &request_input(&req).expect("input")).expect("host outputs");
        check_outputs(&report, &want).unwrap_or_else(|e| fail(format!("{name}: firmware and host differ: {e}")));
        let text = std::fs::read_to_string(&counts).unwrap_or_default();
        let per: Vec<u64> = text
            .lines()
            .filter_map(|l| l.strip_prefix("inference ")?.split_whitespace().nth(1)?.parse().ok())
            .collect();
        // The firmware runs twice (two arena paints); both runs execute the same instructions.
        let Some(&insns) = per.first() else { fail(format!("{name}: the plugin recorded no inference")) };
        // With step markers the two runs have differed by ~100 instructions
        // in 195 M (mbv2); a fit does not notice that, a count would.
        let slack = if step_markers { insns / 100_000 } else { 0 };
        if per.iter().any(|&n| n.abs_diff(insns) > slack) {
            fail(format!("{name}: the two inferences differ in instructions: {per:?}"));
        }
        // The first inference's steps (the lines before its "inference" line).
        let steps = text
            .lines()
            .take_while(|l| !l.starts_with("inference "))
            .filter_map(|l| l.strip_prefix("step ")?.parse().ok())
            .collect();
        if profile {
            print_profile(&elf, &blocks, 2 * insns);
        }
        Measured { insns, steps }
    }
}

fn main() {
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    let profile = names.iter().any(|a| a == "--profile");
    let costs = names.iter().any(|a| a == "--costs");
    let reuse = names.iter().any(|a| a == "--reuse");
    let patches = names.iter().any(|a| a == "--patches");
    let nodes = names.iter().any(|a| a == "--nodes");
    names.retain(|a| !matches!(a.as_str(), "--profile" | "--costs" | "--reuse" | "--patches" | "--nodes"));
    if names.is_empty() {
        let mut all: Vec<String> = std::fs::read_dir(repo().join("models"))
            .expect("models/")
            .filter_map(|e| {
                let p = e.ok()?.path();
                (p.extension()? == "tflite").then(|| p.file_stem()?.to_str().map(String::from)).flatten()
            })
            .collect();
        all.sort();
        names = all;
    }
    let board = boards::board("qemu-mps2-an500").expect("the QEMU board");
    let work = repo().join("target").join("bench-m7");
    std::fs::create_dir_all(&work).expect("target/bench-m7");
    let plugin = build_plugin(&work);
    let bench = Bench { board, work, plugin };
    let models: Vec<(String, Graph)> = names
        .iter()
        .map(|name| {
            let bytes = std::fs::read(repo().join("models").join(format!("{name}.tflite")))
                .unwrap_or_else(|e| fail(format!("{name}: {e}")));
            (name.clone(), patchwise_core::loader::load(&bytes).unwrap_or_else(|e| fail(format!("{name}: {e}"))))
        })
        .collect();
    if costs {
        return fit_costs(&bench, &models, reuse);
    }
    if patches {
        // Layer by layer is the baseline even where it does not fit the F746's
        // 320 KB (BlazeFace): QEMU's mps2-an500 has 4 MB of SRAM there.
        let big = boards::Board { ram_bytes: 1024 * 1024, ..*board };
        let bench = Bench { board: Box::leak(Box::new(big)), ..bench };
        return patch_overhead(&bench, &models, profile, nodes);
    }
    println!("| model | schedule | MACs | instructions | per MAC | TFLM + CMSIS-NN | ratio |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (name, g) in &models {
        let best = best_schedule(g, board, InputMode::InArena).unwrap_or_else(|e| fail(format!("{name}: {e}")));
        let m = bench.measure(name, g, best.schedule, false, profile);
        let insns = m.insns;
        let tflm = TFLM_CMSIS_NN.iter().find(|(n, _)| n == name).map(|&(_, t)| t);
        println!(
            "| {name} | {} | {} | {} | {:.2} | {} | {} |",
            schedule_name(best.schedule),
            group(best.macs),
            group(insns),
            insns as f64 / best.macs as f64,
            tflm.map(group).unwrap_or_else(|| "—".into()),
            tflm.map(|t| format!("{:.2}×", insns as f64 / t as f64)).unwrap_or_else(|| "—".into()),
        );
    }
}

/// "layer by layer" or "ops 0..=15, 1×2 patches" (", cached" with cached halos).
fn schedule_name(s: Schedule) -> String {
    match s.split {
        None => "layer by layer".into(),
        Some(split) => format!(
            "ops 0..={split}, {}×{} patches{}",
            s.grid.0,
            s.grid.1,
            if s.halo == patchwise_core::patch::Halo::Recompute { "" } else { ", cached" }
        ),
    }
}

/// The time overhead of patching: every model layer by layer, then under
/// the recomputing schedule with the smallest peak at ≤ 3 % extra MACs, the
/// recomputing schedule with the smallest peak, and the cached schedule with
/// the smallest peak (input in SRAM, as the firmware holds it). For each:
/// extra MACs and extra instructions over layer by layer, and the excess
/// (instructions' share minus MACs'): what per-patch setup, halo strip copies
/// and the smaller patches' shorter runs cost beyond the recomputed MACs.
///
/// With `nodes`, each run counts its steps too, and a table per patch
/// schedule gives the patch stage's operators: their instructions layer by
/// layer and under the schedule (all patches), and the two ratios, instructions
/// and MACs.
fn patch_overhead(bench: &Bench, models: &[(String, Graph)], profile: bool, nodes: bool) {
    use patchwise_core::plan::{self, HaloChoice};
    println!("| model | schedule | peak | extra MACs | extra instructions | excess |");
    println!("|---|---|---:|---:|---:|---:|");
    for (name, g) in models {
        let mode = InputMode::InArena;
        let recompute = plan::search(g, mode);
        let cached = recompute.with_halo(g, mode, HaloChoice::Cache);
        let base = recompute.base_macs;
        let patched = |c: &&plan::Candidate| c.schedule.split.is_some();
        let mut picks: Vec<plan::Candidate> = Vec::new();
        let front = &recompute.pareto;
        picks.extend(front.iter().filter(patched).filter(|c| c.macs * 100 <= base * 103).min_by_key(|c| c.peak_bytes));
        picks.extend(front.iter().filter(patched).min_by_key(|c| (c.peak_bytes, c.macs)));
        picks.extend(cached.pareto.iter().filter(patched).min_by_key(|c| (c.peak_bytes, c.macs)));
        picks.dedup_by_key(|c| c.schedule);
        let per_node = |schedule: Schedule, m: &Measured| -> Vec<(u64, u64)> {
            let steps = latency::steps(g, schedule, InputMode::InArena).expect("the schedule's steps");
            if steps.len() != m.steps.len() {
                fail(format!("{name}: {} step markers for {} steps", m.steps.len(), steps.len()));
            }
            let mut per = vec![(0u64, 0u64); g.nodes.len()];
            for (k, s) in steps.iter().enumerate() {
                let next = m.steps.get(k + 1).copied().unwrap_or(m.insns);
                per[s.node].0 += next - m.steps[k];
                per[s.node].1 += s.macs;
            }
            per
        };
        let base_run = bench.measure(name, g, Schedule::LAYER_BY_LAYER, nodes, profile);
        let layers = base_run.insns;
        let base_nodes = if nodes { per_node(Schedule::LAYER_BY_LAYER, &base_run) } else { Vec::new() };
        println!(
            "| {name} | layer by layer | {} | — | {} | — |",
            group(recompute.layer_peak_bytes as u64),
            group(layers)
        );
        let mut tables = String::new();
        for c in picks {
            let run = bench.measure(name, g, c.schedule, nodes, profile);
            let insns = run.insns;
            if nodes {
                let per = per_node(c.schedule, &run);
                let stage = c.schedule.split.unwrap_or(0);
                tables.push_str(&format!(
                    "\n{name}, {}:\n\n| op | layer by layer | patches | instructions | MACs |\n|---|---:|---:|---:|---:|\n",
                    schedule_name(c.schedule)
                ));
                for i in 0..=stage.min(g.nodes.len() - 1) {
                    let ((li, lm), (pi, pm)) = (base_nodes[i], per[i]);
                    let ratio =
                        |a: u64, b: u64| if b == 0 { "—".to_string() } else { format!("{:.3}", a as f64 / b as f64) };
                    tables.push_str(&format!(
                        "| {i} {} | {} | {} | {} | {} |\n",
                        g.nodes[i].op.name(),
                        group(li),
                        group(pi),
                        ratio(pi, li),
                        ratio(pm, lm)
                    ));
                }
            }
            let macs_pct = 100.0 * (c.macs as f64 / base as f64 - 1.0);
            let insns_pct = 100.0 * (insns as f64 / layers as f64 - 1.0);
            println!(
                "| {name} | {} | {} | {macs_pct:+.1} % | {insns_pct:+.1} % ({}) | {:+.1} points |",
                schedule_name(c.schedule),
                group(c.peak_bytes as u64),
                group(insns),
                insns_pct - macs_pct
            );
        }
        print!("{tables}");
    }
}

/// [`Bench::measure`] with step markers, its counts kept in
/// `target/bench-m7/` (with `reuse`, read back from there: `--costs --reuse`
/// refits without running QEMU again).
fn measure_cached(bench: &Bench, name: &str, g: &Graph, schedule: Schedule, reuse: bool) -> Measured {
    let tag = match schedule.split {
        None => "layers".to_string(),
        Some(k) => format!("split{k}-{}x{}", schedule.grid.0, schedule.grid.1),
    };
    let path = bench.work.join(format!("{name}-{tag}.steps"));
    if reuse {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let mut v = text.lines().filter_map(|l| l.parse::<u64>().ok());
            if let Some(insns) = v.next() {
                return Measured { insns, steps: v.collect() };
            }
        }
    }
    let m = bench.measure(name, g, schedule, true, false);
    let text: String = std::iter::once(m.insns).chain(m.steps.iter().copied()).map(|n| format!("{n}\n")).collect();
    std::fs::write(&path, text).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    m
}

/// One step's features and its measured instructions.
#[derive(Clone, Copy)]
struct Sample {
    macs: f64,
    elements: f64,
    insns: f64,
}

/// Measures every model under its board schedule and a second (layer by
/// layer, or the smallest peak) with step markers, fits each operator class's cost, writes
/// `core/src/latency/cortex_m7.rs` and prints the estimate next to the
/// measured count of every run.
fn fit_costs(bench: &Bench, models: &[(String, Graph)], reuse: bool) {
    let mut by_class: std::collections::BTreeMap<(&'static str, &'static str), Vec<Sample>> = Default::default();
    let mut all = Vec::new();
    let (mut runs, mut before_first) = (Vec::new(), Vec::new());
    for (name, g) in models {
        let best = best_schedule(g, bench.board, InputMode::InArena).unwrap_or_else(|e| fail(format!("{name}: {e}")));
        // The board schedule and a second that fits the board: layer by layer,
        // or (when that does not fit) the smallest-peak one, the most patches.
        let search = patchwise_core::plan::search(g, InputMode::InArena);
        let other = match search.pareto.iter().find(|c| c.schedule == Schedule::LAYER_BY_LAYER) {
            Some(c) if c.peak_bytes <= bench.board.arena_budget() => c.schedule,
            _ => search.pareto[0].schedule,
        };
        let mut schedules = vec![best.schedule];
        if other != best.schedule {
            schedules.push(other);
        }
        for schedule in schedules {
            let m = measure_cached(bench, name, g, schedule, reuse);
            let steps = latency::steps(g, schedule, InputMode::InArena).expect("the schedule's steps");
            if steps.len() != m.steps.len() {
                fail(format!("{name}: {} step markers for {} steps", m.steps.len(), steps.len()));
            }
            before_first.push(m.steps.first().copied().unwrap_or(m.insns) as f64);
            for (k, s) in steps.iter().enumerate() {
                let next = m.steps.get(k + 1).copied().unwrap_or(m.insns);
                let sample =
                    Sample { macs: s.macs as f64, elements: s.elements as f64, insns: (next - m.steps[k]) as f64 };
                all.push(sample);
                by_class.entry(latency::class(g, s)).or_default().push(sample);
            }
            eprintln!(
                "bench_m7: {name}, {}: {} instructions, {} steps",
                schedule_name(schedule),
                group(m.insns),
                steps.len()
            );
            runs.push((name.clone(), schedule, m.insns));
        }
    }
    let ops: Vec<OpCost> = by_class.iter().map(|(&(op, form), v)| fit(op, form, v)).collect();
    let fallback = fit("*", "", &all);
    let per_inference = before_first.iter().sum::<f64>() / before_first.len().max(1) as f64;
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let source = format!("tools/bench-m7/run --costs at {commit}");
    let model = CostModel {
        name: "Cortex-M7 (thumbv7em-none-eabihf, dsp), QEMU instruction counts",
        source: Box::leak(source.clone().into_boxed_str()),
        per_inference,
        ops: Box::leak(ops.clone().into_boxed_slice()),
        fallback,
    };
    println!("| model | schedule | measured | estimated | error |");
    println!("|---|---|---:|---:|---:|");
    let mut rows = String::new();
    for (name, schedule, insns) in &runs {
        let g = &models.iter().find(|(n, _)| n == name).expect("model").1;
        let e = latency::estimate(g, *schedule, InputMode::InArena, &model).expect("estimate");
        let err = 100.0 * (e.instructions - *insns as f64) / *insns as f64;
        let row = format!(
            "| {name} | {} | {} | {} | {err:+.1} % |",
            schedule_name(*schedule),
            group(*insns),
            group(e.instructions.round() as u64)
        );
        println!("{row}");
        rows.push_str(&format!("//! {row}\n"));
    }
    // Where the estimate is off: measured and fitted instructions per class, over every run.
    println!("\n| operator class | steps | measured | estimated | error |");
    println!("|---|---:|---:|---:|---:|");
    for (&(op, form), v) in &by_class {
        let (c, _) = model.cost((op, form));
        let measured: f64 = v.iter().map(|s| s.insns).sum();
        let est: f64 = v.iter().map(|s| c.per_step + c.per_mac * s.macs + c.per_element * s.elements).sum();
        println!(
            "| {op} {form} | {} | {} | {} | {:+.1} % |",
            v.len(),
            group(measured as u64),
            group(est as u64),
            100.0 * (est - measured) / measured.max(1.0)
        );
    }
    if std::env::var_os("BENCH_M7_SAMPLES").is_some() {
        for (&(op, form), v) in &by_class {
            for s in v {
                eprintln!("sample {op}{form} {} {} {}", s.macs, s.elements, s.insns);
            }
        }
    }
    let mut src = format!(
        "//! Cortex-M7 instruction costs per operator class, fitted on per-step\n\
         //! instruction counts of the exported firmware under QEMU (mps2-an500):\n\
         //! written by `{source}`; do not edit.\n\
         //!\n\
         //! Fitted on every shipped model under its board schedule and a second\n\
         //! (layer by layer, or the smallest peak); the estimate next to what was\n\
         //! measured (firmware with step markers):\n//!\n\
         //! | model | schedule | measured | estimated | error |\n//! |---|---|---:|---:|---:|\n{rows}\n\
         use super::{{CostModel, OpCost}};\n\n\
         #[rustfmt::skip]\n\
         pub const CORTEX_M7: CostModel = CostModel {{\n    name: {:?},\n    source: {:?},\n    per_inference: {:.1},\n    ops: &[\n",
        model.name, model.source, model.per_inference
    );
    for c in &ops {
        src.push_str(&format!("        {},\n", literal(c)));
    }
    src.push_str(&format!("    ],\n    fallback: {},\n}};\n", literal(&fallback)));
    let path = repo().join("core/src/latency/cortex_m7.rs");
    std::fs::write(&path, src).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    eprintln!("bench_m7: wrote {}", path.display());
}

fn literal(c: &OpCost) -> String {
    format!(
        "OpCost {{ op: {:?}, form: {:?}, per_step: {:.1}, per_mac: {:.4}, per_element: {:.4}, samples: {} }}",
        c.op, c.form, c.per_step, c.per_mac, c.per_element, c.samples
    )
}

/// Weighted least squares of `insns ≈ per_step + per_mac·macs +
/// per_element·elements` over `v`, every coefficient non-negative: of the subsets of the three
/// terms that solve with non-negative coefficients, the one with the least
/// squared error (a class whose MACs are zero, or proportional to its
/// elements, drops the term the data cannot tell apart).
fn fit(op: &'static str, form: &'static str, v: &[Sample]) -> OpCost {
    // Squared errors relative to the step's size (Σ e²/y): small patch steps
    // weigh as much as whole layers, so one table serves every grid.
    let weight = |s: &Sample| 1.0 / s.insns.max(1.0).powf(FIT_WEIGHT_POWER);
    let feature = |s: &Sample, k: usize| [1.0, s.macs, s.elements][k];
    let mut best: Option<(f64, [f64; 3])> = None;
    for mask in 1u8..8 {
        let ks: Vec<usize> = (0..3).filter(|k| mask & (1 << k) != 0).collect();
        let n = ks.len();
        // Normal equations A·x = b.
        let mut a = vec![vec![0.0f64; n + 1]; n];
        for s in v {
            let wt = weight(s);
            for (i, &ki) in ks.iter().enumerate() {
                for (j, &kj) in ks.iter().enumerate() {
                    a[i][j] += wt * feature(s, ki) * feature(s, kj);
                }
                a[i][n] += wt * feature(s, ki) * s.insns;
            }
        }
        let Some(x) = solve(a) else { continue };
        if x.iter().any(|&c| c < 0.0 || !c.is_finite()) {
            continue;
        }
        let mut coef = [0.0; 3];
        for (&k, &c) in ks.iter().zip(&x) {
            coef[k] = c;
        }
        let sse: f64 = v
            .iter()
            .map(|s| {
                let e = (0..3).map(|k| coef[k] * feature(s, k)).sum::<f64>() - s.insns;
                weight(s) * e * e
            })
            .sum();
        if best.is_none_or(|(b, _)| sse < b * (1.0 - 1e-9)) {
            best = Some((sse, coef));
        }
    }
    let coef = best.map_or([0.0; 3], |(_, c)| c);
    OpCost { op, form, per_step: coef[0], per_mac: coef[1], per_element: coef[2], samples: v.len() as u32 }
}

/// 0: plain least squares (large steps dominate); 2: relative errors.
const FIT_WEIGHT_POWER: f64 = 1.0;

/// Gaussian elimination with partial pivoting on an augmented `n × (n+1)` matrix.
fn solve(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let n = a.len();
    for col in 0..n {
        let p = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        let scale = (0..n).map(|i| a[i][col].abs()).fold(0.0, f64::max);
        if a[p][col].abs() <= 1e-9 * scale.max(1e-300) {
            return None;
        }
        a.swap(col, p);
        for r in 0..n {
            if r != col {
                let f = a[r][col] / a[col][col];
                for c in col..=n {
                    a[r][c] -= f * a[col][c];
                }
            }
        }
    }
    Some((0..n).map(|i| a[i][n] / a[i][i]).collect())
}

/// Instructions by function (both inferences and the start-up), from the
/// plugin's per-block counts and the ELF's function symbols.
fn print_profile(elf: &Path, blocks: &Path, inference_total: u64) {
    let out = Command::new("nm").args(["-n", "-C", "--defined-only"]).arg(elf).output().expect("nm");
    let mut funcs: Vec<(u64, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (addr, rest) = l.split_once(' ')?;
            let (kind, name) = rest.split_once(' ')?;
            (matches!(kind, "t" | "T") && !name.starts_with('$'))
                .then(|| Some((u64::from_str_radix(addr, 16).ok()? & !1, name.to_string())))
                .flatten()
        })
        .collect();
    funcs.sort();
    let mut by: std::collections::BTreeMap<&str, u64> = Default::default();
    for line in std::fs::read_to_string(blocks).unwrap_or_default().lines() {
        let mut f = line.split_whitespace();
        let (Some(pc), Some(n)) = (f.next().and_then(|p| u64::from_str_radix(p, 16).ok()), f.next()) else { continue };
        let i = funcs.partition_point(|(a, _)| *a <= pc);
        let name = if i == 0 { "?" } else { funcs[i - 1].1.as_str() };
        *by.entry(name).or_default() += n.parse::<u64>().unwrap_or(0);
    }
    let mut v: Vec<_> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1));
    for (name, n) in v.iter().take(12) {
        let short: String = name.chars().take(90).collect();
        println!("    {:>5.1} %  {n:>12}  {short}", 100.0 * *n as f64 / inference_total as f64);
    }
}

/// 1234567 → "1,234,567".
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
