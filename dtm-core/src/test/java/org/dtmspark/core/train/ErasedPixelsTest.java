package org.dtmspark.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.dtmspark.core.data.RandomErasing;
import org.junit.jupiter.api.Test;

class ErasedPixelsTest {
  @Test
  void theErasedValuesLandAtTheirSampleChannelRowAndColumnAndNothingElseChanges() {
    int s = 8;
    int each = 3 * s * s;
    RandomErasing erasing = new RandomErasing(1.0, RandomErasing.Mode.PIXEL, 2);
    RandomErasing.Erasure[] perSample = {
      erasing.draw(s, s, new SplittableRandom(1)),
      RandomErasing.Erasure.NONE,
      erasing.draw(s, s, new SplittableRandom(2))
    };
    ErasedPixels erased = ErasedPixels.of(perSample, each);
    float[] before = new float[3 * each];
    for (int i = 0; i < before.length; i++) {
      before[i] = i * 1e-3f;
    }
    float[] expected = before.clone();
    for (int b = 0; b < 3; b++) {
      for (int j = 0; j < perSample[b].offsets().length; j++) {
        expected[b * each + perSample[b].offsets()[j]] = perSample[b].values()[j];
      }
    }
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(before, new Shape(3, 3, s, s));
      NDArray out = erased.applyTo(x);
      assertThat(out.getShape()).isEqualTo(new Shape(3, 3, s, s));
      assertThat(out.toFloatArray()).containsExactly(expected);
    }
    assertThat(ErasedPixels.of(new RandomErasing.Erasure[] {RandomErasing.Erasure.NONE}, each))
        .isNull();
  }
}
