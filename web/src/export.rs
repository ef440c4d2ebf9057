//! The schedule download: the same document as `patchwise plan --json`.

use patchwise_core::plan::document::PlanDocument;
use patchwise_core::plan::{Candidate, Report};

use crate::proto::{Mode, SearchOut};

/// `plan --json`'s document for `r`, the search's Pareto front (empty until
/// the search has run) and the budget.
pub fn schedule_document(r: &Report, search: Option<&SearchOut>, budget: Option<usize>) -> PlanDocument {
    let pareto: Vec<Candidate> = search.map(|s| s.pareto.clone()).unwrap_or_default();
    PlanDocument::new(r, &pareto, budget)
        .with_search_limit(search.and_then(|s| patchwise_core::plan::search_limit_note(s.splits_untried)))
}

/// A model's name without its file extension (what the firmware crate is named after).
pub fn model_stem(name: &str) -> String {
    name.trim_end_matches(".tflite").trim_end_matches(".json").to_string()
}

/// The downloads' file stem: the firmware crate's name (model and board), or
/// the model alone under a custom budget, so the JSON and the zip match.
pub fn file_stem(model: &str, board: Option<&patchwise_core::boards::Board>) -> String {
    match board {
        Some(b) => patchwise_firmware_export::crate_name(&model_stem(model), b),
        None => patchwise_firmware_export::slug(&model_stem(model)),
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

    /// The download is the CLI's `plan --json` document, with the fields it requires.
    #[test]
    fn same_document_as_the_cli() {
        let g = patchwise_core::loader::load(DEFAULT_MODEL).unwrap();
        for (sched, mode) in [
            (Sched::patched(15, (1, 2)), InputMode::InArena),
            (Sched::LAYER_BY_LAYER, InputMode::Streamed),
            (Sched::patched(31, (4, 8)), InputMode::Streamed),
        ] {
            let search = plan::search(&g, mode);
            let r = plan::report(&g, sched, mode).unwrap();
            let ours = schedule_document(&r, Some(&SearchOut::from_core(&search, 0.0)), Some(327_680));
            let cli = patchwise_cli::plan::document(&r, &search, Some(327_680));
            assert_eq!(ours, cli);
            let json = serde_json::to_value(&ours).unwrap();
            for key in REQUIRED {
                assert!(json.get(*key).is_some(), "the export lacks {key}");
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

    #[test]
    fn the_json_and_the_zip_are_named_alike() {
        let b = patchwise_core::boards::board("stm32f746g-disco").unwrap();
        assert_eq!(file_stem("mbv2-w1.0-r224", Some(b)), "mbv2-w1-0-r224-stm32f746g-disco");
        assert_eq!(file_stem("mbv2-w1.0-r224", Some(b)), patchwise_firmware_export::crate_name("mbv2-w1.0-r224", b));
        assert_eq!(file_stem("My Model.tflite", None), "my-model");
    }

    /// The browser's firmware zip is byte-identical to `patchwise export --out X.zip`.
    #[test]
    fn firmware_zip_equals_the_cli_export() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        let model = root.join("models/blazeface-short-int8.tflite");
        let image = root.join("assets/images/astronaut-128.png");
        let g = patchwise_core::loader::load(&std::fs::read(&model).unwrap()).unwrap();
        let board = patchwise_core::boards::board("stm32f746g-disco").unwrap();
        let schedule = patchwise_core::plan::Schedule::patched(15, (1, 2));
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
            patchwise_core::plan::HaloChoice::Recompute,
            Some(&image),
            &out,
        )
        .unwrap();
        assert!(std::fs::read(&out).unwrap() == zip, "browser zip differs from the CLI's");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
