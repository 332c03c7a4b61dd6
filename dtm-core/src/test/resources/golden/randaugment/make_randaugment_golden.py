#!/usr/bin/python3
"""Golden data for RandAugmentGoldenTest: timm's RandAugment operations run by Pillow.

Made once with timm's public source (no timm file is in this repository), Debian's Pillow 9.4 and
PyTorch (timm's package imports torch):

    apt-get install -y python3-torch python3-torchvision python3-pil
    mkdir /tmp/timm-src && git -C <clone of huggingface/pytorch-image-models> archive v0.9.16 timm \\
        | tar -x -C /tmp/timm-src
    PYTHONPATH=/tmp/timm-src /usr/bin/python3 make_randaugment_golden.py   # from this directory

``image.npy`` [3, 20, 24] is a fixed 8-bit RGB image (values 0..255 stored as float32, CHW):
smooth gradients, a bright square and noise, so that every operation changes it. ``ops.npy``
[16, 3, 20, 24] holds the image after each call of ``CALLS`` below (timm's op functions with fixed
arguments, bicubic resampling and the ImageNet-mean fill colour timm uses for RandAugment).
"""

import os

import numpy as np
from PIL import Image

from timm.data import auto_augment as aa

OUT = os.path.dirname(os.path.abspath(__file__))
FILL = (124, 116, 104)  # round(255 * ImageNet mean), timm's img_mean hparam
KW = dict(fillcolor=FILL, resample=Image.BICUBIC)

# (name, function of a PIL image); the Java test repeats the list in the same order.
CALLS = [
    ("auto_contrast", lambda im: aa.auto_contrast(im)),
    ("equalize", lambda im: aa.equalize(im)),
    ("invert", lambda im: aa.invert(im)),
    ("rotate 17", lambda im: aa.rotate(im, 17.0, **KW)),
    ("rotate -23.5", lambda im: aa.rotate(im, -23.5, **KW)),
    ("posterize 2", lambda im: aa.posterize(im, 2)),
    ("solarize 100", lambda im: aa.solarize(im, 100)),
    ("solarize_add 50", lambda im: aa.solarize_add(im, 50)),
    ("color 1.6", lambda im: aa.color(im, 1.6)),
    ("contrast 0.4", lambda im: aa.contrast(im, 0.4)),
    ("brightness 1.7", lambda im: aa.brightness(im, 1.7)),
    ("sharpness 0.3", lambda im: aa.sharpness(im, 0.3)),
    ("shear_x 0.25", lambda im: aa.shear_x(im, 0.25, **KW)),
    ("shear_y -0.2", lambda im: aa.shear_y(im, -0.2, **KW)),
    ("translate_x_rel 0.3", lambda im: aa.translate_x_rel(im, 0.3, **KW)),
    ("translate_y_rel -0.2", lambda im: aa.translate_y_rel(im, -0.2, **KW)),
]


def make_image(h=20, w=24):
    rng = np.random.default_rng(20261205)
    y, x = np.mgrid[0:h, 0:w]
    r = 40 + 150 * x / (w - 1)
    g = 30 + 120 * y / (h - 1)
    b = 90 + 60 * np.sin(x / 3.0) * np.cos(y / 4.0)
    img = np.stack([r, g, b]) + rng.normal(0, 12, (3, h, w))
    img[:, 5:11, 7:14] += 70
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def main():
    chw = make_image()
    pil = Image.fromarray(np.ascontiguousarray(chw.transpose(1, 2, 0)), "RGB")
    outs = []
    for name, fn in CALLS:
        out = np.asarray(fn(pil)).transpose(2, 0, 1)
        assert out.shape == chw.shape, name
        outs.append(out)
    np.save(os.path.join(OUT, "image.npy"), chw.astype("<f4"))
    np.save(os.path.join(OUT, "ops.npy"), np.stack(outs).astype("<f4"))
    for (name, _), out in zip(CALLS, outs):
        print(name, "changed", int((out != chw).sum()), "of", chw.size)


if __name__ == "__main__":
    main()
