"""Mutated real models the project has never seen: the .tflite files bundled in
MediaPipe's wheel (from PyPI), each run through `patchwise inspect` and
`patchwise plan --split auto` as is and as seeded structural mutants. Every
outcome must be a success or a typed error (exit 1 with a message): a panic
(exit 101), a crash or a hang (over 10 s) is a failure.

    python fuzz/unseen.py PATH/TO/patchwise [MUTANTS_PER_MODEL]

Downloads mediapipe==0.10.21 (no dependencies) with pip into a temp dir."""

import collections
import pathlib
import random
import subprocess
import sys
import tempfile
import zipfile

SPECIAL = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 4, 0xFFFE]


def outcome(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "hang", ""
    err = p.stderr.decode(errors="replace")
    if p.returncode == 0:
        return "ok", ""
    if p.returncode == 1 and err.strip() and "panicked" not in err:
        return "typed error", err.strip().splitlines()[-1]
    return f"FAILURE (exit {p.returncode})", err.strip()[-300:]


def mutate(data, rng):
    b = bytearray(data)
    for _ in range(1 + rng.randrange(3)):
        span = min(len(b), 8192) if rng.random() < 0.6 else len(b)
        at = rng.randrange(span // 4) * 4
        if rng.random() < 0.4:
            b[at] ^= 1 << rng.randrange(8)
        else:
            b[at:at + 4] = SPECIAL[rng.randrange(len(SPECIAL))].to_bytes(4, "little")
    return bytes(b)


def main():
    cli = sys.argv[1]
    per_model = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    rng = random.Random(13)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "mediapipe==0.10.21", "-d", str(tmp)],
                       check=True)
        wheel = next(tmp.glob("mediapipe-*.whl"))
        models = {}
        with zipfile.ZipFile(wheel) as z:
            for name in sorted(z.namelist()):
                if name.endswith(".tflite"):
                    models[pathlib.Path(name).name] = z.read(name)
        counts = collections.Counter()
        errors = collections.Counter()
        failures = []
        for name, data in models.items():
            for k in range(per_model + 1):
                bytes_ = data if k == 0 else mutate(data, rng)
                path = tmp / f"m-{k}.tflite"
                path.write_bytes(bytes_)
                for cmd in (["inspect"], ["plan", "--split", "auto"]):
                    kind, msg = outcome([cli, cmd[0], str(path), *cmd[1:]])
                    counts[kind] += 1
                    if kind == "typed error":
                        errors[msg.split(":")[-1].strip()[:60]] += 1
                    if kind.startswith("FAILURE") or kind == "hang":
                        keep = tmp.parent / f"unseen-failure-{name}-{k}.tflite"
                        keep.write_bytes(bytes_)
                        failures.append((name, k, cmd[0], kind, msg, keep))
            print(f"{name}: {len(data)} B, {per_model} mutants", flush=True)
        print(f"\n{len(models)} models, {sum(counts.values())} runs:", dict(counts))
        print("most common errors:")
        for msg, n in errors.most_common(8):
            print(f"  {n:6}  {msg}")
        for f in failures:
            print("FAILURE", f)
        sys.exit(1 if failures else 0)


main()
