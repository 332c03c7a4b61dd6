package org.dtmspark.core.morph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DtmLossTest {
  private static final double TOLERANCE = 1e-5;

  private static final MorphSchedule MIXED =
      new MorphSchedule(List.of(new MorphLevel(2, 2), new MorphLevel(1, 3), new MorphLevel(0, 1)));

  @Test
  void distancesMatchHandComputedValues() {
    // Tokens: (3,4) vs (4,3); (0,5) vs (0,0); (1,0) vs (1,0).
    float[][][] u = {{{3, 4}, {0, 5}, {1, 0}}};
    float[][][] v = {{{4, 3}, {0, 0}, {1, 0}}};
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray a = array(manager, u);
      NDArray b = array(manager, v);
      // cosine: 1 - 24/25; a zero vector has cosine 0 (norms clamped at 1e-8); equal vectors 0.
      assertThat(perToken(Distance.COSINE, 2.0, a, b))
          .containsExactly(new float[] {0.04f, 1f, 0f}, within(1e-6f));
      assertThat(perToken(Distance.L1, 2.0, a, b)).containsExactly(1f, 2.5f, 0f);
      assertThat(perToken(Distance.L2, 2.0, a, b)).containsExactly(1f, 12.5f, 0f);
      // smooth-L1, beta 2: |d| = 1 < 2 gives 0.5 * 1 / 2 = 0.25; |d| = 5 gives 5 - 1 = 4.
      assertThat(perToken(Distance.SMOOTH_L1, 2.0, a, b)).containsExactly(0.25f, 2f, 0f);
      // beta 0 is plain L1, as in torch.
      assertThat(perToken(Distance.SMOOTH_L1, 0.0, a, b)).containsExactly(1f, 2.5f, 0f);
      // Through the loss: token-wise, mean over the three positions.
      DtmLoss loss = new DtmLoss(new DtmLossConfig(Distance.COSINE, 2.0, false, true));
      assertThat(loss.compute(a, b, MorphSchedule.tokenWise(1)).getFloat())
          .isCloseTo((0.04f + 1f) / 3, within(1e-6f));
    }
  }

  @Test
  void tokenWiseLossIsMeanOfPerTokenCosineDistances() {
    SplittableRandom rng = new SplittableRandom(21);
    float[][][] u = BipartiteMorpherTest.gaussian(rng, 2, 6, 5);
    float[][][] v = BipartiteMorpherTest.gaussian(rng, 2, 6, 5);
    double expected = 0;
    for (int b = 0; b < 2; b++) {
      for (int n = 0; n < 6; n++) {
        expected += distance(Distance.COSINE, 2.0, toDouble(u[b][n]), toDouble(v[b][n])) / 12;
      }
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray loss =
          new DtmLoss(DtmLossConfig.DEFAULT)
              .compute(array(manager, u), array(manager, v), MorphSchedule.tokenWise(2));
      assertThat(loss.getShape()).isEqualTo(new Shape());
      assertThat(loss.getFloat()).isCloseTo((float) expected, within((float) TOLERANCE));
    }
  }

  @Test
  void lossEqualsEquationFourWithWeightsOverN() {
    SplittableRandom rng = new SplittableRandom(22);
    int batch = 2;
    int tokens = 9;
    float[][][] u = BipartiteMorpherTest.gaussian(rng, batch, tokens, 4);
    float[][][] v = BipartiteMorpherTest.gaussian(rng, batch, tokens, 4);
    for (Distance distance : Distance.values()) {
      DtmLossConfig config = new DtmLossConfig(distance, 0.5, false, true);
      DtmLoss loss = new DtmLoss(config);
      try (NDManager manager = NDManager.newBaseManager()) {
        NDArray online = array(manager, u);
        NDArray targets = array(manager, v);
        double expected = 0;
        List<Morphing> morphings = loss.morphAll(targets, MIXED);
        for (Morphing morphing : morphings) {
          List<List<List<Integer>>> clusters = morphing.clusters();
          double level = 0;
          for (int b = 0; b < batch; b++) {
            for (List<Integer> cluster : clusters.get(b)) {
              double weight = (double) cluster.size() / tokens;
              double d = distance(distance, 0.5, mean(u[b], cluster), mean(v[b], cluster));
              level += weight * d / batch;
            }
          }
          expected += level / MIXED.levels().size();
          morphing.close();
        }
        assertThat(morphings.get(0).numClusters()).isLessThan(tokens);
        float actual = loss.compute(online, targets, MIXED).getFloat();
        assertThat((double) actual).as("%s", distance).isCloseTo(expected, within(TOLERANCE));
      }
    }
  }

  @Test
  void clusterFormEqualsSpreadBackForm() {
    // ū = Mᵀ((M u) / |c|) per position, then the mean over positions and batch.
    SplittableRandom rng = new SplittableRandom(23);
    float[][][] u = BipartiteMorpherTest.gaussian(rng, 3, 10, 6);
    float[][][] v = BipartiteMorpherTest.gaussian(rng, 3, 10, 6);
    MorphSchedule schedule = new MorphSchedule(List.of(new MorphLevel(2, 2)));
    for (Distance distance : Distance.values()) {
      DtmLoss loss = new DtmLoss(new DtmLossConfig(distance, 2.0, false, true));
      try (NDManager manager = NDManager.newBaseManager()) {
        NDArray online = array(manager, u);
        NDArray targets = array(manager, v);
        float spreadBack;
        try (Morphing morphing = loss.morphAll(targets, schedule).get(0)) {
          NDArray m = morphing.matrix();
          NDArray mt = m.transpose(0, 2, 1);
          NDArray counts = morphing.sizes().expandDims(2);
          NDArray uBar = mt.matMul(m.matMul(online).div(counts));
          NDArray vBar = mt.matMul(m.matMul(targets).div(counts));
          spreadBack = loss.distance(uBar, vBar).mean().getFloat();
        }
        assertThat(loss.compute(online, targets, schedule).getFloat())
            .as("%s", distance)
            .isCloseTo(spreadBack, within(1e-5f));
      }
    }
  }

  @Test
  void oneClusterGivesTheImageLevelLoss() {
    // Without protection, 8 tokens merge 8 -> 4 -> 2 -> 1 with r = 4, k = 3.
    SplittableRandom rng = new SplittableRandom(24);
    float[][][] u = BipartiteMorpherTest.gaussian(rng, 2, 8, 5);
    float[][][] v = BipartiteMorpherTest.gaussian(rng, 2, 8, 5);
    MorphSchedule schedule = new MorphSchedule(List.of(new MorphLevel(4, 3)));
    DtmLoss loss = new DtmLoss(new DtmLossConfig(Distance.COSINE, 2.0, false, false));
    List<Integer> all = List.of(0, 1, 2, 3, 4, 5, 6, 7);
    double expected = 0;
    for (int b = 0; b < 2; b++) {
      expected += distance(Distance.COSINE, 2.0, mean(u[b], all), mean(v[b], all)) / 2;
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray targets = array(manager, v);
      try (Morphing morphing = loss.morphAll(targets, schedule).get(0)) {
        assertThat(morphing.clusters()).containsOnly(List.of(all));
      }
      assertThat((double) loss.compute(array(manager, u), targets, schedule).getFloat())
          .isCloseTo(expected, within(TOLERANCE));
    }
  }

  @Test
  void gradientFlowsToOnlineTokens() {
    // L2 per cluster: d loss / d u_j = 2 (û_c - v̂_c) / (B N P) for every j in cluster c.
    SplittableRandom rng = new SplittableRandom(25);
    int batch = 2;
    int tokens = 7;
    int dim = 3;
    float[][][] u = BipartiteMorpherTest.gaussian(rng, batch, tokens, dim);
    float[][][] v = BipartiteMorpherTest.gaussian(rng, batch, tokens, dim);
    MorphSchedule schedule = new MorphSchedule(List.of(new MorphLevel(2, 2)));
    DtmLoss loss = new DtmLoss(new DtmLossConfig(Distance.L2, 2.0, false, true));
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray online = array(manager, u);
      NDArray targets = array(manager, v);
      online.setRequiresGradient(true);
      List<List<List<Integer>>> clusters;
      try (Morphing morphing = loss.morphAll(targets, schedule).get(0)) {
        clusters = morphing.clusters();
      }
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray value = loss.compute(online, targets, schedule);
        assertThat(value.getManager()).isSameAs(manager);
        gc.backward(value);
      }
      float[] grad = online.getGradient().toFloatArray();
      for (int b = 0; b < batch; b++) {
        for (List<Integer> cluster : clusters.get(b)) {
          double[] uHat = mean(u[b], cluster);
          double[] vHat = mean(v[b], cluster);
          for (int n : cluster) {
            for (int p = 0; p < dim; p++) {
              double expected = 2 * (uHat[p] - vHat[p]) / (batch * tokens * dim);
              assertThat((double) grad[(b * tokens + n) * dim + p])
                  .isCloseTo(expected, within(1e-6));
            }
          }
        }
      }
      assertThat(targets.hasGradient()).isFalse();
    }
  }

  @Test
  void cosineGradientIsFiniteAndNonZero() {
    SplittableRandom rng = new SplittableRandom(26);
    float[][][] u = BipartiteMorpherTest.gaussian(rng, 2, 12, 4);
    float[][][] v = BipartiteMorpherTest.gaussian(rng, 2, 12, 4);
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray online = array(manager, u);
      online.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.backward(new DtmLoss(DtmLossConfig.DEFAULT).compute(online, array(manager, v), MIXED));
      }
      float[] grad = online.getGradient().toFloatArray();
      double sumAbs = 0;
      for (float g : grad) {
        assertThat(Float.isFinite(g)).isTrue();
        sumAbs += Math.abs(g);
      }
      assertThat(sumAbs).isGreaterThan(1e-3);
    }
  }

  @Test
  void normalizedTargetsAreStandardisedPerTokenBeforeMatching() {
    SplittableRandom rng = new SplittableRandom(27);
    float[][][] u = BipartiteMorpherTest.gaussian(rng, 2, 9, 5);
    float[][][] v = BipartiteMorpherTest.gaussian(rng, 2, 9, 5);
    float[][][] standardised = new float[2][9][];
    for (int b = 0; b < 2; b++) {
      for (int n = 0; n < 9; n++) {
        double mean = 0;
        for (float x : v[b][n]) {
          mean += x / 5.0;
        }
        double variance = 0;
        for (float x : v[b][n]) {
          variance += (x - mean) * (x - mean) / 5.0;
        }
        standardised[b][n] = new float[5];
        for (int p = 0; p < 5; p++) {
          standardised[b][n][p] = (float) ((v[b][n][p] - mean) / Math.sqrt(variance + 1e-6));
        }
      }
    }
    DtmLoss normalizing = new DtmLoss(new DtmLossConfig(Distance.L2, 2.0, true, true));
    DtmLoss plain = new DtmLoss(new DtmLossConfig(Distance.L2, 2.0, false, true));
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray online = array(manager, u);
      float actual = normalizing.compute(online, array(manager, v), MIXED).getFloat();
      float expected = plain.compute(online, array(manager, standardised), MIXED).getFloat();
      assertThat(actual).isCloseTo(expected, within(1e-5f));
      List<Morphing> fromRaw = normalizing.morphAll(array(manager, v), MIXED);
      List<Morphing> fromStandardised = plain.morphAll(array(manager, standardised), MIXED);
      for (int l = 0; l < MIXED.levels().size(); l++) {
        assertThat(fromRaw.get(l).clusters()).isEqualTo(fromStandardised.get(l).clusters());
      }
      fromRaw.forEach(Morphing::close);
      fromStandardised.forEach(Morphing::close);
    }
  }

  @Test
  void tokenWiseLevelsGiveTheIdentityMorphing() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray targets = manager.ones(new Shape(2, 3, 4));
      List<Morphing> morphings =
          new DtmLoss(DtmLossConfig.DEFAULT).morphAll(targets, MorphSchedule.tokenWise(1));
      assertThat(morphings).hasSize(1);
      assertThat(morphings.get(0).clusters().get(1))
          .containsExactly(List.of(0), List.of(1), List.of(2));
      morphings.get(0).close();
    }
  }

  @Test
  void compute_mismatchedShapesAreNamed() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray online = manager.zeros(new Shape(2, 4, 3));
      NDArray targets = manager.zeros(new Shape(2, 4, 5));
      DtmLoss loss = new DtmLoss(DtmLossConfig.DEFAULT);
      assertThatThrownBy(() -> loss.compute(online, targets, MIXED))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "Online and target tokens must both have shape [B, N, P], cannot be: (2, 4, 3) and"
                  + " (2, 4, 5)");
    }
  }

  @Test
  void distanceNamesParse() {
    assertThat(Distance.parse("cosine")).isEqualTo(Distance.COSINE);
    assertThat(Distance.parse("smooth_l1")).isEqualTo(Distance.SMOOTH_L1);
    assertThat(Distance.parse("L1")).isEqualTo(Distance.L1);
    assertThat(Distance.parse(" l2 ")).isEqualTo(Distance.L2);
    assertThatThrownBy(() -> Distance.parse("huber"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Distance must be one of [cosine, smooth_l1, l1, l2], cannot be: huber");
  }

  @Test
  void configDefaultsAndValidation() {
    assertThat(DtmLossConfig.DEFAULT)
        .isEqualTo(new DtmLossConfig(Distance.COSINE, 2.0, false, true));
    assertThatThrownBy(() -> new DtmLossConfig(Distance.SMOOTH_L1, -1.0, false, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Smooth-L1 beta must be finite and at least 0, cannot be: -1.0");
    assertThatThrownBy(() -> new DtmLossConfig(null, 2.0, false, true))
        .hasMessage("Distance must be set, cannot be: null");
  }

  private static float[] perToken(Distance distance, double beta, NDArray a, NDArray b) {
    DtmLoss loss = new DtmLoss(new DtmLossConfig(distance, beta, false, true));
    return loss.distance(a, b).toFloatArray();
  }

  /** The distances, written out in plain Java. */
  private static double distance(Distance distance, double beta, double[] a, double[] b) {
    int p = a.length;
    double total = 0;
    switch (distance) {
      case COSINE -> {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < p; i++) {
          dot += a[i] * b[i];
          na += a[i] * a[i];
          nb += b[i] * b[i];
        }
        return 1 - dot / (Math.max(Math.sqrt(na), 1e-8) * Math.max(Math.sqrt(nb), 1e-8));
      }
      case L1 -> {
        for (int i = 0; i < p; i++) {
          total += Math.abs(a[i] - b[i]);
        }
      }
      case L2 -> {
        for (int i = 0; i < p; i++) {
          total += (a[i] - b[i]) * (a[i] - b[i]);
        }
      }
      case SMOOTH_L1 -> {
        for (int i = 0; i < p; i++) {
          double d = Math.abs(a[i] - b[i]);
          total += d < beta ? 0.5 * d * d / beta : d - 0.5 * beta;
        }
      }
    }
    return total / p;
  }

  private static double[] mean(float[][] tokens, List<Integer> cluster) {
    double[] m = new double[tokens[0].length];
    for (int n : cluster) {
      for (int i = 0; i < m.length; i++) {
        m[i] += tokens[n][i] / (double) cluster.size();
      }
    }
    return m;
  }

  private static double[] toDouble(float[] x) {
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i];
    }
    return out;
  }

  private static NDArray array(NDManager manager, float[][][] data) {
    return manager.create(
        BipartiteMorpherTest.flatten(data),
        new Shape(data.length, data[0].length, data[0][0].length));
  }
}
