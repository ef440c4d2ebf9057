"""Writes a copy of a .tflite classifier with a labels file packed in it, as
TFLite's metadata populator packs associated files: a stored zip appended to
the flatbuffer with Python's zipfile in append mode. The browser test opens it
and expects the page to name the classes from it.

Usage: python3 labelled_model.py MODEL.tflite OUT.tflite NAME...
"""
import shutil
import sys
import zipfile

model, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
shutil.copyfile(model, out)
with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_STORED) as z:
    z.writestr("labels.txt", "".join(n + "\n" for n in names))
