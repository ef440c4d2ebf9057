"""Small .tflite flatbuffer helpers shared by the patchwise generators."""
import collections
import hashlib
import os
import sys

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

OP_NAMES = {v: k for k, v in vars(S.BuiltinOperator).items() if not k.startswith("_")}
TYPE_NAMES = {v: k for k, v in vars(S.TensorType).items() if not k.startswith("_")}
NP_DTYPES = {S.TensorType.FLOAT32: np.float32, S.TensorType.INT8: np.int8,
             S.TensorType.INT32: np.int32, S.TensorType.UINT8: np.uint8,
             S.TensorType.INT16: np.int16, S.TensorType.INT64: np.int64,
             S.TensorType.FLOAT16: np.float16}


def load(path_or_bytes):
    buf = path_or_bytes
    if isinstance(path_or_bytes, (str, os.PathLike)):
        with open(path_or_bytes, "rb") as f:
            buf = f.read()
    return S.ModelT.InitFromPackedBuf(bytearray(buf), 0)


def pack(model):
    b = flatbuffers.Builder(1 << 16)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def op_code(oc):
    """The real builtin code: TFLite uses max(builtin_code, deprecated_builtin_code)."""
    return max(int(oc.builtinCode), int(oc.deprecatedBuiltinCode))


def canonicalize_opcodes(model):
    """Write both builtin_code and deprecated_builtin_code = min(code, 127)."""
    for oc in model.operatorCodes:
        c = op_code(oc)
        oc.builtinCode = c
        oc.deprecatedBuiltinCode = min(c, S.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
    return model


def op_counts(model):
    c = collections.Counter()
    for sg in model.subgraphs:
        for op in sg.operators:
            c[OP_NAMES[op_code(model.operatorCodes[op.opcodeIndex])]] += 1
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def const_bytes(model, file_bytes=None):
    """Sum of the sizes of the constant buffers referenced by tensors."""
    used = set()
    for sg in model.subgraphs:
        for t in sg.tensors:
            used.add(int(t.buffer))
    total = 0
    for i in used:
        b = model.buffers[i]
        if b.data is not None:
            total += len(b.data)
        elif b.offset and b.offset > 1:
            total += int(b.size)
    return total


def n_external_buffers(model):
    return sum(1 for b in model.buffers if b.offset and b.offset > 1)


def tensor_desc(t):
    q = t.quantization
    d = {"name": t.name.decode() if isinstance(t.name, bytes) else t.name,
         "shape": [int(s) for s in t.shape], "dtype": TYPE_NAMES[t.type].lower()}
    if q is not None and q.scale is not None and len(q.scale):
        sc = [float(s) for s in q.scale]
        zp = [int(z) for z in q.zeroPoint]
        d["scale"] = sc[0] if len(sc) == 1 else sc
        d["zero_point"] = zp[0] if len(zp) == 1 else zp
    return d


def io_desc(model):
    sg = model.subgraphs[0]
    return ([tensor_desc(sg.tensors[i]) for i in sg.inputs],
            [tensor_desc(sg.tensors[i]) for i in sg.outputs])


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def ref_interpreter(path=None, content=None):
    """THE ORACLE: LiteRT with the reference (BUILTIN_REF) kernels."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    kw = dict(experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    if path is not None:
        return Interpreter(model_path=str(path), **kw)
    return Interpreter(model_content=bytes(content), **kw)


def run_ref(path, inputs):
    """Run with BUILTIN_REF; inputs in subgraph-input order. Returns outputs list."""
    it = ref_interpreter(path)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


if __name__ == "__main__":
    for p in sys.argv[1:]:
        m = load(p)
        print(p, op_counts(m), io_desc(m), const_bytes(m), n_external_buffers(m))


def model_cases(path, images_dir, seed):
    """Input variants for a whole-model golden / TFLM check, as
    [(variant, [inputs in subgraph order])]:
      'random'  seeded (np.random.default_rng(seed)) int8 in [-128, 127], or
                float32 uniform in [-1.25, 1.25] for float inputs;
      <image>   for an image-like single input (1, H, H, 3): every
                images_dir/*-<H>.png, preprocessed with tools/preprocess.py."""
    import glob
    from PIL import Image
    from preprocess import preprocess
    rng = np.random.default_rng(seed)
    ins, _ = io_desc(load(path))
    rnd = []
    for d in ins:
        if np.dtype(d["dtype"]) == np.int8:
            rnd.append(rng.integers(-128, 128, size=d["shape"], dtype=np.int8))
        else:
            rnd.append(rng.uniform(-1.25, 1.25, size=d["shape"]).astype(np.float32))
    variants = [("random", rnd)]
    if len(ins) == 1 and len(ins[0]["shape"]) == 4 and ins[0]["shape"][3] == 3:
        h, w = ins[0]["shape"][1:3]
        for f in sorted(glob.glob(os.path.join(images_dir, f"*-{h}.png"))):
            img = Image.open(f).convert("RGB")
            if img.size != (w, h):
                continue
            x = preprocess(np.asarray(img), np.dtype(ins[0]["dtype"]),
                           ins[0].get("scale"), ins[0].get("zero_point"))
            variants.append((os.path.basename(f)[:-4], [x]))
    return variants
