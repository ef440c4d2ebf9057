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
 3. Activation ranges: ai-edge-quantizer's calibrator runs on each of the 96
    calibration images separately; each tensor's range is the 10th percentile
    of the per-image minima to the 90th percentile of the per-image maxima.
    (The calibrator's own moving average over the whole set let the last
    images dominate: the score logits were capped near 0.5, i.e. a face
    scored at most ~0.62, against ~0.92 in float.)  Three ranges are pinned:
    the graph input to [-1, 1] (the exact image range), the score-logit head
    (convs -> reshapes -> `classificators`) to [-16, 16] (sigmoid is flat
    beyond; MediaPipe clips at +-100) and the box head (-> `regressors`) to
    [-128, 128] input pixels.
 4. ai-edge-quantizer static_wi8_ai8 recipe (int8 per-channel symmetric
    weights, int8 asymmetric activations) with those ranges.
 5. GPTQ weight rounding for every 1x1 CONV_2D (all convs but the 5x5 stem):
    with the quantizer's per-channel scales unchanged (so biases and
    requantization stay valid), the int8 weights are re-rounded column by
    column (largest Hessian diagonal first), pushing each rounding error onto
    the columns not yet rounded, to minimise the layer's output error on the
    calibration images' float activations (H = 2 X^T X, 1% damping).  Round
    to nearest made boxes ~6% too large (it is conv2d_16's rounding, amplified
    by the residual before the box head).
 6. Write both op-code fields canonically and save."""
import glob
import hashlib
import os
import subprocess
import sys
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


# Faces in scikit-image's 512x512 photos: centre x, centre y, size (px),
# from the float model on the whole photo.
FACES = {"astronaut": (225, 128, 94), "camera": (220, 162, 84)}


def _resize128(a):
    img = Image.fromarray(np.ascontiguousarray(a))
    return np.asarray(img.resize((128, 128), Image.Resampling.BILINEAR))


def _photometric(a, rng):
    """Seeded gain/offset jitter and a horizontal flip half of the time."""
    gain, offset = rng.uniform(0.75, 1.25), rng.uniform(-25, 25)
    a = np.clip(a.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)
    if rng.integers(2):
        a = a[:, ::-1]
    return np.ascontiguousarray(a)


def calibration_images(rng, n_face=64, n_other=32):
    """96 seeded 128x128 uint8 RGB calibration images: crops around the faces
    of skimage's astronaut and camera photos at scales from a close-up (crop
    1.3x the face) to the whole photo, offset by up to a quarter crop, plus
    random crops of face-free photos; all with brightness/contrast jitter and
    random flips.  The shipped test pictures themselves are not used."""
    gray = lambda a: np.stack([a] * 3, -1)  # noqa: E731
    faces = {"astronaut": skd.astronaut(), "camera": gray(skd.camera())}
    others = [skd.chelsea(), skd.coffee(), skd.rocket(), skd.hubble_deep_field(), gray(skd.coins()),
              gray(skd.brick()), gray(skd.grass()), gray(skd.text())]
    out = []
    for k in range(n_face):
        name = ("astronaut", "camera")[k % 2]
        img = faces[name]
        cx, cy, size = FACES[name]
        s = int(np.exp(rng.uniform(np.log(size * 1.3), np.log(512))))
        x0 = int(np.clip(cx - s / 2 + rng.uniform(-0.25, 0.25) * s, 0, 512 - s))
        y0 = int(np.clip(cy - s / 2 + rng.uniform(-0.25, 0.25) * s, 0, 512 - s))
        out.append(_photometric(_resize128(img[y0:y0 + s, x0:x0 + s]), rng))
    for k in range(n_other):
        img = others[k % len(others)]
        h, w = img.shape[:2]
        s = int(rng.integers(min(h, w) // 3, min(h, w) + 1))
        y0, x0 = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
        out.append(_photometric(_resize128(img[y0:y0 + s, x0:x0 + s]), rng))
    return out


def head_tensors(m, output_index):
    """Names of the tensors from the head convs to graph output `output_index`
    (output <- CONCATENATION <- [QUANTIZE] <- RESHAPE <- CONV_2D)."""
    sg = m.subgraphs[0]
    producer = {int(o): op for op in sg.operators for o in op.outputs}
    names, todo = [], [int(sg.outputs[output_index])]
    while todo:
        t = todo.pop()
        names.append(sg.tensors[t].name.decode())
        op = producer.get(t)
        if op is not None and tfl.OP_NAMES[tfl.op_code(m.operatorCodes[op.opcodeIndex])] in (
                "CONCATENATION", "RESHAPE", "QUANTIZE"):
            todo += [int(i) for i in op.inputs if i >= 0 and m.buffers[sg.tensors[i].buffer].data is None]
    return names


def activation_ranges(per_sample, lo_pct=10, hi_pct=90):
    """{tensor: {min, max}} from per-image calibration results."""
    out = {}
    for name in per_sample[0]:
        mins = np.stack([np.asarray(p[name]["min"]) for p in per_sample])
        maxs = np.stack([np.asarray(p[name]["max"]) for p in per_sample])
        out[name] = {"min": np.percentile(mins, lo_pct, axis=0).astype(np.float32),
                     "max": np.percentile(maxs, hi_pct, axis=0).astype(np.float32)}
    return out


def pin(cal, names, lo, hi):
    for n in names:
        cal[n] = {"min": np.full_like(np.asarray(cal[n]["min"]), lo),
                  "max": np.full_like(np.asarray(cal[n]["max"]), hi)}


def pointwise_convs(m):
    """The 1x1 CONV_2D operators, keyed by output tensor name."""
    sg = m.subgraphs[0]
    return {sg.tensors[op.outputs[0]].name.decode(): op for op in sg.operators
            if tfl.OP_NAMES[tfl.op_code(m.operatorCodes[op.opcodeIndex])] == "CONV_2D"
            and list(sg.tensors[op.inputs[1]].shape[1:3]) == [1, 1]}


def hessians(float_bytes, images):
    """Per 1x1 conv: H = 2 X^T X / rows of its float input activations,
    averaged over the images (float model, BUILTIN_REF kernels)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    m = tfl.load(float_bytes)
    sg = m.subgraphs[0]
    convs = pointwise_convs(m)
    it = Interpreter(model_content=float_bytes, experimental_preserve_all_tensors=True,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    hs = {}
    for im in images:
        it.set_tensor(it.get_input_details()[0]["index"], normalize(im)[None])
        it.invoke()
        for name, op in convs.items():
            x = it.get_tensor(int(op.inputs[0])).astype(np.float64)
            x = x.reshape(-1, x.shape[-1])
            hs[name] = hs.get(name, 0) + 2.0 * x.T @ x / len(x)
    return {k: v / len(images) for k, v in hs.items()}


def gptq_round(w, h, scale, damp=0.01):
    """GPTQ (Frantar et al. 2022) for one linear layer: w (out, in) float,
    h (in, in), per-output-channel scale -> int8 in [-127, 127].  Columns go
    largest Hessian diagonal first."""
    order = np.argsort(-np.diag(h), kind="stable")
    w = w.astype(np.float64)[:, order].copy()
    h = h[np.ix_(order, order)].copy()
    dead = np.diag(h) == 0
    h[dead, dead] = 1.0
    h += damp * np.mean(np.diag(h)) * np.eye(len(h))
    u = np.linalg.cholesky(np.linalg.inv(h)).T  # upper Cholesky factor of H^-1
    q = np.zeros(w.shape, np.int64)
    for i in range(w.shape[1]):
        q[:, i] = np.clip(np.round(w[:, i] / scale), -127, 127)
        err = (w[:, i] - q[:, i] * scale) / u[i, i]
        w[:, i + 1:] -= np.outer(err, u[i, i + 1:])
    return q[:, np.argsort(order)].astype(np.int8)


def gptq_pointwise(float_bytes, qm, hs):
    """Re-round the int8 weights of every 1x1 conv of the quantized model `qm`
    in place, keeping its per-channel scales.  Returns the weights changed."""
    fm = tfl.load(float_bytes)
    fconvs = pointwise_convs(fm)
    qsg = qm.subgraphs[0]
    changed = 0
    for name, op in pointwise_convs(qm).items():
        ft = fm.subgraphs[0].tensors[fconvs[name].inputs[1]]
        w = np.frombuffer(bytes(fm.buffers[ft.buffer].data), np.float32).reshape(ft.shape[0], -1)
        qt = qsg.tensors[op.inputs[1]]
        scale = np.asarray(qt.quantization.scale, np.float64)
        old = np.frombuffer(bytes(qm.buffers[qt.buffer].data), np.int8).reshape(w.shape)
        # The scales are the quantizer's: round-to-nearest with them is its own weights.
        rtn = np.clip(np.round(w / scale[:, None].astype(np.float32)), -127, 127)
        assert (rtn == old).mean() > 0.999, f"{name}: unexpected weight scales"
        new = gptq_round(w, hs[name], scale)
        changed += int((new != old).sum())
        qm.buffers[qt.buffer].data = np.frombuffer(new.tobytes(), np.uint8)
    return changed


def float_model():
    """MediaPipe's float model prepared for the quantizer (steps 1-2): the
    flatbuffer object and its bytes.  tests/golden/gen.py uses it too."""
    m = tfl.load(fetch_float_model())
    for oc in m.operatorCodes:  # codes live only in deprecated_builtin_code
        oc.builtinCode = tfl.op_code(oc)
    fold_fp16_dequantize(m)
    compact(m)
    add_signature(m)
    return m, tfl.pack(m)


def main():
    from ai_edge_quantizer import quantizer, recipe
    rng = np.random.default_rng(SEED)
    m, fbytes = float_model()
    sg = m.subgraphs[0]
    in_name = sg.tensors[sg.inputs[0]].name.decode()
    images = calibration_images(rng)
    q = quantizer.Quantizer(fbytes, recipe.static_wi8_ai8())
    per_sample = [q.calibrate({"serving_default": [{in_name: normalize(p)[None]}]}, num_threads=1)
                  for p in images]
    cal = activation_ranges(per_sample)
    pin(cal, [in_name], -1.0, 1.0)
    pin(cal, head_tensors(m, 1), -16.0, 16.0)  # classificators: score logits
    pin(cal, head_tensors(m, 0), -128.0, 128.0)  # regressors: input pixels
    res = q.quantize(cal, enable_progress_report=False)
    qm = tfl.load(bytes(res.quantized_model))
    assert tfl.n_external_buffers(qm) == 0, "quantizer wrote external buffers; cannot re-pack"
    changed = gptq_pointwise(fbytes, qm, hessians(fbytes, images))
    print(f"GPTQ changed {changed} int8 weights of {len(pointwise_convs(qm))} 1x1 convs")
    tfl.canonicalize_opcodes(qm)
    out = tfl.pack(qm)
    with open(OUT, "wb") as f:
        f.write(out)
    print("wrote", OUT, len(out), "bytes;", tfl.op_counts(qm))
    print("io:", tfl.io_desc(qm))


if __name__ == "__main__":
    main()
