//! Every shipped model is byte-identical to TFLite's BUILTIN_REF on its golden
//! inputs, and the measured arena equals the planned arena.

use patchwise_tests::{cases, check_case, root};

#[test]
fn every_model_case_is_bit_exact() {
    let dir = root().join("tests/golden/models");
    let mut n = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(root().join("models")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "tflite") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        for mut c in cases(&dir, Some(&path)).into_iter().filter(|c| c.name.starts_with(&format!("{stem}."))) {
            c.model = path.clone();
            n += 1;
            if let Err(e) = check_case(&c) {
                failures.push(format!("{}: {e}", c.name));
            }
        }
    }
    assert!(n >= 6, "expected two golden inputs per model, found {n} cases");
    assert!(failures.is_empty(), "{} of {n} model cases differ:\n{}", failures.len(), failures.join("\n"));
}
