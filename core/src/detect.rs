//! Face detection post-processing for BlazeFace (MediaPipe's
//! `face_detection_short_range`): SSD anchors, box/keypoint decoding, weighted
//! non-maximum suppression, and the map back to source-image pixels.
//!
//! The semantics follow MediaPipe's calculators as published:
//!
//! - anchors: `SsdAnchorsCalculator` ([`AnchorOptions`], [`generate_anchors`]);
//! - decoding: `TensorsToDetectionsCalculator` ([`DecodeOptions`]): for box `i`
//!   with anchor `a` and raw values `r` (x, y, w, h order when
//!   `reverse_output_order`), `cx = r0 / x_scale * a.w + a.cx`,
//!   `cy = r1 / y_scale * a.h + a.cy`, `w = r2 / w_scale * a.w`,
//!   `h = r3 / h_scale * a.h`; keypoint `k` is
//!   `(r[4 + 2k] / x_scale * a.w + a.cx, r[5 + 2k] / y_scale * a.h + a.cy)`;
//!   the score is `sigmoid(clamp(logit, ±score_clipping_thresh))`. Boxes scoring
//!   below the threshold, or with negative or NaN width/height, are dropped;
//! - suppression: `NonMaxSuppressionCalculator` with `algorithm: WEIGHTED` and
//!   `overlap_type: INTERSECTION_OVER_UNION`: take the best remaining box, gather
//!   every remaining box whose IoU with it exceeds `min_suppression_threshold`
//!   (itself included), and replace its box and keypoints by their
//!   score-weighted mean; its score stays the best box's score.
//!   (One deliberate difference: the best box always leaves the pool, even when
//!   it has zero area, so degenerate boxes cannot end the loop early.)
//!
//! Coordinates are relative to the model input (0..1) until the end, where
//! [`Letterbox::to_source`] maps them to source-image pixels.
//!
//! Raw outputs are read as int8 (dequantized with their scale and zero point)
//! or float32, so the int8 engine's outputs and a float model's outputs go
//! through the very same decoder.

use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::preprocess::Letterbox;

/// Keypoints per face: right eye, left eye, nose tip, mouth centre, right
/// ear tragion, left ear tragion (MediaPipe's order).
pub const NUM_KEYPOINTS: usize = 6;

/// `SsdAnchorsCalculatorOptions` (the subset without multiscale generation
/// or explicit feature-map sizes).
#[derive(Clone, Debug, PartialEq)]
pub struct AnchorOptions {
    pub num_layers: usize,
    pub min_scale: f32,
    pub max_scale: f32,
    pub input_size_height: usize,
    pub input_size_width: usize,
    pub anchor_offset_x: f32,
    pub anchor_offset_y: f32,
    pub strides: Vec<usize>,
    pub aspect_ratios: Vec<f32>,
    pub reduce_boxes_in_lowest_layer: bool,
    pub interpolated_scale_aspect_ratio: f32,
    pub fixed_anchor_size: bool,
}

impl AnchorOptions {
    /// The options of MediaPipe's `face_detection_short_range` graph.
    pub fn face_detection_short_range() -> Self {
        Self {
            num_layers: 4,
            min_scale: 0.148_437_5,
            max_scale: 0.75,
            input_size_height: 128,
            input_size_width: 128,
            anchor_offset_x: 0.5,
            anchor_offset_y: 0.5,
            strides: alloc::vec![8, 16, 16, 16],
            aspect_ratios: alloc::vec![1.0],
            reduce_boxes_in_lowest_layer: false,
            interpolated_scale_aspect_ratio: 1.0,
            fixed_anchor_size: true,
        }
    }
}

/// One SSD anchor, relative to the model input (0..1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Anchor {
    pub x_center: f32,
    pub y_center: f32,
    pub w: f32,
    pub h: f32,
}

fn layer_scale(min_scale: f32, max_scale: f32, index: usize, count: usize) -> f32 {
    if count == 1 {
        (min_scale + max_scale) * 0.5
    } else {
        min_scale + (max_scale - min_scale) * index as f32 / (count as f32 - 1.0)
    }
}

/// Most anchors [`generate_anchors`] will make (a guard against absurd options).
pub const MAX_ANCHORS: usize = 1 << 20;

/// Anchors in MediaPipe's order: layer by layer (consecutive layers with the
/// same stride merged), then row, column, and anchor within the cell.
pub fn generate_anchors(o: &AnchorOptions) -> Result<Vec<Anchor>> {
    let bad = |what| Err(Error::model(what));
    if o.strides.len() != o.num_layers || o.num_layers == 0 {
        return bad("anchor options: need one stride per layer");
    }
    if o.strides.contains(&0) || o.input_size_height == 0 || o.input_size_width == 0 {
        return bad("anchor options: strides and input size must be positive");
    }
    let mut anchors = Vec::new();
    let mut layer = 0;
    while layer < o.num_layers {
        let mut scales = Vec::new();
        let mut ratios = Vec::new();
        // Layers with the same stride share one feature map.
        let mut last = layer;
        while last < o.strides.len() && o.strides[last] == o.strides[layer] {
            let scale = layer_scale(o.min_scale, o.max_scale, last, o.strides.len());
            if last == 0 && o.reduce_boxes_in_lowest_layer {
                ratios.extend_from_slice(&[1.0, 2.0, 0.5]);
                scales.extend_from_slice(&[0.1, scale, scale]);
            } else {
                for &r in &o.aspect_ratios {
                    ratios.push(r);
                    scales.push(scale);
                }
                if o.interpolated_scale_aspect_ratio > 0.0 {
                    let next = if last == o.strides.len() - 1 {
                        1.0
                    } else {
                        layer_scale(o.min_scale, o.max_scale, last + 1, o.strides.len())
                    };
                    scales.push(libm::sqrtf(scale * next));
                    ratios.push(o.interpolated_scale_aspect_ratio);
                }
            }
            last += 1;
        }
        let stride = o.strides[layer];
        let fm_h = o.input_size_height.div_ceil(stride);
        let fm_w = o.input_size_width.div_ceil(stride);
        let per_layer = fm_h
            .checked_mul(fm_w)
            .and_then(|n| n.checked_mul(ratios.len()))
            .filter(|&n| anchors.len() + n <= MAX_ANCHORS);
        if per_layer.is_none() {
            return bad("anchor options: too many anchors");
        }
        for y in 0..fm_h {
            for x in 0..fm_w {
                for (&scale, &ratio) in scales.iter().zip(&ratios) {
                    let (w, h) = if o.fixed_anchor_size {
                        (1.0, 1.0)
                    } else {
                        let r = libm::sqrtf(ratio);
                        (scale * r, scale / r)
                    };
                    anchors.push(Anchor {
                        x_center: (x as f32 + o.anchor_offset_x) / fm_w as f32,
                        y_center: (y as f32 + o.anchor_offset_y) / fm_h as f32,
                        w,
                        h,
                    });
                }
            }
        }
        layer = last;
    }
    Ok(anchors)
}

/// `TensorsToDetectionsCalculatorOptions` and the `NonMaxSuppressionCalculator`
/// overlap threshold (one class, 2-D keypoints, no exponential box size).
#[derive(Clone, Debug, PartialEq)]
pub struct DecodeOptions {
    pub num_boxes: usize,
    pub num_coords: usize,
    pub box_coord_offset: usize,
    pub keypoint_coord_offset: usize,
    pub num_keypoints: usize,
    pub num_values_per_keypoint: usize,
    /// Raw boxes in x, y, w, h order (else y, x, h, w).
    pub reverse_output_order: bool,
    pub x_scale: f32,
    pub y_scale: f32,
    pub w_scale: f32,
    pub h_scale: f32,
    pub sigmoid_score: bool,
    pub score_clipping_thresh: f32,
    pub min_suppression_threshold: f32,
}

impl DecodeOptions {
    /// The options of MediaPipe's `face_detection_short_range` graph.
    pub fn face_detection_short_range() -> Self {
        Self {
            num_boxes: 896,
            num_coords: 16,
            box_coord_offset: 0,
            keypoint_coord_offset: 4,
            num_keypoints: NUM_KEYPOINTS,
            num_values_per_keypoint: 2,
            reverse_output_order: true,
            x_scale: 128.0,
            y_scale: 128.0,
            w_scale: 128.0,
            h_scale: 128.0,
            sigmoid_score: true,
            score_clipping_thresh: 100.0,
            min_suppression_threshold: 0.3,
        }
    }
}

/// MediaPipe's default `min_score_thresh` for the short-range face detector.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// The values of one raw model output.
#[derive(Clone, Copy, Debug)]
pub enum Values<'a> {
    /// int8 values (raw bytes) with the tensor's scale and zero point.
    I8 { data: &'a [u8], scale: f32, zero_point: i32 },
    /// float32 values as little-endian bytes (as tensors are stored).
    F32(&'a [u8]),
}

impl Values<'_> {
    fn len(&self) -> usize {
        match self {
            Values::I8 { data, .. } => data.len(),
            Values::F32(b) => b.len() / 4,
        }
    }
    fn byte_len_ok(&self) -> bool {
        match self {
            Values::I8 { .. } => true,
            Values::F32(b) => b.len() % 4 == 0,
        }
    }
    /// Value `i` (callers check `i < len()`).
    fn get(&self, i: usize) -> f32 {
        match *self {
            Values::I8 { data, scale, zero_point } => scale * (data[i] as i8 as i32 - zero_point) as f32,
            Values::F32(b) => f32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]),
        }
    }
}

/// One raw model output: its shape and values.
#[derive(Clone, Copy, Debug)]
pub struct Output<'a> {
    pub shape: &'a [usize],
    pub values: Values<'a>,
}

/// A face in source-image pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Detection {
    pub score: f32,
    pub xmin: f32,
    pub ymin: f32,
    pub xmax: f32,
    pub ymax: f32,
    /// (x, y) of the [`NUM_KEYPOINTS`] keypoints.
    pub keypoints: [(f32, f32); NUM_KEYPOINTS],
}

impl Detection {
    /// Intersection over union with another box (0 when either is empty).
    pub fn iou(&self, other: &Detection) -> f32 {
        iou([self.xmin, self.ymin, self.xmax, self.ymax], [other.xmin, other.ymin, other.xmax, other.ymax])
    }
}

fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let iw = a[2].min(b[2]) - a[0].max(b[0]);
    let ih = a[3].min(b[3]) - a[1].max(b[1]);
    if !(iw > 0.0 && ih > 0.0) {
        return 0.0;
    }
    let inter = iw * ih;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// A decoded box before suppression, relative to the model input.
#[derive(Clone, Copy)]
struct Candidate {
    score: f32,
    rect: [f32; 4], // xmin, ymin, xmax, ymax
    keypoints: [(f32, f32); NUM_KEYPOINTS],
}

/// Anchors plus decoding options: everything needed to turn raw outputs into
/// detections.
#[derive(Clone, Debug)]
pub struct Detector {
    pub anchors: Vec<Anchor>,
    pub options: DecodeOptions,
    /// Model input width and height the relative coordinates refer to.
    pub input_size: (usize, usize),
}

impl Detector {
    pub fn new(anchors_opts: &AnchorOptions, options: DecodeOptions) -> Result<Self> {
        let anchors = generate_anchors(anchors_opts)?;
        let o = &options;
        if anchors.len() != o.num_boxes {
            return Err(Error::model("detector: anchor count differs from num_boxes"));
        }
        if o.num_keypoints != NUM_KEYPOINTS
            || o.num_values_per_keypoint != 2
            || o.box_coord_offset + 4 > o.num_coords
            || o.keypoint_coord_offset + 2 * NUM_KEYPOINTS > o.num_coords
        {
            return Err(Error::model("detector: unsupported box/keypoint layout"));
        }
        let input_size = (anchors_opts.input_size_width, anchors_opts.input_size_height);
        Ok(Self { anchors, options, input_size })
    }

    /// BlazeFace short range (896 anchors, 6 keypoints).
    pub fn face_detection_short_range() -> Result<Self> {
        Self::new(&AnchorOptions::face_detection_short_range(), DecodeOptions::face_detection_short_range())
    }

    fn check_output(&self, out: &Output, index: usize, last: usize) -> Result<()> {
        let what = if index == 0 {
            "detector output 0 (box regressors) must have shape [1, num_boxes, num_coords] = [1, 896, 16]"
        } else {
            "detector output 1 (score logits) must have shape [1, num_boxes, 1] = [1, 896, 1]"
        };
        if out.shape != [1, self.options.num_boxes, last] {
            return Err(Error::shape(what, None, None));
        }
        let n = self.options.num_boxes * last;
        if !out.values.byte_len_ok() || out.values.len() != n {
            return Err(Error::BufferSize {
                what: if index == 0 {
                    "detector output 0 (box regressors)"
                } else {
                    "detector output 1 (score logits)"
                },
                expected: match out.values {
                    Values::I8 { .. } => n,
                    Values::F32(_) => 4 * n,
                },
                got: match out.values {
                    Values::I8 { data, .. } => data.len(),
                    Values::F32(b) => b.len(),
                },
            });
        }
        Ok(())
    }

    /// Decodes `outputs` = [regressors [1, 896, 16], classificators [1, 896, 1]]
    /// into faces scoring at least `threshold`, best first, in source-image
    /// pixels (`letterbox` is how the image was fitted into the model input).
    pub fn detect(&self, outputs: &[Output], letterbox: &Letterbox, threshold: f32) -> Result<Vec<Detection>> {
        let o = &self.options;
        let [boxes, scores] = outputs else {
            return Err(Error::model("detector: expected 2 outputs (box regressors, score logits)"));
        };
        self.check_output(boxes, 0, o.num_coords)?;
        self.check_output(scores, 1, 1)?;

        let mut cands = Vec::new();
        for (i, a) in self.anchors.iter().enumerate() {
            let mut s = scores.values.get(i);
            if o.sigmoid_score {
                s = s.clamp(-o.score_clipping_thresh, o.score_clipping_thresh);
                s = 1.0 / (1.0 + libm::expf(-s));
            }
            if s.is_nan() || s < threshold {
                continue;
            }
            let r = |k: usize| boxes.values.get(i * o.num_coords + k);
            let b = o.box_coord_offset;
            let (x, y, w, h) = if o.reverse_output_order {
                (r(b), r(b + 1), r(b + 2), r(b + 3))
            } else {
                (r(b + 1), r(b), r(b + 3), r(b + 2))
            };
            let cx = x / o.x_scale * a.w + a.x_center;
            let cy = y / o.y_scale * a.h + a.y_center;
            let w = w / o.w_scale * a.w;
            let h = h / o.h_scale * a.h;
            if !(w >= 0.0 && h >= 0.0) {
                continue; // negative or NaN size
            }
            let mut keypoints = [(0.0, 0.0); NUM_KEYPOINTS];
            for (k, kp) in keypoints.iter_mut().enumerate() {
                let off = o.keypoint_coord_offset + 2 * k;
                let (kx, ky) = if o.reverse_output_order { (r(off), r(off + 1)) } else { (r(off + 1), r(off)) };
                *kp = (kx / o.x_scale * a.w + a.x_center, ky / o.y_scale * a.h + a.y_center);
            }
            cands.push(Candidate {
                score: s,
                rect: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
                keypoints,
            });
        }
        // Best first; the stable sort keeps anchor order among equal scores.
        cands.sort_by(|a, b| b.score.total_cmp(&a.score));

        let (in_w, in_h) = (self.input_size.0 as f32, self.input_size.1 as f32);
        let to_px = |x: f32, y: f32| letterbox.to_source(x * in_w, y * in_h);
        let mut out = Vec::new();
        let mut rest = cands;
        while let Some(best) = rest.first().copied() {
            let mut sum = 0.0f32;
            let mut rect = [0.0f32; 4];
            let mut kps = [(0.0f32, 0.0f32); NUM_KEYPOINTS];
            let mut remaining = Vec::with_capacity(rest.len());
            for (j, c) in rest.iter().enumerate() {
                if j == 0 || iou(c.rect, best.rect) > o.min_suppression_threshold {
                    sum += c.score;
                    for (r, v) in rect.iter_mut().zip(c.rect) {
                        *r += v * c.score;
                    }
                    for (k, v) in kps.iter_mut().zip(c.keypoints) {
                        k.0 += v.0 * c.score;
                        k.1 += v.1 * c.score;
                    }
                } else {
                    remaining.push(*c);
                }
            }
            if sum.is_nan() || sum <= 0.0 {
                // Only with a threshold <= 0: all-zero weights, keep the best box.
                sum = 1.0;
                rect = best.rect;
                kps = best.keypoints;
            }
            let (xmin, ymin) = to_px(rect[0] / sum, rect[1] / sum);
            let (xmax, ymax) = to_px(rect[2] / sum, rect[3] / sum);
            let mut keypoints = [(0.0, 0.0); NUM_KEYPOINTS];
            for (k, v) in keypoints.iter_mut().zip(kps) {
                *k = to_px(v.0 / sum, v.1 / sum);
            }
            out.push(Detection { score: best.score, xmin, ymin, xmax, ymax, keypoints });
            rest = remaining;
        }
        Ok(out)
    }
}

/// [`Detector::detect`] with BlazeFace short range's anchors and options.
pub fn detect(outputs: &[Output], letterbox: &Letterbox, threshold: f32) -> Result<Vec<Detection>> {
    Detector::face_detection_short_range()?.detect(outputs, letterbox, threshold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    #[test]
    fn short_range_anchors() {
        let a = generate_anchors(&AnchorOptions::face_detection_short_range()).unwrap();
        // Stride 8: a 16x16 map with 2 anchors per cell (aspect ratio 1 plus the
        // interpolated one) = 512; strides 16, 16, 16 merge into one 8x8 map
        // with 3 x 2 = 6 anchors per cell = 384; 512 + 384 = 896.
        assert_eq!(a.len(), 896);
        let c = |i: usize| (a[i].x_center, a[i].y_center);
        // Anchors 0 and 1: cell (0, 0) of the 16x16 map, centre 0.5 / 16.
        assert_eq!(c(0), (0.03125, 0.03125));
        assert_eq!(c(1), (0.03125, 0.03125));
        // Anchor 2: cell x = 1, y = 0: 1.5 / 16 = 0.09375.
        assert_eq!(c(2), (0.09375, 0.03125));
        // Anchor 34: 2 per cell, 16 cells per row: row 1, column 1.
        assert_eq!(c(34), (0.09375, 0.09375));
        // Anchor 511: the last cell (15, 15): 15.5 / 16 = 0.96875.
        assert_eq!(c(511), (0.96875, 0.96875));
        // Anchors 512..518: cell (0, 0) of the 8x8 map: 0.5 / 8 = 0.0625.
        for i in 512..518 {
            assert_eq!(c(i), (0.0625, 0.0625));
        }
        // Anchor 518: cell x = 1: 1.5 / 8 = 0.1875; anchor 895: 7.5 / 8 = 0.9375.
        assert_eq!(c(518), (0.1875, 0.0625));
        assert_eq!(c(895), (0.9375, 0.9375));
        // fixed_anchor_size: every anchor is 1 x 1.
        assert!(a.iter().all(|a| a.w == 1.0 && a.h == 1.0));
    }

    #[test]
    fn anchor_sizes_without_fixed_size() {
        let mut o = AnchorOptions::face_detection_short_range();
        o.fixed_anchor_size = false;
        let a = generate_anchors(&o).unwrap();
        // Layer 0: scale = min_scale = 0.1484375; the interpolated anchor uses
        // sqrt(s0 * s1) with s1 = 0.1484375 + (0.75 - 0.1484375) / 3 = 0.34895833,
        // sqrt(0.0517985) = 0.2275928.
        assert!(close(a[0].w, 0.1484375) && close(a[0].h, 0.1484375));
        assert!(close(a[1].w, 0.2275928), "{}", a[1].w);
        // Merged layers 1..3: scales s1, s2 = 0.5495, s3 = 0.75; the last
        // interpolated anchor is sqrt(0.75 * 1.0) = 0.8660254.
        assert!(close(a[512].w, 0.34895833));
        assert!(close(a[516].w, 0.75));
        assert!(close(a[517].w, 0.8660254));
    }

    #[test]
    fn bad_anchor_options_are_errors() {
        let mut o = AnchorOptions::face_detection_short_range();
        o.strides.pop();
        assert!(generate_anchors(&o).is_err());
        let mut o = AnchorOptions::face_detection_short_range();
        o.strides[1] = 0;
        assert!(generate_anchors(&o).is_err());
    }

    /// Raw outputs with every logit at -10 and the given (anchor, logit, x, y, w, h).
    fn raw(boxes: &[(usize, f32, [f32; 4])]) -> (Vec<u8>, Vec<u8>) {
        let mut reg = vec![0.0f32; 896 * 16];
        let mut cls = vec![-10.0f32; 896];
        for &(i, logit, b) in boxes {
            cls[i] = logit;
            reg[i * 16..i * 16 + 4].copy_from_slice(&b);
            for k in 0..6 {
                reg[i * 16 + 4 + 2 * k] = k as f32;
                reg[i * 16 + 5 + 2 * k] = -(k as f32);
            }
        }
        (f32_bytes(&reg), f32_bytes(&cls))
    }

    fn outputs<'a>(reg: &'a [u8], cls: &'a [u8]) -> [Output<'a>; 2] {
        [
            Output { shape: &[1, 896, 16], values: Values::F32(reg) },
            Output { shape: &[1, 896, 1], values: Values::F32(cls) },
        ]
    }

    #[test]
    fn decodes_one_box_into_source_pixels() {
        // Anchor 518 is centred at (0.1875, 0.0625) = (24, 8) px. Raw x, y, w, h
        // = 8, 16, 32, 24 px: centre (32, 24), box [16, 12, 48, 36] px.
        let (reg, cls) = raw(&[(518, 2.0, [8.0, 16.0, 32.0, 24.0])]);
        let identity = Letterbox::fit(128, 128, 128, 128);
        let d = detect(&outputs(&reg, &cls), &identity, 0.5).unwrap();
        assert_eq!(d.len(), 1);
        let d0 = d[0];
        assert!(close(d0.score, 1.0 / (1.0 + libm::expf(-2.0))));
        assert!(close(d0.xmin, 16.0) && close(d0.ymin, 12.0) && close(d0.xmax, 48.0) && close(d0.ymax, 36.0), "{d0:?}");
        // Keypoint k: raw (k, -k) relative to the anchor centre (24, 8).
        for k in 0..6 {
            assert!(close(d0.keypoints[k].0, 24.0 + k as f32) && close(d0.keypoints[k].1, 8.0 - k as f32));
        }
        // A 256x128 source letterboxed into 128x128: scale 0.5, 32 px bars on
        // top and bottom; model (x, y) -> ((x - 0) / 0.5, (y - 32) / 0.5).
        let lb = Letterbox::fit(256, 128, 128, 128);
        let d = detect(&outputs(&reg, &cls), &lb, 0.5).unwrap();
        let d1 = d[0];
        assert!(close(d1.xmin, 32.0) && close(d1.ymin, -40.0) && close(d1.xmax, 96.0) && close(d1.ymax, 8.0), "{d1:?}");
        // Below the threshold: nothing.
        assert!(detect(&outputs(&reg, &cls), &identity, 0.9).unwrap().is_empty());
    }

    #[test]
    fn weighted_nms_merges_overlaps_and_sorts() {
        // Two overlapping boxes on anchor 518 / 519 (same centre) and a far one.
        let (reg, cls) = raw(&[
            (518, 3.0, [0.0, 0.0, 40.0, 40.0]), // box [4, -12, 44, 28]
            (519, 1.0, [4.0, 0.0, 40.0, 40.0]), // box [8, -12, 48, 28]: IoU 0.82
            (895, 2.0, [0.0, 0.0, 20.0, 20.0]), // far away, around (120, 120)
        ]);
        let lb = Letterbox::fit(128, 128, 128, 128);
        let d = detect(&outputs(&reg, &cls), &lb, 0.5).unwrap();
        assert_eq!(d.len(), 2);
        let (s3, s1) = (1.0 / (1.0 + libm::expf(-3.0)), 1.0 / (1.0 + libm::expf(-1.0)));
        assert!(close(d[0].score, s3));
        let wx = (4.0 * s3 + 8.0 * s1) / (s3 + s1);
        assert!(close(d[0].xmin, wx) && close(d[0].ymin, -12.0), "{:?}", d[0]);
        assert!(d[1].score < d[0].score && close(d[1].xmin, 110.0));
    }

    #[test]
    fn int8_outputs_are_dequantized() {
        let reg = vec![0u8; 896 * 16];
        let mut cls = vec![(-100i8) as u8; 896];
        cls[7] = 20; // (20 - 4) * 0.25 = 4.0
        let outs = [
            Output { shape: &[1, 896, 16], values: Values::I8 { data: &reg, scale: 0.5, zero_point: 0 } },
            Output { shape: &[1, 896, 1], values: Values::I8 { data: &cls, scale: 0.25, zero_point: 4 } },
        ];
        let d = detect(&outs, &Letterbox::fit(128, 128, 128, 128), 0.5).unwrap();
        assert_eq!(d.len(), 1);
        assert!(close(d[0].score, 1.0 / (1.0 + libm::expf(-4.0))));
    }

    #[test]
    fn wrong_shapes_are_clear_errors() {
        let (reg, cls) = raw(&[]);
        let lb = Letterbox::fit(128, 128, 128, 128);
        let bad = [
            Output { shape: &[1, 896, 1], values: Values::F32(&cls) },
            Output { shape: &[1, 896, 16], values: Values::F32(&reg) },
        ];
        let e = detect(&bad, &lb, 0.5).unwrap_err();
        assert!(alloc::format!("{e}").contains("[1, 896, 16]"), "{e}");
        let short = [
            Output { shape: &[1, 896, 16], values: Values::F32(&reg[..100]) },
            Output { shape: &[1, 896, 1], values: Values::F32(&cls) },
        ];
        assert!(matches!(detect(&short, &lb, 0.5), Err(Error::BufferSize { .. })));
        assert!(detect(&bad[..1], &lb, 0.5).is_err());
    }

    #[test]
    fn nan_and_negative_sizes_are_dropped() {
        let (mut reg, mut cls) = raw(&[(3, 2.0, [0.0, 0.0, -5.0, 10.0]), (4, 2.0, [0.0, 0.0, 10.0, 10.0])]);
        cls[5 * 4..6 * 4].copy_from_slice(&f32::NAN.to_le_bytes());
        reg[4 * 64 + 8..4 * 64 + 12].copy_from_slice(&f32::NAN.to_le_bytes());
        let d = detect(&outputs(&reg, &cls), &Letterbox::fit(128, 128, 128, 128), 0.5).unwrap();
        assert!(d.is_empty(), "{d:?}");
    }
}
