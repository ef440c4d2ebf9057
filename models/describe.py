#!/usr/bin/env python3
"""Writes models/README.md from the .tflite files and tflm_arena.json, so the
tables always match the committed bytes.  Re-run: python describe.py"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import tfl  # noqa: E402

INFO = {
    "mbv2-w0.35-r144-int8.tflite": dict(
        script="make_mbv2.py",
        source="Keras `tf.keras.applications.MobileNetV2(alpha=0.35, input_shape=(144,144,3), "
               "weights=None, classes=2)`, seeded random weights (no pretrained weights), batch-norm "
               "statistics calibrated on seeded crops of scikit-image's bundled photos, full-int8 "
               "TFLiteConverter (TFLITE_BUILTINS_INT8, int8 input/output).",
        license="Apache-2.0 (architecture: Keras, Apache-2.0; weights generated here)",
        notes=["The converter folds MobileNetV2's ZeroPadding2D into SAME-padded stride-2 "
               "depthwise convs, so there is no PAD op.",
               "Outputs are softmax probabilities over 2 meaningless classes (random weights)."]),
    "blazeface-short-int8.tflite": dict(
        script="make_blazeface.py",
        source="MediaPipe `face_detection_short_range.tflite` (BlazeFace short range) from the "
               "PyPI wheel `mediapipe==0.10.21` "
               "(`mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl`, member "
               "`mediapipe/modules/face_detection/face_detection_short_range.tflite`, 229,714 B, "
               "sha256 `bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8`), "
               "quantized here with ai-edge-quantizer 0.10.0 (`recipe.static_wi8_ai8()`: int8 "
               "per-channel symmetric weights, int8 asymmetric activations).  Activation ranges: "
               "the calibrator run on each of 96 seeded 128x128 calibration images (face crops of "
               "skimage's astronaut and camera photos from close-up to whole photo, face-free "
               "crops of 8 other photos; brightness/contrast jitter, flips; the shipped test "
               "pictures are not among them), range = 10th percentile of the per-image minima to "
               "90th percentile of the maxima; pinned: graph input [-1, 1], score-logit head "
               "[-16, 16], box head [-128, 128].  Then GPTQ re-rounds the int8 weights of the 20 "
               "1x1 convs (scales unchanged) against the calibration images' float activations.",
        license="Apache-2.0 (MediaPipe)",
        notes=["Float original: op codes only in `deprecated_builtin_code`, fp16 weights behind 74 "
               "DEQUANTIZE ops, no SignatureDef.  make_blazeface.py folds the fp16 constants into "
               "fp32, drops unused tensors/buffers, adds a `serving_default` signature, then "
               "quantizes.",
               "The quantized graph has int8 input and int8 outputs (no float QUANTIZE/DEQUANTIZE "
               "at the edges).  Its 4 QUANTIZE ops are int8->int8 requantizations the quantizer "
               "inserts before the two CONCATENATIONs (int8 CONCATENATION needs equal input/output "
               "quantization); with the pinned head ranges their input and output scale/zero "
               "point are equal.",
               "Why not the quantizer's defaults: its calibrator keeps a moving average of "
               "per-image min/max, so the last images dominate; the score logits were capped near "
               "0.5 (a face scored at most 0.62, against 0.92 in float).  And round-to-nearest "
               "weights made boxes ~6% too large (conv2d_16's rounding, amplified by the residual "
               "before the box head); GPTQ removes that.  Float vs int8 on the shipped faces is "
               "checked by `cli/tests/detect.rs` against `tests/golden/detect/` (float outputs).",
               "Op codes are written canonically (builtin_code = code, deprecated_builtin_code = "
               "min(code, 127)); all weights are inside the flatbuffer (no Buffer.offset/size).",
               "RELU is a separate op after ADD (not fused); PAD pads the channel dimension "
               "(residual channel growth).",
               "MediaPipe's TFLITE_METADATA buffer is kept.  Outputs: `regressors` are box + 6 "
               "keypoints in 128-px anchor-relative units, `classificators` are score logits; "
               "anchors/decoding as in MediaPipe (SSD anchors, 16x16x2 + 8x8x6 = 896).",
               "@FACE_SANITY@"]),
    "opsnet-int8.tflite": dict(
        script="make_opsnet.py",
        source="Small seeded Keras model written for patchwise (make_opsnet.py), full-int8 "
               "TFLiteConverter with float32 graph input/outputs.",
        license="Apache-2.0 (generated here)",
        notes=["Float32 input and outputs: QUANTIZE (float32->int8) first, DEQUANTIZE before each "
               "output.",
               "Dilated conv/depthwise use TF's native `dilations` attribute: Keras "
               "Conv2D/DepthwiseConv2D(dilation_rate=2) convert to SPACE_TO_BATCH_ND + conv + "
               "BATCH_TO_SPACE_ND with this converter.",
               "The hidden FULLY_CONNECTED has no bias (bias input index -1); CONCATENATION has "
               "axis -1; RESIZE_BILINEAR has half_pixel_centers=true, align_corners=false; the "
               "depthwise conv has fused RELU6 and the stem conv fused RELU.",
               "Output order in the subgraph: output 0 = `gate` [1,1] (LOGISTIC), output 1 = "
               "`cls` [1,10] (SOFTMAX)."]),
}


def face_sanity(path):
    """Scores of the int8 BlazeFace on the shipped 128x128 pictures (BUILTIN_REF)."""
    import numpy as np
    parts = []
    for variant, xs in tfl.model_cases(path, os.path.join(HERE, "..", "assets", "images"), 0)[1:]:
        _, outs = tfl.io_desc(tfl.load(path))
        q = tfl.run_ref(path, xs)[1].astype(np.float64).ravel()
        logit = (q - outs[1]["zero_point"]) * outs[1]["scale"]
        score = 1 / (1 + np.exp(-logit))
        parts.append(f"{variant}.png: {int((score > 0.5).sum())} anchors score > 0.5 "
                     f"(max {score.max():.2f})")
    return "Sanity (sigmoid of dequantized `classificators`, BUILTIN_REF): " + "; ".join(parts) + "."


def fmt_tensor(d):
    s = f"`{d['name']}` {d['shape']} {d['dtype']}"
    if "scale" in d:
        s += f", scale {d['scale']:.9g}, zero point {d['zero_point']}"
    return s


def main():
    with open(os.path.join(HERE, "tflm_arena.json")) as f:
        arena = json.load(f)
    out = ["# models",
           "",
           "int8 TFLite models patchwise runs.  Everything here is generated by the scripts next "
           "to the files (seeded, deterministic); this README is written by `describe.py`.",
           "",
           "Regenerate everything (models, images, goldens) with `tools/regen` from the repo root "
           "(it makes/uses a venv from `tools/requirements.txt`).  Single steps, with that venv's "
           "python, from the repo root: `python models/make_mbv2.py`, "
           "`python models/make_blazeface.py`, `python models/make_opsnet.py`, "
           "`python models/tflm_arena.py` (TFLite Micro arena sizes + TFLM vs BUILTIN_REF check), "
           "`python models/describe.py` (this file), then `python tests/golden/gen.py`.",
           "",
           "Flash bytes = sum of the sizes of the constant buffers tensors refer to (weights, "
           "biases, shape/axis constants).  TFLM arena = TFLite Micro's RecordingMicroAllocator "
           "report (head = non-persistent activation memory, tail = persistent).  Checked: TFLM's "
           "outputs equal LiteRT BUILTIN_REF's byte for byte on the seeded random input and on "
           "the matching assets/images pictures.",
           ""]
    for name, info in INFO.items():
        path = os.path.join(HERE, name)
        m = tfl.load(path)
        ins, outs = tfl.io_desc(m)
        a = arena[name]
        ops = ", ".join(f"{k} x{v}" for k, v in tfl.op_counts(m).items())
        rows = [
            ("file", f"`models/{name}` ({os.path.getsize(path):,} B)"),
            ("made by", f"`models/{info['script']}`"),
            ("source", info["source"]),
            ("license", info["license"]),
            ("sha256", f"`{tfl.sha256(path)}`"),
            ("input", "<br>".join(fmt_tensor(d) for d in ins)),
            ("outputs", "<br>".join(f"{k}: " + fmt_tensor(d) for k, d in enumerate(outs))),
            ("ops", f"{sum(tfl.op_counts(m).values())} ops: {ops}"),
            ("flash bytes", f"{tfl.const_bytes(m):,}"),
            ("TFLM arena", f"total {a['total']:,} B = head {a['head']:,} + tail {a['tail']:,}; "
                           f"TFLM == BUILTIN_REF: {a['matches_builtin_ref']}"),
        ]
        out += [f"## {name}", "", "| | |", "|---|---|"]
        out += [f"| {k} | {v} |" for k, v in rows]
        notes = [face_sanity(path) if n == "@FACE_SANITY@" else n for n in info["notes"]]
        out += [""] + [f"- {n}" for n in notes] + [""]
    with open(os.path.join(HERE, "README.md"), "w") as f:
        f.write("\n".join(out))
    print("wrote", os.path.join(HERE, "README.md"))


if __name__ == "__main__":
    main()
