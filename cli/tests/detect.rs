//! `patchwise detect` end to end: the int8 BlazeFace run by the engine finds
//! the same faces as MediaPipe's float model (goldens from the reference
//! interpreter, decoded by the same decoder), nothing on a face-free picture,
//! the JSON schema, the annotated PNG and a clean error on a corrupt image.

use std::path::{Path, PathBuf};
use std::process::Command;

use patchwise_cli::{detect, io};
use patchwise_core::detect::{Detection, Output, Values, DEFAULT_THRESHOLD};
use patchwise_core::graph::Graph;
use patchwise_core::preprocess::Letterbox;

const MODEL: &str = "models/blazeface-short-int8.tflite";
const FACES: [&str; 3] = ["astronaut-128", "astronaut-wide-128", "camera-128"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn patchwise(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_patchwise")).args(args).current_dir(root()).output().unwrap()
}

fn model() -> Graph {
    io::read_model(&root().join(MODEL)).unwrap().1
}

/// Faces of the int8 model, run layer by layer by our engine.
fn int8_faces(g: &Graph, image: &str) -> Vec<Detection> {
    let img = io::read_image(&root().join(format!("assets/images/{image}.png"))).unwrap();
    detect::detect_image(g, &img, DEFAULT_THRESHOLD).unwrap()
}

/// Faces of the float model: its golden outputs through the same decoder.
fn float_faces(image: &str) -> Vec<Detection> {
    let npy: Vec<_> = (0..2)
        .map(|k| {
            let path = root().join(format!("tests/golden/detect/{image}.float.out{k}.npy"));
            io::parse_npy(&std::fs::read(path).unwrap()).unwrap()
        })
        .collect();
    let outputs: Vec<Output> = npy.iter().map(|n| Output { shape: &n.shape, values: Values::F32(&n.data) }).collect();
    // The 128x128 pictures are the model input as they are.
    let identity = Letterbox::fit(128, 128, 128, 128);
    patchwise_core::detect::detect(&outputs, &identity, DEFAULT_THRESHOLD).unwrap()
}

#[test]
fn int8_top_face_matches_the_float_model() {
    let g = model();
    let mut report = Vec::new();
    for image in FACES {
        let (f, q) = (float_faces(image), int8_faces(&g, image));
        assert!(!f.is_empty(), "{image}: the float model finds no face");
        assert!(!q.is_empty(), "{image}: the int8 model finds no face (float top score {})", f[0].score);
        let (iou, ds) = (f[0].iou(&q[0]), (f[0].score - q[0].score).abs());
        report.push(format!("{image}: float {:.3} int8 {:.3} IoU {iou:.3}", f[0].score, q[0].score));
        assert!(iou >= 0.9, "{image}: top-box IoU {iou} < 0.9: float {:?} int8 {:?}", f[0], q[0]);
        assert!(ds <= 0.15, "{image}: score differs by {ds}: float {} int8 {}", f[0].score, q[0].score);
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn no_face_on_a_face_free_picture() {
    assert!(float_faces("noface-128").is_empty());
    let q = int8_faces(&model(), "noface-128");
    assert!(q.is_empty(), "int8 model sees faces in noface-128: {q:?}");
}

fn detect_json(args: &[&str]) -> serde_json::Value {
    let out = patchwise(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn as_f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn json_schema_in_source_pixels() {
    let v = detect_json(&["detect", MODEL, "assets/images/astronaut.png", "--json"]);
    let obj = v.as_object().unwrap();
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["detections"]);
    let dets = v["detections"].as_array().unwrap();
    assert_eq!(dets.len(), 1, "{v}");
    let mut last = f64::INFINITY;
    for d in dets {
        let mut keys: Vec<_> = d.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["box", "keypoints", "score"]);
        let score = d["score"].as_f64().unwrap();
        assert!((DEFAULT_THRESHOLD as f64..=1.0).contains(&score) && score <= last, "{v}");
        last = score;
        let b = as_f64s(&d["box"]);
        assert_eq!(b.len(), 4);
        assert!(b[0] < b[2] && b[1] < b[3], "{b:?}");
        let kps = d["keypoints"].as_array().unwrap();
        assert_eq!(kps.len(), 6);
        for kp in kps {
            let kp = as_f64s(kp);
            assert_eq!(kp.len(), 2);
            // Keypoints lie around the face (ears may sit on the box edge).
            let (w, h) = (b[2] - b[0], b[3] - b[1]);
            assert!(kp[0] > b[0] - 0.25 * w && kp[0] < b[2] + 0.25 * w, "{kp:?} vs {b:?}");
            assert!(kp[1] > b[1] - 0.25 * h && kp[1] < b[3] + 0.25 * h, "{kp:?} vs {b:?}");
        }
    }
    // The 512x512 photo letterboxed by the CLI and the same photo resized to
    // 128x128 beforehand (astronaut-wide-128) give the same face, in their
    // own pixels (x4).
    let b = as_f64s(&dets[0]["box"]);
    let wide = int8_faces(&model(), "astronaut-wide-128");
    let w = Detection {
        xmin: wide[0].xmin * 4.0,
        ymin: wide[0].ymin * 4.0,
        xmax: wide[0].xmax * 4.0,
        ymax: wide[0].ymax * 4.0,
        ..wide[0]
    };
    let big = Detection { xmin: b[0] as f32, ymin: b[1] as f32, xmax: b[2] as f32, ymax: b[3] as f32, ..wide[0] };
    assert!(big.iou(&w) > 0.8, "astronaut.png {big:?} vs 4 x astronaut-wide-128 {w:?}");

    let none = detect_json(&["detect", MODEL, "assets/images/astronaut.png", "--json", "--threshold", "0.999"]);
    assert_eq!(none, serde_json::json!({"detections": []}));
}

#[test]
fn table_output() {
    let out = patchwise(&["detect", MODEL, "assets/images/camera-128.png"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 face(s) with score >= 0.5 (128x128 image)"), "{text}");
}

#[test]
fn annotated_png_has_the_source_size() {
    let dir = tempfile::tempdir().unwrap();
    // A non-square picture exercises the letterbox: the astronaut's top 512x300.
    let src = dir.path().join("astronaut-512x300.png");
    let full = image::open(root().join("assets/images/astronaut.png")).unwrap().to_rgb8();
    image::imageops::crop_imm(&full, 0, 0, 512, 300).to_image().save(&src).unwrap();
    let out_png = dir.path().join("annotated.png");
    let v = detect_json(&["detect", MODEL, src.to_str().unwrap(), "--json", "--out", out_png.to_str().unwrap()]);
    let b = as_f64s(&v["detections"][0]["box"]);
    // The face is around x 178..272, y 81..175 of the photo (see astronaut.png).
    assert!((b[0] - 178.0).abs() < 12.0 && (b[1] - 81.0).abs() < 12.0, "{b:?}");
    let drawn = image::open(&out_png).unwrap().to_rgb8();
    let plain = image::open(&src).unwrap().to_rgb8();
    assert_eq!(drawn.dimensions(), (512, 300));
    let changed = drawn.pixels().zip(plain.pixels()).filter(|(a, b)| a != b).count();
    assert!(changed > 100, "nothing drawn ({changed} pixels changed)");
    // The box's top-left corner is drawn in green.
    let (x, y) = (b[0].round() as u32, b[1].round() as u32);
    assert_eq!(drawn.get_pixel(x + 1, y).0, [0, 255, 0]);
}

#[test]
fn corrupt_image_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"\x89PNG\r\n\x1a\nthis is not really a png").unwrap();
    let out = patchwise(&["detect", MODEL, junk.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "error must be one line: {err}");
    assert!(err.contains("not a readable PNG/JPEG image"), "{err}");
    // A model that is not a detector: a clear shape error, one line.
    let out = patchwise(&["detect", "models/mbv2-w0.35-r144-int8.tflite", "assets/images/astronaut-144.png"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "error must be one line: {err}");
    assert!(err.contains("detector"), "{err}");
}
