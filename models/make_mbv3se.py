#!/usr/bin/env python3
"""models/mbv3se-int8.tflite: Keras MobileNetV3-Small (alpha 0.75, 128x128x3,
not minimalistic: hard-swish, squeeze-and-excitation, 3x3 and 5x5 inverted
residuals with expansion ratios 1 to 6) with random seeded weights and a
smaller classifier head (GAP -> dense 256 -> hard-swish -> dense 10 ->
softmax, instead of Keras' 1024-wide one, to keep the file under 1 MB);
batch-norm statistics calibrated on seeded crops of scikit-image's bundled
photos, then full-int8 converted with TFLiteConverter (int8 input and
output).  Deterministic: re-run to regenerate."""
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
    random.seed(SEED)
    np.random.seed(SEED)
    tf.random.set_seed(SEED)
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(SEED)
    imgs = photos()
    model = build()

    # Batch-norm calibration as in make_mbv2.py: momentum 0 for the first pass
    # makes the moving statistics equal that batch's, later passes average in
    # more batches.
    bns = [l for l in model.layers if isinstance(l, L.BatchNormalization)]
    for mom in [0.0, 0.5, 0.5, 0.5]:
        for l in bns:
            l.momentum = mom
        model(random_crops(rng, imgs, 32, size=SIZE), training=True)
    for l in bns:
        l.momentum = 0.999

    calib = random_crops(rng, imgs, 64, size=SIZE)
    probs = model.predict(calib[:8], verbose=0)
    print("float softmax max on 8 calibration crops:", np.round(probs.max(1), 3))

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
