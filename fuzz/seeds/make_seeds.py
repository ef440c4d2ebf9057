"""Seeds for the fuzz targets that models/ and the goldens do not cover:
small images of every PNG/JPEG variant the decoder handles, and
architecture-spec JSON (the presets' shapes, SE, odd kernels).
Deterministic (seeded); `pip install pillow==11.3.0`, then
`python fuzz/seeds/make_seeds.py`. tools/fuzz builds the other seeds
(models, goldens) itself."""

import io
import json
import struct
import zlib
import pathlib
import random

from PIL import Image

HERE = pathlib.Path(__file__).parent
rng = random.Random(2021)


def noise(mode, size):
    w, h = size
    bands = len(mode) if mode in ("RGB", "RGBA", "LA") else 1
    img = Image.new(mode, size)
    img.putdata([tuple(rng.randrange(256) for _ in range(bands)) if bands > 1 else rng.randrange(256) for _ in range(w * h)])
    return img


def save(name, img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    (HERE / "image" / name).write_bytes(buf.getvalue())


(HERE / "image").mkdir(exist_ok=True)
save("rgb.png", noise("RGB", (9, 7)), "PNG")
save("rgba.png", noise("RGBA", (5, 6)), "PNG")
save("gray.png", noise("L", (8, 3)), "PNG")
save("gray-alpha.png", noise("LA", (4, 4)), "PNG")
save("palette.png", noise("RGB", (6, 6)).convert("P", palette=Image.ADAPTIVE, colors=8), "PNG")
save("interlaced.png", noise("RGB", (11, 5)), "PNG", interlace=1)
save("gray16.png", Image.frombytes("I;16", (3, 3), bytes(rng.randrange(256) for _ in range(18))), "PNG")
save("baseline.jpg", noise("RGB", (16, 9)), "JPEG", quality=80)
save("progressive.jpg", noise("RGB", (10, 10)), "JPEG", quality=60, progressive=True)
save("gray.jpg", noise("L", (8, 8)), "JPEG")
save("cmyk.jpg", noise("RGB", (8, 8)).convert("CMYK"), "JPEG")

# A decompression bomb: 8×8 pixels of data behind an IHDR declaring 60000×60000
# (10.8 GB of RGB). The decoder must refuse it from the header (the page test
# uploads it too).
buf = io.BytesIO()
noise("RGB", (8, 8)).save(buf, "PNG")
png = bytearray(buf.getvalue())
png[16:24] = struct.pack(">II", 60000, 60000)
png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
(HERE / "image" / "bomb.png").write_bytes(bytes(png))


def group(kernel, expansion, stride, out_channels, repeat, se=False):
    return dict(kernel=kernel, expansion=expansion, stride=stride, out_channels=out_channels, repeat=repeat, se=se)


def spec(name, resolution, width, blocks, head=64, classes=10, first=(8, 3, 2)):
    return dict(name=name, resolution=resolution, width_multiplier=width, first_channels=first[0],
                first_kernel=first[1], first_stride=first[2], blocks=blocks, head_channels=head,
                classes=classes, seed=rng.randrange(1 << 32))


(HERE / "spec").mkdir(exist_ok=True)
specs = {
    "mbv2-small": spec("mbv2-small", 48, 0.35, [group(3, 1, 1, 16, 1), group(3, 6, 2, 24, 2), group(3, 6, 2, 32, 3)]),
    "mcunet-like": spec("mcunet-like", 40, 1.0, [group(3, 1, 1, 8, 1), group(7, 4, 2, 16, 2), group(5, 3, 2, 24, 3)]),
    "se": spec("se", 32, 0.5, [group(3, 4, 2, 16, 2, se=True), group(5, 6, 1, 24, 1, se=True)]),
    "strides": spec("strides", 37, 0.75, [group(9, 2, 4, 12, 1), group(1, 1, 3, 8, 2)], first=(4, 5, 1)),
    "rd": spec("rd-demo-rd", 64, 0.25, [group(5, 6, 2, 16, 1), group(3, 6, 2, 24, 2), group(5, 6, 1, 32, 1)]),
}
for name, s in specs.items():
    (HERE / "spec" / f"{name}.json").write_text(json.dumps(s, indent=1) + "\n")
