"""What the model scripts share.  Importing this module first pins
TensorFlow's deterministic CPU environment (it must be set before TensorFlow
is imported); `convert_int8` is the full-int8 TFLiteConverter run every Keras
model here goes through."""
import contextlib
import io
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def convert_int8(model, calib, out, int8_io=True):
    """Full-int8 conversion calibrated on `calib` (one image per step), written
    to `out`.  `int8_io`: int8 graph input/outputs; otherwise float32, so
    QUANTIZE/DEQUANTIZE appear at the edges."""
    import tensorflow as tf

    def representative():
        for i in range(len(calib)):
            yield [calib[i:i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    with contextlib.redirect_stdout(io.StringIO()):  # Keras' export listing
        tfl = conv.convert()
    with open(out, "wb") as f:
        f.write(tfl)
    print("wrote", out, len(tfl), "bytes")


def seed_everything(seed):
    """Python, numpy and TensorFlow seeds, and TensorFlow's deterministic ops."""
    import random

    import numpy as np
    import tensorflow as tf
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def calibrate_batch_norm(model, crops, final_momentum):
    """Batch-norm statistics from calibration crops: momentum 0 for the first
    pass makes the moving statistics equal that batch's, three passes at 0.5
    average in more batches (`crops()` returns the next batch).  Without this
    the moving statistics stay at mean 0 / variance 1 and the activations
    collapse."""
    import tensorflow as tf
    bns = [l for l in model.layers if isinstance(l, tf.keras.layers.BatchNormalization)]
    for mom in [0.0, 0.5, 0.5, 0.5]:
        for l in bns:
            l.momentum = mom
        model(crops(), training=True)
    for l in bns:
        l.momentum = final_momentum
