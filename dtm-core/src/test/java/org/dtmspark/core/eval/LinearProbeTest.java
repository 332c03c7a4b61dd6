package org.dtmspark.core.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.dtmspark.core.config.ProbeSettings;
import org.junit.jupiter.api.Test;

class LinearProbeTest {
  /** Gaussian clusters around class-specific centres: linearly separable with margin. */
  private static Features clusters(int n, int dim, int classes, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    SplittableRandom centresRng = new SplittableRandom(42);
    float[][] centres = new float[classes][dim];
    for (float[] c : centres) {
      for (int j = 0; j < dim; j++) {
        c[j] = (float) centresRng.nextGaussian() * 3;
      }
    }
    float[] values = new float[n * dim];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % classes;
      for (int j = 0; j < dim; j++) {
        values[i * dim + j] = centres[labels[i]][j] + (float) rng.nextGaussian();
      }
    }
    return new Features(n, dim, values, labels, classes);
  }

  @Test
  void learnsSeparableClassesAndReportsBothSplits() {
    ProbeResult r =
        new LinearProbe(new ProbeSettings(0, 20, 64, 1e-2, 1e-4))
            .run(clusters(600, 16, 5, 1), clusters(200, 16, 5, 2));
    assertThat(r.trainTop1()).isGreaterThan(0.95);
    assertThat(r.valTop1()).isGreaterThan(0.95);
    assertThat(r.finalLoss()).isLessThan(0.5);
  }

  @Test
  void featuresWithoutSignalGiveChanceOnValidation() {
    SplittableRandom rng = new SplittableRandom(5);
    int n = 800;
    int d = 8;
    float[] values = new float[n * d];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = rng.nextInt(4);
      for (int j = 0; j < d; j++) {
        values[i * d + j] = (float) rng.nextGaussian();
      }
    }
    Features train =
        new Features(
            n / 2,
            d,
            java.util.Arrays.copyOf(values, n / 2 * d),
            java.util.Arrays.copyOf(labels, n / 2),
            4);
    Features val =
        new Features(
            n / 2,
            d,
            java.util.Arrays.copyOfRange(values, n / 2 * d, n * d),
            java.util.Arrays.copyOfRange(labels, n / 2, n),
            4);
    ProbeResult r = new LinearProbe(new ProbeSettings(0, 10, 64, 1e-2, 1e-4)).run(train, val);
    // 400 draws at chance 0.25: four standard deviations is about 0.09.
    assertThat(r.valTop1()).isBetween(0.16, 0.34);
  }
}
