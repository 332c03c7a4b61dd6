package org.dtmspark.core.config;

import org.dtmspark.core.data.AugmentConfig;

/** An {@code augment} section: random resized crop, flip and colour jitter. */
public record AugmentSettings(
    double minScale,
    double maxScale,
    double minRatio,
    double maxRatio,
    double flipProbability,
    double brightness,
    double contrast,
    double saturation) {

  static AugmentSettings from(SettingsReader r) {
    AugmentSettings s =
        new AugmentSettings(
            r.numberIn("min-scale", 0, 1),
            r.numberIn("max-scale", 0, 1),
            r.positive("min-ratio"),
            r.positive("max-ratio"),
            r.numberIn("flip-probability", 0, 1),
            r.numberIn("brightness", 0, 1),
            r.numberIn("contrast", 0, 1),
            r.numberIn("saturation", 0, 1));
    if (s.minScale > s.maxScale || s.minScale <= 0) {
      throw new ConfigError(
          "min-scale must be positive and at most max-scale, cannot be: "
              + s.minScale
              + " (max-scale "
              + s.maxScale
              + ")");
    }
    if (s.minRatio > s.maxRatio) {
      throw new ConfigError(
          "min-ratio must be at most max-ratio, cannot be: "
              + s.minRatio
              + " (max-ratio "
              + s.maxRatio
              + ")");
    }
    return s;
  }

  /** The sampler configuration for views of {@code size} pixels. */
  public AugmentConfig toAugmentConfig(int size) {
    return new AugmentConfig(
        size,
        minScale,
        maxScale,
        minRatio,
        maxRatio,
        flipProbability,
        brightness,
        contrast,
        saturation);
  }
}
