#!/usr/bin/env python3
"""models/tflm_arena.json: for every models/*.tflite, run it in TFLite Micro
(tflite-micro's Python runtime), capture the C++-printed
"[RecordingMicroAllocator] Arena allocation total/head/tail N bytes" lines
(printed by native code straight to the process's fds, so each model runs in a
child process whose output is captured), and check that TFLM's outputs equal
BUILTIN_REF's byte for byte on the seeded random input (and, for image models,
on the matching assets/images picture).  Re-run: python tflm_arena.py"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "tools")
sys.path.insert(0, TOOLS)
import tfl  # noqa: E402

SEED = 20261124  # same seed as tests/golden/gen.py uses for whole-model inputs
IMAGES = os.path.join(HERE, "..", "assets", "images")
ARENA = 16 << 20  # bytes offered to TFLM; the recorded numbers are what it used

CHILD = r"""
import sys, numpy as np
from tflite_micro.python.tflite_micro import runtime
path, arena, nin, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
it = runtime.Interpreter.from_file(path, arena_size=arena)
res = {}
for v in range(nin):
    for k, x in enumerate(np.load(f"{out}.in{v}.npz").values()):
        it.set_input(x, k)
    it.invoke()
    outs = []
    k = 0
    while True:
        try:
            outs.append(it.get_output(k))
        except Exception:
            break
        k += 1
    np.savez(f"{out}.out{v}.npz", *outs)
    it.reset()
sys.stdout.flush()
it.print_allocations()
"""


def main():
    results = {}
    for path in sorted(glob.glob(os.path.join(HERE, "*.tflite"))):
        name = os.path.basename(path)
        variants = tfl.model_cases(path, IMAGES, SEED)
        with tempfile.TemporaryDirectory() as td:
            base = os.path.join(td, "io")
            for v, (_, xs) in enumerate(variants):
                np.savez(f"{base}.in{v}.npz", *xs)
            p = subprocess.run([sys.executable, "-c", CHILD, path, str(ARENA), str(len(variants)), base],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            log = p.stdout
            if p.returncode != 0:
                print(log)
                raise SystemExit(f"TFLM failed on {name}")
            rec = {}
            for key in ("total", "head", "tail"):
                mm = re.search(rf"Arena allocation {key} (\d+) bytes", log)
                assert mm, f"no '{key}' line for {name}:\n{log}"
                rec[key] = int(mm.group(1))
            ok = True
            for v, (vname, xs) in enumerate(variants):
                ref = tfl.run_ref(path, xs)
                got = list(np.load(f"{base}.out{v}.npz").values())
                same = len(ref) == len(got) and all(
                    a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
                    for a, b in zip(ref, got))
                print(f"{name} [{vname}] TFLM == BUILTIN_REF: {same}")
                ok &= same
            rec["matches_builtin_ref"] = bool(ok)
            results[name] = rec
        print(name, rec)
    out = os.path.join(HERE, "tflm_arena.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    print("wrote", out)
    if not all(r["matches_builtin_ref"] for r in results.values()):
        raise SystemExit("TFLM and BUILTIN_REF disagree")


if __name__ == "__main__":
    main()
