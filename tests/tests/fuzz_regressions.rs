//! Every finding of the fuzz campaigns, kept as a named case: the input is in
//! `fuzz/regressions/TARGET/NAME` and replayed through the target's body
//! (`patchwise_tests::fuzz`), so it stays fixed without cargo-fuzz.

use patchwise_tests::fuzz::{replay, TARGETS};
use patchwise_tests::root;

fn case(target: &str, name: &str) {
    let path = root().join("fuzz/regressions").join(target).join(name);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    replay(target, &data);
}

/// The named cases below, as (target, file).
const CASES: &[(&str, &str)] = &[
    ("run", "activation-range-min-above-max"),
    ("npy", "header-shape-beyond-the-data"),
    ("npy", "header-nested-brackets-hang"),
    ("npy", "shape-product-overflows"),
    ("npy", "shape-strides-overflow"),
    ("npy", "shape-not-plain-integers"),
    ("run", "dead-stage-tensor-planned"),
    ("run", "resize-side-overflows-fixed-point"),
    ("spec", "repeat-count-loops-for-hours"),
    ("spec", "redistribute-repeat-overflows"),
    ("spec", "channel-rounding-overflows"),
    ("run", "binary-offset-overflows"),
    ("image", "palette-length-not-a-multiple-of-3"),
    ("export", "strided-slice-ellipsis-mask-sign-bit"),
];

/// Finding 3 (2026-12-02, `npy`, within seconds of the campaign and of CI's
/// smoke run): a 277-byte version-3 `.npy` whose four-byte header length
/// reads 662,372,470 made the parser (npyz) reserve 662 MB before reading:
/// the heap bound failed. Header length and declared data are now checked
/// against the file first.
#[test]
fn npy_header_shape_beyond_the_data() {
    let data = std::fs::read(root().join("fuzz/regressions/npy/header-shape-beyond-the-data")).unwrap();
    let e = patchwise_cli::io::parse_npy(&data).err().expect("refused").to_string();
    assert!(e.contains("the .npy header is 662372482 bytes long, more than the 277-byte file"), "{e}");
    case("npy", "header-shape-beyond-the-data");
}

/// Finding 2 (2026-12-02, `run`, 1.3 M executions in): a mutated opsnet
/// whose fused-RELU6 ADD output has a scale so small that `6 / scale`
/// overflows f32 made the activation range `(-128, i32::MIN + 14)`, and the
/// kernel's clamp panicked on `min > max`.
#[test]
fn run_activation_range_min_above_max() {
    case("run", "activation-range-min-above-max");
}

/// Finding 6 (2026-12-02, `run` with integer overflow checks on, 459
/// executions in): a mutated RESIZE_BILINEAR whose sides reach millions
/// overflowed the 32-bit, 10-bit fixed-point source coordinates (TFLite's
/// arithmetic, which wraps there too). Sides above `MAX_RESIZE_SIDE` are
/// refused when the model is checked, with an error naming the limit.
#[test]
fn run_resize_side_overflows_fixed_point() {
    let data = std::fs::read(root().join("fuzz/regressions/run/resize-side-overflows-fixed-point")).unwrap();
    let e = patchwise_core::loader::load(&data[2..]).err().expect("refused").to_string();
    assert!(e.contains("a resize's height or width"), "{e}");
    assert!(e.contains(&patchwise_core::ops::resize::MAX_RESIZE_SIDE.to_string()), "{e}");
    case("run", "resize-side-overflows-fixed-point");
}

/// Finding 7 (2026-12-02, `spec`, CI's smoke run on a fresh machine and a
/// local run 300 k executions in): a spec whose repeat count reads
/// 266,666,666,666,666 made the size check, which runs before the field
/// checks, loop once per repeat (a timeout), and the campaign's crash in CI
/// (an overflow panic; its input stayed on the CI machine) led to two more
/// found by reading the same path: RD's `repeat + moved` and the channel
/// rounding of an absurd width overflowed. Fields are checked before sizes,
/// sizes take repeats in closed form, the arithmetic saturates.
#[test]
fn spec_hostile_counts_are_refused_quickly() {
    use patchwise_core::spec::{self, ArchSpec, SpecLimits};
    for name in ["repeat-count-loops-for-hours", "redistribute-repeat-overflows", "channel-rounding-overflows"] {
        let data = std::fs::read(root().join("fuzz/regressions/spec").join(name)).unwrap();
        let s: ArchSpec = serde_json::from_slice(&data).unwrap();
        for s in [s.clone(), s.redistribute(spec::DEFAULT_RD_STAGE_GROUPS)] {
            let e = spec::check_sizes(&s, SpecLimits::DEFAULT).err().expect("refused").to_string();
            assert!(e.contains("repeats 1..16") || e.contains("channels ≤ 4096"), "{name}: {e}");
            assert_eq!(spec::build(&s).err().expect("refused").to_string(), e, "{name}");
        }
        case("spec", name);
    }
}

/// Finding 8 (2026-12-02, `run` in CI's smoke run with the fixed seed,
/// replayed from the base64 the log printed): a mutated ADD whose scales
/// make the output multiplier far above one overflowed int32 when the
/// output zero point was added. TFLite's C++ wraps there on every target;
/// the element function now wraps explicitly (also QUANTIZE's).
#[test]
fn run_binary_offset_overflows() {
    case("run", "binary-offset-overflows");
}

/// Finding 9 (2026-12-02, `image` in CI's smoke run, replayed from the
/// printed base64): a 137-byte paletted PNG whose PLTE chunk is not a
/// multiple of 3 bytes made the png crate (0.18.1, the newest) panic while
/// expanding the palette (image-rs/image-png#694). Such a palette is refused
/// before the decoder runs.
#[test]
fn image_palette_length_not_a_multiple_of_3() {
    let data = std::fs::read(root().join("fuzz/regressions/image/palette-length-not-a-multiple-of-3")).unwrap();
    let e = patchwise_image::decode(&data[1..]).err().expect("refused").to_string();
    assert!(e.contains("not a multiple of 3"), "{e}");
    case("image", "palette-length-not-a-multiple-of-3");
}

/// Finding 10 (2026-12-07, `export` in CI's smoke run, replayed from the
/// artifact): a 753-byte STRIDED_SLICE model whose `ellipsis_mask` has only
/// the sign bit set overflowed the one-ellipsis check (`mask & (mask − 1)`
/// in a debug build). The check counts the mask's bits. A bit past the
/// slice's entries names no entry (as in TensorFlow's dense spec), so the
/// model loads: the slice of its declared `[1, 10]` output.
#[test]
fn export_strided_slice_ellipsis_mask_sign_bit() {
    let data = std::fs::read(root().join("fuzz/regressions/export/strided-slice-ellipsis-mask-sign-bit")).unwrap();
    // The target's control byte first, then the model.
    let g = patchwise_core::loader::load(&data[1..]).expect("loads");
    assert_eq!(g.nodes.len(), 1);
    assert_eq!(g.nodes[0].op.name(), "STRIDED_SLICE");
    assert_eq!(g.tensors[g.nodes[0].output()].shape, [1, 10]);
    case("export", "strided-slice-ellipsis-mask-sign-bit");
}

#[test]
fn every_kept_finding_has_a_named_case() {
    for t in TARGETS {
        let dir = root().join("fuzz/regressions").join(t);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(
                CASES.contains(&(t, name.as_str())),
                "fuzz/regressions/{t}/{name} has no named case in {}",
                file!()
            );
        }
    }
    for (t, name) in CASES {
        case(t, name);
    }
}

/// Finding 1 (2026-12-02, `plan`, the BlazeFace seed itself): one input took
/// 30 s in the instrumented build (two searches, 1.9 s each in release),
/// past the second per load + plan the README promises. Fixed by a faster
/// search (identical plans) and the `MAX_SEARCH_WORK` bound; timings are not
/// tested, the work bound and a complete search are.
#[test]
fn plan_blazeface_seed_took_seconds() {
    let bytes = std::fs::read(root().join("models/blazeface-short-int8.tflite")).unwrap();
    let g = patchwise_core::loader::load(&bytes).unwrap();
    assert!(patchwise_core::plan::search_work(&g) <= patchwise_core::plan::MAX_SEARCH_WORK);
    replay("plan", &bytes);
}

/// Finding 5 (2026-12-02, `npy`, 49 k executions in): a 313-byte header of
/// 90 nested `[` hung npyz's Python-literal parser (over a minute; it
/// backtracks exponentially). Since finding 13 the header is read by a
/// strict one-pass parser, which names the first thing a numpy header
/// cannot hold.
#[test]
fn npy_header_nested_brackets_hang() {
    let data = std::fs::read(root().join("fuzz/regressions/npy/header-nested-brackets-hang")).unwrap();
    let e = patchwise_cli::io::parse_npy(&data).err().expect("refused").to_string();
    assert!(e.contains("the .npy header has a key \"r\""), "{e}");
    case("npy", "header-nested-brackets-hang");
}

/// Finding 10 (2026-12-03, `npy`, CI's 15 s smoke run): a 156-byte header
/// declaring shape (5, 2^64 - 1) overflowed npyz's unchecked element count
/// (a panic under overflow checks). The count is now multiplied checked.
#[test]
fn npy_shape_product_overflows() {
    let data = std::fs::read(root().join("fuzz/regressions/npy/shape-product-overflows")).unwrap();
    let e = patchwise_cli::io::parse_npy(&data).err().expect("refused").to_string();
    assert!(e.contains("dimensions multiply past 64 bits"), "{e}");
    case("npy", "shape-product-overflows");
}

/// Finding 11 (2026-12-04, `run`, a 60 s local campaign): a mutated SPLIT_V
/// case whose outputs list names the input twice, so the first split's
/// output is read by nothing. Under a patch stage over it no patch computes
/// that tensor (its operator is skipped), yet the layout gave it a 40-byte
/// buffer: planned 360 B, measured 308 B. Dead stage tensors now take no bytes.
#[test]
fn run_dead_stage_tensor_planned() {
    use patchwise_core::patch::{InputMode, PatchExecutor};
    let data = std::fs::read(root().join("fuzz/regressions/run/dead-stage-tensor-planned")).unwrap();
    let g = patchwise_core::loader::load(&data[2..]).unwrap();
    let px = PatchExecutor::new(&g, 1, (3, 2), InputMode::InArena).unwrap();
    assert_eq!(px.arena_size(), 308);
    case("run", "dead-stage-tensor-planned");
}

/// Finding 12 (2026-12-04, `npy`, CI's smoke run): shape (0, 10^10,
/// 2^64 - 1) has 0 elements but overflowed npyz's strides. The product of
/// the nonzero dimensions is now checked.
#[test]
fn npy_shape_strides_overflow() {
    let data = std::fs::read(root().join("fuzz/regressions/npy/shape-strides-overflow")).unwrap();
    let e = patchwise_cli::io::parse_npy(&data).err().expect("refused").to_string();
    assert!(e.contains("dimensions multiply past 64 bits"), "{e}");
    case("npy", "shape-strides-overflow");
}

/// Finding 13 (2026-12-04, `npy`, CI's smoke run on the fix for 12): a
/// dimension written `0000000000000000010000000+000`, which npyz's Python
/// literal parser evaluated (and then multiplied unchecked) but the
/// plain-integer pre-check skipped. The header is now read by patchwise's
/// own strict parser, and npyz reads no untrusted header at all.
#[test]
fn npy_shape_not_plain_integers() {
    let data = std::fs::read(root().join("fuzz/regressions/npy/shape-not-plain-integers")).unwrap();
    let e = patchwise_cli::io::parse_npy(&data).err().expect("refused").to_string();
    assert!(e.contains("shape is not a tuple of integers"), "{e}");
    case("npy", "shape-not-plain-integers");
}

#[test]
fn the_seeds_pass_every_target() {
    // The bodies hold on the inputs they start from (a broken property shows here before a campaign).
    let model = std::fs::read(root().join("models/opsnet-int8.tflite")).unwrap();
    replay("load", &model);
    replay("plan", &model);
    for control in [[0u8, 0], [3, 0x49], [7, 0x12]] {
        replay("run", &[&control[..], &model].concat());
    }
    replay("export", &[&[2u8][..], &model].concat());
    replay("image", &[&[5u8][..], &std::fs::read(root().join("assets/images/camera-128.png")).unwrap()].concat());
    replay("spec", &std::fs::read(root().join("fuzz/seeds/spec/se.json")).unwrap());
    replay("npy", &std::fs::read(root().join("tests/golden/ops/add_batch2.in0.npy")).unwrap());
}
