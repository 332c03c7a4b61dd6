package org.dtmspark.core.data;

/**
 * Renders a {@link ViewParams} in float precision straight to 8-bit CHW: the crop, resize, flip and
 * colour jitter of {@link ViewRenderer}, with the same Pillow-compatible bicubic resampling
 * (separable, horizontal pass first, clamped to {@code [0, 1]} after each pass) and torchvision's
 * jitter (contrast blends with the mean grayscale of the rendered view), then each value {@code v}
 * becomes {@code round(255 v)}.
 *
 * <p>Differences from {@link ViewRenderer}: weights and sums are floats, not doubles, and the
 * output is quantised to 8 bits (the device normalises it). The output stays within {@code 0.5 +
 * 1e-3} of {@code 255} times {@link ViewRenderer}'s (tested): the quantisation's half step plus
 * float rounding.
 *
 * <p>Sources are read one crop row at a time into float rows (8-bit samples through a table of
 * {@code v / 255f}, as {@link RgbImage#decode} converts them), so a {@link ByteRaster} in any
 * {@link ByteRaster.Layout} and a float {@link RgbImage} render alike. An instance owns scratch
 * buffers that grow to the largest view it has rendered and is used by one thread at a time.
 */
public final class ByteViewRenderer {
  private static final float[] TO_UNIT = toUnit();
  private static final float GRAY_R = 0.299f;
  private static final float GRAY_G = 0.587f;
  private static final float GRAY_B = 0.114f;

  /** One crop row per channel, {@code [cropWidth]} each. */
  private float[] rowR = new float[0];

  private float[] rowG = new float[0];
  private float[] rowB = new float[0];

  /** Horizontal pass output, {@code [3, rows, size]}. */
  private float[] tmp = new float[0];

  /** The view before quantisation, {@code [3, size, size]}. */
  private float[] view = new float[0];

  /** Number of bytes of one rendered sample: {@code 3 * size * size}. */
  public static int sampleBytes(int size) {
    requireSize(size);
    return Math.multiplyExact(3, Math.multiplyExact(size, size));
  }

  /**
   * Renders the view of a decoded crop.
   *
   * @param crop the view and the raster holding its crop box
   * @param size side of the square output, at least 1
   * @param out receives {@code [3, size, size]} bytes (unsigned 0..255) at {@code offset}
   */
  public void render(DecodedCrop crop, int size, byte[] out, int offset) {
    ViewParams v = crop.view();
    ByteRaster raster = crop.raster();
    int x0 = v.cropX() - crop.originX();
    int y0 = v.cropY() - crop.originY();
    RowSource source =
        (y, r, g, b) -> {
          ByteRaster.Layout layout = raster.layout();
          int stride = layout.pixelStride();
          int oR = layout.offset(0);
          int oG = layout.offset(1);
          int oB = layout.offset(2);
          byte[] data = raster.data();
          int p = ((y0 + y) * raster.width() + x0) * stride;
          int w = v.cropWidth();
          for (int x = 0; x < w; x++, p += stride) {
            r[x] = TO_UNIT[data[p + oR] & 0xFF];
            g[x] = TO_UNIT[data[p + oG] & 0xFF];
            b[x] = TO_UNIT[data[p + oB] & 0xFF];
          }
        };
    render(source, v, size, out, offset);
  }

  /**
   * Renders a view of an 8-bit image.
   *
   * @param raster the whole image; the crop box of {@code view} must lie inside it
   * @param view the view
   * @param size side of the square output, at least 1
   * @param out receives {@code [3, size, size]} bytes at {@code offset}
   */
  public void render(ByteRaster raster, ViewParams view, int size, byte[] out, int offset) {
    view.requireFitsIn(raster.width(), raster.height());
    render(new DecodedCrop(view, raster, 0, 0), size, out, offset);
  }

  /**
   * Renders a view of a float image.
   *
   * @param image the whole image; the crop box of {@code view} must lie inside it
   * @param view the view
   * @param size side of the square output, at least 1
   * @param out receives {@code [3, size, size]} bytes at {@code offset}
   */
  public void render(RgbImage image, ViewParams view, int size, byte[] out, int offset) {
    view.requireFitsIn(image.width(), image.height());
    float[] px = image.pixels();
    int plane = image.width() * image.height();
    RowSource source =
        (y, r, g, b) -> {
          int start = (view.cropY() + y) * image.width() + view.cropX();
          System.arraycopy(px, start, r, 0, view.cropWidth());
          System.arraycopy(px, plane + start, g, 0, view.cropWidth());
          System.arraycopy(px, 2 * plane + start, b, 0, view.cropWidth());
        };
    render(source, view, size, out, offset);
  }

  /** Reads crop row {@code y} (relative to the crop box) into three float rows. */
  private interface RowSource {
    void row(int y, float[] r, float[] g, float[] b);
  }

  private void render(RowSource source, ViewParams v, int size, byte[] out, int offset) {
    int each = sampleBytes(size);
    if (offset < 0 || (long) offset + each > out.length) {
      throw new IllegalArgumentException(
          "Output of "
              + out.length
              + " bytes must hold "
              + each
              + " bytes at offset "
              + offset
              + " for a "
              + size
              + " x "
              + size
              + " view");
    }
    int plane = size * size;
    if (view.length < 3 * plane) {
      view = new float[3 * plane];
    }
    resize(source, v, size);
    for (int i = 0; i < 3; i++) {
      switch (v.jitterOp(i)) {
        case ViewParams.BRIGHTNESS -> adjustBrightness(plane, v.brightness());
        case ViewParams.CONTRAST -> adjustContrast(plane, v.contrast());
        case ViewParams.SATURATION -> adjustSaturation(plane, v.saturation());
        default -> throw new IllegalStateException("Unknown jitter op " + v.jitterOp(i));
      }
    }
    float[] img = view;
    for (int i = 0; i < 3 * plane; i++) {
      // Values are in [0, 1]: adding 0.5 and truncating rounds half up.
      out[offset + i] = (byte) (int) (img[i] * 255f + 0.5f);
    }
  }

  /** Crop, resize and (optionally) flip into {@link #view} as {@code [3, size, size]}. */
  private void resize(RowSource source, ViewParams v, int size) {
    int cropW = v.cropWidth();
    Weights horizontal = Weights.bicubic(cropW, size);
    Weights vertical = Weights.bicubic(v.cropHeight(), size);
    // Only the crop rows that the vertical pass reads go through the horizontal pass.
    int rowFirst = vertical.start[0];
    int rows = vertical.start[size - 1] + vertical.count[size - 1] - rowFirst;
    if (rowR.length < cropW) {
      rowR = new float[cropW];
      rowG = new float[cropW];
      rowB = new float[cropW];
    }
    int tmpPlane = rows * size;
    if (tmp.length < 3 * tmpPlane) {
      tmp = new float[3 * tmpPlane];
    }
    float[] r = rowR;
    float[] g = rowG;
    float[] b = rowB;
    float[] t = tmp;
    int[] hStart = horizontal.start;
    int[] hCount = horizontal.count;
    float[] hWeights = horizontal.weights;
    int hK = horizontal.ksize;
    for (int y = 0; y < rows; y++) {
      source.row(rowFirst + y, r, g, b);
      int tmpRow = y * size;
      for (int x = 0; x < size; x++) {
        int k0 = x * hK;
        int start = hStart[x];
        int n = hCount[x];
        float accR = 0f;
        float accG = 0f;
        float accB = 0f;
        for (int k = 0; k < n; k++) {
          float w = hWeights[k0 + k];
          accR += r[start + k] * w;
          accG += g[start + k] * w;
          accB += b[start + k] * w;
        }
        int i = tmpRow + (v.flip() ? size - 1 - x : x);
        t[i] = clamp01(accR);
        t[tmpPlane + i] = clamp01(accG);
        t[2 * tmpPlane + i] = clamp01(accB);
      }
    }
    // Vertical pass, a row at a time: out[y, :] = sum_k w[y, k] * tmp[start[y] + k, :], summed in
    // k order (as the per-pixel loop would), so the inner loop over x is a plain vector update.
    float[] o = view;
    float[] vWeights = vertical.weights;
    int vK = vertical.ksize;
    for (int c = 0; c < 3; c++) {
      int tmpBase = c * tmpPlane;
      int outBase = c * size * size;
      for (int y = 0; y < size; y++) {
        int k0 = y * vK;
        int outRow = outBase + y * size;
        int first = tmpBase + (vertical.start[y] - rowFirst) * size;
        int n = vertical.count[y];
        float w0 = vWeights[k0];
        for (int x = 0; x < size; x++) {
          o[outRow + x] = t[first + x] * w0;
        }
        for (int k = 1; k < n; k++) {
          float w = vWeights[k0 + k];
          int in = first + k * size;
          for (int x = 0; x < size; x++) {
            o[outRow + x] += t[in + x] * w;
          }
        }
        for (int x = 0; x < size; x++) {
          o[outRow + x] = clamp01(o[outRow + x]);
        }
      }
    }
  }

  private void adjustBrightness(int plane, float f) {
    if (f == 1f) {
      return;
    }
    float[] img = view;
    for (int i = 0; i < 3 * plane; i++) {
      img[i] = clamp01(f * img[i]);
    }
  }

  private void adjustContrast(int plane, float f) {
    if (f == 1f) {
      return;
    }
    float[] img = view;
    double sum = 0;
    for (int i = 0; i < plane; i++) {
      sum += gray(img[i], img[i + plane], img[i + 2 * plane]);
    }
    float other = (1f - f) * (float) (sum / plane);
    for (int i = 0; i < 3 * plane; i++) {
      img[i] = clamp01(f * img[i] + other);
    }
  }

  private void adjustSaturation(int plane, float f) {
    if (f == 1f) {
      return;
    }
    float[] img = view;
    float g = 1f - f;
    for (int i = 0; i < plane; i++) {
      float other = g * gray(img[i], img[i + plane], img[i + 2 * plane]);
      img[i] = clamp01(f * img[i] + other);
      img[i + plane] = clamp01(f * img[i + plane] + other);
      img[i + 2 * plane] = clamp01(f * img[i + 2 * plane] + other);
    }
  }

  private static float gray(float r, float g, float b) {
    return GRAY_R * r + GRAY_G * g + GRAY_B * b;
  }

  /** {@code v} clamped to {@code [0, 1]}; min and max, which the JIT vectorises. */
  private static float clamp01(float v) {
    return Math.min(Math.max(v, 0f), 1f);
  }

  private static void requireSize(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("View size must be at least 1, cannot be: " + size);
    }
  }

  private static float[] toUnit() {
    float[] table = new float[256];
    for (int v = 0; v < 256; v++) {
      table[v] = v / 255f;
    }
    return table;
  }

  /** {@link ViewRenderer.Coefficients} with float weights. */
  private static final class Weights {
    final int[] start;
    final int[] count;
    final float[] weights;
    final int ksize;

    private Weights(int[] start, int[] count, float[] weights, int ksize) {
      this.start = start;
      this.count = count;
      this.weights = weights;
      this.ksize = ksize;
    }

    static Weights bicubic(int inSize, int outSize) {
      ViewRenderer.Coefficients c = ViewRenderer.Coefficients.bicubic(inSize, outSize);
      float[] w = new float[c.weights.length];
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) c.weights[i];
      }
      return new Weights(c.start, c.count, w, c.ksize);
    }
  }
}
