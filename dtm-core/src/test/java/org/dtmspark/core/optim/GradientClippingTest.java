package org.dtmspark.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradientClippingTest {
  @Test
  void globalNormIsTheSquareRootOfAllSquaresTogether() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray a = manager.create(new float[] {3f, 4f});
      NDArray b = manager.create(new float[] {12f, 0f, 0f, 0f}, new Shape(2, 2));
      double norm = GradientClipping.clipByGlobalNorm(List.of(a, b), 0);
      assertThat(norm).isCloseTo(13.0, within(1e-6));
      assertThat(a.toFloatArray()).containsExactly(3f, 4f);
    }
  }

  @Test
  void gradientsAboveTheLimitAreScaledTogetherToTheLimit() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray a = manager.create(new float[] {3f, 4f});
      NDArray b = manager.create(new float[] {12f, 0f, 0f, 0f}, new Shape(2, 2));
      double norm = GradientClipping.clipByGlobalNorm(List.of(a, b), 3.0);
      assertThat(norm).isCloseTo(13.0, within(1e-6));

      double factor = 3.0 / (13.0 + 1e-6);
      assertThat((double) a.getFloat(0)).isCloseTo(3 * factor, within(1e-6));
      assertThat((double) a.getFloat(1)).isCloseTo(4 * factor, within(1e-6));
      assertThat((double) b.getFloat(0, 0)).isCloseTo(12 * factor, within(1e-6));
      assertThat(GradientClipping.clipByGlobalNorm(List.of(a, b), 0)).isCloseTo(3.0, within(1e-5));
    }
  }

  @Test
  void gradientsAtOrBelowTheLimitAreLeftExactlyAsTheyAre() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray a = manager.create(new float[] {3f, 4f});
      assertThat(GradientClipping.clipByGlobalNorm(List.of(a), 5.0)).isCloseTo(5.0, within(1e-9));
      assertThat(GradientClipping.clipByGlobalNorm(List.of(a), 100.0)).isCloseTo(5.0, within(1e-9));
      assertThat(a.toFloatArray()).containsExactly(3f, 4f);
    }
  }

  @Test
  void nonFiniteGradientsThrowAndAreNotScaled() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray good = manager.create(new float[] {30f, 40f});
      NDArray bad = manager.create(new float[] {1f, Float.NaN});
      assertThatThrownBy(() -> GradientClipping.clipByGlobalNorm(List.of(good, bad), 3.0))
          .isInstanceOf(NonFiniteGradientException.class)
          .hasMessageStartingWith("Global gradient L2 norm must be finite, cannot be: NaN");
      assertThat(good.toFloatArray()).containsExactly(30f, 40f);

      NDArray inf = manager.create(new float[] {Float.POSITIVE_INFINITY});
      assertThatThrownBy(() -> GradientClipping.clipByGlobalNorm(List.of(inf), 0))
          .isInstanceOf(NonFiniteGradientException.class)
          .hasMessageStartingWith("Global gradient L2 norm must be finite, cannot be: Infinity");
    }
  }

  @Test
  void halfPrecisionGradientsAreSummedWithoutOverflow() {
    try (NDManager manager = NDManager.newBaseManager()) {
      // 300^2 = 90000 exceeds the largest float16 (65504); the norm must still be right.
      NDArray half = manager.create(new float[] {300f, 300f}).toType(DataType.FLOAT16, false);
      double norm = GradientClipping.clipByGlobalNorm(List.of(half), 0);
      assertThat(norm).isCloseTo(300 * Math.sqrt(2), within(1e-3));
    }
  }

  @Test
  void noGradientsHaveNormZero() {
    assertThat(GradientClipping.clipByGlobalNorm(List.of(), 3.0)).isZero();
  }
}
