package org.dtmspark.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.dtmspark.core.config.MixupSettings;
import org.junit.jupiter.api.Test;

class MixupCutmixTest {
  private static final MixupSettings RECIPE = new MixupSettings(0.8, 1.0, 1.0, 0.5);
  private static final int SIZE = 16;
  private static final int CLASSES = 5;
  private static final double SMOOTHING = 0.1;

  /** Image b is filled with the value b everywhere, so every pixel says where it came from. */
  private static NDArray labelledImages(NDManager m, int batch) {
    float[] v = new float[batch * 3 * SIZE * SIZE];
    for (int i = 0; i < v.length; i++) {
      v[i] = i / (3 * SIZE * SIZE);
    }
    return m.create(v, new Shape(batch, 3, SIZE, SIZE));
  }

  private static MixupCutmix.Mix draw(MixupCutmix mixup, boolean cutmix, long from) {
    for (long seed = from; ; seed++) {
      MixupCutmix.Mix mix = mixup.sample(new SplittableRandom(seed), SIZE);
      if (mix.mixes() && mix.cutmix() == cutmix) {
        return mix;
      }
    }
  }

  @Test
  void mixedTargetsSumToOneWithSmoothingInside() {
    MixupCutmix mixup = new MixupCutmix(RECIPE);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray labels = m.create(new int[] {0, 3, 1, 4, 2, 2});
      for (long seed = 0; seed < 20; seed++) {
        MixupCutmix.Mix mix = mixup.sample(new SplittableRandom(seed), SIZE);
        float[] t = MixupCutmix.mixTargets(labels, CLASSES, SMOOTHING, mix).toFloatArray();
        for (int b = 0; b < 6; b++) {
          double sum = 0;
          double min = 1;
          for (int k = 0; k < CLASSES; k++) {
            sum += t[b * CLASSES + k];
            min = Math.min(min, t[b * CLASSES + k]);
          }
          assertThat(sum).as("seed %d row %d", seed, b).isCloseTo(1.0, within(1e-6));
          // Smoothing happens inside: no class gets less than eps / K.
          assertThat(min).isGreaterThanOrEqualTo(SMOOTHING / CLASSES - 1e-7);
        }
      }
    }
  }

  @Test
  void withoutMixingTheTargetsAreTheSmoothedOneHot() {
    try (NDManager m = NDManager.newBaseManager()) {
      float[] t =
          MixupCutmix.mixTargets(m.create(new int[] {2}), 4, 0.1, MixupCutmix.Mix.NONE)
              .toFloatArray();
      assertThat(t).containsExactly(new float[] {0.025f, 0.025f, 0.925f, 0.025f}, within(1e-7f));
    }
  }

  @Test
  void cutmixWeightEqualsThePastedBoxsArea() {
    MixupCutmix mixup = new MixupCutmix(RECIPE);
    int batch = 4;
    try (NDManager m = NDManager.newBaseManager()) {
      for (long from = 0; from < 400; from += 40) {
        MixupCutmix.Mix mix = draw(mixup, true, from);
        float[] x = MixupCutmix.mixImages(m, labelledImages(m, batch), mix).toFloatArray();
        // Count, in image 0, the pixels that came from its partner (image B - 1).
        int pasted = 0;
        for (int y = 0; y < SIZE; y++) {
          for (int c = 0; c < SIZE; c++) {
            boolean inBox =
                y >= mix.top()
                    && y < mix.top() + mix.height()
                    && c >= mix.left()
                    && c < mix.left() + mix.width();
            float v = x[y * SIZE + c];
            assertThat(v).isEqualTo(inBox ? batch - 1 : 0f);
            pasted += inBox ? 1 : 0;
          }
        }
        double area = pasted / (double) (SIZE * SIZE);
        assertThat(mix.height() * mix.width()).isEqualTo(pasted);
        assertThat(1 - mix.lam()).isCloseTo(area, within(1e-12));
        float[] t =
            MixupCutmix.mixTargets(m.create(new int[] {0, 1, 2, 3}), 4, 0.0, mix).toFloatArray();
        // Row 0: own label 0 weighted by the area left, partner label 3 by the pasted area.
        assertThat((double) t[3]).isCloseTo(area, within(1e-6));
        assertThat((double) t[0]).isCloseTo(1 - area, within(1e-6));
      }
    }
  }

  @Test
  void mixupBlendsEveryPixelWithThePartner() {
    MixupCutmix mixup = new MixupCutmix(RECIPE);
    MixupCutmix.Mix mix = draw(mixup, false, 0);
    try (NDManager m = NDManager.newBaseManager()) {
      float[] x = MixupCutmix.mixImages(m, labelledImages(m, 3), mix).toFloatArray();
      // Image 0 (value 0) with image 2 (value 2): 2 (1 - lam) everywhere.
      for (int i = 0; i < 3 * SIZE * SIZE; i++) {
        assertThat((double) x[i]).isCloseTo(2 * (1 - mix.lam()), within(1e-5));
      }
    }
  }

  @Test
  void drawsFollowTheRecipeAndReproduceUnderASeed() {
    MixupCutmix mixup = new MixupCutmix(RECIPE);
    int n = 4000;
    int cutmix = 0;
    double lamSum = 0;
    for (long seed = 0; seed < n; seed++) {
      MixupCutmix.Mix mix = mixup.sample(new SplittableRandom(seed), SIZE);
      assertThat(mixup.sample(new SplittableRandom(seed), SIZE)).isEqualTo(mix);
      cutmix += mix.cutmix() ? 1 : 0;
      if (!mix.cutmix()) {
        lamSum += mix.lam();
      }
    }
    // switch prob 0.5; Beta(0.8, 0.8) has mean 0.5.
    assertThat(cutmix / (double) n).isCloseTo(0.5, within(0.03));
    assertThat(lamSum / (n - cutmix)).isCloseTo(0.5, within(0.02));
    assertThat(
            new MixupCutmix(new MixupSettings(0.8, 1.0, 0.0, 0.5))
                .sample(new SplittableRandom(1), SIZE))
        .isEqualTo(MixupCutmix.Mix.NONE);
  }

  @Test
  void betaDrawsHaveTheBetaDistributionsVariance() {
    SplittableRandom rng = new SplittableRandom(7);
    int n = 20000;
    double sum = 0;
    double sq = 0;
    for (int i = 0; i < n; i++) {
      double v = MixupCutmix.beta(rng, 0.8);
      assertThat(v).isBetween(0.0, 1.0);
      sum += v;
      sq += v * v;
    }
    double mean = sum / n;
    // Var Beta(a, a) = 1 / (4 (2a + 1)) = 0.09615 for a = 0.8.
    assertThat(sq / n - mean * mean).isCloseTo(1 / (4 * 2.6), within(0.003));
  }

  @Test
  void softTargetCrossEntropyEqualsTheMeanOfMinusTargetTimesLogSoftmax() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray logits = m.create(new float[] {1f, 2f, 0.5f, -1f, 0f, 3f}, new Shape(2, 3));
      NDArray targets = m.create(new float[] {0.2f, 0.7f, 0.1f, 0f, 0.5f, 0.5f}, new Shape(2, 3));
      double[][] l = {{1, 2, 0.5}, {-1, 0, 3}};
      double[][] t = {{0.2, 0.7, 0.1}, {0, 0.5, 0.5}};
      double expected = 0;
      for (int b = 0; b < 2; b++) {
        double z = 0;
        for (double v : l[b]) {
          z += Math.exp(v);
        }
        for (int k = 0; k < 3; k++) {
          expected -= t[b][k] * (l[b][k] - Math.log(z)) / 2;
        }
      }
      assertThat((double) MixupCutmix.softTargetCrossEntropy(logits, targets).getFloat())
          .isCloseTo(expected, within(1e-6));
    }
  }
}
