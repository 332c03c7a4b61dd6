package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ViewSamplerTest {
  private static final ViewSampler DEFAULT = new ViewSampler(AugmentConfig.defaultPretrain(224));

  @Test
  void defaultPretrainPinsTheBeitV2Recipe() {
    assertThat(AugmentConfig.defaultPretrain(224))
        .isEqualTo(new AugmentConfig(224, 0.2, 1.0, 0.75, 4.0 / 3.0, 0.5, 0.4, 0.4, 0.4));
  }

  @Test
  void cropAlwaysLiesInsideTheImage() {
    int[][] sizes = {{500, 375}, {375, 500}, {28, 28}, {1, 1}, {3, 200}, {200, 3}, {224, 224}};
    for (int[] wh : sizes) {
      SplittableRandom rng = new SplittableRandom(wh[0] * 1000L + wh[1]);
      for (int i = 0; i < 500; i++) {
        ViewParams v = DEFAULT.sample(wh[0], wh[1], rng);
        assertThat(v.fitsIn(wh[0], wh[1])).as("%s in %d x %d", v, wh[0], wh[1]).isTrue();
      }
    }
  }

  @Test
  void acceptedCropsCoverAFractionOfTheAreaWithinTheScaleRange() {
    // On 1000 x 800 a fallback is the whole image (ratio 1.25 is in range), fraction 1, so every
    // view must lie in the range; rounding each side by <= 0.5 moves the fraction by < 0.2%.
    SplittableRandom rng = new SplittableRandom(7);
    double min = 1;
    double max = 0;
    for (int i = 0; i < 2000; i++) {
      ViewParams v = DEFAULT.sample(1000, 800, rng);
      double fraction = (double) v.cropWidth() * v.cropHeight() / (1000.0 * 800.0);
      assertThat(fraction).isBetween(0.2 - 0.002, 1.0 + 0.002);
      double ratio = (double) v.cropWidth() / v.cropHeight();
      assertThat(ratio).isBetween(0.75 * 0.99, 4.0 / 3.0 * 1.01);
      min = Math.min(min, fraction);
      max = Math.max(max, fraction);
    }
    assertThat(min).isLessThan(0.25);
    assertThat(max).isGreaterThan(0.9);
  }

  @Test
  void fallbackIsTheCentralCropWithTheRatioClamped() {
    // Scale 1 on a 400 x 100 image (ratio 4) never fits a crop of ratio <= 4/3: central crop.
    AugmentConfig config = new AugmentConfig(32, 1.0, 1.0, 0.75, 4.0 / 3.0, 0.0, 0, 0, 0);
    ViewParams v = new ViewSampler(config).sample(400, 100, new SplittableRandom(1));
    // h = 100, w = round(100 * 4/3) = 133, x = (400 - 133) / 2 = 133.
    assertThat(v.cropX()).isEqualTo(133);
    assertThat(v.cropY()).isZero();
    assertThat(v.cropWidth()).isEqualTo(133);
    assertThat(v.cropHeight()).isEqualTo(100);
    ViewParams tall = new ViewSampler(config).sample(100, 400, new SplittableRandom(1));
    // w = 100, h = round(100 / 0.75) = 133, y = (400 - 133) / 2 = 133.
    assertThat(tall.cropX()).isZero();
    assertThat(tall.cropY()).isEqualTo(133);
    assertThat(tall.cropWidth()).isEqualTo(100);
    assertThat(tall.cropHeight()).isEqualTo(133);
  }

  @Test
  void drawsFollowTheDocumentedOrder() {
    // Replays the reproducibility contract of the class Javadoc by hand. With scale <= 0.5 on a
    // square image the first crop attempt is always accepted (sqrt(0.5 * 4/3) < 1).
    AugmentConfig config = new AugmentConfig(224, 0.2, 0.5, 0.75, 4.0 / 3.0, 0.5, 0.4, 0.3, 0.2);
    ViewSampler sampler = new ViewSampler(config);
    for (long seed = 0; seed < 20; seed++) {
      SplittableRandom r = new SplittableRandom(seed);
      double targetArea = 1_000_000 * (0.2 + 0.3 * r.nextDouble());
      double logLow = Math.log(0.75);
      double ratio = Math.exp(logLow + (Math.log(4.0 / 3.0) - logLow) * r.nextDouble());
      int w = (int) Math.rint(Math.sqrt(targetArea * ratio));
      int h = (int) Math.rint(Math.sqrt(targetArea / ratio));
      int y = r.nextInt(1000 - h + 1);
      int x = r.nextInt(1000 - w + 1);
      boolean flip = r.nextDouble() < 0.5;
      int[] order = {0, 1, 2};
      for (int i = 2; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      float b = (float) (0.6 + 0.8 * r.nextDouble());
      float c = (float) (0.7 + 0.6 * r.nextDouble());
      float s = (float) (0.8 + 0.4 * r.nextDouble());
      ViewParams expected = new ViewParams(x, y, w, h, flip, b, c, s, order);
      assertThat(sampler.sample(1000, 1000, new SplittableRandom(seed))).isEqualTo(expected);
    }
  }

  @Test
  void sameSeedGivesTheSameViewsAndDifferentSeedsDiffer() {
    SplittableRandom a = new SplittableRandom(3);
    SplittableRandom b = new SplittableRandom(3);
    SplittableRandom c = new SplittableRandom(4);
    int differing = 0;
    for (int i = 0; i < 50; i++) {
      ViewParams va = DEFAULT.sample(640, 480, a);
      assertThat(DEFAULT.sample(640, 480, b)).isEqualTo(va);
      if (!DEFAULT.sample(640, 480, c).equals(va)) {
        differing++;
      }
    }
    assertThat(differing).isEqualTo(50);
  }

  @Test
  void flipAndJitterFollowTheirDistributions() {
    SplittableRandom rng = new SplittableRandom(11);
    int flips = 0;
    Set<String> orders = new HashSet<>();
    for (int i = 0; i < 2000; i++) {
      ViewParams v = DEFAULT.sample(256, 256, rng);
      flips += v.flip() ? 1 : 0;
      for (float f : new float[] {v.brightness(), v.contrast(), v.saturation()}) {
        assertThat(f).isBetween(0.6f, 1.4f);
      }
      orders.add(Arrays.toString(v.jitterOrder()));
    }
    assertThat(flips).isBetween(900, 1100);
    assertThat(orders).hasSize(6);
  }

  @Test
  void zeroStrengthsAndZeroFlipProbabilityLeaveColoursAndOrientationAlone() {
    AugmentConfig config = new AugmentConfig(64, 0.2, 1.0, 0.75, 4.0 / 3.0, 0.0, 0, 0, 0);
    SplittableRandom rng = new SplittableRandom(2);
    for (int i = 0; i < 100; i++) {
      ViewParams v = new ViewSampler(config).sample(300, 200, rng);
      assertThat(v.flip()).isFalse();
      assertThat(v.brightness()).isEqualTo(1f);
      assertThat(v.contrast()).isEqualTo(1f);
      assertThat(v.saturation()).isEqualTo(1f);
    }
  }

  @Test
  void rejectsAnEmptyImage() {
    assertThatThrownBy(() -> DEFAULT.sample(0, 10, new SplittableRandom(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Image size must be at least 1 x 1, cannot be: 0 x 10");
  }

  @Test
  void configValidationNamesTheFieldAndValue() {
    assertThatThrownBy(() -> new AugmentConfig(0, 0.2, 1, 0.75, 1.33, 0.5, 0.4, 0.4, 0.4))
        .hasMessage("View size must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> new AugmentConfig(8, 0, 1, 0.75, 1.33, 0.5, 0.4, 0.4, 0.4))
        .hasMessage("Minimum crop scale must be in (0, 1], cannot be: 0.0");
    assertThatThrownBy(() -> new AugmentConfig(8, 0.5, 0.4, 0.75, 1.33, 0.5, 0.4, 0.4, 0.4))
        .hasMessage("Maximum crop scale must be in [minScale=0.5, 1], cannot be: 0.4");
    assertThatThrownBy(() -> new AugmentConfig(8, 0.2, 1, 1.5, 1.33, 0.5, 0.4, 0.4, 0.4))
        .hasMessage(
            "Maximum crop aspect ratio must be finite and at least minRatio=1.5, cannot be: 1.33");
    assertThatThrownBy(() -> new AugmentConfig(8, 0.2, 1, 0.75, 1.33, 1.5, 0.4, 0.4, 0.4))
        .hasMessage("Flip probability must be in [0, 1], cannot be: 1.5");
    assertThatThrownBy(() -> new AugmentConfig(8, 0.2, 1, 0.75, 1.33, 0.5, 0.4, -1, 0.4))
        .hasMessage("Contrast jitter strength must be finite and at least 0, cannot be: -1.0");
  }
}
