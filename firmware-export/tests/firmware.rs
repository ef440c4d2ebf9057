//! Exported firmware, built for the real targets and run in QEMU.
//!
//! These need `qemu-system-arm` and the `thumbv7em-none-eabihf` and
//! `thumbv6m-none-eabi` rustup targets, so they are ignored by a plain
//! `cargo test`; `tools/firmware-test` installs both and runs them.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use patchwise_core::boards::{self, Board, BOARDS};
use patchwise_core::graph::Graph;
use patchwise_core::patch::InputMode;
use patchwise_core::plan::{self, Schedule};
use patchwise_firmware_export::run::{cargo_build, check_outputs, parse_output, run_qemu, QemuRun};
use patchwise_firmware_export::{
    best_schedule, export, reference_outputs, request_input, ExportError, ExportRequest, Project,
};

const QEMU_TIMEOUT: Duration = Duration::from_secs(120);

fn qemu_board() -> &'static Board {
    boards::board("qemu-mps2-an500").expect("board")
}

/// Writes `project` into the shared directory of its target and builds it
/// offline (fetching once if the dependencies are not cached yet). Returns
/// the ELF copied to a path of its own, or cargo's stderr.
fn build(project: &Project, features: &[&str]) -> Result<PathBuf, String> {
    let target = &project.summary.target;
    let root = common::work_dir(target);
    let dir = root.join("project");
    let _lock = common::build_lock();
    project.write_to(&dir).expect("write project");
    let target_dir = root.join("target");
    let name = &project.summary.crate_name;
    let mut result = cargo_build(&dir, name, target, Some(&target_dir), features, true);
    if let Err(e) = &result {
        if e.contains("offline") {
            // Not cached yet: fetch once, then build offline again.
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let st = std::process::Command::new(cargo).arg("fetch").current_dir(&dir).status().expect("cargo fetch");
            assert!(st.success(), "cargo fetch failed");
            result = cargo_build(&dir, name, target, Some(&target_dir), features, true);
        }
    }
    let elf = result?;
    // A path of its own: QEMU may still be reading an earlier copy.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tag = if features.is_empty() { String::new() } else { format!("-{}", features.join("-")) };
    let kept = root.join("elf").join(format!("{name}{tag}-{n}"));
    std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
    std::fs::copy(&elf, &kept).expect("copy elf");
    Ok(kept)
}

fn request<'a>(
    g: &'a Graph,
    name: &'a str,
    board: &'a Board,
    schedule: Schedule,
    mode: InputMode,
) -> ExportRequest<'a> {
    ExportRequest { graph: g, model_name: name, board, schedule, input_mode: mode, input: None }
}

/// Flash and RAM use of an ELF from its section headers (text+rodata+data / data+bss).
fn sizes(elf: &Path) -> (u64, u64) {
    let b = std::fs::read(elf).unwrap();
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) as u64;
    let (shoff, shentsize, shnum) = (u32_at(0x20) as usize, u16_at(0x2e), u16_at(0x30));
    let (mut flash, mut ram) = (0, 0);
    for i in 0..shnum {
        let h = shoff + i * shentsize;
        let (ty, flags, size) = (u32_at(h + 4), u32_at(h + 8), u32_at(h + 20));
        let alloc = flags & 2 != 0;
        if !alloc {
            continue;
        }
        let write = flags & 1 != 0;
        if ty == 8 {
            ram += size; // NOBITS: .bss, .uninit
        } else if write {
            ram += size; // .data: in RAM, loaded from flash
            flash += size;
        } else {
            flash += size;
        }
    }
    (flash, ram)
}

fn run_and_check(g: &Graph, req: &ExportRequest) -> (QemuRun, Vec<Vec<u8>>) {
    let project = export(req).expect("export");
    let elf = build(&project, &[]).unwrap_or_else(|e| panic!("{}: build failed:\n{e}", req.model_name));
    let (flash, ram) = sizes(&elf);
    let run = run_qemu(&elf, QEMU_TIMEOUT).expect("qemu-system-arm runs");
    assert_eq!(
        run.exit_code,
        Some(0),
        "{}: QEMU exit\nstdout:\n{:.2000}\nstderr:\n{}",
        req.model_name,
        run.stdout,
        run.stderr
    );
    let report = parse_output(&run.stdout).expect("parse");
    let want = reference_outputs(g, &request_input(req).unwrap()).unwrap();
    if let Err(e) = check_outputs(&report, &want) {
        panic!("{}: firmware and host differ: {e}", req.model_name);
    }
    let arena = project.summary.arena_bytes;
    assert_eq!(report.arena_hwm, Some(arena), "{}: measured high-water mark vs planned arena", req.model_name);
    assert_eq!(report.arena_planned, Some(arena));
    let stack = report.stack_used.expect("stack_used line");
    assert!(stack > 0 && stack < patchwise_firmware_export::MIN_STACK, "{}: stack use {stack}", req.model_name);
    eprintln!(
        "{}: {} | identical outputs | arena {arena} B (hwm {arena}) | stack {stack} B | flash {flash} B, RAM {ram} B | QEMU {:.2} s",
        req.model_name,
        project.summary.schedule,
        run.elapsed.as_secs_f64()
    );
    (run, want)
}

/// The shipped models with their best schedule for the QEMU board: QEMU's
/// outputs equal the host executor's, byte for byte, and the measured arena
/// high-water mark equals the planned arena. The checker itself rejects a
/// tampered expectation.
#[test]
#[ignore = "needs qemu-system-arm and the thumb targets: run tools/firmware-test"]
fn shipped_models_in_qemu_match_the_host() {
    let board = qemu_board();
    for name in common::MODELS {
        let g = common::load(name);
        let best = best_schedule(&g, board, InputMode::InArena).expect("a schedule fits");
        let (run, mut want) = run_and_check(&g, &request(&g, name, board, best.schedule, InputMode::InArena));
        // Tampering with one expected byte must make the comparison fail.
        let report = parse_output(&run.stdout).unwrap();
        let last = want[0].len() - 1;
        want[0][last] ^= 1;
        let err = check_outputs(&report, &want).expect_err("a tampered expectation must not match");
        assert!(err.contains("output_0") && err.contains(&format!("byte {last}")), "{err}");
    }
}

/// A many-patch schedule with a streamed input (the smallest arena on the
/// Pareto front) on the board: the patch stage runs with per-patch regions.
#[test]
#[ignore = "needs qemu-system-arm and the thumb targets: run tools/firmware-test"]
fn smallest_arena_streamed_patches_in_qemu() {
    let board = qemu_board();
    let name = "mbv2-w0.35-r144-int8";
    let g = common::load(name);
    let s = plan::search(&g, InputMode::Streamed);
    let smallest = s.pareto.first().expect("pareto front").schedule;
    assert!(smallest.split.is_some());
    run_and_check(&g, &request(&g, name, board, smallest, InputMode::Streamed));
}

/// MobileNetV3's 5×5 depthwise layers on the board (its best schedule runs
/// them with channels in blocks, borders over padded strips: the one
/// shipped model with a 5×5 window), equal to the host byte for byte.
#[test]
#[ignore = "needs qemu-system-arm and the thumb targets: run tools/firmware-test"]
fn five_by_five_depthwise_in_qemu() {
    let board = qemu_board();
    let name = "mbv3se-int8";
    let g = common::load(name);
    let best = best_schedule(&g, board, InputMode::InArena).expect("a schedule fits");
    run_and_check(&g, &request(&g, name, board, best.schedule, InputMode::InArena));
}

/// The 128×160 detector with a patch stage that branches (its stride-8
/// features are kept whole for the pyramid) on a non-square grid, in QEMU.
#[test]
#[ignore = "needs qemu-system-arm and the thumb targets: run tools/firmware-test"]
fn branching_non_square_stage_in_qemu() {
    let board = qemu_board();
    let name = "yolofpn-int8";
    let g = common::load(name);
    let split = patchwise_core::patch::legal_splits(&g)
        .into_iter()
        .rev()
        .find(|&s| !patchwise_core::patch::kept_tensors(&g, s).is_empty())
        .expect("a branching split");
    let schedule = Schedule::patched(split, (2, 3));
    run_and_check(&g, &request(&g, name, board, schedule, InputMode::Streamed));
}

/// Halo caching on the board: BlazeFace's smallest streamed schedule with its
/// halos cached (64 KiB, no recomputed MACs) and the detector's branching
/// stage with cached halos (all of them, and every other operator's), each
/// equal to the host byte for byte, the
/// measured arena equal to the plan (caches included).
#[test]
#[ignore = "needs qemu-system-arm and the thumb targets: run tools/firmware-test"]
fn cached_halos_in_qemu() {
    use patchwise_core::patch::Halo;
    use patchwise_core::plan::HaloChoice;
    let board = qemu_board();
    let g = common::load("blazeface-short-int8");
    let s = plan::search(&g, InputMode::Streamed).with_halo(&g, InputMode::Streamed, HaloChoice::Cache);
    let smallest = s.pareto.first().expect("pareto front").schedule;
    assert_eq!(smallest.halo, Halo::Cache);
    run_and_check(&g, &request(&g, "blazeface-short-int8", board, smallest, InputMode::Streamed));
    let g = common::load("yolofpn-int8");
    let split = patchwise_core::patch::legal_splits(&g)
        .into_iter()
        .rev()
        .find(|&s| !patchwise_core::patch::kept_tensors(&g, s).is_empty())
        .expect("a branching split");
    let schedule = Schedule::patched(split, (3, 4)).with_halo(Halo::Cache);
    run_and_check(&g, &request(&g, "yolofpn-int8", board, schedule, InputMode::InArena));
    // A per-layer choice: every other stage operator caches, the rest recompute.
    let set = patchwise_core::patch::CacheSet::of((0..=split).step_by(2)).expect("a short stage");
    let schedule = Schedule::patched(split, (3, 4)).with_halo(Halo::Layers(set));
    run_and_check(&g, &request(&g, "yolofpn-int8", board, schedule, InputMode::Streamed));
}

/// Two patch stages (beyond MCUNetV2's one): yolofpn's backbone and a later
/// stage over its feature pyramid, the first streamed with cached halos, the
/// second recomputing; and mbv2's first blocks and a second stage after
/// them, both recomputing.
#[test]
#[ignore = "needs qemu-system-arm and the thumb targets: run tools/firmware-test"]
fn two_patch_stages_in_qemu() {
    use patchwise_core::patch::{check_stage, legal_splits, Halo};
    use patchwise_core::plan::{Later, Stage};
    let board = qemu_board();
    for (name, mode, halo, min_split) in [
        ("yolofpn-int8", InputMode::Streamed, Halo::Cache, 1),
        ("mbv2-w0.35-r144-int8", InputMode::Streamed, Halo::Recompute, 12),
    ] {
        let g = common::load(name);
        let split = legal_splits(&g).into_iter().find(|&s| s >= min_split).expect("a first stage");
        let first = split + 2;
        let last =
            (first..g.nodes.len()).take_while(|&l| check_stage(&g, first, l).is_ok()).last().expect("a second stage");
        let later = Later::of(&[Stage { first, last, grid: (2, 2), halo: Halo::Recompute }]).unwrap();
        let schedule = Schedule::patched(split, (2, 3)).with_halo(halo).then(later);
        run_and_check(&g, &request(&g, name, board, schedule, mode));
    }
}

/// Every board's export builds for its target (opsnet with its best
/// schedule, and mbv2 where it fits with patches).
#[test]
#[ignore = "needs qemu-system-arm and the thumb targets: run tools/firmware-test"]
fn every_board_builds() {
    let opsnet = common::load("opsnet-int8");
    let mbv2 = common::load("mbv2-w0.35-r144-int8");
    for board in BOARDS {
        for (name, g) in [("opsnet-int8", &opsnet), ("mbv2-w0.35-r144-int8", &mbv2)] {
            if name.starts_with("mbv2") && board.name != "rpi-pico" {
                continue; // mbv2 for the smallest-RAM Cortex-M0+ board only (keeps the test short)
            }
            let best = best_schedule(g, board, InputMode::InArena).expect("fits");
            let project = export(&request(g, name, board, best.schedule, InputMode::InArena)).unwrap();
            let elf = build(&project, &[]).unwrap_or_else(|e| panic!("{name} for {}: {e}", board.name));
            let (flash, ram) = sizes(&elf);
            assert!(flash <= board.flash_bytes as u64 && ram <= board.ram_bytes as u64);
            eprintln!(
                "{name} for {} ({}): {}, flash {flash} B, RAM {ram} B",
                board.name, board.target, project.summary.schedule
            );
        }
    }
}

/// The linker's own error lines from cargo's stderr.
fn linker_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("rust-lld: error") || l.starts_with("error: section") || l.contains("patchwise: region"))
        .collect();
    lines.join(" | ")
}

/// An arena larger than the board's RAM and an arena that leaves too little
/// stack fail to link, naming the region; weights larger than its flash are
/// refused by the exporter, and a flash of exactly its estimate links.
#[test]
#[ignore = "needs qemu-system-arm and the thumb targets: run tools/firmware-test"]
fn what_does_not_fit_fails_to_link() {
    let mbv2 = common::load("mbv2-w0.35-r144-int8");
    let name = "mbv2-w0.35-r144-int8";
    // mbv2 layer by layer (290,304 B arena) on the Pico's 264 KiB.
    let pico = boards::board("rpi-pico").unwrap();
    let p = export(&request(&mbv2, name, pico, Schedule::LAYER_BY_LAYER, InputMode::InArena)).unwrap();
    assert!(p.summary.arena_bytes > pico.ram_bytes as usize);
    let err = build(&p, &[]).expect_err("must not link");
    assert!(err.contains("will not fit in region 'RAM'"), "{err}");
    eprintln!("arena > RAM: {}", linker_error(&err));

    // An arena that fits RAM but leaves less than the minimum stack.
    let opsnet = common::load("opsnet-int8");
    let lbl = plan::layer_layout(&opsnet).arena_size();
    let tight = Board { ram_bytes: (lbl + 2048) as u32, ..*boards::board("qemu-mps2-an500").unwrap() };
    let p = export(&request(&opsnet, "opsnet-int8", &tight, Schedule::LAYER_BY_LAYER, InputMode::InArena)).unwrap();
    let err = build(&p, &[]).expect_err("must not link");
    assert!(err.contains("patchwise: region RAM") && err.contains("of stack"), "{err}");
    eprintln!("stack too small: {}", linker_error(&err));

    // Weights larger than flash: refused by the exporter, with both figures, before anything is written.
    let qemu = *boards::board("qemu-mps2-an500").unwrap();
    let small_flash = Board { flash_bytes: 256 * 1024, ..qemu };
    let best = best_schedule(&mbv2, &small_flash, InputMode::InArena).unwrap();
    let err = export(&request(&mbv2, name, &small_flash, best.schedule, InputMode::InArena)).expect_err("refused");
    let ExportError::Flash(fit) = &err else { panic!("not a flash error: {err}") };
    assert!(fit.estimate() > 256 * 1024 && fit.pools > 256 * 1024, "{fit:?}");
    assert!(err.to_string().starts_with("the firmware would not fit qemu-mps2-an500's flash: about "), "{err}");
    eprintln!("weights > FLASH: {err}");
    // The estimate is on the safe side: a flash of exactly the estimate links.
    let exact = Board { flash_bytes: fit.estimate() as u32, ..qemu };
    let p = export(&request(&mbv2, name, &exact, best.schedule, InputMode::InArena)).unwrap();
    build(&p, &[]).unwrap_or_else(|e| panic!("a flash of the estimate must link: {}", linker_error(&e)));
}

/// A panic on the board ends the QEMU run with a failing exit code (and
/// never hangs).
#[test]
#[ignore = "needs qemu-system-arm and the thumb targets: run tools/firmware-test"]
fn a_panic_fails_the_qemu_run() {
    let board = qemu_board();
    let g = common::load("opsnet-int8");
    let best = best_schedule(&g, board, InputMode::InArena).unwrap();
    let project = export(&request(&g, "opsnet-int8", board, best.schedule, InputMode::InArena)).unwrap();
    let elf = build(&project, &["panic-check"]).expect("builds");
    let run = run_qemu(&elf, Duration::from_secs(30)).expect("qemu runs");
    assert!(run.exit_code.is_some(), "QEMU hung after a panic");
    assert_ne!(run.exit_code, Some(0), "a panic must fail the run");
    assert!(run.stderr.contains("panic-check") || run.stdout.contains("panic-check"), "{run:?}");
    let report = parse_output(&run.stdout).unwrap();
    assert!(!report.done && report.outputs.is_empty());
}
