//! The schedule download: the same document as `patchwise plan --json`.

use patchwise_core::plan::Report;
use serde_json::{json, Value};

use crate::proto::{Cand, Mode, SearchOut};

fn cand_json(c: &Cand) -> Value {
    json!({"split": c.schedule.split, "grid": [c.schedule.grid.0, c.schedule.grid.1], "peak_bytes": c.peak_bytes, "macs": c.macs})
}

/// `plan --json`'s fields for `r`, the search's Pareto front (empty until the
/// search has run) and the budget.
pub fn schedule_json(r: &Report, search: Option<&SearchOut>, budget: Option<usize>) -> Value {
    json!({
        "macs": r.macs,
        "base_macs": r.base_macs,
        "flash_bytes": r.flash_bytes,
        "layer_peak_bytes": r.layer_peak_bytes,
        "patch_peak_bytes": r.patch_peak_bytes,
        "reduction": r.reduction(),
        "overhead_macs": r.overhead_macs,
        "overhead_pct": r.overhead_pct,
        "input_in_sram": Mode::from(r.input_mode) == Mode::InArena,
        "schedule": {"split": r.schedule.split, "grid": [r.schedule.grid.0, r.schedule.grid.1]},
        "budget_bytes": budget,
        "fits": budget.map(|b| r.patch_peak_bytes <= b),
        "pareto": search.map(|s| s.pareto.iter().map(cand_json).collect::<Vec<_>>()).unwrap_or_default(),
        "stages": r.stages.iter().map(|s| json!({
            "ops": [s.first, s.last], "resolution": [s.resolution.0, s.resolution.1], "macs": s.macs,
            "layer_peak_bytes": s.layer_peak_bytes, "weight_bytes": s.weight_bytes,
        })).collect::<Vec<_>>(),
        "layers": r.layers.iter().map(|l| json!({
            "index": l.index, "op": l.op, "output_shape": l.output_shape, "macs": l.macs,
            "scheduled_macs": l.scheduled_macs, "in_patch_stage": l.in_patch_stage,
            "layer_live_bytes": l.layer_live_bytes, "scheduled_live_bytes": l.scheduled_live_bytes,
        })).collect::<Vec<_>>(),
    })
}

/// With RD on: the model without RD under the same schedule request, as
/// `plan MODEL --rd --json` adds it (`without_rd`, and `note` for a what-if).
pub fn add_without_rd(doc: &mut Value, b: &Report, what_if: bool) {
    doc["without_rd"] = json!({
        "macs": b.macs, "layer_peak_bytes": b.layer_peak_bytes, "patch_peak_bytes": b.patch_peak_bytes,
        "overhead_macs": b.overhead_macs, "overhead_pct": b.overhead_pct,
        "schedule": {"split": b.schedule.split, "grid": [b.schedule.grid.0, b.schedule.grid.1]},
    });
    if what_if {
        doc["note"] = json!(crate::models::WHAT_IF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Sched;
    use crate::DEFAULT_MODEL;
    use patchwise_core::patch::InputMode;
    use patchwise_core::plan;

    const REQUIRED: &[&str] = &[
        "macs",
        "flash_bytes",
        "layer_peak_bytes",
        "patch_peak_bytes",
        "overhead_macs",
        "overhead_pct",
        "schedule",
        "pareto",
    ];

    /// Every field of the download equals the CLI's `plan --json` field of that name.
    #[test]
    fn same_document_as_the_cli() {
        let g = patchwise_core::loader::load(DEFAULT_MODEL).unwrap();
        for (sched, mode) in [
            (Sched { split: Some(15), grid: (1, 2) }, InputMode::InArena),
            (Sched::LAYER_BY_LAYER, InputMode::Streamed),
            (Sched { split: Some(31), grid: (4, 8) }, InputMode::Streamed),
        ] {
            let search = plan::search(&g, mode);
            let r = plan::report(&g, sched.into(), mode).unwrap();
            let ours = schedule_json(&r, Some(&SearchOut::from_core(&search, 0.0)), Some(327_680));
            let cli = patchwise_cli::plan::report_json(&r, &search, Some(327_680));
            let (ours, cli) = (ours.as_object().unwrap(), cli.as_object().unwrap());
            for key in REQUIRED {
                assert!(ours.contains_key(*key), "the export lacks {key}");
            }
            for (k, v) in ours {
                assert_eq!(Some(v), cli.get(k), "field {k} differs from plan --json");
            }
        }
    }
}

/// The firmware crate for `board` as a zip: the same request and the same
/// bytes as `patchwise export MODEL --board B --split S --grid RxC --input IMAGE --out X.zip`.
pub fn firmware_zip(
    g: &patchwise_core::graph::Graph,
    model_name: &str,
    board: &patchwise_core::boards::Board,
    schedule: patchwise_core::plan::Schedule,
    mode: Mode,
    image: Option<&[u8]>,
) -> Result<(String, Vec<u8>), String> {
    let input = match (image, g.inputs.first()) {
        (Some(bytes), Some(&t)) => {
            let img = crate::compute::decode_image(bytes)?;
            Some(crate::compute::image_to_input(&img, &g.tensors[t])?)
        }
        _ => None,
    };
    let req = patchwise_firmware_export::ExportRequest {
        graph: g,
        model_name,
        board,
        schedule,
        input_mode: mode.into(),
        input,
    };
    let project = patchwise_firmware_export::export(&req).map_err(|e| e.to_string())?;
    let zip = project.to_zip().map_err(|e| e.to_string())?;
    Ok((format!("{}.zip", project.summary.crate_name), zip))
}

#[cfg(test)]
mod firmware_tests {
    use super::*;

    /// The browser's firmware zip is byte-identical to `patchwise export --out X.zip`.
    #[test]
    fn firmware_zip_equals_the_cli_export() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        let model = root.join("models/blazeface-short-int8.tflite");
        let image = root.join("assets/images/astronaut-128.png");
        let g = patchwise_core::loader::load(&std::fs::read(&model).unwrap()).unwrap();
        let board = patchwise_core::boards::board("stm32f746g-disco").unwrap();
        let schedule = patchwise_core::plan::Schedule { split: Some(15), grid: (1, 2) };
        let (name, zip) = firmware_zip(
            &g,
            "blazeface-short-int8",
            board,
            schedule,
            Mode::InArena,
            Some(&std::fs::read(&image).unwrap()),
        )
        .unwrap();
        assert_eq!(name, "blazeface-short-int8-stm32f746g-disco.zip");
        let dir = std::env::temp_dir().join(format!("pw-fw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("cli.zip");
        patchwise_cli::export::run(
            &g,
            "blazeface-short-int8",
            "stm32f746g-disco",
            Some(schedule),
            false,
            Some(&image),
            &out,
        )
        .unwrap();
        assert!(std::fs::read(&out).unwrap() == zip, "browser zip differs from the CLI's");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
