//! The host's golden tests, in WebAssembly in headless Chromium: every
//! per-operator case and every model case is byte-identical to TFLite's
//! BUILTIN_REF outputs, the measured arena equals the planned one, and one
//! patch-based schedule per model equals layer by layer (both input
//! conventions). Run by `tools/web-test`:
//!
//! ```sh
//! CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test -p patchwise-golden-wasm --target wasm32-unknown-unknown
//! ```
#![cfg(target_arch = "wasm32")]

use patchwise_core::patch::InputMode;
use patchwise_golden_wasm::{a_patch_schedule, check_layers, check_patches, load, Case, MODEL_CASES, OP_CASES};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn failures(cases: &[Case]) -> Vec<String> {
    cases
        .iter()
        .filter_map(|c| load(c).and_then(|l| check_layers(&l)).err().map(|e| format!("{}: {e}", c.name)))
        .collect()
}

/// Every case of `cases` (at least `min`) is bit-exact.
fn all_bit_exact(what: &str, cases: &[Case], min: usize) {
    assert!(cases.len() >= min, "expected at least {min} {what} cases, found {}", cases.len());
    let bad = failures(cases);
    console_log!("{what} cases: {} of {} bit-exact", cases.len() - bad.len(), cases.len());
    assert!(bad.is_empty(), "{} of {} {what} cases differ:\n{}", bad.len(), cases.len(), bad.join("\n"));
}

#[wasm_bindgen_test]
fn every_op_case_is_bit_exact() {
    all_bit_exact("op", OP_CASES, 50);
}

/// Two golden inputs per model.
#[wasm_bindgen_test]
fn every_model_case_is_bit_exact() {
    all_bit_exact("model", MODEL_CASES, 6);
}

/// One patch-based schedule per model, on its first golden input.
#[wasm_bindgen_test]
fn patch_based_equals_layer_by_layer() {
    let mut seen: Vec<*const u8> = Vec::new();
    let mut bad = Vec::new();
    for c in MODEL_CASES {
        if seen.contains(&c.model.as_ptr()) {
            continue;
        }
        seen.push(c.model.as_ptr());
        let l = load(c).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let layer = check_layers(&l).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let (split, grid) = a_patch_schedule(&l.graph).unwrap_or_else(|| panic!("{}: no legal split", c.name));
        for mode in [InputMode::InArena, InputMode::Streamed] {
            match check_patches(&l, split, grid, mode, &layer) {
                Ok(()) => console_log!("{}: split {split}, {}x{}, {mode:?}: identical", c.name, grid.0, grid.1),
                Err(e) => bad.push(format!("{} split {split} {}x{} {mode:?}: {e}", c.name, grid.0, grid.1)),
            }
        }
    }
    assert!(seen.len() >= 3, "expected the three shipped models, found {}", seen.len());
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The `.npy` reader rejects what it cannot read.
#[wasm_bindgen_test]
fn npy_reader_rejects_junk() {
    use patchwise_golden_wasm::parse_npy;
    assert!(parse_npy(b"not an npy").is_err());
    let good = OP_CASES[0].inputs[0];
    assert!(parse_npy(good).is_ok());
    assert!(parse_npy(&good[..good.len() - 1]).is_err());
}
