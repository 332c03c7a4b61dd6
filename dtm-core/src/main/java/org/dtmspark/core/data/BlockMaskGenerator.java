package org.dtmspark.core.data;

import java.util.SplittableRandom;

/**
 * BEiT v2 block-wise masking on a patch grid.
 *
 * <p>Rectangular blocks of patches are placed one after another until the requested number of
 * patches is masked or a block cannot be placed within {@code maxAttempts} attempts. Each block
 * draws a target area uniformly in {@code [minBlockPatches, maxPatches]} (where {@code maxPatches}
 * is the smaller of the patches still to mask and {@code maxBlockPatches}) and a log-uniform aspect
 * ratio in {@code [minAspect, 1 / minAspect]}; its height and width are the rounded square roots of
 * {@code area * aspect} and {@code area / aspect}. A block is accepted when it adds at least one
 * and at most {@code maxPatches} new patches. A final fix-up masks or unmasks single patches chosen
 * uniformly without replacement so that exactly {@code numMasked} patches are masked.
 *
 * <p>Rounding follows Python's {@code round} (half to even), as in the reference code. Every random
 * draw comes from the {@link SplittableRandom} passed in, so a seed reproduces a mask. Instances
 * are immutable and thread-safe.
 */
public final class BlockMaskGenerator {
  /** Smallest block in patches used by {@link #forRatio} and the BEiT v2 recipe. */
  public static final int DEFAULT_MIN_BLOCK_PATCHES = 16;

  /** Smallest aspect ratio used by {@link #forRatio} and the BEiT v2 recipe. */
  public static final double DEFAULT_MIN_ASPECT = 0.3;

  /** Placement attempts per block used by {@link #forRatio} and the BEiT v2 recipe. */
  public static final int DEFAULT_MAX_ATTEMPTS = 10;

  private final int gridHeight;
  private final int gridWidth;
  private final int numMasked;
  private final int minBlockPatches;
  private final int maxBlockPatches;
  private final double minAspect;
  private final double logMinAspect;
  private final double logMaxAspect;
  private final int maxAttempts;

  /**
   * Creates a generator.
   *
   * @param gridHeight patch rows, at least 1
   * @param gridWidth patch columns, at least 1
   * @param numMasked patches masked in every mask, in {@code [0, gridHeight * gridWidth]}
   * @param minBlockPatches smallest target area of a block, at least 1
   * @param maxBlockPatches largest target area of a block; {@code <= 0} means {@code numMasked},
   *     otherwise at least {@code minBlockPatches}
   * @param minAspect smallest aspect ratio (height / width), in {@code (0, 1]}; the largest is
   *     {@code 1 / minAspect}
   * @param maxAttempts placement attempts per block, at least 1
   */
  public BlockMaskGenerator(
      int gridHeight,
      int gridWidth,
      int numMasked,
      int minBlockPatches,
      int maxBlockPatches,
      double minAspect,
      int maxAttempts) {
    requireAtLeast("Grid height", gridHeight, 1);
    requireAtLeast("Grid width", gridWidth, 1);
    long patches = (long) gridHeight * gridWidth;
    if (patches > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "Grid must have at most "
              + Integer.MAX_VALUE
              + " patches, cannot be: "
              + gridHeight
              + " x "
              + gridWidth);
    }
    if (numMasked < 0 || numMasked > patches) {
      throw new IllegalArgumentException(
          "Number of masked patches must be in [0, "
              + patches
              + "] for a "
              + gridHeight
              + " x "
              + gridWidth
              + " grid, cannot be: "
              + numMasked);
    }
    requireAtLeast("Minimum patches per block", minBlockPatches, 1);
    if (maxBlockPatches > 0 && maxBlockPatches < minBlockPatches) {
      throw new IllegalArgumentException(
          "Maximum patches per block must be at least the minimum ("
              + minBlockPatches
              + ") or <= 0 for the number of masked patches, cannot be: "
              + maxBlockPatches);
    }
    if (!(minAspect > 0 && minAspect <= 1)) {
      throw new IllegalArgumentException(
          "Minimum block aspect ratio must be in (0, 1], cannot be: " + minAspect);
    }
    requireAtLeast("Maximum placement attempts per block", maxAttempts, 1);
    this.gridHeight = gridHeight;
    this.gridWidth = gridWidth;
    this.numMasked = numMasked;
    this.minBlockPatches = minBlockPatches;
    this.maxBlockPatches = maxBlockPatches > 0 ? maxBlockPatches : numMasked;
    this.minAspect = minAspect;
    this.logMinAspect = Math.log(minAspect);
    this.logMaxAspect = Math.log(1 / minAspect);
    this.maxAttempts = maxAttempts;
  }

  /**
   * A generator with the BEiT v2 defaults (blocks of at least {@value #DEFAULT_MIN_BLOCK_PATCHES}
   * patches, no upper block size, aspect ratio in [0.3, 1/0.3], 10 attempts) masking {@code
   * round(ratio * gridHeight * gridWidth)} patches.
   *
   * @param ratio fraction of patches to mask, in {@code [0, 1]}
   */
  public static BlockMaskGenerator forRatio(int gridHeight, int gridWidth, double ratio) {
    if (!(ratio >= 0 && ratio <= 1)) {
      throw new IllegalArgumentException("Mask ratio must be in [0, 1], cannot be: " + ratio);
    }
    requireAtLeast("Grid height", gridHeight, 1);
    requireAtLeast("Grid width", gridWidth, 1);
    int numMasked = (int) Math.round(ratio * gridHeight * gridWidth);
    return new BlockMaskGenerator(
        gridHeight,
        gridWidth,
        numMasked,
        DEFAULT_MIN_BLOCK_PATCHES,
        0,
        DEFAULT_MIN_ASPECT,
        DEFAULT_MAX_ATTEMPTS);
  }

  /** Patch rows. */
  public int gridHeight() {
    return gridHeight;
  }

  /** Patch columns. */
  public int gridWidth() {
    return gridWidth;
  }

  /** Number of patches in the grid, {@code gridHeight * gridWidth}. */
  public int numPatches() {
    return gridHeight * gridWidth;
  }

  /** Number of masked patches in every mask. */
  public int numMasked() {
    return numMasked;
  }

  /** Smallest target area of a block. */
  public int minBlockPatches() {
    return minBlockPatches;
  }

  /** Largest target area of a block (resolved: never {@code <= 0}). */
  public int maxBlockPatches() {
    return maxBlockPatches;
  }

  /** Smallest aspect ratio; the largest is its inverse. */
  public double minAspect() {
    return minAspect;
  }

  /** Placement attempts per block. */
  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * Samples one mask.
   *
   * @return {@code [gridHeight * gridWidth]} row-major, {@code true} where the patch is masked;
   *     exactly {@link #numMasked()} entries are {@code true}
   */
  public boolean[] sample(SplittableRandom rng) {
    boolean[] mask = new boolean[gridHeight * gridWidth];
    int count = placeBlocks(mask, rng);
    fixUp(mask, count, rng);
    return mask;
  }

  /**
   * Samples one mask per batch element, one after the other from {@code rng}.
   *
   * @param batch number of masks, at least 0
   * @return {@code [batch * gridHeight * gridWidth]}, i.e. {@code [B, N]} row-major, 1 where masked
   *     and 0 elsewhere
   */
  public float[] sampleBatch(int batch, SplittableRandom rng) {
    requireAtLeast("Batch size", batch, 0);
    int n = gridHeight * gridWidth;
    float[] out = new float[Math.multiplyExact(batch, n)];
    for (int b = 0; b < batch; b++) {
      boolean[] mask = sample(rng);
      for (int i = 0; i < n; i++) {
        if (mask[i]) {
          out[b * n + i] = 1f;
        }
      }
    }
    return out;
  }

  /** Places blocks on an empty {@code mask} and returns how many patches they mask. */
  int placeBlocks(boolean[] mask, SplittableRandom rng) {
    int count = 0;
    while (count < numMasked) {
      int maxPatches = Math.min(numMasked - count, maxBlockPatches);
      int delta = placeBlock(mask, maxPatches, rng);
      if (delta == 0) {
        break;
      }
      count += delta;
    }
    return count;
  }

  /**
   * Tries up to {@code maxAttempts} times to place one block that adds between 1 and {@code
   * maxPatches} newly masked patches to {@code mask}.
   *
   * @return the number of newly masked patches, 0 when no attempt succeeded
   */
  int placeBlock(boolean[] mask, int maxPatches, SplittableRandom rng) {
    int delta = 0;
    for (int attempt = 0; attempt < maxAttempts; attempt++) {
      double targetArea = uniform(rng, minBlockPatches, maxPatches);
      double aspect = Math.exp(uniform(rng, logMinAspect, logMaxAspect));
      int h = (int) Math.rint(Math.sqrt(targetArea * aspect));
      int w = (int) Math.rint(Math.sqrt(targetArea / aspect));
      if (w < gridWidth && h < gridHeight) {
        int top = rng.nextInt(gridHeight - h + 1);
        int left = rng.nextInt(gridWidth - w + 1);
        int alreadyMasked = 0;
        for (int i = top; i < top + h; i++) {
          for (int j = left; j < left + w; j++) {
            if (mask[i * gridWidth + j]) {
              alreadyMasked++;
            }
          }
        }
        int added = h * w - alreadyMasked;
        if (added > 0 && added <= maxPatches) {
          for (int i = top; i < top + h; i++) {
            for (int j = left; j < left + w; j++) {
              if (!mask[i * gridWidth + j]) {
                mask[i * gridWidth + j] = true;
                delta++;
              }
            }
          }
        }
        if (delta > 0) {
          break;
        }
      }
    }
    return delta;
  }

  /** Masks or unmasks single random patches so that exactly {@code numMasked} are masked. */
  private void fixUp(boolean[] mask, int count, SplittableRandom rng) {
    if (count == numMasked) {
      return;
    }
    // Flip `delta` cells drawn uniformly without replacement among those in state `from`.
    boolean from = count > numMasked;
    int delta = Math.abs(count - numMasked);
    int[] candidates = new int[from ? count : mask.length - count];
    int k = 0;
    for (int i = 0; i < mask.length; i++) {
      if (mask[i] == from) {
        candidates[k++] = i;
      }
    }
    for (int i = 0; i < delta; i++) {
      int j = i + rng.nextInt(candidates.length - i);
      int chosen = candidates[j];
      candidates[j] = candidates[i];
      candidates[i] = chosen;
      mask[chosen] = !from;
    }
  }

  private static double uniform(SplittableRandom rng, double low, double high) {
    return low + (high - low) * rng.nextDouble();
  }

  private static void requireAtLeast(String field, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(
          field + " must be at least " + min + ", cannot be: " + value);
    }
  }

  @Override
  public String toString() {
    return "BlockMaskGenerator[grid="
        + gridHeight
        + "x"
        + gridWidth
        + ", numMasked="
        + numMasked
        + ", blockPatches=["
        + minBlockPatches
        + ", "
        + maxBlockPatches
        + "], minAspect="
        + minAspect
        + ", maxAttempts="
        + maxAttempts
        + "]";
  }
}
