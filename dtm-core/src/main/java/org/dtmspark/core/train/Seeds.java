package org.dtmspark.core.train;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Derives independent random streams from the one configured seed.
 *
 * <p>Every draw in training comes from {@code rng(seed, purpose, indices...)}: the purpose names
 * what is drawn ({@code "init"}, {@code "order"}, {@code "view"}, {@code "mask"}, {@code "morph"},
 * {@code "drop-path"}) and the indices say where (epoch, step, rank). A stream depends only on
 * these values, never on what was drawn before, so a run resumed at step {@code s} draws exactly
 * what the uninterrupted run drew at step {@code s}.
 */
public final class Seeds {
  private Seeds() {}

  /** A generator for {@code purpose} at {@code indices}, derived from {@code seed}. */
  public static SplittableRandom rng(long seed, String purpose, long... indices) {
    return new SplittableRandom(derive(seed, purpose, indices));
  }

  /** The 64-bit seed of {@link #rng}: SplitMix64 finalisers chained over every input. */
  public static long derive(long seed, String purpose, long... indices) {
    long h = mix(seed ^ 0x9E3779B97F4A7C15L);
    for (byte b : purpose.getBytes(StandardCharsets.UTF_8)) {
      h = mix(h ^ (b & 0xFF));
    }
    for (long index : indices) {
      h = mix(h ^ mix(index + 0x632BE59BD9B4E019L));
    }
    return h;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** A uniformly random permutation of {@code 0..n-1} (Fisher–Yates). */
  public static int[] permutation(int n, SplittableRandom rng) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
