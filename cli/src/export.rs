//! `patchwise export`: a model plus schedule as a `no_std` firmware crate.

use std::path::Path;

use anyhow::{Context, Result};
use patchwise_core::boards;
use patchwise_core::graph::Graph;
use patchwise_core::patch::InputMode;
use patchwise_core::plan::{self, HaloChoice, Schedule};
use patchwise_firmware_export::{best_schedule, export, ExportRequest};

use crate::run::load_input;

/// Exports `g` for `board` into `out`. Without a schedule, the fewest-MAC
/// schedule whose arena fits the board is used.
/// `out` ending in `.zip` writes the archive (the same bytes the playground downloads).
pub fn run(
    g: &Graph,
    model_name: &str,
    board: &str,
    schedule: Option<Schedule>,
    streamed: bool,
    halo: HaloChoice,
    input: Option<&Path>,
    out: &Path,
) -> Result<()> {
    let board = boards::board(board).with_context(|| {
        let names: Vec<&str> = boards::BOARDS.iter().map(|b| b.name).collect();
        format!("unknown board {board:?}; known boards: {}", names.join(", "))
    })?;
    let mode = if streamed { InputMode::Streamed } else { InputMode::InArena };
    let schedule = match schedule {
        Some(s) => s,
        None if halo == HaloChoice::Recompute => best_schedule(g, board, mode)?.schedule,
        // The fewest-MAC schedule that fits, among those whose halos are cached too.
        None => {
            let search = plan::search(g, mode).with_halo(g, mode, halo);
            search.best_within(patchwise_firmware_export::arena_budget(board))?.schedule
        }
    };
    let input = input.map(|p| load_input(g, p)).transpose()?;
    let req = ExportRequest { graph: g, model_name, board, schedule, input_mode: mode, input };
    let project = export(&req)?;
    if out.extension().is_some_and(|e| e == "zip") {
        std::fs::write(out, project.to_zip()?).with_context(|| format!("cannot write {}", out.display()))?;
    } else {
        project.write_to(out).with_context(|| format!("cannot write {}", out.display()))?;
    }
    let s = &project.summary;
    println!("exported {} for {} ({}) into {}", s.crate_name, s.board, s.target, out.display());
    println!("  schedule: {}", s.schedule);
    println!(
        "  arena: {} B (static), weights: {} B (flash), input: {} B",
        s.arena_bytes, s.weight_bytes, s.input_bytes
    );
    println!("  flash: about {} B of {} B ({})", s.flash.estimate(), s.flash.flash, s.flash.breakdown());
    if out.extension().is_some_and(|e| e == "zip") {
        println!("  build and run: unzip {} && cd {} && cargo run --release", out.display(), s.crate_name);
    } else {
        println!("  build and run: cd {} && cargo run --release", out.display());
    }
    Ok(())
}
