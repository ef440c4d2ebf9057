#!/usr/bin/env python3
"""models/blazeface-short-int8.tflite: MediaPipe's face_detection_short_range.tflite
(from the mediapipe==0.10.21 wheel on PyPI, Apache-2.0) quantized to full int8
(int8 weights per-channel, int8 activations, int8 graph input/outputs) with
ai-edge-quantizer, calibrated on seeded crops of scikit-image's bundled photos.

Steps (all deterministic):
 1. `pip download --no-deps mediapipe==0.10.21` (pinned wheel tags) into a cache
    dir ($PATCHWISE_CACHE, default ~/.cache/patchwise) and unzip the one .tflite;
    check its sha256.
 2. Prepare the float graph for the quantizer: the file stores op codes only in
    deprecated_builtin_code (copy them to builtin_code), its weights are fp16
    constants behind 74 DEQUANTIZE ops (fold them into fp32 constants), it has
    no SignatureDef (add 'serving_default').  Drop unused tensors/buffers.
 3. ai-edge-quantizer static_wi8_ai8 recipe, calibrate, quantize.
 4. Write both op-code fields canonically and save."""
import glob
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import skimage.data as skd
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import tfl  # noqa: E402
from preprocess import normalize  # noqa: E402
from ai_edge_litert import schema_py_generated as S  # noqa: E402

SEED = 20261124
OUT = os.path.join(HERE, "blazeface-short-int8.tflite")
MP_VERSION = "0.10.21"
MEMBER = "mediapipe/modules/face_detection/face_detection_short_range.tflite"
FLOAT_SHA256 = "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
IMAGES = os.path.join(HERE, "..", "assets", "images")


def fetch_float_model():
    cache = os.environ.get("PATCHWISE_CACHE", os.path.expanduser("~/.cache/patchwise"))
    wheel_dir = os.path.join(cache, f"mediapipe-{MP_VERSION}")
    os.makedirs(wheel_dir, exist_ok=True)
    wheels = glob.glob(os.path.join(wheel_dir, f"mediapipe-{MP_VERSION}-*.whl"))
    if not wheels:
        # Pin the wheel tags so every machine gets the very same file.
        subprocess.check_call([
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
            "--implementation", "cp", "--abi", "cp311",
            "-d", wheel_dir, f"mediapipe=={MP_VERSION}"])
        wheels = glob.glob(os.path.join(wheel_dir, f"mediapipe-{MP_VERSION}-*.whl"))
    with zipfile.ZipFile(wheels[0]) as z:
        data = z.read(MEMBER)
    sha = hashlib.sha256(data).hexdigest()
    assert sha == FLOAT_SHA256, f"unexpected float model sha256 {sha}"
    return data


def fold_fp16_dequantize(m):
    """Replace every DEQUANTIZE(fp16 constant) by an fp32 constant tensor."""
    sg = m.subgraphs[0]
    keep = []
    for op in sg.operators:
        if tfl.op_code(m.operatorCodes[op.opcodeIndex]) == S.BuiltinOperator.DEQUANTIZE:
            src, dst = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
            assert src.type == S.TensorType.FLOAT16 and m.buffers[src.buffer].data is not None
            arr = np.frombuffer(bytes(m.buffers[src.buffer].data), np.float16).astype(np.float32)
            nb = S.BufferT()
            nb.data = np.frombuffer(arr.tobytes(), np.uint8)
            m.buffers.append(nb)
            dst.buffer = len(m.buffers) - 1
        else:
            keep.append(op)
    sg.operators = keep


def compact(m):
    """Drop tensors, buffers and op codes that nothing uses any more."""
    sg = m.subgraphs[0]
    used = {int(i) for i in sg.inputs} | {int(i) for i in sg.outputs}
    for op in sg.operators:
        used |= {int(i) for i in op.inputs if i >= 0} | {int(i) for i in op.outputs}
    order = sorted(used)
    tmap = {o: n for n, o in enumerate(order)}
    sg.tensors = [sg.tensors[o] for o in order]
    remap = lambda v: [tmap[int(i)] if i >= 0 else -1 for i in v]  # noqa: E731
    sg.inputs, sg.outputs = remap(sg.inputs), remap(sg.outputs)
    for op in sg.operators:
        op.inputs, op.outputs = remap(op.inputs), remap(op.outputs)
    bused = sorted({int(t.buffer) for t in sg.tensors} | {0} | {int(md.buffer) for md in (m.metadata or [])})
    bmap = {o: n for n, o in enumerate(bused)}
    m.buffers = [m.buffers[o] for o in bused]
    for t in sg.tensors:
        t.buffer = bmap[int(t.buffer)]
    for md in (m.metadata or []):
        md.buffer = bmap[int(md.buffer)]
    ou = sorted({int(op.opcodeIndex) for op in sg.operators})
    omap = {o: n for n, o in enumerate(ou)}
    m.operatorCodes = [m.operatorCodes[o] for o in ou]
    for op in sg.operators:
        op.opcodeIndex = omap[int(op.opcodeIndex)]


def add_signature(m):
    sg = m.subgraphs[0]

    def tmap(i):
        t = S.TensorMapT()
        t.name = sg.tensors[i].name.decode()
        t.tensorIndex = int(i)
        return t
    sd = S.SignatureDefT()
    sd.signatureKey = "serving_default"
    sd.subgraphIndex = 0
    sd.inputs = [tmap(i) for i in sg.inputs]
    sd.outputs = [tmap(i) for i in sg.outputs]
    m.signatureDefs = [sd]


def calibration_images(rng, n_random=40):
    """Face-heavy calibration set, 128x128 uint8 RGB: the shipped test images,
    seeded random crops around the astronaut's face (scale/offset/flip), plus
    random crops of other photos (cat face, cameraman, no-face scenes)."""
    out = [np.asarray(Image.open(os.path.join(IMAGES, f)).convert("RGB"))
           for f in ("astronaut-128.png", "noface-128.png")]
    astro = skd.astronaut()
    others = [skd.chelsea(), np.stack([skd.camera()] * 3, -1), skd.coffee(), skd.rocket()]
    for k in range(n_random):
        if k % 2 == 0:  # face-centred crops of the astronaut
            s = int(rng.integers(170, 400))
            cx, cy = 225 + int(rng.integers(-40, 41)), 105 + int(rng.integers(-30, 31))
            x0, y0 = int(np.clip(cx - s // 2, 0, 512 - s)), int(np.clip(cy - s // 2, 0, 512 - s))
            im = astro[y0:y0 + s, x0:x0 + s]
        else:
            im = others[(k // 2) % len(others)]
            h, w = im.shape[:2]
            s = int(rng.integers(min(h, w) // 2, min(h, w) + 1))
            y0, x0 = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
            im = im[y0:y0 + s, x0:x0 + s]
        a = np.asarray(Image.fromarray(np.ascontiguousarray(im)).resize((128, 128), Image.Resampling.BILINEAR))
        if rng.integers(2):
            a = a[:, ::-1]
        out.append(np.ascontiguousarray(a, dtype=np.uint8))
    return out


def main():
    from ai_edge_quantizer import quantizer, recipe
    rng = np.random.default_rng(SEED)
    m = tfl.load(fetch_float_model())
    for oc in m.operatorCodes:  # codes live only in deprecated_builtin_code
        oc.builtinCode = tfl.op_code(oc)
    fold_fp16_dequantize(m)
    compact(m)
    add_signature(m)
    with tempfile.TemporaryDirectory() as td:
        fpath = os.path.join(td, "face_detection_short_range_fp32.tflite")
        with open(fpath, "wb") as f:
            f.write(tfl.pack(m))
        in_name = m.subgraphs[0].tensors[m.subgraphs[0].inputs[0]].name.decode()
        data = [{in_name: normalize(p)[None]} for p in calibration_images(rng)]
        q = quantizer.Quantizer(fpath, recipe.static_wi8_ai8())
        cal = q.calibrate({"serving_default": data}, num_threads=1)
        # The graph input is exactly the [-1, 1] image range, not the (averaged)
        # per-sample extremes the calibrator saw: pin it so no pixel saturates.
        cal[in_name] = {"min": np.full_like(cal[in_name]["min"], -1.0),
                        "max": np.full_like(cal[in_name]["max"], 1.0)}
        res = q.quantize(cal, enable_progress_report=False)
        qbytes = bytes(res.quantized_model)
    qm = tfl.load(qbytes)
    assert tfl.n_external_buffers(qm) == 0, "quantizer wrote external buffers; cannot re-pack"
    tfl.canonicalize_opcodes(qm)
    out = tfl.pack(qm)
    with open(OUT, "wb") as f:
        f.write(out)
    print("wrote", OUT, len(out), "bytes;", tfl.op_counts(qm))
    print("io:", tfl.io_desc(qm))


if __name__ == "__main__":
    main()
