#!/usr/bin/env python3
"""models/yolofpn-int8.tflite: a small seeded YOLO-style detector written for
patchwise: non-square 128x160 (HxW) RGB input, a MobileNet-like backbone
(regular stem conv, depthwise-separable blocks, strides 2 to 32), an FPN neck
(1x1 laterals, 2x nearest upsampling, Add at stride 16, Concatenate at stride
8) and three 1x1 conv heads at strides 8, 16 and 32 (3 anchors x (4 box + 1
objectness + 2 classes) = 21 channels each).  The stride-8 lateral is taken
from the backbone's early stride-8 feature, so it is a branch that leaves a
patch stage ending there or later.  Random seeded weights, batch-norm
statistics calibrated on seeded 128x160 crops of scikit-image's bundled photos
(as make_mbv2.py), full-int8 TFLiteConverter (int8 input and outputs).
Deterministic: re-run to regenerate."""
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
H, W = 128, 160
ANCHORS, CLASSES = 3, 2
HEAD_CH = ANCHORS * (5 + CLASSES)
OUT = os.path.join(HERE, "yolofpn-int8.tflite")
L = tf.keras.layers


class UpNearest2x(L.Layer):
    """2x nearest-neighbour upsampling (what UpSampling2D(interpolation="nearest")
    means) as TF's ResizeNearestNeighbor with a static output size, so it
    converts to one RESIZE_NEAREST_NEIGHBOR (half_pixel_centers=true).  Keras 3's
    UpSampling2D converts to SHAPE + STRIDED_SLICE + EXPAND_DIMS + TILE +
    RESHAPE (ops.repeat with a dynamic batch), with TILE at a version LiteRT's
    BUILTIN_REF resolver lacks."""

    def call(self, x):
        return tf.image.resize(x, [2 * x.shape[1], 2 * x.shape[2]], method="nearest")


def conv_bn(x, filters, kernel, stride, name, act="relu6"):
    x = L.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False,
                 name=f"{name}_conv")(x)
    x = L.BatchNormalization(epsilon=1e-3, name=f"{name}_bn")(x)
    if act == "relu6":
        return L.ReLU(6.0, name=f"{name}_relu6")(x)
    if act == "leaky":
        return L.LeakyReLU(negative_slope=0.1, name=f"{name}_leaky")(x)
    return x


def dw_sep(x, filters, stride, name, act="relu6"):
    """Depthwise 3x3 (+BN+ReLU6) then pointwise 1x1 (+BN+act)."""
    x = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False,
                          name=f"{name}_dw")(x)
    x = L.BatchNormalization(epsilon=1e-3, name=f"{name}_dw_bn")(x)
    x = L.ReLU(6.0, name=f"{name}_dw_relu6")(x)
    return conv_bn(x, filters, 1, 1, f"{name}_pw", act)


def build():
    inp = L.Input((H, W, 3), name="image")
    # backbone
    x = conv_bn(inp, 16, 3, 2, "stem")                 # /2   64x80x16
    x = dw_sep(x, 24, 1, "b1")                         # /2   64x80x24
    x = dw_sep(x, 32, 2, "b2")                         # /4   32x40x32
    x = dw_sep(x, 32, 1, "b3")
    x = dw_sep(x, 48, 2, "b4")                         # /8   16x20x48
    c3 = dw_sep(x, 48, 1, "b5")                        # C3: early stride-8 feature
    x = dw_sep(c3, 96, 2, "b6")                        # /16  8x10x96
    c4 = dw_sep(x, 96, 1, "b7")                        # C4
    x = dw_sep(c4, 160, 2, "b8")                       # /32  4x5x160
    c5 = dw_sep(x, 160, 1, "b9")                       # C5
    # FPN neck (top-down)
    p5 = conv_bn(c5, 64, 1, 1, "lat5", "leaky")                        # 4x5x64
    u5 = UpNearest2x(name="up5")(p5)    # RESIZE_NEAREST 8x10
    l4 = conv_bn(c4, 64, 1, 1, "lat4", "leaky")
    p4 = L.Add(name="fuse4")([l4, u5])                                 # ADD
    p4 = dw_sep(p4, 64, 1, "smooth4", "leaky")                         # 8x10x64
    r4 = conv_bn(p4, 32, 1, 1, "reduce4", "leaky")
    u4 = UpNearest2x(name="up4")(r4)    # RESIZE_NEAREST 16x20
    l3 = conv_bn(c3, 32, 1, 1, "lat3", "leaky")
    p3 = L.Concatenate(name="fuse3")([l3, u4])                         # CONCATENATION 64ch
    p3 = dw_sep(p3, 48, 1, "smooth3", "leaky")                         # 16x20x48
    # heads: 1x1 conv, linear
    o8 = L.Conv2D(HEAD_CH, 1, name="head_s8")(p3)                      # 16x20x21
    o16 = L.Conv2D(HEAD_CH, 1, name="head_s16")(p4)                    # 8x10x21
    o32 = L.Conv2D(HEAD_CH, 1, name="head_s32")(p5)                    # 4x5x21
    return tf.keras.Model(inp, [o8, o16, o32], name="yolofpn")


def main():
    modelkit.seed_everything(SEED)
    rng = np.random.default_rng(SEED)
    imgs = photos()
    model = build()

    modelkit.calibrate_batch_norm(model, lambda: random_crops(rng, imgs, 32, hw=(H, W)), 0.99)

    calib = random_crops(rng, imgs, 64, hw=(H, W))
    outs = model.predict(calib[:8], verbose=0)
    print("float head ranges on 8 calibration crops:",
          [(round(float(o.min()), 2), round(float(o.max()), 2)) for o in outs])

    modelkit.convert_int8(model, calib, OUT)


if __name__ == "__main__":
    main()
