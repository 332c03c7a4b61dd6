package org.dtmspark.core.data;

import java.util.List;

/**
 * Renders a {@link ViewParams} deterministically: crop, bicubic resize, horizontal flip, colour
 * jitter.
 *
 * <p><b>Resize.</b> The crop box is treated as an image of its own (as torchvision's {@code
 * resized_crop} on a PIL image: crop, then resize) and resized with Pillow's {@code
 * ImagingResample} semantics for {@code BICUBIC}: separable, horizontal pass first, then vertical;
 * cubic kernel with {@code a = -0.5} and support 2; when downsampling by a factor {@code s > 1} the
 * kernel is stretched by {@code s} (antialiasing); output pixel {@code i} is centred at {@code (i +
 * 0.5) * in / out} in input coordinates whose pixel centres sit at {@code +0.5}; taps outside the
 * crop are dropped and the remaining weights are normalised to sum 1. Values are accumulated in
 * double precision and clamped to {@code [0, 1]} after each pass, as Pillow clips 8-bit images
 * after each pass.
 *
 * <p><b>Colour jitter</b> follows torchvision's functional ops on float images, applied in {@link
 * ViewParams#jitterOrder()} order, each with {@code blend(img, other, f) = clamp(f * img + (1 - f)
 * * other, 0, 1)}: brightness blends with 0; contrast with the mean over the whole (current) image
 * of the grayscale {@code 0.299 R + 0.587 G + 0.114 B}; saturation with the per-pixel grayscale. A
 * factor of exactly 1 is the identity and is skipped.
 *
 * <p>Pure Java, no per-pixel allocation; resampling weights are computed once per call and axis.
 */
public final class ViewRenderer {
  private static final double BICUBIC_A = -0.5;
  private static final double BICUBIC_SUPPORT = 2.0;
  private static final float GRAY_R = 0.299f;
  private static final float GRAY_G = 0.587f;
  private static final float GRAY_B = 0.114f;

  private ViewRenderer() {}

  /**
   * Renders one view.
   *
   * @param src source image, the crop box of {@code view} must lie inside it
   * @param view the view to render
   * @param size side of the square output, at least 1
   * @return {@code [3, size, size]} CHW, values in {@code [0, 1]}
   */
  public static float[] render(RgbImage src, ViewParams view, int size) {
    requireSize(size);
    float[] out = new float[3 * size * size];
    renderInto(src, view, size, out, 0);
    return out;
  }

  /**
   * Renders one view per image, for an NDArray of shape {@code [B, 3, size, size]}.
   *
   * @param images {@code B} source images
   * @param views {@code B} views, {@code views.get(i)} applied to {@code images.get(i)}
   * @param size side of the square outputs, at least 1
   * @return {@code [B, 3, size, size]} row-major, values in {@code [0, 1]}
   */
  public static float[] renderBatch(List<RgbImage> images, List<ViewParams> views, int size) {
    requireSize(size);
    if (images.size() != views.size()) {
      throw new IllegalArgumentException(
          "Number of views must equal the number of images ("
              + images.size()
              + "), cannot be: "
              + views.size());
    }
    int each = 3 * size * size;
    float[] out = new float[Math.multiplyExact(images.size(), each)];
    for (int b = 0; b < images.size(); b++) {
      renderInto(images.get(b), views.get(b), size, out, b * each);
    }
    return out;
  }

  private static void renderInto(RgbImage src, ViewParams view, int size, float[] out, int offset) {
    view.requireFitsIn(src.width(), src.height());
    resize(src, view, size, out, offset);
    for (int i = 0; i < 3; i++) {
      switch (view.jitterOp(i)) {
        case ViewParams.BRIGHTNESS -> adjustBrightness(out, offset, size * size, view.brightness());
        case ViewParams.CONTRAST -> adjustContrast(out, offset, size * size, view.contrast());
        case ViewParams.SATURATION -> adjustSaturation(out, offset, size * size, view.saturation());
        default -> throw new IllegalStateException("Unknown jitter op " + view.jitterOp(i));
      }
    }
  }

  /** Crop, resize and (optionally) flip into {@code out[offset ..]} as {@code [3, size, size]}. */
  private static void resize(RgbImage src, ViewParams view, int size, float[] out, int offset) {
    int srcW = src.width();
    int srcPlane = srcW * src.height();
    float[] in = src.pixels();
    int cropW = view.cropWidth();
    int cropH = view.cropHeight();
    Coefficients horizontal = Coefficients.bicubic(cropW, size);
    Coefficients vertical = Coefficients.bicubic(cropH, size);
    // Only the crop rows that the vertical pass reads go through the horizontal pass.
    int rowFirst = vertical.start[0];
    int rowEnd = vertical.start[size - 1] + vertical.count[size - 1];
    int rows = rowEnd - rowFirst;
    float[] tmp = new float[3 * rows * size];
    for (int c = 0; c < 3; c++) {
      for (int r = 0; r < rows; r++) {
        int inRow = c * srcPlane + (view.cropY() + rowFirst + r) * srcW + view.cropX();
        int tmpRow = (c * rows + r) * size;
        for (int x = 0; x < size; x++) {
          int k0 = x * horizontal.ksize;
          int start = inRow + horizontal.start[x];
          double acc = 0;
          for (int k = 0; k < horizontal.count[x]; k++) {
            acc += in[start + k] * horizontal.weights[k0 + k];
          }
          int outX = view.flip() ? size - 1 - x : x;
          tmp[tmpRow + outX] = clamp01((float) acc);
        }
      }
    }
    for (int c = 0; c < 3; c++) {
      int tmpPlane = c * rows * size;
      int outPlane = offset + c * size * size;
      for (int y = 0; y < size; y++) {
        int k0 = y * vertical.ksize;
        int firstRow = tmpPlane + (vertical.start[y] - rowFirst) * size;
        int outRow = outPlane + y * size;
        for (int x = 0; x < size; x++) {
          double acc = 0;
          int idx = firstRow + x;
          for (int k = 0; k < vertical.count[y]; k++, idx += size) {
            acc += tmp[idx] * vertical.weights[k0 + k];
          }
          out[outRow + x] = clamp01((float) acc);
        }
      }
    }
  }

  private static void adjustBrightness(float[] img, int offset, int plane, float f) {
    if (f == 1f) {
      return;
    }
    for (int i = offset; i < offset + 3 * plane; i++) {
      img[i] = clamp01(f * img[i]);
    }
  }

  private static void adjustContrast(float[] img, int offset, int plane, float f) {
    if (f == 1f) {
      return;
    }
    double sum = 0;
    for (int i = offset; i < offset + plane; i++) {
      sum += gray(img[i], img[i + plane], img[i + 2 * plane]);
    }
    float other = (1f - f) * (float) (sum / plane);
    for (int i = offset; i < offset + 3 * plane; i++) {
      img[i] = clamp01(f * img[i] + other);
    }
  }

  private static void adjustSaturation(float[] img, int offset, int plane, float f) {
    if (f == 1f) {
      return;
    }
    float g = 1f - f;
    for (int i = offset; i < offset + plane; i++) {
      float other = g * gray(img[i], img[i + plane], img[i + 2 * plane]);
      img[i] = clamp01(f * img[i] + other);
      img[i + plane] = clamp01(f * img[i + plane] + other);
      img[i + 2 * plane] = clamp01(f * img[i + 2 * plane] + other);
    }
  }

  private static float gray(float r, float g, float b) {
    return GRAY_R * r + GRAY_G * g + GRAY_B * b;
  }

  private static float clamp01(float v) {
    return v < 0f ? 0f : (v > 1f ? 1f : v);
  }

  private static void requireSize(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("View size must be at least 1, cannot be: " + size);
    }
  }

  /** Cubic convolution kernel with {@code a = -0.5} (Keys), support 2. */
  static double bicubic(double x) {
    double t = Math.abs(x);
    if (t < 1.0) {
      return ((BICUBIC_A + 2.0) * t - (BICUBIC_A + 3.0)) * t * t + 1.0;
    }
    if (t < 2.0) {
      return (((t - 5.0) * t + 8.0) * t - 4.0) * BICUBIC_A;
    }
    return 0.0;
  }

  /**
   * Resampling weights along one axis: output pixel {@code i} reads input pixels {@code start[i] ..
   * start[i] + count[i] - 1} with weights {@code weights[i * ksize ..]}.
   */
  static final class Coefficients {
    final int[] start;
    final int[] count;
    final double[] weights;
    final int ksize;

    private Coefficients(int[] start, int[] count, double[] weights, int ksize) {
      this.start = start;
      this.count = count;
      this.weights = weights;
      this.ksize = ksize;
    }

    /** Pillow's {@code precompute_coeffs} for the bicubic filter over the whole input axis. */
    static Coefficients bicubic(int inSize, int outSize) {
      double scale = (double) inSize / outSize;
      double filterScale = Math.max(scale, 1.0);
      double support = BICUBIC_SUPPORT * filterScale;
      int ksize = (int) Math.ceil(support) * 2 + 1;
      int[] start = new int[outSize];
      int[] count = new int[outSize];
      double[] weights = new double[outSize * ksize];
      double invFilterScale = 1.0 / filterScale;
      for (int i = 0; i < outSize; i++) {
        double center = (i + 0.5) * scale;
        // (int) truncates towards zero, as the C cast in Pillow.
        int xmin = Math.max(0, (int) (center - support + 0.5));
        int xmax = Math.min(inSize, (int) (center + support + 0.5));
        int n = xmax - xmin;
        double sum = 0;
        int k0 = i * ksize;
        for (int k = 0; k < n; k++) {
          double w = ViewRenderer.bicubic((k + xmin - center + 0.5) * invFilterScale);
          weights[k0 + k] = w;
          sum += w;
        }
        if (sum != 0.0) {
          for (int k = 0; k < n; k++) {
            weights[k0 + k] /= sum;
          }
        }
        start[i] = xmin;
        count[i] = n;
      }
      return new Coefficients(start, count, weights, ksize);
    }
  }
}
