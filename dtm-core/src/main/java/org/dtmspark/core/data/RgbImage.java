package org.dtmspark.core.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * A decoded RGB image with float pixels.
 *
 * <p>The record takes ownership of {@code pixels} without copying it (images are large and are
 * decoded once per sample in data loading): callers must not modify the array afterwards.
 *
 * @param width width in pixels, at least 1
 * @param height height in pixels, at least 1
 * @param pixels {@code [3, height, width]} planar (CHW), channels R, G, B, values in {@code [0, 1]}
 */
public record RgbImage(int width, int height, float[] pixels) {
  /** Number of channels, always 3. */
  public static final int CHANNELS = 3;

  public RgbImage {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException(
          "Image size must be at least 1 x 1, cannot be: " + width + " x " + height);
    }
    if (pixels == null || pixels.length != 3L * width * height) {
      throw new IllegalArgumentException(
          "Pixels of a "
              + width
              + " x "
              + height
              + " RGB image must have length "
              + 3L * width * height
              + ", cannot be: "
              + (pixels == null ? "null" : pixels.length));
    }
  }

  /** The value of channel {@code c} (0 = R, 1 = G, 2 = B) at column {@code x}, row {@code y}. */
  public float get(int c, int y, int x) {
    return pixels[(c * height + y) * width + x];
  }

  /**
   * Converts an AWT image. Grayscale images (with or without alpha) are read from their raster and
   * replicated to the three channels; every other image goes through its colour model to sRGB.
   * Alpha is ignored (not composited).
   */
  public static RgbImage fromBufferedImage(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    int plane = w * h;
    float[] px = new float[3 * plane];
    ColorModel cm = image.getColorModel();
    if (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(cm instanceof IndexColorModel)) {
      // Read raw gray samples: BufferedImage.getRGB would convert linear gray to sRGB.
      Raster raster = image.getRaster();
      float max = (1 << cm.getComponentSize(0)) - 1;
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        raster.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          float v = row[x] / max;
          int i = y * w + x;
          px[i] = v;
          px[plane + i] = v;
          px[2 * plane + i] = v;
        }
      }
    } else {
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        image.getRGB(0, y, w, 1, row, 0, w);
        for (int x = 0; x < w; x++) {
          int argb = row[x];
          int i = y * w + x;
          px[i] = ((argb >> 16) & 0xff) / 255f;
          px[plane + i] = ((argb >> 8) & 0xff) / 255f;
          px[2 * plane + i] = (argb & 0xff) / 255f;
        }
      }
    }
    return new RgbImage(w, h, px);
  }

  /**
   * Decodes an encoded image (PNG, JPEG, BMP, GIF: whatever ImageIO reads) into RGB.
   *
   * @param bytes the encoded file
   * @param sourceName where the bytes came from, used in error messages
   * @throws ImageDecodeException naming {@code sourceName} when no reader recognises the bytes or
   *     decoding fails (for example a CMYK JPEG, which the JDK's reader rejects)
   */
  public static RgbImage decode(byte[] bytes, String sourceName) {
    BufferedImage image;
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      image = read(in);
    } catch (IOException | RuntimeException e) {
      throw new ImageDecodeException("Cannot decode image " + sourceName + ": " + e, e);
    }
    if (image == null) {
      throw new ImageDecodeException(
          "Cannot decode image "
              + sourceName
              + ": no image reader recognises its format ("
              + bytes.length
              + " bytes)",
          null);
    }
    return fromBufferedImage(image);
  }

  /** Reads the first image with the first matching reader; null when no reader matches. */
  private static BufferedImage read(ImageInputStream in) throws IOException {
    Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
    if (!readers.hasNext()) {
      return null;
    }
    ImageReader reader = readers.next();
    try {
      reader.setInput(in, true, true);
      return reader.read(0);
    } finally {
      reader.dispose();
    }
  }

  /** Converts to an 8-bit sRGB AWT image, rounding each value times 255 and clamping to 0..255. */
  public BufferedImage toBufferedImage() {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    int plane = width * height;
    int[] row = new int[width];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int i = y * width + x;
        row[x] =
            (to8bit(pixels[i]) << 16)
                | (to8bit(pixels[plane + i]) << 8)
                | to8bit(pixels[2 * plane + i]);
      }
      image.setRGB(0, y, width, 1, row, 0, width);
    }
    return image;
  }

  private static int to8bit(float v) {
    int q = Math.round(v * 255f);
    return q < 0 ? 0 : Math.min(q, 255);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RgbImage r
        && width == r.width
        && height == r.height
        && Arrays.equals(pixels, r.pixels);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * width + height) + Arrays.hashCode(pixels);
  }

  @Override
  public String toString() {
    return "RgbImage[" + width + " x " + height + "]";
  }
}
