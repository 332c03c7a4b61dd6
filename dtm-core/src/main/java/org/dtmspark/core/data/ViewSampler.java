package org.dtmspark.core.data;

import java.util.SplittableRandom;

/**
 * Samples the parameters of augmented views with torchvision semantics.
 *
 * <p><b>Reproducibility contract.</b> {@link #sample} consumes draws from the given {@link
 * SplittableRandom} in exactly this order, so that a seed determines the view:
 *
 * <ol>
 *   <li>Random resized crop ({@code RandomResizedCrop.get_params}), up to 10 attempts. Each attempt
 *       draws {@code nextDouble()} for the scale ({@code targetArea = area * U(minScale,
 *       maxScale)}) and then {@code nextDouble()} for the log aspect ratio ({@code U(ln minRatio,
 *       ln maxRatio)}); {@code w = round(sqrt(targetArea * ratio))}, {@code h =
 *       round(sqrt(targetArea / ratio))} with Python rounding (half to even). An attempt with
 *       {@code 0 < w <= width} and {@code 0 < h <= height} is accepted and draws {@code
 *       nextInt(height - h + 1)} for the top edge, then {@code nextInt(width - w + 1)} for the left
 *       edge. When no attempt is accepted the crop is the central one with the image's aspect ratio
 *       clamped to {@code [minRatio, maxRatio]} (no further draws); a side rounded to 0 there
 *       becomes 1.
 *   <li>Horizontal flip: one {@code nextDouble()}, flipped when it is below {@code flipProbability}
 *       (drawn even when the probability is 0 or 1).
 *   <li>Colour jitter order: a Fisher–Yates shuffle of {@code {0, 1, 2}}: for {@code i = 2, 1},
 *       {@code j = nextInt(i + 1)} and swap positions {@code i} and {@code j}.
 *   <li>Colour jitter factors, brightness, then contrast, then saturation: for each strength {@code
 *       s > 0} one {@code nextDouble()} mapped to {@code U(max(0, 1 - s), 1 + s)}; a strength of 0
 *       draws nothing and gives factor 1 (as torchvision, where the operation is then absent).
 * </ol>
 *
 * <p>{@code U(a, b)} is {@code a + (b - a) * nextDouble()}. Instances are immutable and
 * thread-safe.
 */
public final class ViewSampler {
  private static final int CROP_ATTEMPTS = 10;

  private final AugmentConfig config;
  private final double logMinRatio;
  private final double logMaxRatio;

  /** Creates a sampler for {@code config}. */
  public ViewSampler(AugmentConfig config) {
    if (config == null) {
      throw new IllegalArgumentException("Augmentation config must not be null");
    }
    this.config = config;
    this.logMinRatio = Math.log(config.minRatio());
    this.logMaxRatio = Math.log(config.maxRatio());
  }

  /** The configuration this sampler draws from. */
  public AugmentConfig config() {
    return config;
  }

  /**
   * Samples one view of a {@code width x height} source image.
   *
   * @param width source width in pixels, at least 1
   * @param height source height in pixels, at least 1
   * @param rng source of every random draw, advanced as the class documentation states
   * @return a view whose crop box lies inside the image
   */
  public ViewParams sample(int width, int height, SplittableRandom rng) {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException(
          "Image size must be at least 1 x 1, cannot be: " + width + " x " + height);
    }
    int[] box = sampleCrop(width, height, rng);
    boolean flip = rng.nextDouble() < config.flipProbability();
    int[] order = {0, 1, 2};
    for (int i = order.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    float brightness = sampleFactor(config.brightness(), rng);
    float contrast = sampleFactor(config.contrast(), rng);
    float saturation = sampleFactor(config.saturation(), rng);
    return new ViewParams(
        box[0], box[1], box[2], box[3], flip, brightness, contrast, saturation, order);
  }

  /** Returns {@code {x, y, width, height}} of a random resized crop. */
  private int[] sampleCrop(int width, int height, SplittableRandom rng) {
    double area = (double) width * height;
    for (int attempt = 0; attempt < CROP_ATTEMPTS; attempt++) {
      double targetArea = area * uniform(rng, config.minScale(), config.maxScale());
      double ratio = Math.exp(uniform(rng, logMinRatio, logMaxRatio));
      long w = (long) Math.rint(Math.sqrt(targetArea * ratio));
      long h = (long) Math.rint(Math.sqrt(targetArea / ratio));
      if (w > 0 && w <= width && h > 0 && h <= height) {
        int y = rng.nextInt(height - (int) h + 1);
        int x = rng.nextInt(width - (int) w + 1);
        return new int[] {x, y, (int) w, (int) h};
      }
    }
    double inRatio = (double) width / height;
    int w;
    int h;
    if (inRatio < config.minRatio()) {
      w = width;
      h = (int) Math.rint(w / config.minRatio());
    } else if (inRatio > config.maxRatio()) {
      h = height;
      w = (int) Math.rint(h * config.maxRatio());
    } else {
      w = width;
      h = height;
    }
    w = Math.max(1, Math.min(w, width));
    h = Math.max(1, Math.min(h, height));
    return new int[] {(width - w) / 2, (height - h) / 2, w, h};
  }

  private static float sampleFactor(double strength, SplittableRandom rng) {
    if (strength == 0) {
      return 1f;
    }
    return (float) uniform(rng, Math.max(0, 1 - strength), 1 + strength);
  }

  private static double uniform(SplittableRandom rng, double low, double high) {
    return low + (high - low) * rng.nextDouble();
  }
}
