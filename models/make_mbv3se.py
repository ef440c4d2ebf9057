#!/usr/bin/env python3
"""models/mbv3se-int8.tflite: Keras MobileNetV3-Small (alpha 0.75, 128x128x3,
not minimalistic: hard-swish, squeeze-and-excitation, 3x3 and 5x5 inverted
residuals with expansion ratios 1 to 6) with random seeded weights and a
smaller classifier head (GAP -> dense 256 -> hard-swish -> dense 10 ->
softmax, instead of Keras' 1024-wide one, to keep the file under 1 MB);
batch-norm statistics calibrated on seeded crops of scikit-image's bundled
photos, then full-int8 converted with TFLiteConverter (int8 input and
output).  Deterministic: re-run to regenerate."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modelkit  # noqa: E402,F401  (first: pins the deterministic TF environment)
import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from make_mbv2 import photos, random_crops  # noqa: E402

SEED = 20261124
SIZE = 128
CLASSES = 10
OUT = os.path.join(HERE, "mbv3se-int8.tflite")
L = tf.keras.layers


def build():
    base = tf.keras.applications.MobileNetV3Small(
        input_shape=(SIZE, SIZE, 3), alpha=0.75, minimalistic=False, include_top=False,
        weights=None, include_preprocessing=False, pooling=None)
    # The Keras top (GAP -> 1x1 conv 1024 -> hard-swish -> 1x1 conv classes),
    # narrowed to 256 wide: the 432x1024 conv alone would be 442 KB of int8 weights.
    # 1x1 convs on a 1x1 map written as Dense (FULLY_CONNECTED); Keras' own
    # top ends in Flatten, which converts to SHAPE + STRIDED_SLICE + PACK +
    # RESHAPE (dynamic batch).
    x = L.GlobalAveragePooling2D(name="head_pool")(base.output)                # MEAN
    x = L.Dense(256, name="head_fc")(x)                                        # FULLY_CONNECTED
    x = L.Activation("hard_swish", name="head_hswish")(x)                      # HARD_SWISH
    x = L.Dense(CLASSES, activation="softmax", name="predictions")(x)          # FC + SOFTMAX
    return tf.keras.Model(base.input, x, name="mbv3se")


def main():
    modelkit.seed_everything(SEED)
    rng = np.random.default_rng(SEED)
    imgs = photos()
    model = build()

    modelkit.calibrate_batch_norm(model, lambda: random_crops(rng, imgs, 32, size=SIZE), 0.999)

    calib = random_crops(rng, imgs, 64, size=SIZE)
    probs = model.predict(calib[:8], verbose=0)
    print("float softmax max on 8 calibration crops:", np.round(probs.max(1), 3))

    modelkit.convert_int8(model, calib, OUT)


if __name__ == "__main__":
    main()
