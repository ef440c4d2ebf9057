//! The `patchwise` binary end to end: outputs byte-identical to the
//! BUILTIN_REF goldens, predicted arena equal to measured, clear errors.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn patchwise(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_patchwise")).args(args).current_dir(root()).output().unwrap()
}

fn npy_data(path: &Path) -> Vec<u8> {
    patchwise_cli::io::parse_npy(&std::fs::read(path).unwrap()).unwrap().data
}

fn run_matches_golden(model: &str, input: &str, golden: &str, outputs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let out = patchwise(&[
        "run",
        &format!("models/{model}.tflite"),
        "--input",
        input,
        "--output-dir",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["predicted_arena_bytes"], v["measured_arena_bytes"], "{v}");
    for k in 0..outputs {
        let got = npy_data(&dir.path().join(format!("output_{k}.npy")));
        let want = npy_data(&root().join(format!("tests/golden/models/{model}.{golden}.out{k}.npy")));
        assert_eq!(got, want, "{model} output {k} differs from BUILTIN_REF");
    }
}

#[test]
fn blazeface_on_an_image_matches_builtin_ref() {
    run_matches_golden("blazeface-short-int8", "assets/images/astronaut-128.png", "astronaut-128", 2);
}

#[test]
fn mbv2_on_an_image_and_on_npy_matches_builtin_ref() {
    run_matches_golden("mbv2-w0.35-r144-int8", "assets/images/astronaut-144.png", "astronaut-144", 1);
    run_matches_golden("mbv2-w0.35-r144-int8", "tests/golden/models/mbv2-w0.35-r144-int8.random.in0.npy", "random", 1);
}

#[test]
fn json_reports_top_classes_for_a_classifier() {
    let out = patchwise(&[
        "run",
        "models/mbv2-w0.35-r144-int8.tflite",
        "--input",
        "assets/images/astronaut-144.png",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outputs"][0]["top"].as_array().unwrap().len(), 2);
}

fn fails_with(args: &[&str], needle: &str) {
    let out = patchwise(args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "error must be one line: {err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
}

#[test]
fn bad_inputs_give_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"\x89PNG\r\n\x1a\nthis is not really a png").unwrap();
    fails_with(
        &["run", "models/mbv2-w0.35-r144-int8.tflite", "--input", junk.to_str().unwrap()],
        "not a readable PNG/JPEG image",
    );
    let bad_model = dir.path().join("bad.tflite");
    std::fs::write(&bad_model, b"nonsense").unwrap();
    fails_with(&["inspect", bad_model.to_str().unwrap()], "TFL3");
    fails_with(&["inspect", "no/such/model.tflite"], "cannot read");
    let wrong = "tests/golden/models/blazeface-short-int8.random.in0.npy";
    fails_with(&["run", "models/mbv2-w0.35-r144-int8.tflite", "--input", wrong], "does not match the model input");
}

#[test]
fn patch_based_run_matches_builtin_ref_and_its_plan() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = patchwise(&[
        "run",
        "models/mbv2-w0.35-r144-int8.tflite",
        "--input",
        "assets/images/astronaut-144.png",
        "--split",
        "12",
        "--grid",
        "3x3",
        "--output-dir",
        d,
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["predicted_arena_bytes"], v["measured_arena_bytes"]);
    let got = npy_data(&dir.path().join("output_0.npy"));
    let want = npy_data(&root().join("tests/golden/models/mbv2-w0.35-r144-int8.astronaut-144.out0.npy"));
    assert_eq!(got, want);
    let plan = patchwise(&["plan", "models/mbv2-w0.35-r144-int8.tflite", "--split", "12", "--grid", "3x3", "--json"]);
    let p: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(p["patch_peak_bytes"], v["predicted_arena_bytes"], "plan and run disagree on the arena");
}

#[test]
fn plan_without_a_fitting_schedule_names_the_floor() {
    fails_with(&["plan", "models/blazeface-short-int8.tflite", "--budget", "1000"], "smallest achievable peak");
}

#[test]
fn export_zip_is_deterministic_and_names_the_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
    for p in [&a, &b] {
        let out = patchwise(&[
            "export",
            "models/opsnet-int8.tflite",
            "--board",
            "qemu-mps2-an500",
            "--out",
            p.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    fails_with(
        &["export", "models/opsnet-int8.tflite", "--board", "no-such-board", "--out", dir.path().to_str().unwrap()],
        "unknown board",
    );
}

/// A model with two inputs runs with one `--input` per input, in the model's
/// order, byte-identical to BUILTIN_REF; the wrong count is a clear error.
#[test]
fn run_takes_one_input_per_model_input() {
    let dir = tempfile::tempdir().unwrap();
    let ops = "tests/golden/ops";
    let model = format!("{ops}/sub_broadcast_row_odd.tflite");
    let (a, b) = (format!("{ops}/sub_broadcast_row_odd.in0.npy"), format!("{ops}/sub_broadcast_row_odd.in1.npy"));
    let out = patchwise(&["run", &model, "--input", &a, "--input", &b, "--output-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let want = npy_data(&root().join(format!("{ops}/sub_broadcast_row_odd.out0.npy")));
    assert_eq!(npy_data(&dir.path().join("output_0.npy")), want);

    let out = patchwise(&["run", &model, "--input", &a]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the model has 2 inputs") && err.contains("got 1"), "{err}");
}

/// `inspect` of a model with unsupported operators still lists every
/// operator, marks the ones patchwise cannot run, and fails naming them.
#[test]
fn inspect_marks_unsupported_operators() {
    let out = patchwise(&["inspect", "tests/golden/fixtures/unsupported-ops.tflite"]);
    assert!(!out.status.success());
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("4 operators, 2 that patchwise cannot run"), "{stdout}");
    let marked: Vec<&str> = stdout.lines().filter(|l| l.contains(" ! ")).collect();
    assert_eq!(marked.len(), 2, "{stdout}");
    assert!(marked[0].contains("EXP") && marked[1].contains("COS"), "{stdout}");
    assert!(stderr.contains("EXP (builtin code 47) at operator 1"), "{stderr}");
}
