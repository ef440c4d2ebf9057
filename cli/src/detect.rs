//! `detect`: BlazeFace on an image, end to end — letterbox, run layer by layer,
//! decode (anchors, weighted NMS), print or draw the faces.

use std::path::Path;

use anyhow::{bail, Context, Result};
use patchwise_core::detect::{self, Detection, Output, Values};
use patchwise_core::graph::{DType, Graph, Tensor};
use patchwise_core::plan::Schedule;
use patchwise_core::preprocess::Letterbox;
use serde::Serialize;

use crate::io::{self, Rgb};
use crate::run;

/// A graph output as the detector reads it.
pub fn output<'a>(t: &'a Tensor, data: &'a [u8]) -> Result<Output<'a>> {
    let values = match t.dtype {
        DType::I8 => {
            let (scale, zero_point) =
                t.quant.per_tensor().context("int8 detector output has no per-tensor quantization")?;
            Values::I8 { data, scale, zero_point }
        }
        DType::F32 => Values::F32(data),
        other => bail!("detector output type {} is not supported (int8 or float32)", other.name()),
    };
    Ok(Output { shape: &t.shape, values })
}

/// The model input's (width, height); the model must take one RGB image.
pub fn input_size(g: &Graph) -> Result<(usize, usize)> {
    if g.inputs.len() != 1 {
        bail!("a detector has one input, this model has {}", g.inputs.len());
    }
    let t = &g.tensors[g.inputs[0]];
    let [n, h, w, c] = t.nhwc();
    if t.shape.len() != 4 || n != 1 || c != 3 {
        bail!("model input {:?} is not an RGB image tensor [1, H, W, 3]", t.shape);
    }
    Ok((w, h))
}

/// Letterboxes `img` into the model, runs it layer by layer and decodes the faces.
pub fn detect_image(g: &Graph, img: &Rgb, threshold: f32) -> Result<Vec<Detection>> {
    detect_image_scheduled(g, img, threshold, Schedule::LAYER_BY_LAYER)
}

/// As [`detect_image`], running `schedule` (patch-based outputs are byte-identical).
pub fn detect_image_scheduled(g: &Graph, img: &Rgb, threshold: f32, schedule: Schedule) -> Result<Vec<Detection>> {
    let (w, h) = input_size(g)?;
    let input = io::image_to_input(img, &g.tensors[g.inputs[0]])?;
    let letterbox = Letterbox::fit(img.width, img.height, w, h);
    let r = run::execute_scheduled(g, &input, schedule)?;
    let outputs =
        g.outputs.iter().zip(&r.outputs).map(|(&t, bytes)| output(&g.tensors[t], bytes)).collect::<Result<Vec<_>>>()?;
    Ok(detect::detect(&outputs, &letterbox, threshold)?)
}

#[derive(Serialize)]
struct JsonDetection {
    score: f32,
    #[serde(rename = "box")]
    bbox: [f32; 4],
    keypoints: Vec<[f32; 2]>,
}

#[derive(Serialize)]
struct JsonReport {
    detections: Vec<JsonDetection>,
}

/// `{"detections": [{"score": s, "box": [xmin, ymin, xmax, ymax], "keypoints": [[x, y], ...]}]}`
pub fn to_json(dets: &[Detection]) -> Result<String> {
    let report = JsonReport {
        detections: dets
            .iter()
            .map(|d| JsonDetection {
                score: d.score,
                bbox: [d.xmin, d.ymin, d.xmax, d.ymax],
                keypoints: d.keypoints.iter().map(|&(x, y)| [x, y]).collect(),
            })
            .collect(),
    };
    Ok(serde_json::to_string_pretty(&report)?)
}

const BOX: [u8; 3] = [0, 255, 0];
const KEYPOINT: [u8; 3] = [255, 32, 32];

fn put(img: &mut Rgb, x: i64, y: i64, c: [u8; 3]) {
    if x >= 0 && y >= 0 && (x as usize) < img.width && (y as usize) < img.height {
        let o = (y as usize * img.width + x as usize) * 3;
        img.pixels[o..o + 3].copy_from_slice(&c);
    }
}

fn fill(img: &mut Rgb, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
    let (x0, x1) = (x0.max(0), x1.min(img.width as i64 - 1));
    let (y0, y1) = (y0.max(0), y1.min(img.height as i64 - 1));
    for y in y0..=y1 {
        for x in x0..=x1 {
            put(img, x, y, c);
        }
    }
}

/// Pixel coordinate clamped to a range where i64 arithmetic is safe.
fn px(v: f32) -> i64 {
    if v.is_nan() {
        return -1;
    }
    v.round().clamp(-1.0e6, 1.0e6) as i64
}

/// Draws each face's box (outline) and keypoints (filled squares) on `img`.
pub fn draw(img: &mut Rgb, dets: &[Detection]) {
    let t = ((img.width.max(img.height) as f32 / 256.0).ceil() as i64).max(1); // line width
    for d in dets {
        let (x0, y0, x1, y1) = (px(d.xmin), px(d.ymin), px(d.xmax), px(d.ymax));
        fill(img, x0, y0, x1, y0 + t - 1, BOX);
        fill(img, x0, y1 - t + 1, x1, y1, BOX);
        fill(img, x0, y0, x0 + t - 1, y1, BOX);
        fill(img, x1 - t + 1, y0, x1, y1, BOX);
        for &(kx, ky) in &d.keypoints {
            let (kx, ky) = (px(kx), px(ky));
            fill(img, kx - t, ky - t, kx + t, ky + t, KEYPOINT);
        }
    }
}

fn write_png(path: &Path, img: &Rgb) -> Result<()> {
    let buf = image::RgbImage::from_raw(img.width as u32, img.height as u32, img.pixels.clone())
        .context("internal error: image buffer size")?;
    buf.save_with_format(path, image::ImageFormat::Png).with_context(|| format!("cannot write {}", path.display()))
}

pub fn detect(
    model: &Path,
    image: &Path,
    schedule: Schedule,
    threshold: f32,
    as_json: bool,
    out: Option<&Path>,
) -> Result<()> {
    if !threshold.is_finite() {
        bail!("--threshold must be a number, got {threshold}");
    }
    let (_, g) = io::read_model(model)?;
    let mut img = io::read_image(image)?;
    let dets = detect_image_scheduled(&g, &img, threshold, schedule)?;
    if as_json {
        println!("{}", to_json(&dets)?);
    } else {
        println!(
            "{}: {} face(s) with score >= {threshold} ({}x{} image)",
            image.display(),
            dets.len(),
            img.width,
            img.height
        );
        if !dets.is_empty() {
            println!("{:>3}  {:>6}  {:>28}  keypoints (x, y)", "#", "score", "box (xmin, ymin, xmax, ymax)");
        }
        for (i, d) in dets.iter().enumerate() {
            let kps: Vec<String> = d.keypoints.iter().map(|(x, y)| format!("({x:.1}, {y:.1})")).collect();
            println!(
                "{i:>3}  {:>6.3}  {:>28}  {}",
                d.score,
                format!("({:.1}, {:.1}, {:.1}, {:.1})", d.xmin, d.ymin, d.xmax, d.ymax),
                kps.join(" ")
            );
        }
    }
    if let Some(path) = out {
        draw(&mut img, &dets);
        write_png(path, &img)?;
        if !as_json {
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
