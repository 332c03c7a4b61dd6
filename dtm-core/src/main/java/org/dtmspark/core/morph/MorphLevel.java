package org.dtmspark.core.morph;

/**
 * One level of the morphing schedule: {@code k} iterations of bipartite matching, each merging up
 * to {@code r} tokens (fewer when the token list is too short, see {@link BipartiteMorpher}).
 *
 * <p>{@code r = 0} is plain token-wise distillation: no token merges.
 *
 * @param r tokens merged per iteration, at least 0
 * @param k number of iterations, at least 1
 */
public record MorphLevel(int r, int k) {
  public MorphLevel {
    if (r < 0) {
      throw new IllegalArgumentException(
          "Tokens merged per iteration (r) must be at least 0, cannot be: " + r);
    }
    if (k < 1) {
      throw new IllegalArgumentException(
          "Number of iterations (k) must be at least 1, cannot be: " + k);
    }
  }

  /**
   * Parses {@code "R:K"}, e.g. {@code "7:14"} for 7 tokens merged in each of 14 iterations.
   *
   * @throws IllegalArgumentException naming the text when it is not two integers separated by a
   *     colon, or when a value is out of range
   */
  public static MorphLevel parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("Morph level must be written R:K, cannot be: null");
    }
    String[] parts = text.trim().split(":", -1);
    if (parts.length != 2) {
      throw new IllegalArgumentException(
          "Morph level must be written R:K (tokens per iteration:iterations), cannot be: '"
              + text
              + "'");
    }
    int r;
    int k;
    try {
      r = Integer.parseInt(parts[0].trim());
      k = Integer.parseInt(parts[1].trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Morph level must be written R:K with integers R and K, cannot be: '" + text + "'", e);
    }
    try {
      return new MorphLevel(r, k);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "Invalid morph level '" + text + "': " + e.getMessage(), e);
    }
  }

  /** True when this level merges nothing ({@code r = 0}). */
  public boolean isTokenWise() {
    return r == 0;
  }

  /** {@code "R:K"}, the form {@link #parse} reads. */
  @Override
  public String toString() {
    return r + ":" + k;
  }
}
