package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RandomErasingTest {
  private static final int S = 64;
  private static final ImageNormalization NORM = ImageNormalization.IMAGENET;

  private static float[] grey() {
    float[] p = new float[3 * S * S];
    java.util.Arrays.fill(p, 0.5f);
    return p;
  }

  @Test
  void theSameSeedErasesTheSameBoxWithTheSameValues() {
    RandomErasing erasing = new RandomErasing(0.25, RandomErasing.Mode.PIXEL, 1, NORM);
    int erased = 0;
    for (long seed = 0; seed < 40; seed++) {
      float[] a = grey();
      float[] b = grey();
      RandomErasing.Box[] boxesA = erasing.apply(a, 0, S, S, new SplittableRandom(seed));
      RandomErasing.Box[] boxesB = erasing.apply(b, 0, S, S, new SplittableRandom(seed));
      assertThat(boxesB).containsExactly(boxesA);
      assertThat(b).containsExactly(a);
      erased += boxesA.length;
    }
    // probability 0.25 over 40 images
    assertThat(erased).isBetween(3, 20);
  }

  @Test
  void pixelModeFillsOnlyTheBoxWithStandardNormalValuesAfterNormalisation() {
    RandomErasing erasing = new RandomErasing(1.0, RandomErasing.Mode.PIXEL, 1, NORM);
    float[] p = grey();
    RandomErasing.Box[] boxes = erasing.apply(p, 0, S, S, new SplittableRandom(3));
    assertThat(boxes).hasSize(1);
    RandomErasing.Box box = boxes[0];
    double area = box.height() * box.width() / (double) (S * S);
    assertThat(area).isBetween(0.02 * 0.9, 1.0 / 3 * 1.1);
    double aspect = box.height() / (double) box.width();
    assertThat(aspect).isBetween(0.25, 4.0);
    double sum = 0;
    double sq = 0;
    int n = 0;
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < S; y++) {
        for (int x = 0; x < S; x++) {
          float v = p[(c * S + y) * S + x];
          boolean inside =
              y >= box.top()
                  && y < box.top() + box.height()
                  && x >= box.left()
                  && x < box.left() + box.width();
          if (!inside) {
            assertThat(v).isEqualTo(0.5f);
            continue;
          }
          double z = (v - NORM.mean()[c]) / NORM.std()[c]; // the value after normalisation
          sum += z;
          sq += z * z;
          n++;
        }
      }
    }
    assertThat(n).isGreaterThan(200);
    assertThat(sum / n).isCloseTo(0, within(0.15));
    assertThat(Math.sqrt(sq / n - (sum / n) * (sum / n))).isCloseTo(1, within(0.1));
  }

  @Test
  void zeroProbabilityLeavesImagesAlone() {
    RandomErasing erasing = new RandomErasing(0.0, RandomErasing.Mode.PIXEL, 1, NORM);
    float[] p = grey();
    assertThat(erasing.apply(p, 0, S, S, new SplittableRandom(1))).isEmpty();
    assertThat(p).containsOnly(0.5f);
  }

  @Test
  void constModeWritesTheMeanColour() {
    RandomErasing erasing = new RandomErasing(1.0, RandomErasing.Mode.CONST, 1, NORM);
    float[] p = grey();
    RandomErasing.Box box = erasing.apply(p, 0, S, S, new SplittableRandom(5))[0];
    assertThat(p[(2 * S + box.top()) * S + box.left()]).isEqualTo(NORM.mean()[2]);
  }
}
