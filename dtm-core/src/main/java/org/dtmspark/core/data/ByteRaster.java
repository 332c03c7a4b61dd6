package org.dtmspark.core.data;

import java.util.Arrays;

/**
 * A decoded 8-bit image as a decoder leaves it: pixel-interleaved rows, in the sample order the
 * decoder wrote (for example BGR for ImageIO's JPEG reader), without a conversion pass.
 *
 * <p>The record takes ownership of {@code data} without copying it: callers must not modify the
 * array afterwards.
 *
 * @param width width in pixels, at least 1
 * @param height height in pixels, at least 1
 * @param layout the samples of one pixel and where R, G and B sit among them
 * @param data {@code [height, width, layout.pixelStride()]} row-major, at least that many bytes (a
 *     decoder's buffer may be longer), values 0..255 (unsigned)
 */
public record ByteRaster(int width, int height, Layout layout, byte[] data) {
  /**
   * The samples of one pixel: {@code pixelStride} bytes, of which R, G and B are at offsets {@code
   * red}, {@code green} and {@code blue} (all 0 for gray). Alpha, when there is one, is ignored
   * (not composited), as {@link RgbImage#fromBufferedImage} ignores it.
   */
  public enum Layout {
    /** One gray sample, replicated to R, G and B. */
    GRAY(1, 0, 0, 0),
    /** Gray, then alpha. */
    GRAY_ALPHA(2, 0, 0, 0),
    /** R, G, B. */
    RGB(3, 0, 1, 2),
    /** B, G, R (AWT's {@code TYPE_3BYTE_BGR}). */
    BGR(3, 2, 1, 0),
    /** R, G, B, alpha. */
    RGBA(4, 0, 1, 2),
    /** Alpha, B, G, R (AWT's {@code TYPE_4BYTE_ABGR}). */
    ABGR(4, 3, 2, 1);

    private final int pixelStride;
    private final int red;
    private final int green;
    private final int blue;

    Layout(int pixelStride, int red, int green, int blue) {
      this.pixelStride = pixelStride;
      this.red = red;
      this.green = green;
      this.blue = blue;
    }

    /** Bytes per pixel. */
    public int pixelStride() {
      return pixelStride;
    }

    /** Offset of the sample of channel {@code c} (0 = R, 1 = G, 2 = B) within a pixel. */
    public int offset(int c) {
      return switch (c) {
        case 0 -> red;
        case 1 -> green;
        case 2 -> blue;
        default -> throw new IllegalArgumentException("Channel must be 0, 1 or 2, cannot be: " + c);
      };
    }
  }

  public ByteRaster {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException(
          "Raster size must be at least 1 x 1, cannot be: " + width + " x " + height);
    }
    if (layout == null) {
      throw new IllegalArgumentException("Raster layout must be given, cannot be: null");
    }
    long needed = (long) width * height * layout.pixelStride();
    if (data == null || data.length < needed) {
      throw new IllegalArgumentException(
          "Data of a "
              + width
              + " x "
              + height
              + " "
              + layout
              + " raster must have at least "
              + needed
              + " bytes, cannot be: "
              + (data == null ? "null" : data.length));
    }
  }

  /**
   * The value 0..255 of channel {@code c} (0 = R, 1 = G, 2 = B) at column {@code x}, row {@code y}.
   */
  public int get(int c, int y, int x) {
    return data[((y * width) + x) * layout.pixelStride() + layout.offset(c)] & 0xFF;
  }

  /**
   * The pixels as a float image, each value {@code v / 255f} (as {@link RgbImage#decode} gives for
   * 8-bit images).
   */
  public RgbImage toRgbImage() {
    int plane = width * height;
    float[] px = new float[3 * plane];
    int stride = layout.pixelStride();
    for (int c = 0; c < 3; c++) {
      int off = layout.offset(c);
      for (int i = 0; i < plane; i++) {
        px[c * plane + i] = (data[i * stride + off] & 0xFF) / 255f;
      }
    }
    return new RgbImage(width, height, px);
  }

  /** Equal when size, layout and the pixels' bytes are equal (bytes past the pixels are not). */
  @Override
  public boolean equals(Object o) {
    int n = width * height * layout.pixelStride();
    return o instanceof ByteRaster r
        && width == r.width
        && height == r.height
        && layout == r.layout
        && Arrays.equals(data, 0, n, r.data, 0, n);
  }

  @Override
  public int hashCode() {
    int h = 31 * (31 * width + height) + layout.hashCode();
    int n = width * height * layout.pixelStride();
    for (int i = 0; i < n; i++) {
      h = 31 * h + data[i];
    }
    return h;
  }

  @Override
  public String toString() {
    return "ByteRaster[" + width + " x " + height + " " + layout + "]";
  }
}
