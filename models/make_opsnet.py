#!/usr/bin/env python3
"""models/opsnet-int8.tflite: a small seeded Keras model whose full-int8
conversion (float32 input/outputs, so QUANTIZE/DEQUANTIZE appear at the edges)
exercises the ops the two real models do not: PAD, MAX_POOL_2D,
AVERAGE_POOL_2D, CONCATENATION, LOGISTIC, HARD_SWISH, RESIZE_BILINEAR, RELU,
FULLY_CONNECTED, SOFTMAX, MEAN, ADD, dilated CONV_2D / DEPTHWISE_CONV_2D.
Deterministic: re-run to regenerate."""
import os
import random
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
OUT = os.path.join(HERE, "opsnet-int8.tflite")
L = tf.keras.layers


def hard_swish(x):
    # x * relu6(x + 3) / 6: the converter fuses this pattern into HARD_SWISH
    return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


class DilatedConv(L.Layer):
    """Conv / depthwise conv with a native dilation attribute.  (Keras'
    Conv2D/DepthwiseConv2D(dilation_rate=2) go through TF's
    SPACE_TO_BATCH_ND -> conv -> BATCH_TO_SPACE_ND form, which this converter
    does not fold back into a dilated TFLite conv.)"""

    def __init__(self, filters, kernel, rate, depthwise=False, activation=None, **kw):
        super().__init__(**kw)
        self.filters, self.kernel, self.rate, self.depthwise = filters, kernel, rate, depthwise
        self.activation = tf.keras.activations.get(activation)

    def build(self, shape):
        cin = shape[-1]
        kshape = (self.kernel, self.kernel, cin, 1 if self.depthwise else self.filters)
        self.w = self.add_weight(shape=kshape, initializer="glorot_uniform", name="kernel")
        self.b = self.add_weight(shape=(cin if self.depthwise else self.filters,),
                                 initializer=BIAS_INIT, name="bias")

    def call(self, x):
        if self.depthwise:
            y = tf.raw_ops.DepthwiseConv2dNative(input=x, filter=self.w, strides=[1, 1, 1, 1],
                                                 padding="SAME",
                                                 dilations=[1, self.rate, self.rate, 1])
        else:
            y = tf.nn.conv2d(x, self.w, strides=1, padding="SAME", dilations=self.rate)
        return self.activation(tf.nn.bias_add(y, self.b))


BIAS_INIT = tf.keras.initializers.RandomUniform(-0.2, 0.2, seed=SEED)


def build():
    kw = dict(bias_initializer=BIAS_INIT)
    inp = L.Input((32, 32, 3), name="image")
    x = L.Conv2D(16, 3, padding="same", activation="relu", name="stem", **kw)(inp)  # CONV_2D+RELU
    x = L.ZeroPadding2D(((1, 2), (2, 1)), name="pad")(x)                             # PAD 35x35
    x = L.MaxPooling2D((4, 3), strides=2, name="maxpool")(x)                         # MAX_POOL_2D 16x17
    a = DilatedConv(16, 3, 2, name="dil_conv")(x)                                    # CONV_2D dilation 2
    a = L.Lambda(hard_swish, name="hswish")(a)                                       # HARD_SWISH
    c = L.AveragePooling2D(3, strides=1, padding="same", name="avgpool")(x)          # AVERAGE_POOL_2D
    b = DilatedConv(16, 3, 2, depthwise=True, activation="relu6", name="dil_dw")(x)  # DEPTHWISE dil 2
    y = L.Concatenate(name="concat")([a, b, c])                                      # CONCATENATION 48ch
    y = L.Conv2D(24, 1, name="mix", **kw)(y)
    s = L.Conv2D(24, 1, name="skip", **kw)(x)
    z = L.Add(name="add")([y, s])                                                    # ADD
    u = L.Conv2D(24, 3, strides=2, padding="same", name="down", **kw)(z)             # 8x9
    u = L.UpSampling2D(2, interpolation="bilinear", name="up")(u)                    # RESIZE_BILINEAR 16x18
    u = L.ReLU(name="relu")(u)                                                       # RELU
    g = L.GlobalAveragePooling2D(name="gap")(u)                                      # MEAN
    h = L.Dense(32, activation="relu", use_bias=False, name="fc")(g)                 # FULLY_CONNECTED, no bias
    cls = L.Dense(10, activation="softmax", name="cls", **kw)(h)                     # FULLY_CONNECTED+SOFTMAX
    gate = L.Dense(1, activation="sigmoid", name="gate", **kw)(h)                    # FULLY_CONNECTED+LOGISTIC
    return tf.keras.Model(inp, [cls, gate], name="opsnet")


def main():
    random.seed(SEED)
    np.random.seed(SEED)
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(SEED)
    model = build()
    calib = random_crops(rng, photos(), 64, size=32)

    modelkit.convert_int8(model, calib, OUT, int8_io=False)


if __name__ == "__main__":
    main()
