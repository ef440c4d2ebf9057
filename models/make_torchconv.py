#!/usr/bin/env python3
"""models/torchconv-int8.tflite: a small seeded CNN written in PyTorch (NCHW,
input 1x3x64x64), int8-quantized with PT2E (litert-torch's PT2EQuantizer:
per-channel symmetric int8 weights, symmetric int8 activations, histogram
observers) and converted with litert-torch.  The TFLite graph keeps the
PyTorch layout at its edges: float32 NCHW input -> QUANTIZE -> TRANSPOSE to
NHWC, and TRANSPOSE back to NCHW before the flatten of the classifier head;
float32 output after a DEQUANTIZE.  Random seeded weights, batch-norm
statistics calibrated on seeded crops of scikit-image's bundled photos (as
make_mbv2.py), activation ranges calibrated on 64 more such crops.
Deterministic: re-run to regenerate.

Packages (tools/requirements.txt; they install next to the TensorFlow pins
without conflicts): litert-torch==0.10.0, torch==2.14.1, torchao==0.18.0.

Conversion notes:
- litert_torch.convert(..., quant_config=QuantConfig(pt2e_quantizer=...))
  with the default (V1) converter folds the graph's boundary quantize /
  dequantize into int8 input/output tensors.  The converter's own
  `strict_qdq_mode` flag keeps them as QUANTIZE / DEQUANTIZE ops with float32
  graph I/O; litert_torch 0.10.0 does not expose it, so `strict_qdq()` below
  sets it on the config litert_torch passes to the converter passes.  (The V2
  converter, `use_v2=True`, sets strict_qdq_mode by default, but it rejects
  quant_config and needs a tf-nightly build.)
- nn.Conv2d padding=1 with stride 2 converts to PAD + VALID CONV_2D; with
  stride 1 to a SAME CONV_2D.  BatchNorm is folded into the convs by PT2E's
  prepare step; ReLU is fused into the convs.
- The global pool is nn.AdaptiveAvgPool2d(1) (int8 MEAN on the NHWC tensor).
  Written as x.mean(dim=(2, 3)) it took a float detour instead (DEQUANTIZE ->
  float TRANSPOSE -> QUANTIZE before the AVERAGE_POOL_2D branch)."""
import contextlib
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modelkit  # noqa: E402,F401  (first: pins the deterministic TF environment)
import numpy as np
import torch
import torch.nn as nn
# litert_torch (which loads triton) must be imported before TensorFlow (which
# make_mbv2 imports): importing triton after TensorFlow segfaults.
import litert_torch  # noqa: E402,I001
from litert_torch.quantize import pt2e_quantizer  # noqa: E402
from litert_torch.quantize.quant_config import QuantConfig  # noqa: E402
from torchao.quantization.pt2e import quantize_pt2e  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from make_mbv2 import photos, random_crops  # noqa: E402

SEED = 20261124
SIZE = 64
CLASSES = 10
OUT = os.path.join(HERE, "torchconv-int8.tflite")


def conv_bn(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout))


class TorchConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 2)       # 32x32
        self.down1 = conv_bn(16, 32, 2)     # 16x16
        self.res_a = conv_bn(32, 32, 1)     # residual block
        self.res_b = conv_bn(32, 32, 1)
        self.down2 = conv_bn(32, 48, 2)     # 8x8
        self.pool = nn.AvgPool2d(2)         # 4x4
        self.gap = nn.AdaptiveAvgPool2d(1)  # global average pool -> MEAN
        self.fc = nn.Linear(48 * 4 * 4 + 48, CLASSES)

    def forward(self, x):                   # x: N x 3 x 64 x 64 (NCHW)
        x = torch.relu(self.stem(x))
        x = torch.relu(self.down1(x))
        x = torch.relu(x + self.res_b(torch.relu(self.res_a(x))))
        x = torch.relu(self.down2(x))
        g = torch.flatten(self.gap(x), 1)
        p = torch.flatten(self.pool(x), 1)  # NCHW flatten -> TRANSPOSE + RESHAPE
        return self.fc(torch.cat([p, g], 1))


@contextlib.contextmanager
def strict_qdq():
    """Set the converter flag strict_qdq_mode (see the module docstring)."""
    from litert_converter.mlir._mlir_libs import converter_api_ext as ext
    run = ext.run_convert_to_tfl_passes

    def run_strict(module, pass_manager, config):
        config.strict_qdq_mode = True
        return run(module, pass_manager, config)

    ext.run_convert_to_tfl_passes = run_strict
    try:
        yield
    finally:
        ext.run_convert_to_tfl_passes = run


def nchw(a):
    return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))


def main():
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    imgs = photos()
    model = TorchConv()

    # Batch-norm calibration: momentum None = cumulative average of the batch
    # statistics over the 4 seeded batches (make_mbv2.py does the same with
    # Keras' momentum 0 / 0.5 passes).
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
    with torch.no_grad():
        for _ in range(4):
            model(nchw(random_crops(rng, imgs, 32, size=SIZE)))
    model.eval()

    calib = nchw(random_crops(rng, imgs, 64, size=SIZE))
    with torch.no_grad():
        probs = torch.softmax(model(calib[:8]), 1).numpy()
    print("float softmax max on 8 calibration crops:", np.round(probs.max(1), 3))

    args = (calib[:1],)
    exported = torch.export.export(model, args).module()
    quantizer = pt2e_quantizer.PT2EQuantizer().set_global(
        pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True))
    prepared = quantize_pt2e.prepare_pt2e(exported, quantizer)
    with torch.no_grad():
        for i in range(len(calib)):
            prepared(calib[i:i + 1])
    quantized = quantize_pt2e.convert_pt2e(prepared, fold_quantize=False)
    with strict_qdq():
        edge = litert_torch.convert(quantized, args,
                                    quant_config=QuantConfig(pt2e_quantizer=quantizer))
    edge.export(OUT)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
