package org.dtmspark.core.data;

import java.util.SplittableRandom;

/**
 * timm's {@code RandomErasing} (Zhong et al.), applied to one image after normalisation.
 *
 * <p><b>Draws</b>, from one {@link SplittableRandom} per image: one {@code nextDouble()}, nothing
 * is erased when it exceeds {@code probability}; then for each of {@code count} boxes up to 10
 * attempts, each drawing {@code nextDouble()} for the area ({@code U(0.02, 1/3) * H W / count}) and
 * {@code nextDouble()} for the log aspect ratio ({@code U(ln 0.3, ln 1/0.3)}), {@code h =
 * round(sqrt(area * aspect))}, {@code w = round(sqrt(area / aspect))} (half to even); an attempt
 * with {@code w < W} and {@code h < H} is accepted and draws {@code nextInt(H - h + 1)} for the top
 * and {@code nextInt(W - w + 1)} for the left edge, then the fill: {@code pixel} mode one {@code
 * nextGaussian()} per erased value (channel by channel, row by row), {@code rand} one per channel,
 * {@code const} none (0).
 *
 * <p>The fill values are in normalised units (N(0, 1), as timm on a normalised tensor). Pixels here
 * are stored before normalisation, so an erased value {@code z} of channel {@code c} is written as
 * {@code mean[c] + std[c] * z}, which the normalisation maps back to {@code z} (the result may lie
 * outside [0, 1]). Instances are immutable and thread-safe.
 */
public final class RandomErasing {
  private static final double MIN_AREA = 0.02;
  private static final double MAX_AREA = 1.0 / 3;
  private static final double LOG_MIN_ASPECT = Math.log(0.3);
  private static final double LOG_MAX_ASPECT = Math.log(1 / 0.3);
  private static final int ATTEMPTS = 10;

  /** How erased pixels are filled. */
  public enum Mode {
    /** A fresh N(0, 1) value per pixel and channel. */
    PIXEL,
    /** One N(0, 1) colour per box. */
    RAND,
    /** 0 (the mean colour). */
    CONST;

    /** The mode named {@code pixel}, {@code rand} or {@code const}. */
    public static Mode named(String name) {
      return switch (name) {
        case "pixel" -> PIXEL;
        case "rand" -> RAND;
        case "const" -> CONST;
        default ->
            throw new IllegalArgumentException(
                "Random erasing mode must be pixel, rand or const, cannot be: " + name);
      };
    }
  }

  /** One erased box, in pixels. */
  public record Box(int top, int left, int height, int width) {}

  private final double probability;
  private final Mode mode;
  private final int count;
  private final ImageNormalization norm;

  /**
   * @param probability probability that an image is erased, in [0, 1]
   * @param mode how erased pixels are filled
   * @param count boxes per erased image, at least 1
   * @param norm the normalisation applied after erasing
   */
  public RandomErasing(double probability, Mode mode, int count, ImageNormalization norm) {
    if (!(probability >= 0 && probability <= 1)) {
      throw new IllegalArgumentException(
          "Random erasing probability must be in [0, 1], cannot be: " + probability);
    }
    if (count < 1) {
      throw new IllegalArgumentException(
          "Random erasing count must be at least 1, cannot be: " + count);
    }
    if (mode == null || norm == null) {
      throw new IllegalArgumentException("Random erasing mode and normalisation must be given");
    }
    this.probability = probability;
    this.mode = mode;
    this.count = count;
    this.norm = norm;
  }

  /**
   * Erases {@code [3, height, width]} pixels at {@code offset} in place.
   *
   * @return the erased boxes, empty when the image was left alone
   */
  public Box[] apply(float[] pixels, int offset, int width, int height, SplittableRandom rng) {
    if (rng.nextDouble() > probability) {
      return new Box[0];
    }
    float[] mean = norm.mean();
    float[] std = norm.std();
    double area = (double) width * height;
    java.util.List<Box> boxes = new java.util.ArrayList<>(count);
    for (int n = 0; n < count; n++) {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        double target = (MIN_AREA + (MAX_AREA - MIN_AREA) * rng.nextDouble()) * area / count;
        double aspect =
            Math.exp(LOG_MIN_ASPECT + (LOG_MAX_ASPECT - LOG_MIN_ASPECT) * rng.nextDouble());
        int h = (int) Math.rint(Math.sqrt(target * aspect));
        int w = (int) Math.rint(Math.sqrt(target / aspect));
        if (w < width && h < height) {
          int top = rng.nextInt(height - h + 1);
          int left = rng.nextInt(width - w + 1);
          fill(pixels, offset, width, height, top, left, h, w, mean, std, rng);
          boxes.add(new Box(top, left, h, w));
          break;
        }
      }
    }
    return boxes.toArray(new Box[0]);
  }

  private void fill(
      float[] pixels,
      int offset,
      int width,
      int height,
      int top,
      int left,
      int h,
      int w,
      float[] mean,
      float[] std,
      SplittableRandom rng) {
    for (int c = 0; c < 3; c++) {
      int plane = offset + c * width * height;
      double colour = mode == Mode.RAND ? rng.nextGaussian() : 0;
      for (int y = top; y < top + h; y++) {
        int row = plane + y * width;
        for (int x = left; x < left + w; x++) {
          double z = mode == Mode.PIXEL ? rng.nextGaussian() : colour;
          pixels[row + x] = (float) (mean[c] + std[c] * z);
        }
      }
    }
  }
}
