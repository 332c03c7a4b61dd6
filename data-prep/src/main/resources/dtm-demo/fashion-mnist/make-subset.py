#!/usr/bin/env python3
"""Cuts the embedded demo subset out of Debian's dataset-fashion-mnist package.

Keeps the first 10,000 training and the first 2,000 test images with their labels, in the
original idx format (gzip), byte for byte as in the source files. Run once; the output is
committed beside this script.
"""
import gzip
import struct
import sys

SRC = "/usr/share/datasets/fashion-mnist"
KEEP = {"train": 10000, "t10k": 2000}


def cut(name, kind, keep):
    src = f"{SRC}/{name}-{kind}-ubyte.gz"
    with gzip.open(src, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        header = struct.pack(">IIII", magic, keep, rows, cols)
        body = data[16 : 16 + keep * rows * cols]
    elif magic == 0x801:
        header = struct.pack(">II", magic, keep)
        body = data[8 : 8 + keep]
    else:
        sys.exit(f"{src}: unexpected magic {magic:#x}")
    with gzip.GzipFile(f"{name}-{kind}-ubyte.gz", "wb", mtime=0) as out:
        out.write(header + body)


for name, keep in KEEP.items():
    cut(name, "images-idx3", keep)
    cut(name, "labels-idx1", keep)
