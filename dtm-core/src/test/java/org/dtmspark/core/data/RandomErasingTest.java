package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RandomErasingTest {
  private static final int S = 64;

  @Test
  void theSameSeedErasesTheSameBoxWithTheSameValues() {
    RandomErasing erasing = new RandomErasing(0.25, RandomErasing.Mode.PIXEL, 1);
    int erased = 0;
    for (long seed = 0; seed < 40; seed++) {
      RandomErasing.Erasure a = erasing.draw(S, S, new SplittableRandom(seed));
      RandomErasing.Erasure b = erasing.draw(S, S, new SplittableRandom(seed));
      assertThat(b.boxes()).containsExactly(a.boxes());
      assertThat(b.offsets()).containsExactly(a.offsets());
      assertThat(b.values()).containsExactly(a.values());
      erased += a.boxes().length;
    }
    // probability 0.25 over 40 images
    assertThat(erased).isBetween(3, 20);
  }

  @Test
  void pixelModeErasesExactlyTheBoxWithStandardNormalValues() {
    RandomErasing erasing = new RandomErasing(1.0, RandomErasing.Mode.PIXEL, 1);
    RandomErasing.Erasure e = erasing.draw(S, S, new SplittableRandom(3));
    assertThat(e.boxes()).hasSize(1);
    RandomErasing.Box box = e.boxes()[0];
    double area = box.height() * box.width() / (double) (S * S);
    assertThat(area).isBetween(0.02 * 0.9, 1.0 / 3 * 1.1);
    double aspect = box.height() / (double) box.width();
    assertThat(aspect).isBetween(0.25, 4.0);
    // Every position of the box in every channel, ascending, and nothing else.
    int k = 0;
    for (int c = 0; c < 3; c++) {
      for (int y = box.top(); y < box.top() + box.height(); y++) {
        for (int x = box.left(); x < box.left() + box.width(); x++) {
          assertThat(e.offsets()[k++]).isEqualTo((c * S + y) * S + x);
        }
      }
    }
    assertThat(e.offsets()).hasSize(k);
    double sum = 0;
    double sq = 0;
    for (float z : e.values()) {
      sum += z;
      sq += z * z;
    }
    int n = e.values().length;
    assertThat(n).isGreaterThan(200);
    assertThat(sum / n).isCloseTo(0, within(0.15));
    assertThat(Math.sqrt(sq / n - (sum / n) * (sum / n))).isCloseTo(1, within(0.1));
  }

  @Test
  void overlappingBoxesKeepTheLaterBoxsValues() {
    RandomErasing rand = new RandomErasing(1.0, RandomErasing.Mode.RAND, 3);
    int plane = S * S;
    for (long seed = 0; seed < 20; seed++) {
      RandomErasing.Erasure e = rand.draw(S, S, new SplittableRandom(seed));
      for (int i = 1; i < e.offsets().length; i++) {
        assertThat(e.offsets()[i]).isGreaterThan(e.offsets()[i - 1]);
      }
      // RAND fills a box with one colour per channel: all of the last box shows its own colour,
      // whatever earlier boxes it covers.
      RandomErasing.Box last = e.boxes()[e.boxes().length - 1];
      for (int c = 0; c < 3; c++) {
        float colour = valueAt(e, c * plane + last.top() * S + last.left());
        for (int y = last.top(); y < last.top() + last.height(); y++) {
          for (int x = last.left(); x < last.left() + last.width(); x++) {
            assertThat(valueAt(e, c * plane + y * S + x)).isEqualTo(colour);
          }
        }
      }
    }
  }

  private static float valueAt(RandomErasing.Erasure e, int offset) {
    int at = java.util.Arrays.binarySearch(e.offsets(), offset);
    assertThat(at).as("offset %d erased", offset).isNotNegative();
    return e.values()[at];
  }

  @Test
  void zeroProbabilityLeavesImagesAlone() {
    RandomErasing erasing = new RandomErasing(0.0, RandomErasing.Mode.PIXEL, 1);
    assertThat(erasing.draw(S, S, new SplittableRandom(1)).isEmpty()).isTrue();
  }

  @Test
  void constModeWritesZeroTheMeanColourAfterNormalisation() {
    RandomErasing erasing = new RandomErasing(1.0, RandomErasing.Mode.CONST, 1);
    RandomErasing.Erasure e = erasing.draw(S, S, new SplittableRandom(5));
    assertThat(e.values()).isNotEmpty().containsOnly(0f);
  }
}
