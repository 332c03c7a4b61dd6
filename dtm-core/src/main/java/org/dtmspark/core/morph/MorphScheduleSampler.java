package org.dtmspark.core.morph;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Samples the dynamic morphing schedule of one training step (SPEC section 3, "Morphing schedule").
 *
 * <p>For each level: {@code remove ~ U{0..maxRemove}}, {@code k ~ U{1..maxIterations}}, {@code r =
 * ceil(remove / k)}, except {@code floor(remove / k)} when {@code ceil(remove / k) * k >
 * numTokens}. This is the reference code's form; the paper's Eq. 1 does not sum to the number of
 * removed tokens.
 *
 * <p><b>Draw order</b> (part of reproducibility): levels in order; within a level first {@code
 * rng.nextInt(0, maxRemove + 1)} for {@code remove}, then {@code rng.nextInt(1, maxIterations + 1)}
 * for {@code k}. Nothing else is drawn.
 */
public final class MorphScheduleSampler {
  /** Default number of levels {@code L}. */
  public static final int DEFAULT_NUM_LEVELS = 2;

  /** Default largest number of tokens removed per level, {@code n_max}. */
  public static final int DEFAULT_MAX_REMOVE = 196;

  /** Default largest number of iterations per level, {@code k_max}. */
  public static final int DEFAULT_MAX_ITERATIONS = 14;

  private final int numTokens;
  private final int numLevels;
  private final int maxRemove;
  private final int maxIterations;

  /**
   * @param numTokens number of patch tokens {@code N}, at least 1
   * @param numLevels number of levels {@code L}, at least 1
   * @param maxRemove largest number of tokens removed per level {@code n_max}, at least 0
   * @param maxIterations largest number of iterations per level {@code k_max}, at least 1
   */
  public MorphScheduleSampler(int numTokens, int numLevels, int maxRemove, int maxIterations) {
    if (numTokens < 1) {
      throw new IllegalArgumentException(
          "Number of tokens must be at least 1, cannot be: " + numTokens);
    }
    if (numLevels < 1) {
      throw new IllegalArgumentException(
          "Number of levels must be at least 1, cannot be: " + numLevels);
    }
    if (maxRemove < 0 || maxRemove == Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "Maximum tokens removed per level must be in [0, "
              + (Integer.MAX_VALUE - 1)
              + "], cannot be: "
              + maxRemove);
    }
    if (maxIterations < 1 || maxIterations == Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "Maximum iterations per level must be in [1, "
              + (Integer.MAX_VALUE - 1)
              + "], cannot be: "
              + maxIterations);
    }
    this.numTokens = numTokens;
    this.numLevels = numLevels;
    this.maxRemove = maxRemove;
    this.maxIterations = maxIterations;
  }

  /** A sampler with the SPEC defaults: 2 levels, {@code n_max = 196}, {@code k_max = 14}. */
  public static MorphScheduleSampler withDefaults(int numTokens) {
    return new MorphScheduleSampler(
        numTokens, DEFAULT_NUM_LEVELS, DEFAULT_MAX_REMOVE, DEFAULT_MAX_ITERATIONS);
  }

  /** Samples one schedule, drawing from {@code rng} in the order documented on the class. */
  public MorphSchedule sample(SplittableRandom rng) {
    List<MorphLevel> levels = new ArrayList<>(numLevels);
    for (int l = 0; l < numLevels; l++) {
      int remove = rng.nextInt(0, maxRemove + 1);
      int k = rng.nextInt(1, maxIterations + 1);
      levels.add(new MorphLevel(tokensPerIteration(remove, k, numTokens), k));
    }
    return new MorphSchedule(levels);
  }

  /**
   * {@code ceil(remove / k)}, or {@code floor(remove / k)} when {@code ceil(remove / k) * k >
   * numTokens}.
   */
  static int tokensPerIteration(int remove, int k, int numTokens) {
    long ceil = (remove + (long) k - 1) / k;
    return ceil * k > numTokens ? remove / k : (int) ceil;
  }

  public int numTokens() {
    return numTokens;
  }

  public int numLevels() {
    return numLevels;
  }

  public int maxRemove() {
    return maxRemove;
  }

  public int maxIterations() {
    return maxIterations;
  }
}
