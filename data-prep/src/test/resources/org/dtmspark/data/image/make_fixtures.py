#!/usr/bin/python3
"""Writes the image fixtures of ImageInspectorTest into this directory.

Run once with Debian's Python and Pillow (apt-get install python3-pil):
    /usr/bin/python3 make_fixtures.py
Made with Pillow 9.4.0. The output is committed; rerunning it may change bytes
(a different libjpeg), not content.

Files (all tiny):
  rgb.jpg        48 x 32 RGB gradient, baseline JFIF, 4:2:0
  grayscale.jpg  16 x 12 one-component JPEG
  cmyk.jpg       16 x 16 Adobe CMYK JPEG (APP14 transform 0), four 8 x 8 quadrants
                 of pure inks: red (C0 M1 Y1 K0) top left, green (C1 M0 Y1 K0) top
                 right, blue (C1 M1 Y0 K0) bottom left, paper white bottom right
  ycck.jpg       the same quadrants as a YCCK JPEG (APP14 transform 2), see ycck()
  rgb.png, rgba.png, grayscale.png, palette.png    16 x 12
  palette.gif, rgb.bmp, rgb.tif, rgb.webp          16 x 12
"""
import io
import os

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))

RED = (0, 255, 255, 0)
GREEN = (255, 0, 255, 0)
BLUE = (255, 255, 0, 0)
WHITE = (0, 0, 0, 0)


def quadrant_ink(x, y):
    if y < 8:
        return RED if x < 8 else GREEN
    return BLUE if x < 8 else WHITE


def rgb_gradient(w, h):
    img = Image.new("RGB", (w, h))
    img.putdata(
        [((x * 255) // (w - 1), (y * 255) // (h - 1), ((x + y) * 7) % 256)
         for y in range(h) for x in range(w)])
    return img


def gray_gradient(w, h):
    img = Image.new("L", (w, h))
    img.putdata([(x * 13 + y * 5) % 256 for y in range(h) for x in range(w)])
    return img


def cmyk_quadrants():
    img = Image.new("CMYK", (16, 16))
    img.putdata([quadrant_ink(x, y) for y in range(16) for x in range(16)])
    return img


def ycck():
    """A genuine YCCK JPEG, which Pillow cannot write directly.

    An Adobe JPEG stores CMYK inverted (255 - ink). With APP14 transform 2 the
    first three stored components are YCbCr computed from R, G, B = 255 - stored C,
    M, Y, that is from the ink values themselves, and the fourth is the inverted K
    (libjpeg's cmyk_ycck_convert). Pillow writes a "CMYK" image through libjpeg
    without colour conversion, inverting each channel, so handing it the inverted
    Y, Cb, Cr and the ink K stores exactly Y, Cb, Cr, 255 - K; flipping the APP14
    transform byte from 0 to 2 then makes the file a YCCK JPEG.
    """
    src = cmyk_quadrants()
    data = []
    for c, m, y, k in src.getdata():
        r, g, b = c, m, y
        yy = 0.299 * r + 0.587 * g + 0.114 * b
        cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
        cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
        stored = [max(0, min(255, round(v))) for v in (yy, cb, cr)]
        data.append((255 - stored[0], 255 - stored[1], 255 - stored[2], k))
    img = Image.new("CMYK", src.size)
    img.putdata(data)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95)
    raw = bytearray(buf.getvalue())
    app14 = raw.find(b"\xff\xee")
    assert app14 > 0 and raw[app14 + 4:app14 + 9] == b"Adobe", "no Adobe APP14 segment"
    transform = app14 + 4 + 11  # "Adobe", version (2), flags0 (2), flags1 (2), transform
    assert raw[transform] == 0, raw[transform]
    raw[transform] = 2
    # Check: libjpeg (through Pillow) decodes it back to the inks.
    back = Image.open(io.BytesIO(bytes(raw)))
    back.load()
    for (x, y) in ((3, 3), (12, 3), (3, 12), (12, 12)):
        got = back.getpixel((x, y))
        want = quadrant_ink(x, y)
        assert all(abs(a - b) <= 6 for a, b in zip(got, want)), (x, y, got, want)
    return bytes(raw)


def main():
    out = lambda name: os.path.join(HERE, name)
    rgb_gradient(48, 32).save(out("rgb.jpg"), "JPEG", quality=90)
    gray_gradient(16, 12).save(out("grayscale.jpg"), "JPEG", quality=90)
    cmyk_quadrants().save(out("cmyk.jpg"), "JPEG", quality=95)
    with open(out("ycck.jpg"), "wb") as f:
        f.write(ycck())
    small = rgb_gradient(16, 12)
    small.save(out("rgb.png"), "PNG")
    rgba = small.copy()
    rgba.putalpha(gray_gradient(16, 12))
    rgba.save(out("rgba.png"), "PNG")
    gray_gradient(16, 12).save(out("grayscale.png"), "PNG")
    palette = small.quantize(colors=16)
    palette.save(out("palette.png"), "PNG")
    palette.save(out("palette.gif"), "GIF")
    small.save(out("rgb.bmp"), "BMP")
    small.save(out("rgb.tif"), "TIFF")
    small.save(out("rgb.webp"), "WEBP", lossless=True)


if __name__ == "__main__":
    main()
