package org.dtmspark.core.data;

import java.util.Arrays;

/**
 * One augmented view of an image, as data: everything needed to render it again exactly.
 *
 * <p>A view is sampled once (see {@link ViewSampler}) and then applied deterministically (see
 * {@link ViewRenderer}), so the teacher and the student, or a target cache and a later training
 * run, see the same pixels. Rendering crops the box, resizes it, flips it horizontally when asked,
 * then applies the colour-jitter operations in {@code jitterOrder}.
 *
 * @param cropX left edge of the crop box in source pixels, at least 0
 * @param cropY top edge of the crop box in source pixels, at least 0
 * @param cropWidth width of the crop box in source pixels, at least 1
 * @param cropHeight height of the crop box in source pixels, at least 1
 * @param flip whether the view is mirrored horizontally (after the resize)
 * @param brightness brightness factor, finite and at least 0; 1 leaves the image unchanged
 * @param contrast contrast factor, finite and at least 0; 1 leaves the image unchanged
 * @param saturation saturation factor, finite and at least 0; 1 leaves the image unchanged
 * @param jitterOrder the order of the jitter operations, a permutation of {@code {0, 1, 2}} where
 *     {@value #BRIGHTNESS} is brightness, {@value #CONTRAST} contrast and {@value #SATURATION}
 *     saturation
 */
public record ViewParams(
    int cropX,
    int cropY,
    int cropWidth,
    int cropHeight,
    boolean flip,
    float brightness,
    float contrast,
    float saturation,
    int[] jitterOrder) {
  /** Index of the brightness operation in {@link #jitterOrder()}. */
  public static final int BRIGHTNESS = 0;

  /** Index of the contrast operation in {@link #jitterOrder()}. */
  public static final int CONTRAST = 1;

  /** Index of the saturation operation in {@link #jitterOrder()}. */
  public static final int SATURATION = 2;

  public ViewParams {
    if (cropX < 0) {
      throw new IllegalArgumentException("Crop x must be at least 0, cannot be: " + cropX);
    }
    if (cropY < 0) {
      throw new IllegalArgumentException("Crop y must be at least 0, cannot be: " + cropY);
    }
    if (cropWidth < 1) {
      throw new IllegalArgumentException("Crop width must be at least 1, cannot be: " + cropWidth);
    }
    if (cropHeight < 1) {
      throw new IllegalArgumentException(
          "Crop height must be at least 1, cannot be: " + cropHeight);
    }
    requireFactor("Brightness", brightness);
    requireFactor("Contrast", contrast);
    requireFactor("Saturation", saturation);
    if (jitterOrder == null || !isPermutationOf3(jitterOrder)) {
      throw new IllegalArgumentException(
          "Jitter order must be a permutation of [0, 1, 2], cannot be: "
              + Arrays.toString(jitterOrder));
    }
    jitterOrder = jitterOrder.clone();
    // -0.0 passes the checks above; store +0.0 so equal views compare equal.
    brightness += 0f;
    contrast += 0f;
    saturation += 0f;
  }

  /** The whole {@code width x height} image, not flipped, no colour change, order {0, 1, 2}. */
  public static ViewParams fullImage(int width, int height) {
    return new ViewParams(0, 0, width, height, false, 1f, 1f, 1f, new int[] {0, 1, 2});
  }

  /** The order of the jitter operations (a copy). */
  @Override
  public int[] jitterOrder() {
    return jitterOrder.clone();
  }

  /** The {@code i}-th jitter operation to apply, {@code i} in {@code [0, 3)}. */
  public int jitterOp(int i) {
    return jitterOrder[i];
  }

  /** Whether the crop box lies inside a {@code width x height} image. */
  public boolean fitsIn(int width, int height) {
    return (long) cropX + cropWidth <= width && (long) cropY + cropHeight <= height;
  }

  /**
   * Checks that the crop box lies inside a {@code width x height} image.
   *
   * @throws IllegalArgumentException naming the box and the image size when it does not
   */
  public void requireFitsIn(int width, int height) {
    if (!fitsIn(width, height)) {
      throw new IllegalArgumentException(
          "Crop box (x="
              + cropX
              + ", y="
              + cropY
              + ", width="
              + cropWidth
              + ", height="
              + cropHeight
              + ") must lie inside the "
              + width
              + " x "
              + height
              + " image");
    }
  }

  private static void requireFactor(String field, float value) {
    if (!(value >= 0 && Float.isFinite(value))) {
      throw new IllegalArgumentException(
          field + " factor must be finite and at least 0, cannot be: " + value);
    }
  }

  private static boolean isPermutationOf3(int[] order) {
    if (order.length != 3) {
      return false;
    }
    boolean[] seen = new boolean[3];
    for (int op : order) {
      if (op < 0 || op > 2 || seen[op]) {
        return false;
      }
      seen[op] = true;
    }
    return true;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ViewParams v
        && cropX == v.cropX
        && cropY == v.cropY
        && cropWidth == v.cropWidth
        && cropHeight == v.cropHeight
        && flip == v.flip
        && Float.compare(brightness, v.brightness) == 0
        && Float.compare(contrast, v.contrast) == 0
        && Float.compare(saturation, v.saturation) == 0
        && Arrays.equals(jitterOrder, v.jitterOrder);
  }

  @Override
  public int hashCode() {
    int h = cropX;
    h = 31 * h + cropY;
    h = 31 * h + cropWidth;
    h = 31 * h + cropHeight;
    h = 31 * h + Boolean.hashCode(flip);
    h = 31 * h + Float.hashCode(brightness);
    h = 31 * h + Float.hashCode(contrast);
    h = 31 * h + Float.hashCode(saturation);
    return 31 * h + Arrays.hashCode(jitterOrder);
  }

  @Override
  public String toString() {
    return "ViewParams[crop=("
        + cropX
        + ", "
        + cropY
        + ", "
        + cropWidth
        + ", "
        + cropHeight
        + "), flip="
        + flip
        + ", brightness="
        + brightness
        + ", contrast="
        + contrast
        + ", saturation="
        + saturation
        + ", jitterOrder="
        + Arrays.toString(jitterOrder)
        + "]";
  }
}
