//! Cortex-M7 instructions per inference of exported firmware, under QEMU.
//!
//! `cargo run --release -p patchwise-firmware-export --example bench_m7 [--profile] [MODEL…]`
//! (or `tools/bench-m7/run`, which installs qemu-system-arm and gcc first).
//! `--profile` also prints where the instructions go, by function.
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
use patchwise_core::patch::InputMode;
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

fn main() {
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    let profile = names.iter().any(|a| a == "--profile");
    names.retain(|a| a != "--profile");
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
    println!("| model | schedule | MACs | instructions | per MAC | TFLM + CMSIS-NN | ratio |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for name in &names {
        let bytes = std::fs::read(repo().join("models").join(format!("{name}.tflite")))
            .unwrap_or_else(|e| fail(format!("{name}: {e}")));
        let g = patchwise_core::loader::load(&bytes).unwrap_or_else(|e| fail(format!("{name}: {e}")));
        let best = best_schedule(&g, board, InputMode::InArena).unwrap_or_else(|e| fail(format!("{name}: {e}")));
        let req = ExportRequest {
            graph: &g,
            model_name: name,
            board,
            schedule: best.schedule,
            input_mode: InputMode::InArena,
            input: None,
        };
        let project = export(&req).unwrap_or_else(|e| fail(format!("{name}: {e}")));
        // One project directory for every model: the vendored core and the
        // dependencies build once, only model.rs changes.
        let dir = work.join("project");
        project.write_to(&dir).expect("write project");
        let elf = cargo_build(&dir, &project.summary.crate_name, board.target, Some(&work.join("target")), &[], false)
            .unwrap_or_else(|e| fail(format!("{name}: build failed:\n{e}")));
        let (start, end) = match (symbol(&elf, "patchwise_inference_start"), symbol(&elf, "patchwise_inference_end")) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(e), _) | (_, Err(e)) => fail(e),
        };
        let counts = work.join(format!("{name}.counts"));
        let mut arg = format!("{},start={start:#x},end={end:#x},out={}", plugin.display(), counts.display());
        let blocks = work.join(format!("{name}.blocks"));
        if profile {
            arg.push_str(&format!(",profile={}", blocks.display()));
        }
        let run = run_qemu_with(&elf, Duration::from_secs(600), &["-plugin".into(), arg])
            .unwrap_or_else(|e| fail(format!("qemu-system-arm: {e}")));
        if run.exit_code != Some(0) {
            fail(format!("{name}: QEMU exit {:?}\n{}", run.exit_code, run.stderr));
        }
        let report = parse_output(&run.stdout).unwrap_or_else(|e| fail(format!("{name}: {e}")));
        let want = reference_outputs(&g, &request_input(&req).expect("input")).expect("host outputs");
        check_outputs(&report, &want).unwrap_or_else(|e| fail(format!("{name}: firmware and host differ: {e}")));
        let text = std::fs::read_to_string(&counts).unwrap_or_default();
        let per: Vec<u64> = text
            .lines()
            .filter_map(|l| l.strip_prefix("inference ")?.split_whitespace().nth(1)?.parse().ok())
            .collect();
        // The firmware runs twice (two arena paints); both runs execute the same instructions.
        let Some(&insns) = per.last() else { fail(format!("{name}: the plugin recorded no inference")) };
        if per.iter().any(|&n| n != insns) {
            fail(format!("{name}: the two inferences differ in instructions: {per:?}"));
        }
        let tflm = TFLM_CMSIS_NN.iter().find(|(n, _)| n == name).map(|&(_, t)| t);
        println!(
            "| {name} | {} | {} | {} | {:.2} | {} | {} |",
            project.summary.schedule,
            group(best.macs),
            group(insns),
            insns as f64 / best.macs as f64,
            tflm.map(group).unwrap_or_else(|| "—".into()),
            tflm.map(|t| format!("{:.2}×", insns as f64 / t as f64)).unwrap_or_else(|| "—".into()),
        );
        if profile {
            print_profile(&elf, &blocks, 2 * insns);
        }
    }
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
