package org.dtmspark.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.dtmspark.core.nn.Parameters;
import org.dtmspark.core.optim.AdamW;
import org.dtmspark.core.optim.AdamWConfig;
import org.dtmspark.core.optim.FlatParameters;
import org.dtmspark.core.optim.ParameterGroups;
import org.dtmspark.core.precision.LossScaler;
import org.junit.jupiter.api.Test;

class GradientUpdateTest {
  private static final AdamWConfig NO_DECAY = new AdamWConfig(0.9, 0.999, 1e-8, 0.0);

  private static Parameters params(NDManager m) {
    Parameters p = Parameters.create(m);
    p.put("b.weight", m.create(new float[] {1f, -2f, 3f}, new Shape(3, 1)));
    p.put("a.bias", m.create(new float[] {0.5f, 0.25f}));
    return p;
  }

  /** Backward of {@code factor * loss * sum(a.bias) + sum(b.weight^2)} as a training step would. */
  private static double backward(
      FlatParameters flat, Parameters p, GradientUpdate update, float factor) {
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      flat.bindViews();
      NDArray loss = p.get("a.bias").sum().mul(factor).add(p.get("b.weight").square().sum());
      gc.backward(loss.mul(update.lossFactor(1)));
      return loss.getFloat();
    }
  }

  @Test
  void anInfiniteGradientSkipsTheStepHalvesTheScaleAndLeavesNoTrace() {
    try (NDManager m = NDManager.newBaseManager();
        Parameters p = params(m);
        FlatParameters flat = FlatParameters.of(p);
        AdamW adamW = new AdamW(NO_DECAY, ParameterGroups.of(p, 1, 1.0), flat);
        GradientUpdate update =
            new GradientUpdate(
                flat, adamW, new LossScaler(true, 1024, 2000), 0, GradientReducer.LOCAL)) {
      float[] before = flat.data().toFloatArray();
      double loss = backward(flat, p, update, Float.POSITIVE_INFINITY);
      GradientUpdate.Result r = update.apply(loss, 0.1, "test");
      assertThat(r.skipped()).isTrue();
      assertThat(r.lossScale()).isEqualTo(1024.0);
      assertThat(r.gradNorm()).isInfinite();
      assertThat(update.scaler().scale()).isEqualTo(512.0);
      assertThat(update.scaler().skippedSteps()).isEqualTo(1);
      assertThat(adamW.stepCount()).isZero();
      assertThat(flat.data().toFloatArray()).containsExactly(before);
      try (NDArray g = flat.gradient(m)) {
        assertThat(g.toFloatArray()).containsOnly(0f);
      }

      // The next finite step applies, unscaled: the gradient seen is the true one.
      loss = backward(flat, p, update, 1f);
      r = update.apply(loss, 0.1, "test");
      assertThat(r.skipped()).isFalse();
      assertThat(r.lossScale()).isEqualTo(512.0);
      // d/da = 1 for both bias entries, d/db = 2b: norm sqrt(2 + 4 (1 + 4 + 9)) = sqrt(58)
      assertThat(r.gradNorm()).isCloseTo(Math.sqrt(58), within(1e-4));
      assertThat(adamW.stepCount()).isEqualTo(1);
    }
  }

  @Test
  void withoutALossScaleANonFiniteGradientIsAnErrorNamingTheParameter() {
    try (NDManager m = NDManager.newBaseManager();
        Parameters p = params(m);
        FlatParameters flat = FlatParameters.of(p);
        AdamW adamW = new AdamW(NO_DECAY, ParameterGroups.of(p, 1, 1.0), flat);
        GradientUpdate update =
            new GradientUpdate(
                flat, adamW, new LossScaler(false, 1, 2000), 3.0, GradientReducer.LOCAL)) {
      double loss = backward(flat, p, update, Float.NaN);
      assertThatThrownBy(() -> update.apply(loss, 0.1, "step 7"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("Non-finite gradient (loss NaN, step 7) in [a.bias]");
    }
  }

  @Test
  void theScaleGrowsAfterItsIntervalOfAppliedSteps() {
    try (NDManager m = NDManager.newBaseManager();
        Parameters p = params(m);
        FlatParameters flat = FlatParameters.of(p);
        AdamW adamW = new AdamW(NO_DECAY, ParameterGroups.of(p, 1, 1.0), flat);
        GradientUpdate update =
            new GradientUpdate(flat, adamW, new LossScaler(true, 8, 3), 0, GradientReducer.LOCAL)) {
      double[] scales = new double[4];
      for (int i = 0; i < 4; i++) {
        double loss = backward(flat, p, update, 1f);
        scales[i] = update.apply(loss, 0.01, "test").lossScale();
      }
      assertThat(scales).containsExactly(8, 8, 8, 16);
    }
  }

  @Test
  void clippingAndUnscalingGiveTheUpdateOfTheUnscaledClippedGradient() {
    // Same parameters trained with scale 1024 and clip 1, and with no scale and a gradient scaled
    // by hand to norm 1: identical updates.
    float[][] results = new float[2][];
    for (int run = 0; run < 2; run++) {
      try (NDManager m = NDManager.newBaseManager();
          Parameters p = params(m);
          FlatParameters flat = FlatParameters.of(p);
          AdamW adamW = new AdamW(NO_DECAY, ParameterGroups.of(p, 1, 1.0), flat);
          GradientUpdate update =
              new GradientUpdate(
                  flat,
                  adamW,
                  new LossScaler(run == 0, 1024, 2000),
                  run == 0 ? 1.0 : 0,
                  GradientReducer.LOCAL)) {
        for (int s = 0; s < 3; s++) {
          double loss = backward(flat, p, update, 1f);
          if (run == 1) {
            try (NDArray g = flat.gradient(m)) {
              g.muli(1 / (g.norm().getFloat() + 1e-6));
            }
          }
          update.apply(loss, 0.05, "test");
        }
        results[run] = flat.data().toFloatArray();
      }
    }
    for (int i = 0; i < results[0].length; i++) {
      assertThat(results[0][i]).isCloseTo(results[1][i], within(1e-5f));
    }
  }
}
