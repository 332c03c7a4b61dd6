"""Writes pillow-bicubic-golden.txt: Pillow's bicubic crop-then-resize outputs for ViewRendererTest.

Made with Pillow 9.4.0 (Debian python3-pil), plain Python 3.11, no other dependency:
    /usr/bin/python3 pillow_bicubic_golden.py > pillow-bicubic-golden.txt

Two source images of 23 x 17 pixels, three channels, defined by formulas that the Java test
repeats exactly:
  smooth: float32(0.5 + 0.25 * sin(0.3 * x + 0.2 * y + 0.7 * c + 0.05 * x * y)), resized per
          channel in Pillow mode "F" (float, no clamping; values stay inside (0, 1) here).
  bytes:  (x * y * 7 + x * 31 + y * 17 + c * 101) % 256, resized as one 8-bit "RGB" image
          (Pillow's fixed-point weights, rounding and clipping to 0..255 after each pass).
Each case is a crop box (x, y, width, height) in source pixels and the square output size; the
image is cropped, then resized (torchvision's resized_crop on a PIL image).
Output: a line "case <image> <x> <y> <w> <h> <size>", then a line of 3 * size * size values, CHW:
raw floats for "smooth", value / 255 for "bytes".
"""
import math
import struct

from PIL import Image

W, H = 23, 17
CASES = [
    (0, 0, 23, 17, 9),  # downsample, non-integer factors
    (3, 2, 15, 11, 7),  # crop and downsample
    (5, 4, 6, 5, 16),  # crop and upsample
    (0, 0, 23, 17, 40),  # upsample
    (2, 1, 12, 12, 6),  # downsample by exactly 2
]


def smooth_plane(c):
    values = [
        0.5 + 0.25 * math.sin(0.3 * x + 0.2 * y + 0.7 * c + 0.05 * x * y)
        for y in range(H)
        for x in range(W)
    ]
    return Image.frombytes("F", (W, H), struct.pack("<%df" % len(values), *values))


def bytes_image():
    data = bytes(
        (x * y * 7 + x * 31 + y * 17 + c * 101) % 256
        for y in range(H)
        for x in range(W)
        for c in range(3)
    )
    return Image.frombytes("RGB", (W, H), data)


def main():
    planes = [smooth_plane(c) for c in range(3)]
    rgb = bytes_image()
    for cx, cy, cw, ch, size in CASES:
        box = (cx, cy, cx + cw, cy + ch)
        values = []
        for p in planes:
            values.extend(p.crop(box).resize((size, size), Image.BICUBIC).getdata())
        print("case smooth %d %d %d %d %d" % (cx, cy, cw, ch, size))
        print(" ".join("%.9g" % v for v in values))
        out = rgb.crop(box).resize((size, size), Image.BICUBIC)
        values = []
        for c in range(3):
            values.extend(v / 255.0 for v in out.getchannel(c).getdata())
        print("case bytes %d %d %d %d %d" % (cx, cy, cw, ch, size))
        print(" ".join("%.9g" % v for v in values))


if __name__ == "__main__":
    main()
