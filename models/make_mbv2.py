#!/usr/bin/env python3
"""models/mbv2-w0.35-r144-int8.tflite: Keras MobileNetV2 (alpha 0.35, 144x144x3,
2 classes, random seeded weights), batch-norm statistics calibrated on seeded
crops of scikit-image's bundled photos, then full-int8 converted with
TFLiteConverter (int8 input and output).  Deterministic: re-run to regenerate."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modelkit  # noqa: E402,F401  (first: pins the deterministic TF environment)
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


def photos():
    imgs = [skd.astronaut(), skd.coffee(), skd.chelsea(), skd.rocket(), skd.hubble_deep_field(),
            skd.immunohistochemistry(), skd.retina()]
    imgs += [np.stack([skd.camera()] * 3, -1)]
    return [np.asarray(i, dtype=np.uint8)[..., :3] for i in imgs]


def random_crops(rng, imgs, n, size=SIZE, hw=None):
    """n seeded random crops (with random flips) resized to size x size, or to
    h x w for `hw=(h, w)` (crops of that aspect), normalised with the shared
    rule to float32 [-1, 1].  Square sizes draw exactly as before `hw` existed."""
    h, w = hw or (size, size)
    out = []
    for _ in range(n):
        im = imgs[int(rng.integers(len(imgs)))]
        ih, iw = im.shape[:2]
        cw_max = min(iw, ih * w // h)
        cw = int(rng.integers(cw_max // 3, cw_max + 1))
        ch = cw * h // w
        y, x = int(rng.integers(0, ih - ch + 1)), int(rng.integers(0, iw - cw + 1))
        crop = Image.fromarray(im[y:y + ch, x:x + cw]).resize((w, h), Image.Resampling.BILINEAR)
        a = np.asarray(crop, dtype=np.uint8)
        if rng.integers(2):
            a = a[:, ::-1]
        out.append(normalize(np.ascontiguousarray(a)))
    return np.stack(out)

def main():
    modelkit.seed_everything(SEED)
    rng = np.random.default_rng(SEED)
    imgs = photos()

    model = tf.keras.applications.MobileNetV2(
        alpha=0.35, input_shape=(SIZE, SIZE, 3), weights=None, classes=2)

    modelkit.calibrate_batch_norm(model, lambda: random_crops(rng, imgs, 32), 0.999)

    calib = random_crops(rng, imgs, 64)
    probs = model.predict(calib[:8], verbose=0)
    print("float softmax on 8 calibration crops:", np.round(probs[:, 0], 3))

    modelkit.convert_int8(model, calib, OUT)


if __name__ == "__main__":
    main()
