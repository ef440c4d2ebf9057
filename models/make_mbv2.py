#!/usr/bin/env python3
"""models/mbv2-w0.35-r144-int8.tflite: Keras MobileNetV2 (alpha 0.35, 144x144x3,
2 classes, random seeded weights), batch-norm statistics calibrated on seeded
crops of scikit-image's bundled photos, then full-int8 converted with
TFLiteConverter (int8 input and output).  Deterministic: re-run to regenerate."""
import contextlib
import io
import os
import random
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np
import skimage.data as skd
import tensorflow as tf
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from preprocess import normalize  # noqa: E402

SEED = 20261124
SIZE = 144
OUT = os.path.join(HERE, "mbv2-w0.35-r144-int8.tflite")


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.keras.utils.set_random_seed(seed)


def photos():
    imgs = [skd.astronaut(), skd.coffee(), skd.chelsea(), skd.rocket(), skd.hubble_deep_field(),
            skd.immunohistochemistry(), skd.retina()]
    imgs += [np.stack([skd.camera()] * 3, -1)]
    return [np.asarray(i, dtype=np.uint8)[..., :3] for i in imgs]


def random_crops(rng, imgs, n, size=SIZE):
    """n seeded random square crops (with random flips), resized to size x size,
    normalised with the shared rule to float32 [-1, 1]."""
    out = []
    for _ in range(n):
        im = imgs[int(rng.integers(len(imgs)))]
        h, w = im.shape[:2]
        s = int(rng.integers(min(h, w) // 3, min(h, w) + 1))
        y, x = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
        crop = Image.fromarray(im[y:y + s, x:x + s]).resize((size, size), Image.Resampling.BILINEAR)
        a = np.asarray(crop, dtype=np.uint8)
        if rng.integers(2):
            a = a[:, ::-1]
        out.append(normalize(np.ascontiguousarray(a)))
    return np.stack(out)


def main():
    seed_all(SEED)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(SEED)
    imgs = photos()

    model = tf.keras.applications.MobileNetV2(
        alpha=0.35, input_shape=(SIZE, SIZE, 3), weights=None, classes=2)

    # Batch-norm calibration: momentum 0 for the first pass makes the moving
    # statistics equal that batch's statistics, later passes average in more
    # batches.  Without this the moving stats stay at mean 0 / var 1 and the
    # activations (and SOFTMAX's input scale) collapse.
    bns = [l for l in model.layers if isinstance(l, tf.keras.layers.BatchNormalization)]
    for i, mom in enumerate([0.0, 0.5, 0.5, 0.5]):
        for l in bns:
            l.momentum = mom
        model(random_crops(rng, imgs, 32), training=True)
    for l in bns:
        l.momentum = 0.999

    calib = random_crops(rng, imgs, 64)
    probs = model.predict(calib[:8], verbose=0)
    print("float softmax on 8 calibration crops:", np.round(probs[:, 0], 3))

    def representative():
        for i in range(len(calib)):
            yield [calib[i:i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    with contextlib.redirect_stdout(io.StringIO()):  # Keras' export listing
        tfl = conv.convert()
    with open(OUT, "wb") as f:
        f.write(tfl)
    print("wrote", OUT, len(tfl), "bytes")


if __name__ == "__main__":
    main()
