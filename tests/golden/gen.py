#!/usr/bin/env python3
"""Golden data for patchwise's bit-exactness tests.  Seeded and deterministic:
re-run (`python tests/golden/gen.py`, or tools/regen) to regenerate.

ops/     single-op int8 .tflite models built directly with the flatbuffer object
         API (full control of shapes, zero points, per-channel scales, options),
         with seeded inputs ops/<case>.in<k>.npy (k = subgraph input order,
         non-constant inputs only) and outputs ops/<case>.out<k>.npy.
models/  whole-model cases for every models/*.tflite:
         models/<stem>.<variant>.in0.npy / .out<k>.npy.
detect/  the FLOAT BlazeFace (MediaPipe's face_detection_short_range, prepared
         by models/make_blazeface.py, before quantization) on every
         assets/images/*-128.png: detect/<image>.float.out<k>.npy (float32,
         0 = regressors [1,896,16], 1 = classificators [1,896,1]).  The int8
         model's detections are checked against these (cli/tests/detect.rs).
manifest.json lists every case (and every skipped one, with the reason).

Every output comes from THE ORACLE: LiteRT's Interpreter with
OpResolverType.BUILTIN_REF (never the default XNNPACK resolver)."""
import glob
import hashlib
import json
import math
import os
import re
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import tfl  # noqa: E402
from ai_edge_litert import schema_py_generated as S  # noqa: E402

SEED = 20261124
OPS_DIR = os.path.join(HERE, "ops")
MODELS_DIR = os.path.join(HERE, "models")
DETECT_DIR = os.path.join(HERE, "detect")
BO = S.BuiltinOperator
ACT = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
PAD = {"SAME": S.Padding.SAME, "VALID": S.Padding.VALID}
TT = {np.dtype(np.int8): S.TensorType.INT8, np.dtype(np.int32): S.TensorType.INT32,
      np.dtype(np.int64): S.TensorType.INT64, np.dtype(np.uint8): S.TensorType.UINT8,
      np.dtype(np.float32): S.TensorType.FLOAT32}

rng = np.random.default_rng(SEED)


# --------------------------------------------------------------------------
# flatbuffer model builder
# --------------------------------------------------------------------------
class Quant:
    def __init__(self, scale, zero_point, axis=0):
        self.scale = np.atleast_1d(np.asarray(scale, np.float32))
        self.zero_point = np.atleast_1d(np.asarray(zero_point, np.int64))
        if len(self.zero_point) == 1 and len(self.scale) > 1:
            self.zero_point = np.zeros(len(self.scale), np.int64)
        self.axis = int(axis)

    def summary(self):
        s = [float(x) for x in self.scale]
        z = [int(x) for x in self.zero_point]
        return {"scale": s[0] if len(s) == 1 else s, "zero_point": z[0] if len(z) == 1 else z,
                **({"axis": self.axis} if len(s) > 1 else {})}


class Graph:
    def __init__(self):
        self.tensors, self.buffers, self.ops = [], [S.BufferT()], []
        self.opcodes = {}

    def tensor(self, shape, dtype, q=None, data=None, name=None):
        t = S.TensorT()
        t.shape = np.asarray(shape, np.int32)
        t.type = TT[np.dtype(dtype)]
        t.name = name or f"t{len(self.tensors)}"
        if data is not None:
            arr = np.asarray(data, dtype=dtype)
            assert list(arr.shape) == list(shape), (arr.shape, shape)
            b = S.BufferT()
            b.data = np.frombuffer(arr.tobytes(), np.uint8)
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        if q is not None:
            qp = S.QuantizationParametersT()
            qp.scale = q.scale
            qp.zeroPoint = q.zero_point
            qp.quantizedDimension = q.axis
            t.quantization = qp
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(self, code, version, inputs, outputs, opt_type=0, opt=None):
        key = (code, version)
        if key not in self.opcodes:
            self.opcodes[key] = len(self.opcodes)
        o = S.OperatorT()
        o.opcodeIndex = self.opcodes[key]
        o.inputs = np.asarray(inputs, np.int32)
        o.outputs = np.asarray(outputs, np.int32)
        o.builtinOptionsType = opt_type
        o.builtinOptions = opt
        self.ops.append(o)

    def finish(self, inputs, outputs, name):
        m = S.ModelT()
        m.version = 3
        m.description = f"patchwise golden op case {name}"
        for (code, version), _ in sorted(self.opcodes.items(), key=lambda kv: kv[1]):
            oc = S.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, BO.PLACEHOLDER_FOR_GREATER_OP_CODES)
            oc.version = version
            m.operatorCodes = (m.operatorCodes or []) + [oc]
        sg = S.SubGraphT()
        sg.tensors, sg.operators, sg.name = self.tensors, self.ops, "main"
        sg.inputs = np.asarray(inputs, np.int32)
        sg.outputs = np.asarray(outputs, np.int32)
        m.subgraphs = [sg]
        m.buffers = self.buffers
        return tfl.pack(m)


# --------------------------------------------------------------------------
# random quantization helpers (TFLite int8 quantization spec)
# --------------------------------------------------------------------------
def f32(x):
    return float(np.float32(x))


def rand_scale(lo=0.01, hi=0.1):
    return f32(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def act_q(lo=0.01, hi=0.1, zp=None):
    """Asymmetric int8 activation: random scale, zero point in [-128, 127]."""
    return Quant(rand_scale(lo, hi), int(rng.integers(-128, 128)) if zp is None else zp)


def rand_int8(shape):
    """Seeded random int8 that always contains -128 and 127."""
    a = rng.integers(-128, 128, size=shape, dtype=np.int8)
    if a.size >= 2:
        idx = rng.choice(a.size, 2, replace=False)
        a.flat[idx[0]], a.flat[idx[1]] = -128, 127
    return a


def rand_weights(shape, axis, per_channel):
    """Symmetric int8 weights in [-127, 127], zp 0; per channel along `axis`
    (or per tensor).  Each channel hits +-127 like a real symmetric quantizer."""
    w = rng.integers(-127, 128, size=shape).astype(np.int8)
    n = shape[axis]
    wm = np.moveaxis(w, axis, 0).reshape(n, -1)
    for c in range(n):
        wm[c, int(rng.integers(wm.shape[1]))] = 127 if rng.integers(2) else -127
    w = np.moveaxis(wm.reshape([shape[axis]] + [s for i, s in enumerate(shape) if i != axis]), 0, axis)
    scales = [rand_scale(0.002, 0.02) for _ in range(n)] if per_channel else [rand_scale(0.002, 0.02)]
    return np.ascontiguousarray(w), Quant(scales, 0, axis if per_channel else 0)


def bias_for(in_q, w_q, n, acc_std):
    """int32 bias, scale input_scale * filter_scale[c], zp 0."""
    ws = w_q.scale if len(w_q.scale) > 1 else np.repeat(w_q.scale, n)
    bscale = (np.float32(in_q.scale[0]) * ws.astype(np.float32)).astype(np.float32)
    real = rng.normal(0.0, acc_std, size=n)
    b = np.round(real / bscale.astype(np.float64)).astype(np.int32)
    return b, Quant(bscale if len(w_q.scale) > 1 else bscale[:1], 0)


def out_q_for(acc_std, act="NONE"):
    if act == "RELU_N1_TO_1":
        return act_q(1.0 / 160, 1.0 / 64)
    s = acc_std * rng.uniform(1.5, 5.0) / 127.0
    if act == "RELU6":
        s = min(s, 6.0 / 255 * rng.uniform(0.8, 1.6))
    return Quant(f32(s), int(rng.integers(-128, 128)))


def fit_weights_to_act(wq, acc_std, act):
    """For RELU6 / RELU_N1_TO_1 rescale the weight scales so the accumulator's
    real spread suits the clamp range (else nearly every output saturates)."""
    target = {"RELU6": 3.0, "RELU_N1_TO_1": 0.7}.get(act)
    if target is None:
        return acc_std
    f = target / acc_std * rng.uniform(0.7, 1.4)
    wq.scale = (wq.scale.astype(np.float64) * f).astype(np.float32)
    return acc_std * f


def add_bias_input(g, ins, bias, iq, wq, n, acc_std):
    """bias True: int32 bias tensor; 'optional': input index -1;
    'omitted': no third input at all."""
    if bias is True:
        b, bq = bias_for(iq, wq, n, acc_std)
        ins.append(g.tensor([n], np.int32, bq, b, name="bias"))
    elif bias == "optional":
        ins.append(-1)
    else:
        assert bias == "omitted"


def conv_out(n, k, s, d, pad):
    ek = (k - 1) * d + 1
    return -(-n // s) if pad == "SAME" else (n - ek) // s + 1


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------
CASES = []  # (name, op, params, builder) ; builder(g) -> (inputs, outputs, feeds)


def case(name, op, params):
    def deco(fn):
        CASES.append((name, op, params, fn))
        return fn
    return deco


def add_conv(name, H, W, Cin, Cout, kh, kw, stride, dil, pad, act, per_channel, bias, batch=1):
    sh, sw = stride
    dh, dw = dil
    params = dict(input=[batch, H, W, Cin], filters=Cout, kernel=[kh, kw], stride=[sh, sw],
                  dilation=[dh, dw], padding=pad, activation=act, per_channel=per_channel, bias=bias)

    @case(name, "CONV_2D", params)
    def build(g):
        iq = act_q()
        w, wq = rand_weights([Cout, kh, kw, Cin], 0, per_channel)
        acc_std = math.sqrt(kh * kw * Cin) * 74 * iq.scale[0] * 73 * float(np.mean(wq.scale))
        acc_std = fit_weights_to_act(wq, acc_std, act)
        oq = out_q_for(acc_std, act)
        Ho, Wo = conv_out(H, kh, sh, dh, pad), conv_out(W, kw, sw, dw, pad)
        x = g.tensor([batch, H, W, Cin], np.int8, iq, name="input")
        wt = g.tensor(w.shape, np.int8, wq, w, name="filter")
        ins = [x, wt]
        add_bias_input(g, ins, bias, iq, wq, Cout, acc_std)
        y = g.tensor([batch, Ho, Wo, Cout], np.int8, oq, name="output")
        o = S.Conv2DOptionsT()
        o.padding, o.strideH, o.strideW = PAD[pad], sh, sw
        o.dilationHFactor, o.dilationWFactor, o.fusedActivationFunction = dh, dw, ACT[act]
        g.op(BO.CONV_2D, 3, ins, [y], S.BuiltinOptions.Conv2DOptions, o)
        return [x], [y], [rand_int8([batch, H, W, Cin])]


def add_dw(name, H, W, Cin, mult, kh, kw, stride, dil, pad, act, per_channel, bias, batch=1):
    sh, sw = stride
    dh, dw = dil
    Cout = Cin * mult
    params = dict(input=[batch, H, W, Cin], depth_multiplier=mult, kernel=[kh, kw], stride=[sh, sw],
                  dilation=[dh, dw], padding=pad, activation=act, per_channel=per_channel, bias=bias)

    @case(name, "DEPTHWISE_CONV_2D", params)
    def build(g):
        iq = act_q()
        w, wq = rand_weights([1, kh, kw, Cout], 3, per_channel)
        acc_std = math.sqrt(kh * kw) * 74 * iq.scale[0] * 73 * float(np.mean(wq.scale))
        acc_std = fit_weights_to_act(wq, acc_std, act)
        oq = out_q_for(acc_std, act)
        Ho, Wo = conv_out(H, kh, sh, dh, pad), conv_out(W, kw, sw, dw, pad)
        x = g.tensor([batch, H, W, Cin], np.int8, iq, name="input")
        wt = g.tensor(w.shape, np.int8, wq, w, name="filter")
        ins = [x, wt]
        add_bias_input(g, ins, bias, iq, wq, Cout, acc_std)
        y = g.tensor([batch, Ho, Wo, Cout], np.int8, oq, name="output")
        o = S.DepthwiseConv2DOptionsT()
        o.padding, o.strideH, o.strideW, o.depthMultiplier = PAD[pad], sh, sw, mult
        o.dilationHFactor, o.dilationWFactor, o.fusedActivationFunction = dh, dw, ACT[act]
        g.op(BO.DEPTHWISE_CONV_2D, 3, ins, [y], S.BuiltinOptions.DepthwiseConv2DOptions, o)
        return [x], [y], [rand_int8([batch, H, W, Cin])]


def add_fc(name, in_shape, units, per_channel, bias, keep_num_dims, act="NONE"):
    K = in_shape[-1]
    params = dict(input=list(in_shape), units=units, per_channel=per_channel, bias=bias,
                  keep_num_dims=keep_num_dims, activation=act)

    @case(name, "FULLY_CONNECTED", params)
    def build(g):
        iq = act_q()
        w, wq = rand_weights([units, K], 0, per_channel)
        acc_std = math.sqrt(K) * 74 * iq.scale[0] * 73 * float(np.mean(wq.scale))
        acc_std = fit_weights_to_act(wq, acc_std, act)
        oq = out_q_for(acc_std, act)
        rows = int(np.prod(in_shape)) // K
        oshape = list(in_shape[:-1]) + [units] if keep_num_dims else [rows, units]
        x = g.tensor(in_shape, np.int8, iq, name="input")
        wt = g.tensor(w.shape, np.int8, wq, w, name="weights")
        ins = [x, wt]
        add_bias_input(g, ins, bias, iq, wq, units, acc_std)
        y = g.tensor(oshape, np.int8, oq, name="output")
        o = S.FullyConnectedOptionsT()
        o.fusedActivationFunction, o.keepNumDims = ACT[act], keep_num_dims
        g.op(BO.FULLY_CONNECTED, 5 if keep_num_dims else 4, ins, [y],
             S.BuiltinOptions.FullyConnectedOptions, o)
        return [x], [y], [rand_int8(in_shape)]


def add_add(name, a_shape, b_shape, act="NONE", same_scale=False, const_b=False):
    add_binary(name, "ADD", a_shape, b_shape, act, const_b, same_inputs=same_scale)


BINARY = {  # op name: (builtin code, version, options type, options class or None)
    "ADD": (BO.ADD, 2, S.BuiltinOptions.AddOptions, S.AddOptionsT),
    "MUL": (BO.MUL, 2, S.BuiltinOptions.MulOptions, S.MulOptionsT),
    "SUB": (BO.SUB, 2, S.BuiltinOptions.SubOptions, S.SubOptionsT),
    "SQUARED_DIFFERENCE": (BO.SQUARED_DIFFERENCE, 2, S.BuiltinOptions.SquaredDifferenceOptions, None),
    "MAXIMUM": (BO.MAXIMUM, 2, S.BuiltinOptions.MaximumMinimumOptions, None),
    "MINIMUM": (BO.MINIMUM, 2, S.BuiltinOptions.MaximumMinimumOptions, None),
    "PRELU": (BO.PRELU, 1, 0, None),
}


def add_binary(name, opname, a_shape, b_shape, act="NONE", const_b=False, same_q=False, same_inputs=False):
    """ADD / MUL / SUB / SQUARED_DIFFERENCE / MAXIMUM / MINIMUM / PRELU with
    broadcasting. same_q: both inputs and the output share one quantization
    (what the converter emits for MAXIMUM/MINIMUM); same_inputs: only the two
    inputs do."""
    params = dict(a=list(a_shape), b=list(b_shape), activation=act, b_constant=const_b, same_quant=same_q,
                  same_input_quant=same_inputs)
    code, version, opt_type, opt_cls = BINARY[opname]

    @case(name, opname, params)
    def build(g):
        qa = act_q()
        qb = Quant(qa.scale, qa.zero_point) if same_q or same_inputs else act_q()
        sa, sb = float(qa.scale[0]), float(qb.scale[0])
        if same_q:
            oq = Quant(qa.scale, qa.zero_point)
        elif opname == "PRELU":
            oq = Quant(f32(sa * rng.uniform(0.6, 1.6)), int(rng.integers(-128, 128)))
        elif opname == "MUL":
            oq = out_q_for(74 * 74 * sa * sb * 1.5, act)
        elif opname == "SQUARED_DIFFERENCE":
            oq = Quant(f32(((74 * math.hypot(sa, sb)) ** 2) / 128 * rng.uniform(0.6, 1.4)), int(rng.integers(-128, -64)))
        else:
            oq = out_q_for(74 * math.hypot(sa, sb) * 2.0, act)
        oshape = list(np.broadcast_shapes(tuple(a_shape), tuple(b_shape)))
        a = g.tensor(a_shape, np.int8, qa, name="a")
        bdata = rand_int8(b_shape)
        b = g.tensor(b_shape, np.int8, qb, bdata if const_b else None, name="b")
        y = g.tensor(oshape, np.int8, oq, name="output")
        o = None
        if opt_cls is not None:
            o = opt_cls()
            o.fusedActivationFunction = ACT[act]
        g.op(code, version, [a, b], [y], opt_type if o is not None else 0, o)  # PRELU: b is the alpha
        if const_b:
            return [a], [y], [rand_int8(a_shape)]
        return [a, b], [y], [rand_int8(a_shape), bdata]


def add_leaky_relu(name, shape, alpha, same_q=False):
    params = dict(input=list(shape), alpha=alpha, same_quant=same_q)

    @case(name, "LEAKY_RELU", params)
    def build(g):
        iq = act_q(0.01, 0.12)
        oq = Quant(iq.scale, iq.zero_point) if same_q else \
            Quant(f32(iq.scale[0] * rng.uniform(0.4, 1.6)), int(rng.integers(-128, 128)))
        x = g.tensor(shape, np.int8, iq, name="input")
        y = g.tensor(shape, np.int8, oq, name="output")
        o = S.LeakyReluOptionsT()
        o.alpha = alpha
        g.op(BO.LEAKY_RELU, 2, [x], [y], S.BuiltinOptions.LeakyReluOptions, o)
        return [x], [y], [rand_int8(shape)]


def add_resize_nearest(name, shape, size, align, hpc):
    add_resize(name, shape, size, align, hpc, nearest=True)


def add_squeeze(name, shape, dims):
    params = dict(input=list(shape), squeeze_dims=list(dims))
    out = [d for i, d in enumerate(shape) if not (i in dims or (i - len(shape)) in dims or (not dims and d == 1))]

    @case(name, "SQUEEZE", params)
    def build(g):
        q = act_q()
        x = g.tensor(shape, np.int8, q, name="input")
        y = g.tensor(out, np.int8, Quant(q.scale, q.zero_point), name="output")
        o = S.SqueezeOptionsT()
        o.squeezeDims = np.asarray(dims, np.int32) if dims else None
        g.op(BO.SQUEEZE, 1, [x], [y], S.BuiltinOptions.SqueezeOptions, o)
        return [x], [y], [rand_int8(shape)]


def add_expand_dims(name, shape, axis):
    params = dict(input=list(shape), axis=axis)
    a = axis if axis >= 0 else axis + len(shape) + 1
    out = list(shape[:a]) + [1] + list(shape[a:])

    @case(name, "EXPAND_DIMS", params)
    def build(g):
        q = act_q()
        x = g.tensor(shape, np.int8, q, name="input")
        ax = g.tensor([1], np.int32, None, np.asarray([axis], np.int32), name="axis")
        y = g.tensor(out, np.int8, Quant(q.scale, q.zero_point), name="output")
        g.op(BO.EXPAND_DIMS, 1, [x, ax], [y], S.BuiltinOptions.ExpandDimsOptions, S.ExpandDimsOptionsT())
        return [x], [y], [rand_int8(shape)]


def add_transpose(name, shape, perm, dtype=np.int8):
    params = dict(input=list(shape), perm=list(perm), dtype=np.dtype(dtype).name)
    out = [shape[p] for p in perm]

    @case(name, "TRANSPOSE", params)
    def build(g):
        q = act_q() if dtype == np.int8 else None
        x = g.tensor(shape, dtype, q, name="input")
        pt = g.tensor([len(perm)], np.int32, None, np.asarray(perm, np.int32), name="perm")
        y = g.tensor(out, dtype, None if q is None else Quant(q.scale, q.zero_point), name="output")
        g.op(BO.TRANSPOSE, 2 if dtype == np.int8 else 1, [x, pt], [y], S.BuiltinOptions.TransposeOptions,
             S.TransposeOptionsT())
        feed = rand_int8(shape) if dtype == np.int8 else rng.standard_normal(shape).astype(np.float32)
        return [x], [y], [feed]


def add_space_depth(name, to_space, shape, block):
    params = dict(input=list(shape), block_size=block)
    n, h, w, c = shape
    out = [n, h * block, w * block, c // (block * block)] if to_space else [n, h // block, w // block, c * block * block]
    opname = "DEPTH_TO_SPACE" if to_space else "SPACE_TO_DEPTH"

    @case(name, opname, params)
    def build(g):
        q = act_q()
        x = g.tensor(shape, np.int8, q, name="input")
        y = g.tensor(out, np.int8, Quant(q.scale, q.zero_point), name="output")
        o = S.DepthToSpaceOptionsT() if to_space else S.SpaceToDepthOptionsT()
        o.blockSize = block
        t = S.BuiltinOptions.DepthToSpaceOptions if to_space else S.BuiltinOptions.SpaceToDepthOptions
        # BUILTIN_REF registers DEPTH_TO_SPACE v1 only (v2 has the same semantics; patchwise accepts both).
        g.op(BO.DEPTH_TO_SPACE if to_space else BO.SPACE_TO_DEPTH, 1 if to_space else 2, [x], [y], t, o)
        return [x], [y], [rand_int8(shape)]


def add_tile(name, shape, multiples, dtype=np.int8):
    params = dict(input=list(shape), multiples=list(multiples), dtype=np.dtype(dtype).name)
    out = [s * m for s, m in zip(shape, multiples)]

    @case(name, "TILE", params)
    def build(g):
        q = act_q() if dtype == np.int8 else None
        x = g.tensor(shape, dtype, q, name="input")
        m = g.tensor([len(shape)], np.int32, None, np.asarray(multiples, np.int32), name="multiples")
        y = g.tensor(out, dtype, None if q is None else Quant(q.scale, q.zero_point), name="output")
        g.op(BO.TILE, 1, [x, m], [y], S.BuiltinOptions.TileOptions, S.TileOptionsT())
        feed = rand_int8(shape) if dtype == np.int8 else rng.standard_normal(shape).astype(np.float32)
        return [x], [y], [feed]


def add_slice(name, shape, begin, size):
    params = dict(input=list(shape), begin=list(begin), size=list(size))
    out = [s - b if z == -1 else z for s, b, z in zip(shape, begin, size)]

    @case(name, "SLICE", params)
    def build(g):
        q = act_q()
        x = g.tensor(shape, np.int8, q, name="input")
        b = g.tensor([len(shape)], np.int32, None, np.asarray(begin, np.int32), name="begin")
        z = g.tensor([len(shape)], np.int32, None, np.asarray(size, np.int32), name="size")
        y = g.tensor(out, np.int8, Quant(q.scale, q.zero_point), name="output")
        g.op(BO.SLICE, 2, [x, b, z], [y], S.BuiltinOptions.SliceOptions, S.SliceOptionsT())
        return [x], [y], [rand_int8(shape)]


def add_pad(name, shape, pads):
    params = dict(input=list(shape), paddings=[list(p) for p in pads])

    @case(name, "PAD", params)
    def build(g):
        q = act_q()
        oshape = [s + p[0] + p[1] for s, p in zip(shape, pads)]
        x = g.tensor(shape, np.int8, q, name="input")
        p = g.tensor([len(shape), 2], np.int32, None, np.asarray(pads, np.int32), name="paddings")
        y = g.tensor(oshape, np.int8, Quant(q.scale, q.zero_point), name="output")
        g.op(BO.PAD, 2, [x, p], [y], S.BuiltinOptions.PadOptions, S.PadOptionsT())
        return [x], [y], [rand_int8(shape)]


def add_pool(name, code, shape, fh, fw, stride, pad, act="NONE"):
    sh, sw = stride
    opname = "MAX_POOL_2D" if code == BO.MAX_POOL_2D else "AVERAGE_POOL_2D"
    params = dict(input=list(shape), filter=[fh, fw], stride=[sh, sw], padding=pad, activation=act)

    @case(name, opname, params)
    def build(g):
        # with a fused activation keep the zero point low so the clamp bites
        q = act_q() if act == "NONE" else act_q(zp=int(rng.integers(-128, 1)))
        Ho, Wo = conv_out(shape[1], fh, sh, 1, pad), conv_out(shape[2], fw, sw, 1, pad)
        x = g.tensor(shape, np.int8, q, name="input")
        y = g.tensor([shape[0], Ho, Wo, shape[3]], np.int8, Quant(q.scale, q.zero_point), name="output")
        o = S.Pool2DOptionsT()
        o.padding, o.strideH, o.strideW = PAD[pad], sh, sw
        o.filterHeight, o.filterWidth, o.fusedActivationFunction = fh, fw, ACT[act]
        g.op(code, 2, [x], [y], S.BuiltinOptions.Pool2DOptions, o)
        return [x], [y], [rand_int8(shape)]


def add_mean(name, shape, axis, keep_dims, same_q):
    params = dict(input=list(shape), axis=list(axis), keep_dims=keep_dims, same_quant=same_q)

    @case(name, "MEAN", params)
    def build(g):
        q = act_q()
        if same_q:
            oq = Quant(q.scale, q.zero_point)
        else:  # output zp near where the mean of uniform int8 input lands
            so = f32(q.scale[0] * rng.uniform(0.3, 1.2))
            zo = round(float((int(q.zero_point[0]) + 0.5) * q.scale[0] / so)) + int(rng.integers(-20, 21))
            oq = Quant(so, int(np.clip(zo, -128, 127)))
        ax = [a % len(shape) for a in axis]
        oshape = [1 if i in ax else s for i, s in enumerate(shape)] if keep_dims else \
            [s for i, s in enumerate(shape) if i not in ax]
        x = g.tensor(shape, np.int8, q, name="input")
        a = g.tensor([len(axis)], np.int32, None, np.asarray(axis, np.int32), name="axis")
        y = g.tensor(oshape, np.int8, oq, name="output")
        o = S.ReducerOptionsT()
        o.keepDims = keep_dims
        g.op(BO.MEAN, 2, [x, a], [y], S.BuiltinOptions.ReducerOptions, o)
        return [x], [y], [rand_int8(shape)]


def add_reduce(name, opname, shape, axis, keep_dims):
    """REDUCE_MAX / REDUCE_MIN: raw int8 extremes, input and output share quantization."""
    params = dict(input=list(shape), axis=list(axis), keep_dims=keep_dims)

    @case(name, opname, params)
    def build(g):
        q = act_q()
        ax = [a % len(shape) for a in axis]
        oshape = [1 if i in ax else s for i, s in enumerate(shape)] if keep_dims else \
            [s for i, s in enumerate(shape) if i not in ax]
        x = g.tensor(shape, np.int8, q, name="input")
        a = g.tensor([len(axis)], np.int32, None, np.asarray(axis, np.int32), name="axis")
        y = g.tensor(oshape, np.int8, Quant(q.scale, q.zero_point), name="output")
        o = S.ReducerOptionsT()
        o.keepDims = keep_dims
        g.op(getattr(BO, opname), 2, [x, a], [y], S.BuiltinOptions.ReducerOptions, o)
        return [x], [y], [rand_int8(shape)]


def add_reshape(name, shape, new_shape, shape_input):
    params = dict(input=list(shape), new_shape=list(new_shape), shape_input_tensor=shape_input)

    @case(name, "RESHAPE", params)
    def build(g):
        q = act_q()
        n = int(np.prod(shape))
        ns = list(new_shape)
        if -1 in ns:
            ns[ns.index(-1)] = n // -int(np.prod(ns))
        x = g.tensor(shape, np.int8, q, name="input")
        ins = [x]
        if shape_input:
            ins.append(g.tensor([len(new_shape)], np.int32, None, np.asarray(new_shape, np.int32),
                                name="shape"))
        y = g.tensor(ns, np.int8, Quant(q.scale, q.zero_point), name="output")
        o = S.ReshapeOptionsT()
        o.newShape = np.asarray(new_shape, np.int32)
        g.op(BO.RESHAPE, 1, ins, [y], S.BuiltinOptions.ReshapeOptions, o)
        return [x], [y], [rand_int8(shape)]


def add_concat(name, shapes, axis, same_q):
    params = dict(inputs=[list(s) for s in shapes], axis=axis, same_quant=same_q)

    @case(name, "CONCATENATION", params)
    def build(g):
        q0 = act_q()
        qs = [Quant(q0.scale, q0.zero_point) if same_q else act_q() for _ in shapes]
        oq = Quant(q0.scale, q0.zero_point) if same_q else act_q()
        ax = axis % len(shapes[0])
        oshape = list(shapes[0])
        oshape[ax] = sum(s[ax] for s in shapes)
        xs = [g.tensor(s, np.int8, q, name=f"in{i}") for i, (s, q) in enumerate(zip(shapes, qs))]
        y = g.tensor(oshape, np.int8, oq, name="output")
        o = S.ConcatenationOptionsT()
        o.axis = axis
        g.op(BO.CONCATENATION, 2, xs, [y], S.BuiltinOptions.ConcatenationOptions, o)
        return xs, [y], [rand_int8(s) for s in shapes]


def add_softmax(name, shape, beta):
    params = dict(input=list(shape), beta=beta)

    @case(name, "SOFTMAX", params)
    def build(g):
        q = act_q(0.005, 0.06)
        x = g.tensor(shape, np.int8, q, name="input")
        y = g.tensor(shape, np.int8, Quant(1.0 / 256, -128), name="output")
        o = S.SoftmaxOptionsT()
        o.beta = beta
        g.op(BO.SOFTMAX, 2, [x], [y], S.BuiltinOptions.SoftmaxOptions, o)
        return [x], [y], [rand_int8(shape)]


def quantize_float_input(shape, scale, zp):
    """float32 input for QUANTIZE: random values, values exactly on the .5
    rounding boundaries of `scale` (k + 0.5) * scale (positive and negative),
    out-of-range values, zeros."""
    n = int(np.prod(shape))
    lo, hi = (-128 - zp) * scale, (127 - zp) * scale
    v = rng.uniform(lo * 1.1, hi * 1.1, size=n).astype(np.float32)
    k = rng.integers(-140, 140, size=n)
    ties = ((k + 0.5) * np.float64(scale)).astype(np.float32)
    sel = rng.random(n)
    v = np.where(sel < 0.4, ties, v)
    v[:8] = np.float32([lo * 3, hi * 3, -1e6, 1e6, 0.0, -0.0, 0.5 * scale, -0.5 * scale])
    rng.shuffle(v)
    return v.reshape(shape).astype(np.float32)


def add_quantize(name, shape, mode, pow2=False):
    params = dict(input=list(shape), mode=mode, pow2_scale=pow2)

    @case(name, "QUANTIZE", params)
    def build(g):
        oq = Quant(f32(2.0 ** -int(rng.integers(3, 7))) if pow2 else rand_scale(), int(rng.integers(-128, 128)))
        if mode == "float32->int8":
            x = g.tensor(shape, np.float32, None, name="input")
            feed = quantize_float_input(shape, float(oq.scale[0]), int(oq.zero_point[0]))
            ver = 1
        else:
            iq = act_q()
            x = g.tensor(shape, np.int8, iq, name="input")
            feed = rand_int8(shape)
            ver = 2
        y = g.tensor(shape, np.int8, oq, name="output")
        g.op(BO.QUANTIZE, ver, [x], [y], S.BuiltinOptions.QuantizeOptions, S.QuantizeOptionsT())
        return [x], [y], [feed]


def add_dequantize(name, shape):
    params = dict(input=list(shape))

    @case(name, "DEQUANTIZE", params)
    def build(g):
        q = act_q(0.001, 0.5)
        x = g.tensor(shape, np.int8, q, name="input")
        y = g.tensor(shape, np.float32, None, name="output")
        g.op(BO.DEQUANTIZE, 2, [x], [y], S.BuiltinOptions.DequantizeOptions, S.DequantizeOptionsT())
        return [x], [y], [rand_int8(shape)]


def add_unary(name, opname, shape, out_mode):
    """RELU / RELU6 / LOGISTIC / TANH / HARD_SWISH.  out_mode: 'same' (out quant = in
    quant), 'diff' (different random out quant), 'fixed' (LOGISTIC 1/256, -128; TANH 1/128, 0)."""
    params = dict(input=list(shape), out_quant=out_mode)
    code = getattr(BO, opname)
    version = 1 if opname == "HARD_SWISH" else 2

    @case(name, opname, params)
    def build(g):
        iq = act_q(0.01, 0.12)
        if out_mode == "same":
            oq = Quant(iq.scale, iq.zero_point)
        elif out_mode == "fixed":
            oq = Quant(1.0 / 128, 0) if opname == "TANH" else Quant(1.0 / 256, -128)
        elif opname == "RELU6":
            oq = Quant(f32(6.0 / 255 * rng.uniform(0.6, 1.5)), int(rng.integers(-128, 0)))
        else:
            oq = Quant(f32(iq.scale[0] * rng.uniform(0.4, 1.6)), int(rng.integers(-128, 128)))
        x = g.tensor(shape, np.int8, iq, name="input")
        y = g.tensor(shape, np.int8, oq, name="output")
        g.op(code, version, [x], [y])
        return [x], [y], [rand_int8(shape)]


def add_resize(name, shape, size, align, hpc, nearest=False):
    params = dict(input=list(shape), size=list(size), align_corners=align, half_pixel_centers=hpc)
    opname = "RESIZE_NEAREST_NEIGHBOR" if nearest else "RESIZE_BILINEAR"

    @case(name, opname, params)
    def build(g):
        q = act_q()
        x = g.tensor(shape, np.int8, q, name="input")
        s = g.tensor([2], np.int32, None, np.asarray(size, np.int32), name="size")
        y = g.tensor([shape[0], size[0], size[1], shape[3]], np.int8, Quant(q.scale, q.zero_point),
                     name="output")
        if nearest:
            o, t, v = S.ResizeNearestNeighborOptionsT(), S.BuiltinOptions.ResizeNearestNeighborOptions, 3
        else:
            o, t, v = S.ResizeBilinearOptionsT(), S.BuiltinOptions.ResizeBilinearOptions, 3 if hpc else 2
        o.alignCorners, o.halfPixelCenters = align, hpc
        g.op(getattr(BO, opname), v, [x, s], [y], t, o)
        return [x], [y], [rand_int8(shape)]


def add_strided_slice(name, shape, begin, end, strides, begin_mask=0, end_mask=0, shrink=0, offset=False,
                      ellipsis=0, new_axis=0):
    params = dict(input=list(shape), begin=list(begin), end=list(end), strides=list(strides),
                  begin_mask=begin_mask, end_mask=end_mask, shrink_axis_mask=shrink, offset=offset,
                  **({"ellipsis_mask": ellipsis, "new_axis_mask": new_axis} if ellipsis or new_axis else {}))
    # The output shape as numpy slicing gives it (the reference checks it against its own).
    probe = np.zeros(shape, np.int8)
    idx = []
    for d in range(len(begin)):
        if ellipsis & (1 << d):
            idx.append(Ellipsis)
            continue
        if new_axis & (1 << d):
            idx.append(None)
            continue
        b = None if begin_mask & (1 << d) else begin[d]
        e = None if end_mask & (1 << d) else (begin[d] + end[d] if offset else end[d])
        idx.append(b if shrink & (1 << d) else slice(b, e, strides[d]))
    out = list(probe[tuple(idx)].shape)

    @case(name, "STRIDED_SLICE", params)
    def build(g):
        q = act_q()
        x = g.tensor(shape, np.int8, q, name="input")
        ts = [g.tensor([len(begin)], np.int32, None, np.asarray(v, np.int32), name=n)
              for v, n in ((begin, "begin"), (end, "end"), (strides, "strides"))]
        y = g.tensor(out, np.int8, Quant(q.scale, q.zero_point), name="output")
        o = S.StridedSliceOptionsT()
        o.beginMask, o.endMask, o.shrinkAxisMask, o.offset = begin_mask, end_mask, shrink, offset
        o.ellipsisMask, o.newAxisMask = ellipsis, new_axis
        g.op(BO.STRIDED_SLICE, 4, [x] + ts, [y], S.BuiltinOptions.StridedSliceOptions, o)
        return [x], [y], [rand_int8(shape)]


def add_split(name, shape, axis, sizes, variant):
    """SPLIT (equal parts: `sizes` is the count), SPLIT_V (`sizes`, maybe one -1) or UNPACK."""
    params = dict(input=list(shape), axis=axis, sizes=sizes)
    rank, a = len(shape), axis % len(shape)
    if variant == "SPLIT":
        parts = [shape[a] // sizes] * sizes
    elif variant == "SPLIT_V":
        parts = [shape[a] - sum(s for s in sizes if s != -1) if s == -1 else s for s in sizes]
    else:
        parts = [1] * shape[a]

    @case(name, variant, params)
    def build(g):
        q = act_q()
        x = g.tensor(shape, np.int8, q, name="input")
        outs = []
        for k, p in enumerate(parts):
            s = list(shape)
            s[a] = p
            if variant == "UNPACK":
                s.pop(a)
            outs.append(g.tensor(s, np.int8, Quant(q.scale, q.zero_point), name=f"output{k}"))
        if variant == "SPLIT":
            ax = g.tensor([], np.int32, None, np.asarray(axis, np.int32), name="axis")
            o = S.SplitOptionsT()
            o.numSplits = sizes
            g.op(BO.SPLIT, 2, [ax, x], outs, S.BuiltinOptions.SplitOptions, o)
        elif variant == "SPLIT_V":
            sz = g.tensor([len(sizes)], np.int32, None, np.asarray(sizes, np.int32), name="size_splits")
            ax = g.tensor([], np.int32, None, np.asarray(axis, np.int32), name="axis")
            o = S.SplitVOptionsT()
            o.numSplits = len(sizes)
            g.op(BO.SPLIT_V, 2, [x, sz, ax], outs, S.BuiltinOptions.SplitVOptions, o)
        else:
            o = S.UnpackOptionsT()
            o.num, o.axis = len(parts), axis
            g.op(BO.UNPACK, 2, [x], outs, S.BuiltinOptions.UnpackOptions, o)
        return [x], outs, [rand_int8(shape)]


def add_pack(name, shape, n, axis, const_last=False, dtype=np.int8):
    params = dict(input=list(shape), values=n, axis=axis, const_last=const_last, dtype=np.dtype(dtype).name)
    out = list(shape)
    out.insert(axis % (len(shape) + 1), n)

    @case(name, "PACK", params)
    def build(g):
        q = act_q() if dtype == np.int8 else None
        draw = (lambda: rand_int8(shape)) if dtype == np.int8 else (
            lambda: rng.standard_normal(shape).astype(np.float32))
        feeds, xs = [], []
        for k in range(n):
            qk = None if q is None else Quant(q.scale, q.zero_point)
            if const_last and k == n - 1:
                xs.append(g.tensor(shape, dtype, qk, draw(), name=f"const{k}"))
            else:
                xs.append(g.tensor(shape, dtype, qk, name=f"input{k}"))
                feeds.append(draw())
        y = g.tensor(out, dtype, None if q is None else Quant(q.scale, q.zero_point), name="output")
        o = S.PackOptionsT()
        o.valuesCount, o.axis = n, axis
        g.op(BO.PACK, 2 if dtype == np.int8 else 1, xs, [y], S.BuiltinOptions.PackOptions, o)
        return [t for k, t in enumerate(xs) if not (const_last and k == n - 1)], [y], feeds


def add_gather(name, shape, axis, indices, batch_dims=0, index_dtype=np.int32, const_indices=True):
    indices = np.asarray(indices, index_dtype)
    params = dict(input=list(shape), axis=axis, indices=indices.tolist(), batch_dims=batch_dims,
                  index_dtype=np.dtype(index_dtype).name, const_indices=const_indices)
    a = axis % len(shape)
    out = list(shape[:a]) + list(indices.shape[batch_dims:]) + list(shape[a + 1:])

    @case(name, "GATHER", params)
    def build(g):
        q = act_q()
        x = g.tensor(shape, np.int8, q, name="params")
        if const_indices:
            i = g.tensor(list(indices.shape), index_dtype, None, indices, name="indices")
        else:
            i = g.tensor(list(indices.shape), index_dtype, None, name="indices")
        y = g.tensor(out, np.int8, Quant(q.scale, q.zero_point), name="output")
        o = S.GatherOptionsT()
        o.axis, o.batchDims = axis, batch_dims
        g.op(BO.GATHER, 5 if batch_dims else 1, [x, i], [y], S.BuiltinOptions.GatherOptions, o)
        if const_indices:
            return [x], [y], [rand_int8(shape)]
        return [x, i], [y], [rand_int8(shape), indices]


def add_arg(name, opname, shape, axis, out_dtype=np.int32, levels=None):
    """ARG_MAX / ARG_MIN; `levels` draws values from that few levels to force ties."""
    params = dict(input=list(shape), axis=axis, output_type=np.dtype(out_dtype).name, levels=levels)
    a = axis % len(shape)
    out = list(shape[:a]) + list(shape[a + 1:])

    @case(name, opname, params)
    def build(g):
        x = g.tensor(shape, np.int8, act_q(), name="input")
        ax = g.tensor([1], np.int32, None, np.asarray([axis], np.int32), name="axis")
        y = g.tensor(out, out_dtype, None, name="output")
        tt = TT[np.dtype(out_dtype)]
        if opname == "ARG_MAX":
            o, t = S.ArgMaxOptionsT(), S.BuiltinOptions.ArgMaxOptions
        else:
            o, t = S.ArgMinOptionsT(), S.BuiltinOptions.ArgMinOptions
        o.outputType = tt
        g.op(getattr(BO, opname), 2, [x, ax], [y], t, o)
        feed = rand_int8(shape) if levels is None else (
            rng.integers(0, levels, size=shape).astype(np.int8) * 40 - 60).astype(np.int8)
        return [x], [y], [feed]


def add_transpose_conv(name, H, W, Cin, Cout, kh, kw, stride, pad, out_hw, act="NONE", per_channel=True, bias=True,
                       batch=1):
    """TRANSPOSE_CONV; `out_hw` is the declared output size (the reference takes it as given)."""
    sh, sw = stride
    params = dict(input=[batch, H, W, Cin], filters=Cout, kernel=[kh, kw], stride=[sh, sw], padding=pad,
                  output=list(out_hw), activation=act, per_channel=per_channel, bias=bias)

    @case(name, "TRANSPOSE_CONV", params)
    def build(g):
        iq = act_q()
        w, wq = rand_weights([Cout, kh, kw, Cin], 0, per_channel)
        taps = max(1.0, kh * kw / (sh * sw))
        acc_std = math.sqrt(taps * Cin) * 74 * iq.scale[0] * 73 * float(np.mean(wq.scale))
        acc_std = fit_weights_to_act(wq, acc_std, act)
        oq = out_q_for(acc_std, act)
        out = [batch, out_hw[0], out_hw[1], Cout]
        osh = g.tensor([4], np.int32, None, np.asarray(out, np.int32), name="output_shape")
        wt = g.tensor(w.shape, np.int8, wq, w, name="filter")
        x = g.tensor([batch, H, W, Cin], np.int8, iq, name="input")
        ins = [osh, wt, x]
        if bias:
            b, bq = bias_for(iq, wq, Cout, acc_std)
            ins.append(g.tensor([Cout], np.int32, bq, b, name="bias"))
        y = g.tensor(out, np.int8, oq, name="output")
        o = S.TransposeConvOptionsT()
        o.padding, o.strideH, o.strideW, o.fusedActivationFunction = PAD[pad], sh, sw, ACT[act]
        g.op(BO.TRANSPOSE_CONV, 4 if act != "NONE" else 3, ins, [y], S.BuiltinOptions.TransposeConvOptions, o)
        return [x], [y], [rand_int8([batch, H, W, Cin])]


def add_row_norm(name, opname, shape, in_scale=None, zp=None, levels=None):
    """LOG_SOFTMAX (output 16/256, 127) or L2_NORMALIZATION (output 1/128, 0) over the last axis."""
    params = dict(input=list(shape), in_scale=in_scale, zero_point=zp, levels=levels)

    @case(name, opname, params)
    def build(g):
        q = act_q() if in_scale is None else Quant(f32(in_scale), int(rng.integers(-128, 128)) if zp is None else zp)
        x = g.tensor(shape, np.int8, q, name="input")
        if opname == "LOG_SOFTMAX":
            y = g.tensor(shape, np.int8, Quant(16.0 / 256, 127), name="output")
            g.op(BO.LOG_SOFTMAX, 2, [x], [y], S.BuiltinOptions.LogSoftmaxOptions, S.LogSoftmaxOptionsT())
        else:
            y = g.tensor(shape, np.int8, Quant(1.0 / 128, 0), name="output")
            g.op(BO.L2_NORMALIZATION, 2, [x], [y], S.BuiltinOptions.L2NormOptions, S.L2NormOptionsT())
        if levels is None:
            feed = rand_int8(shape)
        else:  # a few repeated values: ties, and rows at the zero point
            feed = (rng.integers(0, levels, size=shape) * 3 + int(q.zero_point[0])).clip(-128, 127).astype(np.int8)
        return [x], [y], [feed]


def add_sum(name, shape, axis, keep_dims, in_q=None, out_q=None):
    """SUM: reference outputs from TFLite Micro (see TFLM_ORACLE)."""
    params = dict(input=list(shape), axis=list(axis), keep_dims=keep_dims, oracle="tflite-micro")
    axes = sorted({a % len(shape) for a in axis})
    out = [1 if d in axes else n for d, n in enumerate(shape) if keep_dims or d not in axes]

    @case(name, "SUM", params)
    def build(g):
        iq = act_q() if in_q is None else Quant(*in_q)
        n = int(np.prod([shape[a] for a in axes]))
        # Raw sums centre on -zp * n with a spread of ~74 sqrt(n): fit them to the output range.
        reach = abs(int(iq.zero_point[0])) * n + 2 * 74 * math.sqrt(n)
        oq = Quant(f32(iq.scale[0] * reach / 127 * rng.uniform(0.7, 1.3)), int(rng.integers(-20, 21))) \
            if out_q is None else Quant(*out_q)
        x = g.tensor(shape, np.int8, iq, name="input")
        a = g.tensor([len(axis)], np.int32, None, np.asarray(axis, np.int32), name="axis")
        y = g.tensor(out, np.int8, oq, name="output")
        o = S.ReducerOptionsT()
        o.keepDims = keep_dims
        g.op(BO.SUM, 2, [x, a], [y], S.BuiltinOptions.ReducerOptions, o)
        return [x], [y], [rand_int8(shape)]


def add_quantize_u8(name, shape, src, dst, same_scale=False):
    """QUANTIZE between float32 / int8 / uint8 and int8 / uint8 (uint8-input models)."""
    params = dict(input=list(shape), src=src, dst=dst, same_scale=same_scale)
    zp_range = {"int8": (-128, 128), "uint8": (0, 256)}
    dt = {"int8": np.int8, "uint8": np.uint8, "float32": np.float32}

    @case(name, "QUANTIZE", params)
    def build(g):
        oq = Quant(rand_scale(), int(rng.integers(*zp_range[dst])))
        if src == "float32":
            x = g.tensor(shape, np.float32, None, name="input")
            shift = 128 if dst == "uint8" else 0
            feed = quantize_float_input(shape, float(oq.scale[0]), int(oq.zero_point[0]) - shift)
        else:
            if same_scale:  # the reference's shift-by-128 path
                iq = Quant(oq.scale, int(oq.zero_point[0]) + (128 if dst == "int8" else -128))
            else:
                iq = Quant(rand_scale(), int(rng.integers(*zp_range[src])))
            x = g.tensor(shape, dt[src], iq, name="input")
            feed = rng.integers(*zp_range[src], size=shape).astype(dt[src])
            feed.flat[:2] = zp_range[src][0], zp_range[src][1] - 1
        y = g.tensor(shape, dt[dst], oq, name="output")
        g.op(BO.QUANTIZE, 2, [x], [y], S.BuiltinOptions.QuantizeOptions, S.QuantizeOptionsT())
        return [x], [y], [feed]


def add_dequantize_u8(name, shape):
    params = dict(input=list(shape), dtype="uint8")

    @case(name, "DEQUANTIZE", params)
    def build(g):
        q = Quant(rand_scale(0.001, 0.5), int(rng.integers(0, 256)))
        x = g.tensor(shape, np.uint8, q, name="input")
        y = g.tensor(shape, np.float32, None, name="output")
        g.op(BO.DEQUANTIZE, 1, [x], [y], S.BuiltinOptions.DequantizeOptions, S.DequantizeOptionsT())
        feed = rng.integers(0, 256, size=shape).astype(np.uint8)
        feed.flat[:2] = 0, 255
        return [x], [y], [feed]


def add_batch_space(name, to_batch, shape, block, pads, dtype=np.int8):
    """SPACE_TO_BATCH_ND (`pads`: paddings) or BATCH_TO_SPACE_ND (`pads`: crops), 4-D."""
    params = dict(input=list(shape), block=list(block), pads=[list(p) for p in pads], dtype=np.dtype(dtype).name)
    (bh, bw), ((t, b), (l, r)) = block, pads
    n, h, w, c = shape
    if to_batch:
        out = [n * bh * bw, (h + t + b) // bh, (w + l + r) // bw, c]
    else:
        out = [n // (bh * bw), h * bh - t - b, w * bw - l - r, c]
    opname = "SPACE_TO_BATCH_ND" if to_batch else "BATCH_TO_SPACE_ND"

    @case(name, opname, params)
    def build(g):
        q = act_q() if dtype == np.int8 else None
        x = g.tensor(shape, dtype, q, name="input")
        bs = g.tensor([2], np.int32, None, np.asarray(block, np.int32), name="block_shape")
        pd = g.tensor([2, 2], np.int32, None, np.asarray(pads, np.int32), name="paddings" if to_batch else "crops")
        y = g.tensor(out, dtype, None if q is None else Quant(q.scale, q.zero_point), name="output")
        if to_batch:
            o, ot = S.SpaceToBatchNDOptionsT(), S.BuiltinOptions.SpaceToBatchNDOptions
        else:
            o, ot = S.BatchToSpaceNDOptionsT(), S.BuiltinOptions.BatchToSpaceNDOptions
        g.op(getattr(BO, opname), 2 if dtype == np.int8 else 1, [x, bs, pd], [y], ot, o)
        feed = rand_int8(shape) if dtype == np.int8 else rng.standard_normal(shape).astype(np.float32)
        return [x], [y], [feed]


def define_cases():
    # CONV_2D: name, H, W, Cin, Cout, kh, kw, stride, dil, pad, act, per_channel, bias[, batch]
    C = [
        ("conv_k1_s1_valid", 8, 8, 8, 16, 1, 1, (1, 1), (1, 1), "VALID", "NONE", True, True),
        ("conv_k3_s1_same_relu", 9, 9, 4, 8, 3, 3, (1, 1), (1, 1), "SAME", "RELU", True, True),
        ("conv_k3_s2_same_relu6", 16, 16, 3, 16, 3, 3, (2, 2), (1, 1), "SAME", "RELU6", True, True),
        ("conv_k3_s2_valid_pertensor", 15, 13, 6, 8, 3, 3, (2, 2), (1, 1), "VALID", "NONE", False, True),
        ("conv_k5_s1_same_n1to1", 10, 10, 5, 7, 5, 5, (1, 1), (1, 1), "SAME", "RELU_N1_TO_1", True, True),
        ("conv_k5_s3_valid", 17, 17, 4, 6, 5, 5, (3, 3), (1, 1), "VALID", "NONE", True, True),
        ("conv_k3_d2_same", 12, 11, 8, 8, 3, 3, (1, 1), (2, 2), "SAME", "NONE", True, True),
        ("conv_k3_d2_valid_relu_pertensor", 13, 13, 4, 5, 3, 3, (1, 1), (2, 2), "VALID", "RELU", False, True),
        ("conv_k3x1_same", 9, 7, 6, 10, 3, 1, (1, 1), (1, 1), "SAME", "NONE", True, True),
        ("conv_k1x5_s2x1_same_relu6", 8, 12, 4, 6, 1, 5, (2, 1), (1, 1), "SAME", "RELU6", True, True),
        ("conv_k2x3_s2_same", 11, 10, 5, 9, 2, 3, (2, 2), (1, 1), "SAME", "NONE", True, True),
        ("conv_k3_s1_same_relu_batch2", 7, 7, 3, 4, 3, 3, (1, 1), (1, 1), "SAME", "RELU", True, True, 2),
        ("conv_k5x3_d2x1_valid", 14, 9, 3, 4, 5, 3, (1, 1), (2, 1), "VALID", "NONE", True, True),
        ("conv_k3_s3_d2_same_relu", 17, 16, 4, 6, 3, 3, (3, 3), (2, 2), "SAME", "RELU", True, True),
        ("conv_k1_s2_valid_pertensor", 9, 9, 12, 8, 1, 1, (2, 2), (1, 1), "VALID", "NONE", False, True),
        # no bias: as an optional (-1) input and with the input left out
        ("conv_k3_s1_same_nobias_optional", 8, 8, 4, 6, 3, 3, (1, 1), (1, 1), "SAME", "NONE", True, "optional"),
        ("conv_k3_s1_same_nobias_omitted", 8, 8, 4, 6, 3, 3, (1, 1), (1, 1), "SAME", "NONE", True, "omitted"),
        ("conv_k3_s1_same_c24", 17, 17, 24, 24, 3, 3, (1, 1), (1, 1), "SAME", "NONE", True, True),
        ("conv_k3_s2_valid_n1to1_pertensor", 12, 12, 8, 4, 3, 3, (2, 2), (1, 1), "VALID", "RELU_N1_TO_1", False, True),
    ]
    for c in C:
        add_conv(*c)
    # DEPTHWISE: name, H, W, Cin, mult, kh, kw, stride, dil, pad, act, per_channel, bias[, batch]
    D = [
        ("dw_k3_m1_s1_same", 9, 9, 8, 1, 3, 3, (1, 1), (1, 1), "SAME", "NONE", True, True),
        ("dw_k3_m1_s2_same_relu6", 16, 16, 16, 1, 3, 3, (2, 2), (1, 1), "SAME", "RELU6", True, True),
        ("dw_k3_m2_s1_valid_relu", 10, 9, 4, 2, 3, 3, (1, 1), (1, 1), "VALID", "RELU", True, True),
        ("dw_k5_m3_s2_same", 13, 13, 3, 3, 5, 5, (2, 2), (1, 1), "SAME", "NONE", True, True),
        ("dw_k3_m1_d2_same", 12, 12, 6, 1, 3, 3, (1, 1), (2, 2), "SAME", "NONE", True, True),
        ("dw_k3_m2_d2_valid_pertensor", 11, 13, 5, 2, 3, 3, (1, 1), (2, 2), "VALID", "NONE", False, True),
        ("dw_k3_m1_s1_same_n1to1", 8, 8, 12, 1, 3, 3, (1, 1), (1, 1), "SAME", "RELU_N1_TO_1", True, True),
        ("dw_k3x5_m1_s1x2_same", 9, 14, 7, 1, 3, 5, (1, 2), (1, 1), "SAME", "NONE", True, True),
        ("dw_k3_m1_s2_valid_relu_batch2", 9, 9, 8, 1, 3, 3, (2, 2), (1, 1), "VALID", "RELU", True, True, 2),
        ("dw_k3_m1_s3_same_pertensor", 17, 17, 24, 1, 3, 3, (3, 3), (1, 1), "SAME", "NONE", False, True),
        ("dw_k2_m3_s2_same_relu6", 10, 11, 4, 3, 2, 2, (2, 2), (1, 1), "SAME", "RELU6", True, True),
        ("dw_k5_m1_d2_same_relu", 15, 15, 10, 1, 5, 5, (1, 1), (2, 2), "SAME", "RELU", True, True),
        ("dw_k3_m1_s1_same_nobias_optional", 7, 7, 6, 1, 3, 3, (1, 1), (1, 1), "SAME", "NONE", True, "optional"),
        ("dw_k3_m2_s1_same_nobias_omitted", 7, 7, 3, 2, 3, 3, (1, 1), (1, 1), "SAME", "NONE", True, "omitted"),
    ]
    for d in D:
        add_dw(*d)
    # FULLY_CONNECTED: name, input shape, units, per_channel, bias, keep_num_dims[, act]
    F = [
        ("fc_2d_bias", [1, 24], 10, False, True, False),
        ("fc_2d_nobias_optional", [1, 20], 7, False, "optional", False),
        ("fc_2d_nobias_omitted", [2, 20], 5, False, "omitted", False),
        ("fc_2d_perchannel_bias", [1, 16], 12, True, True, False),
        ("fc_2d_batch2_relu", [2, 24], 8, False, True, False, "RELU"),
        ("fc_4d_flatten", [1, 3, 3, 8], 6, False, True, False),
        ("fc_4d_keepdims", [1, 3, 4, 8], 5, False, True, True),
        ("fc_4d_nokeep_rows", [1, 2, 3, 8], 4, False, True, False),
        ("fc_3d_keepdims_perchannel_nobias", [1, 5, 12], 9, True, "optional", True),
        ("fc_2d_relu6_perchannel", [3, 10], 6, True, True, False, "RELU6"),
    ]
    for f in F:
        add_fc(*f)
    # ADD
    add_add("add_same_shape", [1, 7, 9, 8], [1, 7, 9, 8])
    add_add("add_same_shape_same_quant", [1, 5, 5, 6], [1, 5, 5, 6], same_scale=True)
    add_add("add_broadcast_channel", [1, 6, 7, 12], [1, 1, 1, 12])
    add_add("add_broadcast_channel_relu", [1, 5, 8, 10], [1, 1, 1, 10], act="RELU")
    add_add("add_broadcast_row_relu6", [1, 4, 6, 5], [1, 4, 1, 5], act="RELU6")
    add_add("add_relu_n1_to_1", [1, 4, 4, 8], [1, 4, 4, 8], act="RELU_N1_TO_1")
    add_add("add_batch2", [2, 5, 5, 4], [2, 5, 5, 4], act="RELU")
    add_add("add_const_channel_bias", [1, 6, 6, 8], [1, 1, 1, 8], const_b=True)
    # PAD
    add_pad("pad_hw_symmetric", [1, 6, 6, 4], [[0, 0], [1, 1], [1, 1], [0, 0]])
    add_pad("pad_hw_asymmetric", [1, 5, 7, 3], [[0, 0], [0, 1], [2, 0], [0, 0]])
    add_pad("pad_channels", [1, 4, 4, 6], [[0, 0], [0, 0], [0, 0], [0, 10]])
    add_pad("pad_all_dims", [1, 3, 5, 4], [[0, 1], [2, 1], [0, 3], [1, 2]])
    add_pad("pad_batch2", [2, 4, 3, 5], [[0, 0], [1, 2], [3, 0], [0, 0]])
    # pools: name, code, shape, fh, fw, stride, pad[, act]
    for code, tag in ((BO.MAX_POOL_2D, "maxpool"), (BO.AVERAGE_POOL_2D, "avgpool")):
        add_pool(f"{tag}_f2_s2_valid", code, [1, 8, 8, 6], 2, 2, (2, 2), "VALID")
        add_pool(f"{tag}_f3_s2_same", code, [1, 9, 9, 5], 3, 3, (2, 2), "SAME")
        add_pool(f"{tag}_f3_s1_same_relu", code, [1, 7, 6, 8], 3, 3, (1, 1), "SAME", "RELU")
        add_pool(f"{tag}_f2x3_s1x2_valid_relu6", code, [1, 10, 11, 4], 2, 3, (1, 2), "VALID", "RELU6")
        add_pool(f"{tag}_f3x1_s2_same", code, [1, 11, 7, 3], 3, 1, (2, 2), "SAME")
        add_pool(f"{tag}_f3_s3_valid_batch2", code, [2, 9, 10, 4], 3, 3, (3, 3), "VALID")
        add_pool(f"{tag}_global_f7", code, [1, 7, 7, 16], 7, 7, (1, 1), "VALID")
    # MEAN
    add_mean("mean_hw_keepdims_sameq", [1, 7, 7, 12], [1, 2], True, True)
    add_mean("mean_hw_keepdims_diffq", [1, 6, 5, 8], [1, 2], True, False)
    add_mean("mean_hw_nokeep_sameq", [1, 5, 5, 16], [1, 2], False, True)
    add_mean("mean_hw_nokeep_diffq", [1, 9, 9, 24], [1, 2], False, False)
    add_mean("mean_axis1_nokeep_diffq", [1, 6, 4, 5], [1], False, False)
    add_mean("mean_axis1_keepdims_sameq", [1, 5, 3, 4], [1], True, True)
    add_mean("mean_axis3_nokeep_diffq", [1, 4, 5, 10], [3], False, False)
    add_mean("mean_axis3_keepdims_sameq", [1, 3, 3, 7], [3], True, True)
    add_mean("mean_hw_batch2_diffq", [2, 4, 4, 6], [1, 2], False, False)
    # RESHAPE
    add_reshape("reshape_shape_tensor", [1, 4, 4, 6], [1, 96], True)
    add_reshape("reshape_shape_tensor_minus1", [1, 3, 5, 8], [1, -1, 8], True)
    add_reshape("reshape_options_only", [1, 2, 3, 4], [1, 6, 4], False)
    add_reshape("reshape_options_only_4d", [1, 24], [1, 2, 3, 4], False)
    # CONCATENATION
    # (int8 CONCATENATION needs every input's quantization equal to the
    # output's in this LiteRT; the *_diffq cases document that as skips)
    add_concat("concat_axis3_sameq", [[1, 4, 4, 3], [1, 4, 4, 5]], 3, True)
    add_concat("concat_axis3_3in_sameq", [[1, 3, 3, 2], [1, 3, 3, 6], [1, 3, 3, 1]], 3, True)
    add_concat("concat_axis1_sameq", [[1, 2, 5, 4], [1, 3, 5, 4]], 1, True)
    add_concat("concat_axis1_3in_sameq", [[1, 2, 3, 4], [1, 1, 3, 4], [1, 4, 3, 4]], 1, True)
    add_concat("concat_axis_minus1_sameq", [[1, 4, 4, 6], [1, 4, 4, 2]], -1, True)
    add_concat("concat_axis_minus1_3in_2d_sameq", [[2, 5], [2, 3], [2, 7]], -1, True)
    add_concat("concat_axis2_batch2_sameq", [[2, 3, 2, 4], [2, 3, 5, 4]], 2, True)
    add_concat("concat_axis3_diffq", [[1, 5, 6, 4], [1, 5, 6, 8]], 3, False)
    add_concat("concat_axis1_3in_diffq", [[1, 2, 3, 4], [1, 1, 3, 4], [1, 4, 3, 4]], 1, False)
    # SOFTMAX
    add_softmax("softmax_2d_beta1", [1, 10], 1.0)
    add_softmax("softmax_2d_beta0.5", [1, 16], 0.5)
    add_softmax("softmax_2d_batch2_beta1", [2, 7], 1.0)
    add_softmax("softmax_4d_beta1", [1, 3, 4, 6], 1.0)
    add_softmax("softmax_4d_beta0.5", [1, 2, 5, 9], 0.5)
    # QUANTIZE / DEQUANTIZE
    add_quantize("quantize_f32_int8", [1, 6, 6, 8], "float32->int8")
    add_quantize("quantize_f32_int8_pow2scale", [1, 8, 8, 4], "float32->int8", pow2=True)
    add_quantize("quantize_f32_int8_2d", [3, 40], "float32->int8")
    add_quantize("requantize_int8_int8", [1, 7, 7, 6], "int8->int8")
    add_quantize("requantize_int8_int8_2d", [2, 50], "int8->int8")
    add_dequantize("dequantize_int8_f32", [1, 5, 5, 8])
    add_dequantize("dequantize_int8_f32_2d", [2, 33])
    # elementwise
    add_unary("relu_sameq", "RELU", [1, 6, 6, 8], "same")
    add_unary("relu_diffq", "RELU", [1, 7, 5, 6], "diff")
    add_unary("relu_diffq_2d", "RELU", [2, 40], "diff")
    add_unary("relu6_sameq", "RELU6", [1, 6, 6, 8], "same")
    add_unary("relu6_diffq", "RELU6", [1, 5, 7, 6], "diff")
    add_unary("relu6_diffq_2d", "RELU6", [2, 40], "diff")
    add_unary("logistic_4d", "LOGISTIC", [1, 6, 6, 8], "fixed")
    add_unary("logistic_2d", "LOGISTIC", [2, 64], "fixed")
    add_unary("logistic_4d_b", "LOGISTIC", [1, 9, 4, 3], "fixed")
    add_unary("hard_swish_sameq", "HARD_SWISH", [1, 6, 6, 8], "same")
    add_unary("hard_swish_diffq", "HARD_SWISH", [1, 8, 7, 5], "diff")
    add_unary("hard_swish_diffq_2d", "HARD_SWISH", [2, 64], "diff")
    # RESIZE_BILINEAR: shape, size, align_corners, half_pixel_centers
    for align, hpc in ((False, False), (True, False), (False, True)):
        tag = f"ac{int(align)}_hpc{int(hpc)}"
        add_resize(f"resize_x2_{tag}", [1, 5, 7, 4], [10, 14], align, hpc)
        add_resize(f"resize_odd_up_{tag}", [1, 4, 4, 3], [7, 9], align, hpc)
        add_resize(f"resize_down_{tag}", [1, 17, 15, 3], [8, 6], align, hpc)
    add_resize("resize_big_up_batch2_ac0_hpc1", [2, 3, 3, 5], [17, 16], False, True)
    add_resize("resize_same_size_ac0_hpc1", [1, 6, 6, 2], [6, 6], False, True)
    add_resize("resize_x2_ac1_hpc1", [1, 5, 7, 4], [10, 14], True, True)  # invalid combination
    # Element-wise binaries (appended last: the seeded draws of every case above are unchanged).
    for opname, tag in (("MUL", "mul"), ("SUB", "sub"), ("SQUARED_DIFFERENCE", "sqdiff"),
                        ("MAXIMUM", "max"), ("MINIMUM", "min")):
        add_binary(f"{tag}_same_shape", opname, [1, 7, 9, 8], [1, 7, 9, 8])
        add_binary(f"{tag}_broadcast_channel", opname, [1, 6, 5, 12], [1, 1, 1, 12])
        add_binary(f"{tag}_scalar_const", opname, [1, 5, 7, 3], [1], const_b=True)
        add_binary(f"{tag}_broadcast_row_odd", opname, [1, 4, 7, 5], [1, 4, 1, 5])
        add_binary(f"{tag}_batch2_2d", opname, [2, 13], [2, 13])
        add_binary(f"{tag}_same_quant", opname, [1, 3, 5, 6], [1, 3, 5, 6], same_q=True)
    for opname, tag in (("MUL", "mul"), ("SUB", "sub")):
        add_binary(f"{tag}_broadcast_channel_relu", opname, [1, 5, 8, 10], [1, 1, 1, 10], act="RELU")
        add_binary(f"{tag}_relu6", opname, [1, 4, 6, 5], [1, 4, 6, 5], act="RELU6")
        add_binary(f"{tag}_relu_n1_to_1_const", opname, [1, 4, 4, 8], [1, 1, 1, 8], act="RELU_N1_TO_1", const_b=True)
    add_binary("mul_se_gate_const", "MUL", [1, 9, 9, 16], [1, 1, 1, 16], const_b=True)
    add_leaky_relu("leaky_relu_0.1", [1, 6, 7, 5], 0.1)
    add_leaky_relu("leaky_relu_0.2_same_quant", [1, 5, 5, 8], 0.2, same_q=True)
    add_leaky_relu("leaky_relu_0.3_2d", [2, 33], 0.3)
    add_leaky_relu("leaky_relu_alpha_above_1", [1, 4, 4, 3], 1.7)
    for align, hpc in ((False, False), (True, False), (False, True)):
        tag = f"ac{int(align)}_hpc{int(hpc)}"
        add_resize_nearest(f"nearest_x2_{tag}", [1, 5, 7, 4], [10, 14], align, hpc)
        add_resize_nearest(f"nearest_odd_up_{tag}", [1, 4, 5, 3], [7, 9], align, hpc)
        add_resize_nearest(f"nearest_down_{tag}", [1, 9, 11, 2], [4, 6], align, hpc)
    add_resize_nearest("nearest_x2_batch2_ac0_hpc0", [2, 3, 4, 5], [6, 8], False, False)
    add_binary("prelu_channel_alpha_const", "PRELU", [1, 6, 7, 8], [1, 1, 8], const_b=True)
    add_binary("prelu_full_alpha_const", "PRELU", [1, 4, 5, 3], [4, 5, 3], const_b=True)
    add_binary("prelu_scalar_alpha_const", "PRELU", [1, 5, 5, 4], [1], const_b=True)
    add_binary("prelu_alpha_input", "PRELU", [1, 3, 4, 6], [1, 3, 4, 6])
    add_squeeze("squeeze_hw", [1, 1, 1, 10], [1, 2])
    add_squeeze("squeeze_all_ones", [1, 3, 1, 5], [])
    add_squeeze("squeeze_negative_dim", [2, 4, 1], [-1])
    add_expand_dims("expand_dims_axis0", [3, 7], 0)
    add_expand_dims("expand_dims_axis_last", [2, 5, 4], -1)
    add_expand_dims("expand_dims_middle", [1, 6, 8], 2)
    add_transpose("transpose_2d", [5, 7], [1, 0])
    add_transpose("transpose_3d", [3, 4, 5], [2, 0, 1])
    add_transpose("transpose_nhwc_to_nchw", [1, 6, 7, 5], [0, 3, 1, 2])
    add_transpose("transpose_nchw_to_nhwc", [2, 5, 6, 7], [0, 2, 3, 1])
    add_transpose("transpose_5d", [2, 3, 2, 4, 3], [4, 1, 3, 0, 2])
    add_transpose("transpose_float_nchw_to_nhwc", [1, 3, 8, 9], [0, 2, 3, 1], np.float32)
    add_space_depth("depth_to_space_b2", True, [1, 3, 4, 12], 2)
    add_space_depth("depth_to_space_b3_batch2", True, [2, 2, 3, 9], 3)
    add_space_depth("space_to_depth_b2", False, [1, 6, 8, 3], 2)
    add_space_depth("space_to_depth_b3", False, [1, 9, 6, 2], 3)
    add_tile("tile_upsample_keras", [1, 4, 1, 5, 1, 3], [1, 1, 2, 1, 2, 1])
    add_tile("tile_channels", [1, 3, 3, 4], [1, 1, 1, 3])
    add_tile("tile_2d", [2, 3], [3, 2])
    add_tile("tile_float_4d", [1, 2, 3, 2], [2, 1, 2, 1], np.float32)
    add_slice("slice_channels", [1, 5, 6, 12], [0, 0, 0, 4], [1, 5, 6, 4])
    add_slice("slice_to_end", [1, 7, 8, 3], [0, 2, 3, 1], [-1, -1, -1, -1])
    add_slice("slice_2d", [6, 9], [1, 2], [4, 5])
    for opname, tag in (("REDUCE_MAX", "reduce_max"), ("REDUCE_MIN", "reduce_min")):
        add_reduce(f"{tag}_hw_keep", opname, [1, 6, 7, 5], [1, 2], True)
        add_reduce(f"{tag}_channels", opname, [1, 4, 5, 9], [3], False)
        add_reduce(f"{tag}_negative_axis_3d", opname, [2, 6, 4], [-1], False)
        add_reduce(f"{tag}_all", opname, [1, 3, 4, 2], [0, 1, 2, 3], True)
    add_strided_slice("strided_slice_step2_hw", [1, 9, 8, 4], [0, 1, 0, 0], [1, 9, 8, 4], [1, 2, 2, 1])
    add_strided_slice("strided_slice_reverse_channels", [1, 3, 4, 6], [0, 0, 0, -1], [1, 3, 4, 0], [1, 1, 1, -1],
                      end_mask=0b1000)
    add_strided_slice("strided_slice_masks_negative", [2, 7, 5], [1, -5, 0], [0, -1, 3], [1, 2, 1],
                      begin_mask=0b001, end_mask=0b001)
    add_strided_slice("strided_slice_shrink_last_token", [1, 6, 10], [0, -1, 0], [1, 0, 10], [1, 1, 1],
                      shrink=0b010)
    add_strided_slice("strided_slice_offset", [1, 8, 8, 3], [0, 2, 1, 0], [1, 4, 5, 3], [1, 1, 2, 1], offset=True)
    add_strided_slice("strided_slice_clamped_5d", [2, 3, 4, 3, 2], [0, 0, -9, 1, 0], [2, 9, 4, 3, 2],
                      [1, 2, 1, 1, 1])
    add_split("split_channels_3", [1, 5, 6, 12], 3, 3, "SPLIT")
    add_split("split_height_negative_axis", [1, 8, 3, 2], -3, 2, "SPLIT")
    add_split("split_v_channels", [1, 4, 5, 10], 3, [2, 5, 3], "SPLIT_V")
    add_split("split_v_minus_one_2d", [9, 6], 0, [4, -1, 1], "SPLIT_V")
    add_split("unpack_axis0", [3, 4, 5], 0, None, "UNPACK")
    add_split("unpack_last_axis", [2, 3, 4], -1, None, "UNPACK")
    add_pack("pack_axis0", [3, 5], 3, 0)
    add_pack("pack_last_axis_const", [2, 4, 3], 2, -1, const_last=True)
    add_pack("pack_middle_float", [2, 3], 4, 1, dtype=np.float32)
    add_unary("tanh_4d", "TANH", [1, 6, 7, 5], "fixed")
    add_unary("tanh_2d_odd", "TANH", [3, 37], "fixed")
    add_unary("tanh_batch2", "TANH", [2, 4, 3, 9], "fixed")
    add_gather("gather_channel_shuffle", [1, 5, 6, 8], 3, [1, 0, 3, 2, 5, 4, 7, 6])
    add_gather("gather_rows_2d_indices", [1, 7, 4, 3], 1, [[6, 0], [2, 2], [5, 1]])
    add_gather("gather_first_axis_int64", [6, 5], 0, [5, 0, 3], index_dtype=np.int64)
    add_gather("gather_batch_dims", [2, 5, 3], 1, [[4, 0], [1, 1]], batch_dims=1)
    add_gather("gather_indices_input", [1, 9, 4], 1, [8, 0, 4, 4, 1], const_indices=False)
    for opname, tag in (("ARG_MAX", "arg_max"), ("ARG_MIN", "arg_min")):
        add_arg(f"{tag}_logits", opname, [1, 10], -1)
        add_arg(f"{tag}_channels_int64", opname, [1, 4, 5, 6], 3, np.int64)
        add_arg(f"{tag}_height", opname, [2, 5, 3, 2], 1)
        add_arg(f"{tag}_ties", opname, [3, 8], 1, levels=3)
    # TRANSPOSE_CONV: name, H, W, Cin, Cout, kh, kw, stride, pad, output size
    add_transpose_conv("transpose_conv_k3_s2_same", 5, 6, 4, 6, 3, 3, (2, 2), "SAME", (10, 12))
    add_transpose_conv("transpose_conv_k2_s2_valid", 4, 3, 5, 3, 2, 2, (2, 2), "VALID", (8, 6))
    add_transpose_conv("transpose_conv_k4_s2_same_pertensor", 3, 5, 3, 4, 4, 4, (2, 2), "SAME", (6, 10),
                       per_channel=False)
    add_transpose_conv("transpose_conv_k3_s1_same_nobias", 6, 5, 3, 5, 3, 3, (1, 1), "SAME", (6, 5), bias=False)
    add_transpose_conv("transpose_conv_k3_s2_valid_odd", 4, 4, 2, 3, 3, 3, (2, 2), "VALID", (9, 9))
    add_transpose_conv("transpose_conv_k3x2_s2x1_same", 5, 4, 3, 2, 3, 2, (2, 1), "SAME", (10, 4))
    add_transpose_conv("transpose_conv_same_smaller_output", 4, 4, 3, 3, 3, 3, (2, 2), "SAME", (7, 7))
    add_transpose_conv("transpose_conv_relu_batch2", 3, 4, 4, 4, 3, 3, (2, 2), "SAME", (6, 8), act="RELU", batch=2)
    add_row_norm("log_softmax_logits", "LOG_SOFTMAX", [1, 10])
    add_row_norm("log_softmax_4d_small_scale", "LOG_SOFTMAX", [1, 3, 4, 7], in_scale=0.004)
    add_row_norm("log_softmax_large_scale", "LOG_SOFTMAX", [5, 33], in_scale=0.9)
    add_row_norm("log_softmax_ties", "LOG_SOFTMAX", [4, 6], in_scale=0.05, levels=2)
    add_row_norm("l2_norm_embedding", "L2_NORMALIZATION", [2, 64])
    add_row_norm("l2_norm_4d_channels", "L2_NORMALIZATION", [1, 3, 5, 9], zp=-7)
    add_row_norm("l2_norm_rows_at_zero_point", "L2_NORMALIZATION", [6, 4], zp=20, levels=2)
    add_row_norm("l2_norm_single_value", "L2_NORMALIZATION", [3, 1], zp=0)
    add_sum("sum_hw_keep", [1, 4, 5, 6], [1, 2], True)
    add_sum("sum_hw_squeeze", [1, 5, 3, 8], [1, 2], False)
    add_sum("sum_channels", [1, 3, 4, 10], [-1], False)
    add_sum("sum_rows_2d", [6, 7], [0], True)
    add_sum("sum_same_quant_extremes", [1, 2, 3, 4], [3], True, in_q=(0.05, 3), out_q=(0.05, 3))
    add_quantize_u8("quantize_uint8_to_int8", [1, 6, 7, 3], "uint8", "int8")
    add_quantize_u8("quantize_uint8_to_int8_shift", [1, 5, 5, 3], "uint8", "int8", same_scale=True)
    add_quantize_u8("quantize_int8_to_uint8", [2, 9, 4], "int8", "uint8")
    add_quantize_u8("quantize_int8_to_uint8_shift", [1, 4, 6, 2], "int8", "uint8", same_scale=True)
    add_quantize_u8("quantize_float_to_uint8", [1, 5, 6, 3], "float32", "uint8")
    add_quantize_u8("quantize_uint8_to_uint8", [3, 11], "uint8", "uint8")
    add_dequantize_u8("dequantize_uint8", [1, 4, 5, 6])
    add_batch_space("space_to_batch_b2", True, [1, 6, 8, 3], (2, 2), ((0, 0), (0, 0)))
    add_batch_space("space_to_batch_dilated_conv_pads", True, [1, 9, 7, 4], (2, 2), ((2, 3), (2, 3)))
    add_batch_space("space_to_batch_b3x2_batch2", True, [2, 5, 4, 2], (3, 2), ((1, 0), (0, 2)))
    add_batch_space("space_to_batch_float", True, [1, 4, 6, 2], (2, 3), ((0, 0), (0, 0)), np.float32)
    add_batch_space("batch_to_space_b2", False, [4, 3, 4, 3], (2, 2), ((0, 0), (0, 0)))
    add_batch_space("batch_to_space_crops", False, [4, 6, 5, 4], (2, 2), ((2, 3), (2, 3)))
    add_batch_space("batch_to_space_b3x2_to_batch2", False, [12, 2, 3, 2], (3, 2), ((1, 0), (0, 2)))
    # STRIDED_SLICE sparse specs: x[..., 2:5], x[:, None, 1:, :], x[..., None, ::2], x[1:3] (trailing dims implied)
    add_strided_slice("strided_slice_ellipsis_channels", [1, 4, 5, 8], [0, 2], [0, 5], [1, 1], ellipsis=0b01)
    add_strided_slice("strided_slice_new_axis", [2, 6, 3], [0, 0, 1, 0], [0, 0, 6, 0], [1, 1, 1, 1],
                      begin_mask=0b1001, end_mask=0b1001, new_axis=0b0010)
    add_strided_slice("strided_slice_ellipsis_new_axis_step", [1, 3, 4, 6], [0, 0, 0], [0, 0, 0], [1, 1, 2],
                      begin_mask=0b100, end_mask=0b100, ellipsis=0b001, new_axis=0b010)
    add_strided_slice("strided_slice_short_spec", [5, 4, 3], [1], [3], [1])


# --------------------------------------------------------------------------
def save_npy(path, arr):
    np.save(path, np.ascontiguousarray(arr), allow_pickle=False)


def tensor_info(t):
    d = tfl.tensor_desc(t)
    d.pop("name", None)
    return d


# Operators whose golden outputs come from TensorFlow Lite Micro's reference
# kernels instead of LiteRT's BUILTIN_REF: LiteRT 2.3.0's int8 SUM is wrong
# (it returns -1 for most outputs; LiteRT issue #4079, fix not merged).
TFLM_ORACLE = {"SUM"}


def run_tflm(content, feeds):
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_bytes(content, arena_size=64 * 1024 + 16 * sum(x.size for x in feeds))
    for k, x in enumerate(feeds):
        it.set_input(x, k)
    it.invoke()
    outs, k = [], 0
    while True:
        try:
            outs.append(np.array(it.get_output(k), copy=True))
        except Exception:
            return outs
        k += 1


def run_op_cases(manifest):
    cases, skipped = [], []
    for name, opname, params, build in CASES:
        g = Graph()
        ins, outs, feeds = build(g)
        content = g.finish(ins, outs, name)
        try:
            if opname in TFLM_ORACLE:
                results = run_tflm(content, feeds)
            else:
                it = tfl.ref_interpreter(content=content)
                it.allocate_tensors()
                dets = it.get_input_details()
                assert [d["index"] for d in dets] == list(ins)
                for d, x in zip(dets, feeds):
                    assert tuple(d["shape"]) == x.shape and d["dtype"] == x.dtype, (name, d, x.shape)
                    it.set_tensor(d["index"], x)
                it.invoke()
                results = [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]
        except Exception as e:  # rejected by the reference interpreter
            reason = " ".join(str(e).split())
            # LiteRT prints the two float scales with an integer format: the
            # numbers are garbage and differ from run to run, so drop them.
            reason = re.sub(r" \(-?\d+ != -?\d+\)", "", reason)
            reason = re.sub(r"(\S)(Node number)",
                            lambda m: m.group(1) + ("" if m.group(1) == "." else ".") + " " + m.group(2),
                            reason)
            print(f"SKIP {name}: {reason}")
            skipped.append({"name": name, "op": opname, "params": params, "reason": reason})
            continue
        model = tfl.load(content)
        sg = model.subgraphs[0]
        for k, (o, r) in enumerate(zip(outs, results)):
            declared = [int(s) for s in sg.tensors[o].shape]
            assert list(r.shape) == declared, (name, k, r.shape, declared)
        base = os.path.join(OPS_DIR, name)
        with open(base + ".tflite", "wb") as f:
            f.write(content)
        in_files, out_files = [], []
        for k, x in enumerate(feeds):
            save_npy(f"{base}.in{k}.npy", x)
            in_files.append(f"ops/{name}.in{k}.npy")
        for k, r in enumerate(results):
            save_npy(f"{base}.out{k}.npy", r)
            out_files.append(f"ops/{name}.out{k}.npy")
        op_tensors = {
            "inputs": [None if i < 0 else dict(tensor_info(sg.tensors[i]), constant=bool(
                model.buffers[sg.tensors[i].buffer].data is not None)) for i in sg.operators[0].inputs],
            "outputs": [tensor_info(sg.tensors[i]) for i in sg.operators[0].outputs],
        }
        cases.append({"name": name, "file": f"ops/{name}.tflite", "op": opname, "params": params,
                      "tensors": op_tensors, "inputs": in_files, "outputs": out_files})
    manifest["op_cases"] = cases
    manifest["skipped"] = skipped


def run_model_cases(manifest):
    cases = []
    for path in sorted(glob.glob(os.path.join(ROOT, "models", "*.tflite"))):
        stem = os.path.basename(path)[:-len(".tflite")]
        m = tfl.load(path)
        for variant, xs in tfl.model_cases(path, os.path.join(ROOT, "assets", "images"), SEED):
            outs = tfl.run_ref(path, xs)
            base = os.path.join(MODELS_DIR, f"{stem}.{variant}")
            in_files, out_files = [], []
            for k, x in enumerate(xs):
                save_npy(f"{base}.in{k}.npy", x)
                in_files.append(f"models/{stem}.{variant}.in{k}.npy")
            for k, r in enumerate(outs):
                save_npy(f"{base}.out{k}.npy", r)
                out_files.append(f"models/{stem}.{variant}.out{k}.npy")
            src = "seeded random" if variant == "random" else \
                f"assets/images/{variant}.png via tools/preprocess.py"
            cases.append({"name": f"{stem}.{variant}", "file": f"../../models/{stem}.tflite",
                          "model_sha256": tfl.sha256(path), "ops": tfl.op_counts(m),
                          "params": {"input": src}, "inputs": in_files, "outputs": out_files})
            print(f"model case {stem}.{variant}: outputs {[o.shape for o in outs]}")
    manifest["model_cases"] = cases


def run_detect_cases(manifest):
    """Float BlazeFace outputs (BUILTIN_REF) on the 128x128 pictures."""
    sys.path.insert(0, os.path.join(ROOT, "models"))
    import make_blazeface
    from PIL import Image
    from preprocess import preprocess
    _, fbytes = make_blazeface.float_model()
    it = tfl.ref_interpreter(content=fbytes)
    it.allocate_tensors()
    cases = []
    for f in sorted(glob.glob(os.path.join(ROOT, "assets", "images", "*-128.png"))):
        image = os.path.basename(f)[:-4]
        x = preprocess(np.asarray(Image.open(f).convert("RGB")), np.float32)
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs = [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]
        assert [o.shape for o in outs] == [(1, 896, 16), (1, 896, 1)], [o.shape for o in outs]
        files = []
        for k, r in enumerate(outs):
            save_npy(os.path.join(DETECT_DIR, f"{image}.float.out{k}.npy"), r)
            files.append(f"detect/{image}.float.out{k}.npy")
        cases.append({"image": f"assets/images/{image}.png", "outputs": files})
        print(f"detect case {image}: float outputs {[o.shape for o in outs]}")
    manifest["detect_cases"] = {
        "model": "MediaPipe face_detection_short_range.tflite (float, sha256 "
                 f"{make_blazeface.FLOAT_SHA256}) as prepared by models/make_blazeface.py "
                 f"(prepared sha256 {hashlib.sha256(fbytes).hexdigest()})",
        "input": "tools/preprocess.py, float32",
        "cases": cases,
    }


def write_fixtures():
    """Models the tests need that are not golden cases: `fixtures/unsupported-ops.tflite`,
    a small int8 graph with two operators patchwise does not implement (EXP, COS)
    between convolutions, for the unsupported-model report of `inspect` and the page."""
    global rng
    d = os.path.join(HERE, "fixtures")
    os.makedirs(d, exist_ok=True)
    saved, rng = rng, np.random.default_rng(SEED + 1)  # its own draws: new op cases leave it unchanged
    g = Graph()
    q = Quant(0.05, 0)
    x = g.tensor([1, 8, 8, 3], np.int8, q, name="input")
    prev = x
    for k, code in enumerate((BO.CONV_2D, BO.EXP, BO.CONV_2D, BO.COS)):
        y = g.tensor([1, 8, 8, 3], np.int8, q, name=f"t{k}")
        if code == BO.CONV_2D:
            w, wq = rand_weights([3, 1, 1, 3], 0, True)
            wt = g.tensor(w.shape, np.int8, wq, w, name=f"filter{k}")
            o = S.Conv2DOptionsT()
            o.padding, o.strideH, o.strideW, o.dilationHFactor, o.dilationWFactor = PAD["SAME"], 1, 1, 1, 1
            g.op(code, 3, [prev, wt], [y], S.BuiltinOptions.Conv2DOptions, o)
        else:
            g.op(code, 1, [prev], [y])
        prev = y
    with open(os.path.join(d, "unsupported-ops.tflite"), "wb") as f:
        f.write(g.finish([x], [prev], "unsupported-ops"))
    rng = saved


def main():
    """`gen.py` regenerates everything; `gen.py --ops-only` only the per-op
    cases (no model files or MediaPipe needed), keeping the model and detect
    cases of the existing manifest."""
    from importlib.metadata import version
    ops_only = "--ops-only" in sys.argv[1:]
    previous = {}
    if ops_only:
        with open(os.path.join(HERE, "manifest.json")) as f:
            previous = json.load(f)
    for d in (OPS_DIR,) if ops_only else (OPS_DIR, MODELS_DIR, DETECT_DIR):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    define_cases()
    manifest = {
        "generator": "tests/golden/gen.py",
        "seed": SEED,
        "oracle": "ai_edge_litert.interpreter.Interpreter(experimental_op_resolver_type="
                  "OpResolverType.BUILTIN_REF)",
        "oracle_exceptions": {op: "tflite_micro.python.tflite_micro.runtime.Interpreter (TFLite Micro reference "
                                  "kernels): BUILTIN_REF's int8 SUM is wrong in LiteRT 2.3.0"
                              for op in sorted(TFLM_ORACLE)},
        "versions": {"ai-edge-litert": version("ai-edge-litert"), "tflite-micro": version("tflite-micro"),
                     "numpy": np.__version__},
        "paths": "relative to tests/golden/",
    }
    run_op_cases(manifest)
    write_fixtures()
    if ops_only:
        manifest["model_cases"] = previous["model_cases"]
        manifest["detect_cases"] = previous["detect_cases"]
    else:
        run_model_cases(manifest)
        run_detect_cases(manifest)
    counts = {}
    for c in manifest["op_cases"]:
        counts[c["op"]] = counts.get(c["op"], 0) + 1
    manifest["op_case_counts"] = dict(sorted(counts.items()))
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print("op cases:", len(manifest["op_cases"]), counts)
    print("skipped:", [s["name"] for s in manifest["skipped"]])
    print("model cases:", len(manifest["model_cases"]))


if __name__ == "__main__":
    main()
