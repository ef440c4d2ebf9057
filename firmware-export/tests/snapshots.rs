//! Snapshots of the files an export generates (not the weight `.bin`s, and
//! the vendored core only as a listing), for the small opsnet model: the
//! QEMU board in full, and the board-specific files for an RTT board
//! (STM32F746G-DISCO) and the Cortex-M0+ Pico.

mod common;

use patchwise_core::boards;
use patchwise_core::patch::InputMode;
use patchwise_firmware_export::{best_schedule, export, ExportRequest};

#[test]
fn opsnet_export_files() {
    let g = common::load("opsnet-int8");
    for board_name in ["qemu-mps2-an500", "stm32f746g-disco", "rpi-pico"] {
        let board = boards::board(board_name).unwrap();
        let best = best_schedule(&g, board, InputMode::InArena).unwrap();
        let req = ExportRequest {
            graph: &g,
            model_name: "opsnet-int8",
            board,
            schedule: best.schedule,
            input_mode: InputMode::InArena,
            input: None,
        };
        let project = export(&req).unwrap();
        let qemu = board_name == "qemu-mps2-an500";
        for (path, text) in project.text_files() {
            let shared = matches!(path, "src/model.rs" | "build.rs" | ".gitignore");
            if path.starts_with("vendor/") || (!qemu && shared) {
                continue;
            }
            insta::assert_snapshot!(format!("opsnet-{board_name}-{}", path.replace(['/', '.'], "_")), text);
        }
        if qemu {
            let listing: Vec<String> = project
                .files
                .iter()
                .filter(|(p, _)| p.starts_with("vendor/") || p.starts_with("data/"))
                .map(|(p, b)| if p.starts_with("data/") { format!("{p} {} B", b.len()) } else { p.clone() })
                .collect();
            insta::assert_snapshot!("opsnet-qemu-mps2-an500-listing", listing.join("\n"));
        }
    }
}
