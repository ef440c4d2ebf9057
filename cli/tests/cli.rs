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
fn flash_is_checked_by_plan_and_export() {
    let out = patchwise(&["plan", "models/mbv2-w0.35-r144-int8.tflite", "--board", "stm32f746g-disco"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("flash: about ")).unwrap_or_else(|| panic!("no flash line: {text}"));
    assert!(
        line.ends_with("of 1048576 B on stm32f746g-disco (weights and tables") || line.ends_with("-> fits"),
        "{line}"
    );
    // MobileNetV2-1.0@224: 3.5 MB of weights against the board's 1 MB. Refused, nothing written.
    let out = patchwise(&["plan", "mbv2-w1.0-r224", "--board", "stm32f746g-disco"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("flash: about ") && l.ends_with("-> does NOT fit")), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("fw.zip");
    fails_with(
        &["export", "mbv2-w1.0-r224", "--board", "stm32f746g-disco", "--out", zip.to_str().unwrap()],
        "the firmware would not fit stm32f746g-disco's flash: about ",
    );
    assert!(!zip.exists(), "nothing may be written");
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

/// `explore`: the JSON document's shape and its frontier, which is the
/// spec with the most MACs among those marked as fitting; bad requests name
/// what is wrong in one line.
#[test]
fn explore_reports_specs_and_frontier() {
    let out = patchwise(&[
        "explore",
        "--board",
        "stm32f746g-disco",
        "--resolutions",
        "96:160:32",
        "--widths",
        "0.35,1.0",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let specs = v["specs"].as_array().unwrap();
    assert_eq!(specs.len(), 3 * 2 * 2);
    assert_eq!(v["budget_bytes"], 320 * 1024 - 16 * 1024);
    for s in specs {
        for k in [
            "resolution",
            "width",
            "rd",
            "macs",
            "flash_bytes",
            "layer_peak_bytes",
            "patch_peak_bytes",
            "fits_layer",
            "fits_patch",
            "schedule",
        ] {
            assert!(s.get(k).is_some(), "{k} missing in {s}");
        }
        let budget = v["budget_bytes"].as_u64().unwrap();
        if s["fits_layer"].as_bool().unwrap() {
            assert!(s["layer_peak_bytes"].as_u64().unwrap() <= budget);
            assert!(s["fits_patch"].as_bool().unwrap());
        }
        // Patch-based never needs more SRAM than layer by layer.
        assert!(s["patch_peak_bytes"].as_u64() <= s["layer_peak_bytes"].as_u64());
    }
    for (key, fits) in [("layer", "fits_layer"), ("patch", "fits_patch")] {
        let most = specs.iter().filter(|s| s[fits].as_bool().unwrap()).map(|s| s["macs"].as_u64().unwrap()).max();
        assert_eq!(v["frontier"][key]["macs"].as_u64(), most, "{key}");
    }
    // Patch-based fits a network layer by layer cannot.
    assert!(specs.iter().any(|s| s["fits_patch"].as_bool().unwrap() && !s["fits_layer"].as_bool().unwrap()));
    let text =
        patchwise(&["explore", "--board", "stm32f746g-disco", "--resolutions", "96:160:32", "--widths", "0.35,1.0"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("largest that fits (most MACs):") && text.contains("r160"), "{text}");
    fails_with(&["explore", "--board", "esp32"], "unknown board \"esp32\" (known: stm32f746g-disco");
    fails_with(&["explore", "--board", "rpi-pico", "--resolutions", "200:100:16"], "the sweep is empty");
    fails_with(&["explore", "--board", "rpi-pico", "--family", "resnet"], "unknown family \"resnet\"");
    let none =
        patchwise(&["explore", "--board", "rpi-pico", "--budget", "1000", "--resolutions", "96", "--widths", "0.35"]);
    let none = String::from_utf8(none.stdout).unwrap();
    assert!(none.contains("nothing fits (the smallest peak of the sweep is"), "{none}");
}

/// Halo caching from the CLI: `plan --halo cache` chooses a schedule, `run
/// --schedule` takes the document plan printed (and its bare `schedule`),
/// and the run equals TFLite's reference output with the planned arena.
#[test]
fn a_cached_halo_schedule_from_plan_runs_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let model = "models/mbv2-w0.35-r144-int8.tflite";
    let plan = patchwise(&["plan", model, "--split", "auto", "--halo", "cache", "--budget", "100000", "--json"]);
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let p: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(p["schedule"]["halo"], "cache");
    assert_eq!(p["overhead_macs"], 0, "cached halos recompute nothing");
    let doc = dir.path().join("plan.json");
    std::fs::write(&doc, &plan.stdout).unwrap();
    let bare = dir.path().join("schedule.json");
    std::fs::write(&bare, serde_json::to_vec(&p["schedule"]).unwrap()).unwrap();
    let want = npy_data(&root().join("tests/golden/models/mbv2-w0.35-r144-int8.astronaut-144.out0.npy"));
    for file in [&doc, &bare] {
        let out_dir = dir.path().join(file.file_stem().unwrap());
        let out = patchwise(&[
            "run",
            model,
            "--input",
            "assets/images/astronaut-144.png",
            "--schedule",
            file.to_str().unwrap(),
            "--output-dir",
            out_dir.to_str().unwrap(),
            "--json",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["predicted_arena_bytes"], p["patch_peak_bytes"], "plan and run disagree on the arena");
        assert_eq!(v["predicted_arena_bytes"], v["measured_arena_bytes"]);
        assert_eq!(npy_data(&out_dir.join("output_0.npy")), want);
    }
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, b"{\"split\": 3}").unwrap();
    fails_with(
        &["run", model, "--input", "assets/images/astronaut-144.png", "--schedule", junk.to_str().unwrap()],
        "expected plan --json's document or its schedule",
    );
    fails_with(&["plan", model, "--halo", "sometimes"], "expected recompute (MCUNetV2), cache or auto");
}

/// Several patch stages from the CLI: `plan --then auto` adds a stage where
/// the peak is after the first, `plan --json` names it in `later_stages`,
/// `run --schedule` takes that document and equals TFLite's reference
/// output with the planned arena, and `run --then` gives the same stages by
/// hand; malformed and overlapping stages are refused in one line.
#[test]
fn a_schedule_with_two_patch_stages_runs_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let model = "models/mbv2-w0.35-r144-int8.tflite";
    // With the input streamed, the peak after ops 0..=5 is in the next blocks.
    let stream = "--streamed-input";
    let plan = patchwise(&["plan", model, "--split", "5", "--grid", "2x3", "--then", "auto", stream, "--json"]);
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let p: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let later = p["schedule"]["later_stages"].as_array().expect("later_stages in the schedule");
    assert!(!later.is_empty(), "--then auto found no later stage on mbv2 after ops 0..=5: {}", p["schedule"]);
    let one = patchwise(&["plan", model, "--split", "5", "--grid", "2x3", stream, "--json"]);
    let one: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert!(
        p["patch_peak_bytes"].as_u64() < one["patch_peak_bytes"].as_u64(),
        "a second stage should lower the peak: {} vs {}",
        p["patch_peak_bytes"],
        one["patch_peak_bytes"]
    );
    // With the first stage searched too (`--split auto`), one front weighs one and several stages.
    let joint = patchwise(&["plan", model, "--split", "auto", "--then", "auto", stream, "--json"]);
    assert!(joint.status.success(), "{}", String::from_utf8_lossy(&joint.stderr));
    let joint: serde_json::Value = serde_json::from_slice(&joint.stdout).unwrap();
    let front = joint["pareto"].as_array().unwrap();
    assert!(front.iter().any(|c| c["later_stages"].as_array().is_some_and(|l| !l.is_empty())), "{front:?}");
    assert_eq!(joint["patch_peak_bytes"], front[0]["peak_bytes"], "without a budget: the front's smallest peak");
    // Every point of the front carries the latency estimate; the chosen one's is the document's.
    assert!(front.iter().all(|c| c["estimated_instructions"].as_u64().is_some_and(|n| n > 0)), "{front:?}");
    assert_eq!(front[0]["estimated_instructions"], joint["latency"]["instructions"]);
    let doc = dir.path().join("plan.json");
    std::fs::write(&doc, &plan.stdout).unwrap();
    let want = npy_data(&root().join("tests/golden/models/mbv2-w0.35-r144-int8.astronaut-144.out0.npy"));
    let s = &later[0];
    let by_hand = format!(
        "{}..={}:{}x{}{}",
        s["first"],
        s["last"],
        s["grid"][0],
        s["grid"][1],
        if s["halo"] == "cache" { ":cache" } else { "" }
    );
    let image = "assets/images/astronaut-144.png";
    // `run` holds the input in SRAM: its arena is what `plan` gives these stages so.
    let in_sram = patchwise(&["plan", model, "--split", "5", "--grid", "2x3", "--then", &by_hand, "--json"]);
    assert!(in_sram.status.success(), "{}", String::from_utf8_lossy(&in_sram.stderr));
    let in_sram: serde_json::Value = serde_json::from_slice(&in_sram.stdout).unwrap();
    assert_eq!(in_sram["schedule"]["later_stages"], p["schedule"]["later_stages"]);
    let from_doc = ["--schedule", doc.to_str().unwrap()];
    let from_flags = ["--split", "5", "--grid", "2x3", "--then", by_hand.as_str()];
    for (k, how) in [&from_doc[..], &from_flags[..]].into_iter().enumerate() {
        let out_dir = dir.path().join(format!("out{k}"));
        let mut args = vec!["run", model, "--input", image, "--output-dir", out_dir.to_str().unwrap(), "--json"];
        args.extend(how);
        let out = patchwise(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["schedule"]["later_stages"].as_array().map(Vec::len), Some(later.len()), "{how:?}");
        assert_eq!(v["predicted_arena_bytes"], in_sram["patch_peak_bytes"], "plan and run disagree on the arena");
        assert_eq!(v["predicted_arena_bytes"], v["measured_arena_bytes"]);
        assert_eq!(npy_data(&out_dir.join("output_0.npy")), want);
    }
    for (then, why) in [
        ("6..=9", "expected FIRST..=LAST:RxC"),
        ("4..=9:2x2", "patch stages overlap or are out of operator order"),
        ("9..=6:2x2", "first operator is after its last"),
        ("auto", "--then auto searches against a budget"),
    ] {
        fails_with(&["run", model, "--input", image, "--split", "5", "--grid", "2x3", "--then", then], why);
    }
}
