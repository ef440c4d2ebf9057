"""Times ai-edge-litert on patchwise's host benchmark models, next to criterion's figures.

One process, one thread, the same .tflite files and input bytes (the golden model inputs) as
`cargo bench -p patchwise-tests --bench engine -- inference`; run right after it by
tools/bench-host/run so both sides are measured on one machine in one session.
Prints a Markdown table (median of each side).
"""
import json
import pathlib
import statistics
import sys
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ["mbv2-w0.35-r144-int8", "blazeface-short-int8"]
RUNS = 50


def npy(path):
    return np.load(path)


def time_litert(model, resolver, x):
    it = Interpreter(model_path=str(model), experimental_op_resolver_type=resolver, num_threads=1)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    it.set_tensor(inp["index"], x.reshape(inp["shape"]).astype(inp["dtype"]))
    for _ in range(3):
        it.invoke()
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        it.invoke()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def criterion_ms(name):
    crit = ROOT / "target" / "criterion" / "inference"
    hits = sorted(p for p in crit.glob(f"{name} *") if p.is_dir())
    out = {}
    for p in hits:
        est = json.loads((p / "new" / "estimates.json").read_text())
        out[p.name[len(name) + 1:]] = est["median"]["point_estimate"] / 1e6
    return out


def main():
    rows = [
        "| model | patchwise (criterion) | TFLite BUILTIN_REF | TFLite XNNPACK | patchwise layer by layer / XNNPACK |",
        "|---|---|---:|---:|---:|",
    ]
    for name in MODELS:
        model = ROOT / "models" / f"{name}.tflite"
        x = npy(ROOT / "tests" / "golden" / "models" / f"{name}.random.in0.npy")
        ref = time_litert(model, OpResolverType.BUILTIN_REF, x)
        xnn = time_litert(model, OpResolverType.AUTO, x)
        crit = criterion_ms(name)
        ours = "; ".join(f"{k}: {v:.2f} ms" for k, v in crit.items()) or "not measured"
        layer = crit.get("layer by layer")
        ratio = f"{layer / xnn:.2f}×" if layer else "—"
        rows.append(f"| {name} | {ours} | {ref:.2f} ms | {xnn:.2f} ms | {ratio} |")
    print("\n".join(rows))


if __name__ == "__main__":
    sys.exit(main())
