package org.dtmspark.core.train;

import java.util.SplittableRandom;
import org.dtmspark.core.data.RandomErasing;

/**
 * A per-image augmentation applied after the view is rendered (fine-tuning's RandAugment and random
 * erasing). Implementations must be thread-safe (the loader threads call them) and draw only from
 * the generator they are given, which {@link BatchLoader} seeds from the epoch and the image's
 * stream position, like its view.
 */
@FunctionalInterface
public interface PixelAugmentation {
  /**
   * Augments one rendered image in place.
   *
   * @param pixels the batch's pixels, unsigned 8-bit
   * @param offset start of the image, {@code [3, size, size]} row-major
   * @param size side of the square image
   * @param rng this image's generator
   * @return the pixels to overwrite after normalisation on the device (random erasing), or {@link
   *     RandomErasing.Erasure#NONE}
   */
  RandomErasing.Erasure apply(byte[] pixels, int offset, int size, SplittableRandom rng);
}
