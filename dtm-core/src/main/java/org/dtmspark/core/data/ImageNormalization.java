package org.dtmspark.core.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.dtmspark.core.nn.Tensors;

/**
 * Per-channel mean and standard deviation applied to pixels in [0, 1].
 *
 * @param mean per-channel mean, one entry per channel
 * @param std per-channel standard deviation, positive, same length as {@code mean}
 */
public record ImageNormalization(float[] mean, float[] std) {
  /** ImageNet statistics, used for the student (BEiT v2, timm). */
  public static final ImageNormalization IMAGENET =
      new ImageNormalization(
          new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});

  /** OpenAI CLIP statistics, the teacher's own by default. */
  public static final ImageNormalization CLIP =
      new ImageNormalization(
          new float[] {0.48145466f, 0.4578275f, 0.40821073f},
          new float[] {0.26862954f, 0.26130258f, 0.27577711f});

  public ImageNormalization {
    if (mean.length == 0 || mean.length != std.length) {
      throw new IllegalArgumentException(
          "Normalization mean and std must have the same non-zero length, cannot be: "
              + mean.length
              + " and "
              + std.length);
    }
    for (float s : std) {
      if (!(s > 0)) {
        throw new IllegalArgumentException("Normalization std must be positive, cannot be: " + s);
      }
    }
    mean = mean.clone();
    std = std.clone();
  }

  /** Looks up a named normalization: {@code imagenet} or {@code clip}. */
  public static ImageNormalization named(String name) {
    return switch (name) {
      case "imagenet" -> IMAGENET;
      case "clip" -> CLIP;
      default ->
          throw new IllegalArgumentException(
              "Unknown normalization, must be one of [imagenet, clip], cannot be: " + name);
    };
  }

  /**
   * Normalizes a batch of pixels.
   *
   * @param pixels {@code [B, C, H, W]} in [0, 1], C equal to the number of channels here
   * @return {@code [B, C, H, W]} with {@code (x - mean) / std} per channel
   */
  public NDArray apply(NDArray pixels) {
    long c = pixels.getShape().get(1);
    if (c != mean.length) {
      throw new IllegalArgumentException(
          "Expected " + mean.length + " channels, got shape " + pixels.getShape());
    }
    NDArray m = Tensors.fromHost(pixels.getManager(), mean, new Shape(1, c, 1, 1));
    NDArray s = Tensors.fromHost(pixels.getManager(), std, new Shape(1, c, 1, 1));
    return pixels.sub(m).div(s);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImageNormalization n
        && Arrays.equals(mean, n.mean)
        && Arrays.equals(std, n.std);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
  }

  @Override
  public String toString() {
    return "ImageNormalization[mean="
        + Arrays.toString(mean)
        + ", std="
        + Arrays.toString(std)
        + "]";
  }
}
