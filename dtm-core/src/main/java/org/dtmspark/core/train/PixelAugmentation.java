package org.dtmspark.core.train;

import java.util.SplittableRandom;

/**
 * A per-image augmentation applied after the view is rendered (RandAugment, random erasing).
 * Implementations must be thread-safe and draw only from the generator they are given, which {@link
 * BatchLoader} seeds from the step and the image's position in the global batch.
 */
@FunctionalInterface
public interface PixelAugmentation {
  /**
   * Augments one rendered image in place.
   *
   * @param pixels the batch's pixels
   * @param offset start of the image, {@code [3, size, size]} row-major
   * @param size side of the square image
   * @param rng this image's generator
   */
  void apply(float[] pixels, int offset, int size, SplittableRandom rng);
}
