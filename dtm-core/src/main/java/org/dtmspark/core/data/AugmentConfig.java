package org.dtmspark.core.data;

import java.io.Serializable;

/**
 * Settings of the pretraining augmentation: random resized crop, horizontal flip, colour jitter
 * (torchvision {@code RandomResizedCrop}, {@code RandomHorizontalFlip}, {@code ColorJitter}).
 * Serializable, so that Spark jobs can ship it to their tasks.
 *
 * @param size side of the square output view in pixels, at least 1
 * @param minScale smallest crop area as a fraction of the image area, in {@code (0, maxScale]}
 * @param maxScale largest crop area as a fraction of the image area, in {@code [minScale, 1]}
 * @param minRatio smallest crop aspect ratio (width / height), in {@code (0, maxRatio]}
 * @param maxRatio largest crop aspect ratio (width / height), finite, at least {@code minRatio}
 * @param flipProbability probability of a horizontal flip, in {@code [0, 1]}
 * @param brightness brightness jitter strength {@code s}: the factor is uniform in {@code [max(0, 1
 *     - s), 1 + s]}; 0 disables it
 * @param contrast contrast jitter strength, as {@code brightness}
 * @param saturation saturation jitter strength, as {@code brightness}
 */
public record AugmentConfig(
    int size,
    double minScale,
    double maxScale,
    double minRatio,
    double maxRatio,
    double flipProbability,
    double brightness,
    double contrast,
    double saturation)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public AugmentConfig {
    if (size < 1) {
      throw new IllegalArgumentException("View size must be at least 1, cannot be: " + size);
    }
    if (!(minScale > 0 && minScale <= 1)) {
      throw new IllegalArgumentException(
          "Minimum crop scale must be in (0, 1], cannot be: " + minScale);
    }
    if (!(maxScale >= minScale && maxScale <= 1)) {
      throw new IllegalArgumentException(
          "Maximum crop scale must be in [minScale=" + minScale + ", 1], cannot be: " + maxScale);
    }
    if (!(minRatio > 0 && Double.isFinite(minRatio))) {
      throw new IllegalArgumentException(
          "Minimum crop aspect ratio must be finite and positive, cannot be: " + minRatio);
    }
    if (!(maxRatio >= minRatio && Double.isFinite(maxRatio))) {
      throw new IllegalArgumentException(
          "Maximum crop aspect ratio must be finite and at least minRatio="
              + minRatio
              + ", cannot be: "
              + maxRatio);
    }
    if (!(flipProbability >= 0 && flipProbability <= 1)) {
      throw new IllegalArgumentException(
          "Flip probability must be in [0, 1], cannot be: " + flipProbability);
    }
    requireStrength("Brightness", brightness);
    requireStrength("Contrast", contrast);
    requireStrength("Saturation", saturation);
  }

  /**
   * The BEiT v2 / DTM pretraining augmentation: crop scale 0.2 to 1, aspect ratio 3/4 to 4/3, flip
   * with probability 0.5, colour jitter 0.4 for brightness, contrast and saturation.
   *
   * @param size side of the square output view in pixels
   */
  public static AugmentConfig defaultPretrain(int size) {
    return new AugmentConfig(size, 0.2, 1.0, 3.0 / 4.0, 4.0 / 3.0, 0.5, 0.4, 0.4, 0.4);
  }

  private static void requireStrength(String field, double value) {
    if (!(value >= 0 && Double.isFinite(value))) {
      throw new IllegalArgumentException(
          field + " jitter strength must be finite and at least 0, cannot be: " + value);
    }
  }
}
