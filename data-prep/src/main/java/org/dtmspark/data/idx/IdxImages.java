package org.dtmspark.data.idx;

import java.util.Arrays;
import org.dtmspark.core.data.RgbImage;

/**
 * Images of an MNIST-family idx file: unsigned bytes, {@code [count, rows, cols]}.
 *
 * <p>The record takes ownership of {@code pixels} without copying it (the Fashion-MNIST training
 * set is 47 MB): callers must not modify the array afterwards.
 *
 * @param count number of images, at least 0
 * @param rows rows per image, at least 1
 * @param cols columns per image, at least 1
 * @param pixels {@code [count, rows, cols]} row-major, unsigned bytes (0 = black, 255 = white in
 *     the file; Fashion-MNIST stores dark objects on a 0 background)
 */
public record IdxImages(int count, int rows, int cols, byte[] pixels) {

  public IdxImages {
    if (count < 0) {
      throw new IllegalArgumentException("Image count must be at least 0, cannot be: " + count);
    }
    if (rows < 1 || cols < 1) {
      throw new IllegalArgumentException(
          "Image size must be at least 1 x 1, cannot be: " + rows + " x " + cols);
    }
    long expected = (long) count * rows * cols;
    if (pixels == null || pixels.length != expected) {
      throw new IllegalArgumentException(
          "Pixels of "
              + count
              + " images of "
              + rows
              + " x "
              + cols
              + " must have length "
              + expected
              + ", cannot be: "
              + (pixels == null ? "null" : pixels.length));
    }
  }

  /** Number of pixels per image, {@code rows * cols}. */
  public int imageSize() {
    return rows * cols;
  }

  /** The unsigned value (0..255) of image {@code index} at {@code row}, {@code col}. */
  public int pixel(int index, int row, int col) {
    checkIndex(index);
    return pixels[(index * rows + row) * cols + col] & 0xff;
  }

  /** A copy of the bytes of image {@code index}, {@code [rows, cols]} row-major. */
  public byte[] image(int index) {
    checkIndex(index);
    int from = index * imageSize();
    return Arrays.copyOfRange(pixels, from, from + imageSize());
  }

  /**
   * Image {@code index} as an RGB image: the gray value divided by 255, replicated to the three
   * channels (as PIL's {@code convert("RGB")} of a grayscale image).
   */
  public RgbImage toRgbImage(int index) {
    checkIndex(index);
    int plane = imageSize();
    int from = index * plane;
    float[] px = new float[3 * plane];
    for (int i = 0; i < plane; i++) {
      float v = (pixels[from + i] & 0xff) / 255f;
      px[i] = v;
      px[plane + i] = v;
      px[2 * plane + i] = v;
    }
    return new RgbImage(cols, rows, px);
  }

  /** The images at {@code indices}, in that order (repetitions allowed). */
  public IdxImages select(int[] indices) {
    int size = imageSize();
    byte[] out = new byte[Math.multiplyExact(indices.length, size)];
    for (int i = 0; i < indices.length; i++) {
      checkIndex(indices[i]);
      System.arraycopy(pixels, indices[i] * size, out, i * size, size);
    }
    return new IdxImages(indices.length, rows, cols, out);
  }

  private void checkIndex(int index) {
    if (index < 0 || index >= count) {
      throw new IndexOutOfBoundsException(
          "Image index must be in [0, " + count + "), cannot be: " + index);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IdxImages i
        && count == i.count
        && rows == i.rows
        && cols == i.cols
        && Arrays.equals(pixels, i.pixels);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * count + rows) + cols) + Arrays.hashCode(pixels);
  }

  @Override
  public String toString() {
    return "IdxImages[count=" + count + ", rows=" + rows + ", cols=" + cols + "]";
  }
}
