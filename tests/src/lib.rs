//! Helpers for the workspace conformance tests: golden cases produced by
//! `tests/golden/gen.py` with TFLite's reference kernels (BUILTIN_REF).

pub mod fuzz;
pub mod hostile;

use std::path::{Path, PathBuf};

use patchwise_cli::io::{parse_npy, Npy};
use patchwise_core::exec::{self, Executor};
use patchwise_core::graph::Graph;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// One golden case: a model, its input arrays and the reference outputs.
pub struct Case {
    pub name: String,
    pub model: PathBuf,
    pub inputs: Vec<Npy>,
    pub outputs: Vec<Npy>,
}

fn numbered(dir: &Path, stem: &str, kind: &str) -> Vec<Npy> {
    (0..)
        .map(|k| dir.join(format!("{stem}.{kind}{k}.npy")))
        .take_while(|p| p.exists())
        .map(|p| parse_npy(&std::fs::read(&p).expect("read npy")).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

/// Cases in `dir`: `<case>.tflite` (or `model` for every case), `<case>.in<k>.npy`,
/// `<case>.out<k>.npy`.
pub fn cases(dir: &Path, model: Option<&Path>) -> Vec<Case> {
    let mut stems: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".out0.npy").map(str::to_owned))
        .collect();
    stems.sort();
    stems
        .into_iter()
        .map(|stem| Case {
            model: model.map(Path::to_path_buf).unwrap_or_else(|| dir.join(format!("{stem}.tflite"))),
            inputs: numbered(dir, &stem, "in"),
            outputs: numbered(dir, &stem, "out"),
            name: stem,
        })
        .collect()
}

/// Runs `g` layer by layer on raw input bytes; returns the outputs and the
/// measured arena high-water mark.
pub fn run_layers(g: &Graph, inputs: &[&[u8]]) -> Result<(Vec<Vec<u8>>, usize), String> {
    let ex = Executor::new(g).map_err(|e| e.to_string())?;
    let m = exec::run_measured(&ex.program(), &inputs.concat(), &|| 0.0).map_err(|e| e.to_string())?;
    Ok((m.outputs, m.arena_hwm))
}

/// Compares a case; `Err` describes the first mismatch.
pub fn check_case(case: &Case) -> Result<(), String> {
    let bytes = std::fs::read(&case.model).map_err(|e| format!("{}: {e}", case.model.display()))?;
    let g = patchwise_core::loader::load(&bytes).map_err(|e| e.to_string())?;
    let inputs: Vec<&[u8]> = case.inputs.iter().map(|n| n.data.as_slice()).collect();
    if inputs.len() != g.inputs.len() {
        return Err(format!("case has {} inputs, model {}", inputs.len(), g.inputs.len()));
    }
    let (outs, measured) = run_layers(&g, &inputs)?;
    let predicted = Executor::new(&g).map_err(|e| e.to_string())?.arena_size();
    if measured != predicted {
        return Err(format!("arena: predicted {predicted} B, measured {measured} B"));
    }
    if outs.len() != case.outputs.len() {
        return Err(format!("case has {} outputs, model {}", case.outputs.len(), outs.len()));
    }
    for (k, (got, want)) in outs.iter().zip(&case.outputs).enumerate() {
        if got != &want.data {
            let diffs = got.iter().zip(&want.data).filter(|(a, b)| a != b).count();
            let first = got.iter().zip(&want.data).position(|(a, b)| a != b).unwrap_or(0);
            return Err(format!(
                "output {k}: {diffs} of {} bytes differ (first at byte {first}: got {}, want {})",
                want.data.len(),
                got.get(first).copied().unwrap_or(0) as i8,
                want.data.get(first).copied().unwrap_or(0) as i8
            ));
        }
    }
    Ok(())
}
