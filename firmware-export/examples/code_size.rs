//! Flash an exported firmware takes besides its constant pools (weights,
//! biases, requantization tables: `Pools::flash_bytes`) and its bundled
//! input: the code and structural tables `patchwise_core::explore::code_bytes`
//! estimates (the largest over the shipped models). Exports every shipped model for a Cortex-M7 board (DSP
//! kernels) and the Cortex-M0+ board, builds each in release, and reads the
//! ELF's allocated flash sections with binutils' `size`.
//!
//! `cargo run --release -p patchwise-firmware-export --example code_size` (or `tools/code-size`)

use std::path::{Path, PathBuf};
use std::process::Command;

use patchwise_core::boards;
use patchwise_core::patch::InputMode;
use patchwise_firmware_export::run::cargo_build;
use patchwise_firmware_export::{best_schedule, export, ExportRequest};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn fail(msg: String) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1)
}

/// Bytes of the sections stored in flash: `.vector_table`, `.text`, `.rodata`
/// and the initial values of `.data` (what `size -A` lists, by name).
fn flash_bytes(elf: &Path) -> Result<usize, String> {
    let out = Command::new("size").arg("-A").arg(elf).output().map_err(|e| format!("size: {e} (install binutils)"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (name, size) = (f.next()?, f.next()?.parse::<usize>().ok()?);
            [".vector_table", ".text", ".rodata", ".data"].contains(&name).then_some(size)
        })
        .sum())
}

fn main() {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("models"))
        .expect("models/")
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "tflite").then(|| p.file_stem()?.to_str().map(String::from)).flatten()
        })
        .collect();
    names.sort();
    let work = repo().join("target").join("code-size");
    println!("| board | model | flash sections | input | constant pools | code and structural tables |");
    println!("|---|---|---:|---:|---:|---:|");
    for board_name in ["stm32f746g-disco", "rpi-pico"] {
        let board = boards::board(board_name).expect("a board of the table");
        let mut most = 0;
        for name in &names {
            let bytes = std::fs::read(repo().join("models").join(format!("{name}.tflite"))).expect("model");
            let g = patchwise_core::loader::load(&bytes).unwrap_or_else(|e| fail(format!("{name}: {e}")));
            // The layer-by-layer schedule when no patch schedule fits: code size, not fit, is measured.
            let schedule = best_schedule(&g, board, InputMode::InArena)
                .map(|c| c.schedule)
                .unwrap_or(patchwise_core::plan::Schedule::LAYER_BY_LAYER);
            let req = ExportRequest {
                graph: &g,
                model_name: name,
                board,
                schedule,
                input_mode: InputMode::InArena,
                input: None,
            };
            let project = export(&req).unwrap_or_else(|e| fail(format!("{name}: {e}")));
            let dir = work.join(board_name);
            project.write_to(&dir).expect("write project");
            let elf = match cargo_build(
                &dir,
                &project.summary.crate_name,
                board.target,
                Some(&work.join("target")),
                &[],
                false,
            ) {
                Ok(elf) => elf,
                // The link-time checks refuse a model whose arena or weights do not fit the board.
                Err(_) if best_schedule(&g, board, InputMode::InArena).is_err() => {
                    println!("| {board_name} | {name} | does not fit | | | |");
                    continue;
                }
                Err(e) => fail(format!("{name}: build failed:\n{e}")),
            };
            let flash = flash_bytes(&elf).unwrap_or_else(|e| fail(e));
            let layout = patchwise_core::plan::layer_layout(&g);
            let pools = patchwise_core::lower::lower(&g, &layout, &[], patchwise_core::patch::InputMode::InArena)
                .expect("lowers")
                .pools
                .flash_bytes();
            let i = project.summary.input_bytes;
            let code = flash.saturating_sub(pools + i);
            most = most.max(code);
            println!("| {board_name} | {name} | {flash} | {i} | {pools} | {code} |");
        }
        println!("| {board_name} | largest | | | | {most} |");
    }
}
