#!/usr/bin/env python3
"""Deterministically writes the test images in this folder from the images
that ship inside scikit-image (no network).  Re-run: python make_images.py"""
import os

import skimage.data as data
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))

# Face-centred square crop of skimage's astronaut (512x512): the face spans
# roughly x 170..280, y 15..185; this 256x256 box has it centred horizontally
# and in the upper-middle, as a selfie-style frame for the short-range detector.
ASTRONAUT_FACE_BOX = (96, 0, 352, 256)  # (left, upper, right, lower)
# skimage's camera (512x512 gray): the cameraman's face (3/4 view) is around
# x 178..262, y 120..204; this box centres it the same way.
CAMERA_FACE_BOX = (96, 32, 352, 288)


def save(img, name):
    assert img.mode == "RGB"
    img.save(os.path.join(HERE, name), format="PNG", optimize=False)
    print("wrote", name, img.size)


def main():
    astro = Image.fromarray(data.astronaut()).convert("RGB")
    save(astro, "astronaut.png")
    face = astro.crop(ASTRONAUT_FACE_BOX)
    save(face.resize((128, 128), Image.Resampling.LANCZOS), "astronaut-128.png")
    save(face.resize((144, 144), Image.Resampling.LANCZOS), "astronaut-144.png")
    # The whole photo at the detector's input size: a smaller face (~24 px).
    save(astro.resize((128, 128), Image.Resampling.LANCZOS), "astronaut-wide-128.png")
    camera = Image.fromarray(data.camera()).convert("RGB")
    save(camera.crop(CAMERA_FACE_BOX).resize((128, 128), Image.Resampling.LANCZOS), "camera-128.png")
    coffee = Image.fromarray(data.coffee()).convert("RGB")  # 600x400
    w, h = coffee.size
    s = min(w, h)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    save(coffee.crop(box).resize((128, 128), Image.Resampling.LANCZOS), "noface-128.png")


if __name__ == "__main__":
    main()
