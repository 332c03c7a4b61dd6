package org.dtmspark.core.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * timm's {@code RandomErasing} (Zhong et al.), drawn per image; the erased pixels are written on
 * the device after normalisation ({@code ErasedPixels} in the training package), as timm erases the
 * normalised tensor.
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
 * <p>The fill values are in normalised units (N(0, 1), as timm on a normalised tensor). Where boxes
 * overlap, the later box wins. Instances are immutable and thread-safe.
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

  /**
   * What one image loses.
   *
   * @param boxes the erased boxes, in the order drawn
   * @param offsets erased positions in the image's {@code [3, H, W]} row-major layout, ascending
   * @param values the normalised value of each erased position
   */
  public record Erasure(Box[] boxes, int[] offsets, float[] values) {
    /** Nothing erased. */
    public static final Erasure NONE = new Erasure(new Box[0], new int[0], new float[0]);

    public boolean isEmpty() {
      return offsets.length == 0;
    }
  }

  private final double probability;
  private final Mode mode;
  private final int count;

  /**
   * @param probability probability that an image is erased, in [0, 1]
   * @param mode how erased pixels are filled
   * @param count boxes per erased image, at least 1
   */
  public RandomErasing(double probability, Mode mode, int count) {
    if (!(probability >= 0 && probability <= 1)) {
      throw new IllegalArgumentException(
          "Random erasing probability must be in [0, 1], cannot be: " + probability);
    }
    if (count < 1) {
      throw new IllegalArgumentException(
          "Random erasing count must be at least 1, cannot be: " + count);
    }
    if (mode == null) {
      throw new IllegalArgumentException("Random erasing mode must be given");
    }
    this.probability = probability;
    this.mode = mode;
    this.count = count;
  }

  /** Draws the erasure of one {@code [3, height, width]} image. */
  public Erasure draw(int width, int height, SplittableRandom rng) {
    if (rng.nextDouble() > probability) {
      return Erasure.NONE;
    }
    int plane = width * height;
    double area = (double) plane;
    List<Box> boxes = new ArrayList<>(count);
    float[] fill = null; // [3, H, W] normalised values, NaN where not erased
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
          if (fill == null) {
            fill = new float[3 * plane];
            Arrays.fill(fill, Float.NaN);
          }
          for (int c = 0; c < 3; c++) {
            double colour = mode == Mode.RAND ? rng.nextGaussian() : 0;
            for (int y = top; y < top + h; y++) {
              int row = c * plane + y * width;
              for (int x = left; x < left + w; x++) {
                fill[row + x] = (float) (mode == Mode.PIXEL ? rng.nextGaussian() : colour);
              }
            }
          }
          boxes.add(new Box(top, left, h, w));
          break;
        }
      }
    }
    if (fill == null) {
      return Erasure.NONE;
    }
    int erased = 0;
    for (float v : fill) {
      erased += Float.isNaN(v) ? 0 : 1;
    }
    int[] offsets = new int[erased];
    float[] values = new float[erased];
    for (int i = 0, k = 0; i < fill.length; i++) {
      if (!Float.isNaN(fill[i])) {
        offsets[k] = i;
        values[k++] = fill[i];
      }
    }
    return new Erasure(boxes.toArray(new Box[0]), offsets, values);
  }
}
