package org.dtmspark.core.morph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BipartiteMorpherTest {
  private static final int[] BATCHES = {1, 2, 3};
  private static final int[] TOKENS = {1, 2, 3, 4, 7, 8, 13, 16, 17, 25};
  private static final int[] DIMS = {1, 2, 3, 8};
  private static final int[] RS = {0, 1, 2, 3, 5, 20};
  private static final int[] KS = {1, 2, 3, 6};

  /** A random case of the matching: sizes, level and protection. */
  private record Case(int batch, int tokens, int dim, int r, int k, boolean protectFirst) {
    static Case draw(SplittableRandom rng) {
      return new Case(
          pick(rng, BATCHES),
          pick(rng, TOKENS),
          pick(rng, DIMS),
          pick(rng, RS),
          pick(rng, KS),
          rng.nextBoolean());
    }

    private static int pick(SplittableRandom rng, int[] values) {
      return values[rng.nextInt(values.length)];
    }
  }

  @Test
  void matchesIndependentImplementationOnRandomTokens() {
    SplittableRandom rng = new SplittableRandom(11);
    try (NDManager manager = NDManager.newBaseManager()) {
      int images = 0;
      int compared = 0;
      for (int i = 0; i < 150; i++) {
        Case c = Case.draw(rng);
        float[][][] data = gaussian(rng, c.batch, c.tokens, c.dim);
        compared += assertMatchesReference(manager, data, c);
        images += c.batch;
      }
      // Only images with a near-tie between different directions are skipped: very few here.
      assertThat(compared).isGreaterThanOrEqualTo(images * 95 / 100);
    }
  }

  @Test
  void matchesIndependentImplementationWithExactTies() {
    // Tokens drawn from a few integer prototypes: many duplicate tokens, hence exact score ties,
    // and cluster sums that are exact in float, so ties stay exact after merging.
    SplittableRandom rng = new SplittableRandom(12);
    try (NDManager manager = NDManager.newBaseManager()) {
      int images = 0;
      int compared = 0;
      for (int i = 0; i < 150; i++) {
        Case c = Case.draw(rng);
        int numPrototypes = 1 + rng.nextInt(4);
        boolean axis = i % 2 == 0;
        float[][][] data = fromPrototypes(rng, c.batch, c.tokens, c.dim, numPrototypes, axis);
        compared += assertMatchesReference(manager, data, c);
        images += c.batch;
      }
      // Near-ties between different directions are skipped; most images must still be compared.
      assertThat(compared).isGreaterThan(images * 3 / 4);
    }
  }

  @Test
  void allEqualTokensMergeInPositionOrder() {
    // Every score ties: A tokens merge in position order into B token 0 (first index on ties).
    float[][][] data = new float[1][6][];
    for (int n = 0; n < 6; n++) {
      data[0][n] = new float[] {1f, 2f};
    }
    try (NDManager manager = NDManager.newBaseManager();
        Morphing plain = morph(manager, data, new MorphLevel(2, 1), false);
        Morphing guarded = morph(manager, data, new MorphLevel(2, 1), true)) {
      // A = 0, 2, 4 and B = 1, 3, 5. Unprotected: 0 and 2 merge into 1; 4 stays.
      assertThat(plain.clusters().get(0))
          .containsExactly(List.of(4), List.of(0, 1, 2), List.of(3), List.of(5));
      // Protected: row 0 is -inf, so 2 and 4 merge into 1; 0 stays alone.
      assertThat(guarded.clusters().get(0))
          .containsExactly(List.of(0), List.of(1, 2, 4), List.of(3), List.of(5));
    }
  }

  @Test
  void mergesTheMostSimilarPairFirst_handComputed() {
    // A = {0: (1,0), 2: (0,1)}, B = {1: (1,0.1), 3: (-1,0)}.
    // Best partners: 0 -> 1 (0.995), 2 -> 1 (0.0995). With r = 1, token 0 merges into token 1.
    float[][][] data = {{{1f, 0f}, {1f, 0.1f}, {0f, 1f}, {-1f, 0f}}};
    try (NDManager manager = NDManager.newBaseManager();
        Morphing plain = morph(manager, data, new MorphLevel(1, 1), false);
        Morphing guarded = morph(manager, data, new MorphLevel(1, 1), true)) {
      assertThat(plain.clusters().get(0)).containsExactly(List.of(2), List.of(0, 1), List.of(3));
      // Token 0 is protected, so the next best A token (2) merges into its partner (1).
      assertThat(guarded.clusters().get(0)).containsExactly(List.of(0), List.of(1, 2), List.of(3));
    }
  }

  @Test
  void unprotectedKeptTokensFollowDescendingScore() {
    // A = {0, 2, 4}; best scores: 0 -> low, 2 -> high, 4 -> medium; r = 1 merges 2, then the kept
    // A tokens are listed by score (4 before 0) when the first token is not protected.
    float[][][] data = {{{0f, 1f}, {1f, 0f}, {1f, 0.01f}, {1f, 1f}, {1f, 0.5f}, {-1f, 0f}}};
    try (NDManager manager = NDManager.newBaseManager();
        Morphing plain = morph(manager, data, new MorphLevel(1, 1), false);
        Morphing guarded = morph(manager, data, new MorphLevel(1, 1), true)) {
      assertThat(plain.clusters().get(0))
          .containsExactly(List.of(4), List.of(0), List.of(1, 2), List.of(3), List.of(5));
      assertThat(guarded.clusters().get(0))
          .containsExactly(List.of(0), List.of(4), List.of(1, 2), List.of(3), List.of(5));
    }
  }

  @Test
  void everyPositionIsInExactlyOneCluster() {
    SplittableRandom rng = new SplittableRandom(13);
    try (NDManager manager = NDManager.newBaseManager()) {
      for (int i = 0; i < 40; i++) {
        Case c = Case.draw(rng);
        float[][][] data = gaussian(rng, c.batch, c.tokens, c.dim);
        try (Morphing m = morph(manager, data, new MorphLevel(c.r, c.k), c.protectFirst)) {
          int t = m.numClusters();
          assertThat(m.matrix().getShape()).isEqualTo(new Shape(c.batch, t, c.tokens));
          assertThat(m.sizes().getShape()).isEqualTo(new Shape(c.batch, t));
          float[] matrix = m.matrix().toFloatArray();
          float[] sizes = m.sizes().toFloatArray();
          for (int b = 0; b < c.batch; b++) {
            float total = 0;
            for (int row = 0; row < t; row++) {
              float rowSum = 0;
              for (int n = 0; n < c.tokens; n++) {
                float value = matrix[(b * t + row) * c.tokens + n];
                assertThat(value).isIn(0f, 1f);
                rowSum += value;
              }
              assertThat(sizes[b * t + row]).as("size of cluster %d", row).isEqualTo(rowSum);
              assertThat(rowSum).isGreaterThanOrEqualTo(1f);
              total += sizes[b * t + row];
            }
            assertThat(total).isEqualTo((float) c.tokens);
            for (int n = 0; n < c.tokens; n++) {
              float columnSum = 0;
              for (int row = 0; row < t; row++) {
                columnSum += matrix[(b * t + row) * c.tokens + n];
              }
              assertThat(columnSum).as("column %d, %s", n, c).isEqualTo(1f);
            }
          }
        }
      }
    }
  }

  @Test
  void tokenCountDropsByCappedRPerIteration() {
    SplittableRandom rng = new SplittableRandom(14);
    try (NDManager manager = NDManager.newBaseManager()) {
      for (boolean protectFirst : new boolean[] {false, true}) {
        for (int tokens : new int[] {1, 2, 3, 9, 16}) {
          for (int r : new int[] {1, 3, 8}) {
            float[][][] data = gaussian(rng, 2, tokens, 4);
            int p = protectFirst ? 1 : 0;
            int expected = tokens;
            for (int k = 1; k <= 5; k++) {
              expected -= Math.max(0, Math.min(r, (expected - p) / 2));
              try (Morphing m = morph(manager, data, new MorphLevel(r, k), protectFirst)) {
                assertThat(m.numClusters())
                    .as("N=%d r=%d k=%d protect=%b", tokens, r, k, protectFirst)
                    .isEqualTo(expected);
              }
            }
          }
        }
      }
    }
  }

  @Test
  void zeroTokensPerIterationIsTheIdentity() {
    SplittableRandom rng = new SplittableRandom(15);
    float[][][] data = gaussian(rng, 2, 5, 3);
    try (NDManager manager = NDManager.newBaseManager();
        Morphing m = morph(manager, data, new MorphLevel(0, 4), false)) {
      assertThat(m.numClusters()).isEqualTo(5);
      for (List<List<Integer>> image : m.clusters()) {
        assertThat(image)
            .containsExactly(List.of(0), List.of(1), List.of(2), List.of(3), List.of(4));
      }
      assertThat(m.sizes().toFloatArray()).containsOnly(1f);
    }
  }

  @Test
  void protectedFirstTokenStaysAlone() {
    // Token 0 duplicated everywhere would merge first without protection.
    SplittableRandom rng = new SplittableRandom(16);
    try (NDManager manager = NDManager.newBaseManager()) {
      for (int i = 0; i < 20; i++) {
        float[][][] data = fromPrototypes(rng, 2, 2 + rng.nextInt(20), 3, 2, false);
        int r = 1 + rng.nextInt(10);
        int k = 1 + rng.nextInt(6);
        try (Morphing m = morph(manager, data, new MorphLevel(r, k), true)) {
          for (List<List<Integer>> image : m.clusters()) {
            assertThat(image.get(0)).containsExactly(0);
          }
        }
      }
    }
  }

  @Test
  void targetsWithGradientAreReadWithoutIt() {
    SplittableRandom rng = new SplittableRandom(17);
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray targets = manager.create(flatten(gaussian(rng, 1, 6, 2)), new Shape(1, 6, 2));
      targets.setRequiresGradient(true);
      try (Morphing m = BipartiteMorpher.morph(targets, new MorphLevel(2, 1), true)) {
        assertThat(m.numClusters()).isEqualTo(4);
        assertThat(m.matrix().hasGradient()).isFalse();
      }
    }
  }

  @Test
  void rejectsTargetsThatAreNotThreeDimensional() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray flat = manager.zeros(new Shape(4, 3));
      assertThatThrownBy(() -> BipartiteMorpher.morph(flat, new MorphLevel(1, 1), true))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "Targets must have shape [B, N, D] with B, N, D at least 1, cannot be: (4, 3)");
    }
  }

  /** Compares every image with the reference; returns how many were unambiguous (compared). */
  private static int assertMatchesReference(NDManager manager, float[][][] data, Case c) {
    int compared = 0;
    try (Morphing m = morph(manager, data, new MorphLevel(c.r, c.k), c.protectFirst)) {
      List<List<List<Integer>>> actual = m.clusters();
      for (int b = 0; b < c.batch; b++) {
        Optional<List<List<Integer>>> expected =
            ReferenceMatching.clusters(data[b], c.r, c.k, c.protectFirst);
        if (expected.isPresent()) {
          assertThat(actual.get(b)).as("image %d of %s", b, c).isEqualTo(expected.get());
          compared++;
        }
      }
    }
    return compared;
  }

  static Morphing morph(NDManager manager, float[][][] data, MorphLevel level, boolean protect) {
    Shape shape = new Shape(data.length, data[0].length, data[0][0].length);
    NDArray targets = manager.create(flatten(data), shape);
    try {
      return BipartiteMorpher.morph(targets, level, protect);
    } finally {
      targets.close();
    }
  }

  static float[] flatten(float[][][] data) {
    List<Float> values = new ArrayList<>();
    for (float[][] image : data) {
      for (float[] token : image) {
        for (float v : token) {
          values.add(v);
        }
      }
    }
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  static float[][][] gaussian(SplittableRandom rng, int batch, int tokens, int dim) {
    float[][][] data = new float[batch][tokens][dim];
    for (float[][] image : data) {
      for (float[] token : image) {
        for (int i = 0; i < dim; i++) {
          token[i] = (float) gaussian(rng);
        }
      }
    }
    return data;
  }

  /**
   * Tokens copied from a few random integer-valued prototypes (never the zero vector): either
   * general ones or, with {@code axis}, signed multiples of axis vectors (whose scores are exact).
   */
  static float[][][] fromPrototypes(
      SplittableRandom rng, int batch, int tokens, int dim, int numPrototypes, boolean axis) {
    float[][] prototypes = new float[numPrototypes][dim];
    for (float[] p : prototypes) {
      if (axis) {
        p[rng.nextInt(dim)] = rng.nextBoolean() ? 1 + rng.nextInt(3) : -1 - rng.nextInt(3);
      } else {
        for (int i = 0; i < dim; i++) {
          p[i] = rng.nextInt(-4, 5);
        }
        p[0] = p[0] == 0 ? 1 : p[0];
      }
    }
    float[][][] data = new float[batch][tokens][];
    for (float[][] image : data) {
      for (int n = 0; n < tokens; n++) {
        image[n] = prototypes[rng.nextInt(numPrototypes)].clone();
      }
    }
    return data;
  }

  private static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
