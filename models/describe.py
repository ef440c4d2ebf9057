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
    "mbv3se-int8.tflite": dict(
        script="make_mbv3se.py",
        source="Keras `tf.keras.applications.MobileNetV3Small(alpha=0.75, minimalistic=False, "
               "input_shape=(128,128,3), include_top=False, weights=None, "
               "include_preprocessing=False)` (hard-swish, squeeze-and-excitation, 3x3 and 5x5 "
               "inverted residuals, expansion ratios 1 to 6) plus a narrower head than Keras' "
               "(GlobalAveragePooling2D -> Dense 256 -> hard-swish -> Dense 10 -> softmax), seeded "
               "random weights (no pretrained weights), batch-norm statistics calibrated on seeded "
               "crops of scikit-image's bundled photos, full-int8 TFLiteConverter "
               "(TFLITE_BUILTINS_INT8, int8 input/output).",
        license="Apache-2.0 (architecture: Keras, Apache-2.0; weights generated here)",
        notes=["Squeeze-and-excitation (9 blocks): MEAN (keepdims) -> 1x1 CONV_2D + RELU -> 1x1 "
               "CONV_2D -> hard-sigmoid -> MUL of the feature map [1,H,W,C] by the gate [1,1,1,C] "
               "(broadcast).  The hard-sigmoid relu6(x + 3) / 6 converts to the second SE conv "
               "(the +3 folded into its bias) with fused RELU6, then a MUL by a scalar constant.",
               "hard_swish converts to HARD_SWISH (19 ops); the first block uses ReLU (fused into "
               "its depthwise conv); MobileNetV3's ZeroPadding2D before the stride-2 depthwise "
               "convs is folded into them (no PAD op).",
               "Keras' own classifier top (1x1 conv 1024 on the pooled features) would add 442 KB "
               "of int8 weights, and its Flatten converts to SHAPE + STRIDED_SLICE + PACK + "
               "RESHAPE (dynamic batch); the head here is Dense layers (FULLY_CONNECTED) instead.",
               "The first SE block's MEAN (operator 3) needs its whole input, so patch stages "
               "can only end at operators 0-2 (stem conv, HARD_SWISH, first depthwise conv).",
               "Outputs are softmax probabilities over 10 meaningless classes (random weights)."]),
    "yolofpn-int8.tflite": dict(
        script="make_yolofpn.py",
        source="Small seeded Keras YOLO-style detector written for patchwise (make_yolofpn.py): "
               "non-square 128x160 (HxW) RGB input, MobileNet-like backbone (3x3 stride-2 stem "
               "conv, 9 depthwise-separable blocks, strides 2 to 32), FPN neck (1x1 laterals + "
               "LeakyReLU(0.1), 2x nearest upsampling, Add at stride 16, Concatenate at stride 8) "
               "and three 1x1 conv heads, seeded random weights, batch-norm statistics calibrated "
               "on seeded 128x160 crops of scikit-image's bundled photos, full-int8 "
               "TFLiteConverter (TFLITE_BUILTINS_INT8, int8 input/outputs).",
        license="Apache-2.0 (generated here)",
        notes=["Outputs: 3 anchors x (4 box + 1 objectness + 2 classes) = 21 channels per cell "
               "(meaningless values: random weights).  Output order in the subgraph: output 0 = "
               "stride 16 [1,8,10,21], output 1 = stride 8 [1,16,20,21], output 2 = stride 32 "
               "[1,4,5,21].",
               "The stride-8 lateral (operator 33, 1x1 conv) reads the backbone's early stride-8 "
               "feature (output of operator 10): a branch that leaves any patch stage ending at "
               "operator 11 or later.",
               "Upsampling is `tf.image.resize(method='nearest')` with a static size: one "
               "RESIZE_NEAREST_NEIGHBOR (half_pixel_centers=true, align_corners=false).  Keras 3's "
               "UpSampling2D(interpolation='nearest') converts to SHAPE + STRIDED_SLICE + "
               "EXPAND_DIMS + TILE + RESHAPE instead, with a TILE version LiteRT's BUILTIN_REF "
               "resolver does not have.",
               "ReLU6 is fused into the backbone's convs; LEAKY_RELU is a separate op; the ADD's "
               "inputs have different scales; the CONCATENATION's two inputs have its output's "
               "scale and zero point.",
               "No assets/images picture is 128x160, so the TFLM check uses the random input only."]),
    "torchconv-int8.tflite": dict(
        script="make_torchconv.py",
        source="Small seeded CNN written in PyTorch (NCHW; make_torchconv.py: 5 convs with "
               "batch norm + ReLU, a residual add, 2x2 average pool flattened in NCHW order "
               "concatenated with a global average pool, linear 10), int8-quantized with PT2E "
               "(litert-torch 0.10.0's PT2EQuantizer, per-channel int8 weights, histogram-"
               "calibrated int8 activations on seeded crops of scikit-image's bundled photos; "
               "batch-norm statistics calibrated on such crops first) and converted with "
               "litert-torch 0.10.0 (torch 2.14.1, torchao 0.18.0), the converter's "
               "strict_qdq_mode on.",
        license="Apache-2.0 (generated here)",
        notes=["Float32 NCHW input [1,3,64,64]: QUANTIZE (float32->int8) first, then TRANSPOSE "
               "to NHWC; a TRANSPOSE back to NCHW before the flatten's RESHAPE; DEQUANTIZE before "
               "the float32 output [1,10] (logits).",
               "strict_qdq_mode keeps the PT2E boundary quantize/dequantize as QUANTIZE / "
               "DEQUANTIZE ops; without it litert-torch's converter gives int8 graph input and "
               "output.  The second QUANTIZE is an int8->int8 requantization to the "
               "CONCATENATION's scale.",
               "nn.Conv2d(padding=1) with stride 2 converts to PAD + VALID CONV_2D, with stride 1 "
               "to SAME CONV_2D; batch norm is folded and ReLU fused into the convs (the residual "
               "ADD has fused RELU); the FULLY_CONNECTED has per-channel weight scales.",
               "The input TRANSPOSE (operator 1) needs its whole input, so the only legal patch "
               "stage is operator 0 (QUANTIZE).",
               "The input is not NHWC, so the TFLM check uses the random input only."]),
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
           "`python models/make_mbv3se.py`, `python models/make_yolofpn.py`, "
           "`python models/make_torchconv.py`, "
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
