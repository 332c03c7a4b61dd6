package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Paths;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.dtmspark.core.io.Npy;
import org.dtmspark.core.io.NpyArray;
import org.junit.jupiter.api.Test;

/**
 * {@link RandAugment}: the operations against Pillow running timm's op functions (golden files made
 * by {@code golden/randaugment/make_randaugment_golden.py}), and the seeded draws.
 */
class RandAugmentTest {
  private static final int W = 24;
  private static final int H = 20;
  private static final int[] FILL = {124, 116, 104};
  private static final RandAugmentSpec RECIPE = RandAugmentSpec.parse("rand-m9-mstd0.5-inc1");

  private static NpyArray npy(String name) throws IOException {
    URL url = RandAugmentTest.class.getResource("/golden/randaugment/" + name);
    if (url == null) {
      throw new IllegalStateException("Golden resource missing from the test classpath: " + name);
    }
    try {
      return Npy.read(Paths.get(url.toURI()));
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int[] toInts(float[] v, int from, int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = Math.round(v[from + i]);
    }
    return out;
  }

  /** The calls of the golden script, in its order. */
  @SuppressWarnings("unchecked")
  private static final UnaryOperator<int[]>[] CALLS =
      new UnaryOperator[] {
        (UnaryOperator<int[]>) im -> RandAugment.autoContrast(im, W, H),
        (UnaryOperator<int[]>) im -> RandAugment.equalize(im, W, H),
        (UnaryOperator<int[]>) im -> RandAugment.lut(im, RandAugment.solarizeLut(0)),
        (UnaryOperator<int[]>) im -> RandAugment.rotate(im, W, H, 17.0, FILL),
        (UnaryOperator<int[]>) im -> RandAugment.rotate(im, W, H, -23.5, FILL),
        (UnaryOperator<int[]>) im -> RandAugment.posterize(im, 2),
        (UnaryOperator<int[]>) im -> RandAugment.lut(im, RandAugment.solarizeLut(100)),
        (UnaryOperator<int[]>) im -> RandAugment.lut(im, RandAugment.solarizeAddLut(50, 128)),
        (UnaryOperator<int[]>) im -> RandAugment.color(im, W, H, 1.6f),
        (UnaryOperator<int[]>) im -> RandAugment.contrast(im, W, H, 0.4f),
        (UnaryOperator<int[]>) im -> RandAugment.blend(new int[im.length], im, 1.7f),
        (UnaryOperator<int[]>) im -> RandAugment.sharpness(im, W, H, 0.3f),
        (UnaryOperator<int[]>)
            im -> RandAugment.affine(im, W, H, new double[] {1, 0.25, 0, 0, 1, 0}, FILL),
        (UnaryOperator<int[]>)
            im -> RandAugment.affine(im, W, H, new double[] {1, 0, 0, -0.2, 1, 0}, FILL),
        (UnaryOperator<int[]>)
            im -> RandAugment.affine(im, W, H, new double[] {1, 0, 0.3 * W, 0, 1, 0}, FILL),
        (UnaryOperator<int[]>)
            im -> RandAugment.affine(im, W, H, new double[] {1, 0, 0, 0, 1, -0.2 * H}, FILL),
      };

  private static final String[] NAMES = {
    "auto_contrast",
    "equalize",
    "invert",
    "rotate 17",
    "rotate -23.5",
    "posterize 2",
    "solarize 100",
    "solarize_add 50",
    "color 1.6",
    "contrast 0.4",
    "brightness 1.7",
    "sharpness 0.3",
    "shear_x 0.25",
    "shear_y -0.2",
    "translate_x_rel 0.3",
    "translate_y_rel -0.2"
  };

  @Test
  void operationsMatchPillowRunningTimmsOpsWithinOneLevel() throws IOException {
    int n = 3 * H * W;
    int[] image = toInts(npy("image.npy").data(), 0, n);
    float[] golden = npy("ops.npy").data();
    assertThat(golden).hasSize(CALLS.length * n);
    for (int op = 0; op < CALLS.length; op++) {
      int[] expected = toInts(golden, op * n, n);
      int[] actual = CALLS[op].apply(image.clone());
      int maxDiff = 0;
      int differing = 0;
      for (int i = 0; i < n; i++) {
        int d = Math.abs(actual[i] - expected[i]);
        maxDiff = Math.max(maxDiff, d);
        differing += d > 0 ? 1 : 0;
      }
      // Observed: bit-exact for every call but one pixel of translate_x_rel, one level apart
      // (bicubic sums in double here against Pillow's own evaluation order).
      assertThat(maxDiff)
          .as("%s: largest difference from Pillow", NAMES[op])
          .isLessThanOrEqualTo(1);
      assertThat(differing)
          .as("%s: values that differ from Pillow", NAMES[op])
          .isLessThanOrEqualTo(2);
    }
  }

  @Test
  void theSameSeedGivesTheSameImageAndOtherSeedsOtherImages() throws IOException {
    int n = 3 * H * W;
    float[] base = npy("image.npy").data();
    byte[] pixels = new byte[n];
    for (int i = 0; i < n; i++) {
      pixels[i] = (byte) Math.round(base[i]);
    }
    RandAugment ra = new RandAugment(RECIPE, FILL);
    byte[] a = pixels.clone();
    byte[] b = pixels.clone();
    ra.apply(a, 0, W, H, new SplittableRandom(42));
    ra.apply(b, 0, W, H, new SplittableRandom(42));
    assertThat(b).containsExactly(a);
    int changed = 0;
    for (long seed = 0; seed < 20; seed++) {
      byte[] c = pixels.clone();
      ra.apply(c, 0, W, H, new SplittableRandom(seed));
      changed += java.util.Arrays.equals(c, a) ? 0 : 1;
    }
    assertThat(changed).as("images differing from seed 42's among 20 seeds").isGreaterThan(15);
  }

  @Test
  void eachChosenOperationAppliesWithTheGivenProbability() {
    // p1: every drawn operation applies; one operation per image, magnitude 10 without noise.
    RandAugment always = new RandAugment(RandAugmentSpec.parse("rand-m10-n1-p1-inc1"), FILL);
    RandAugment never = new RandAugment(RandAugmentSpec.parse("rand-m10-n1-p0-inc1"), FILL);
    int[] image = new int[3 * 8 * 8];
    for (int i = 0; i < image.length; i++) {
      image[i] = (i * 37) % 256;
    }
    int changed = 0;
    for (long seed = 0; seed < 50; seed++) {
      int[] out = always.apply(image, 8, 8, new SplittableRandom(seed));
      changed += java.util.Arrays.equals(out, image) ? 0 : 1;
      assertThat(never.apply(image, 8, 8, new SplittableRandom(seed))).isSameAs(image);
    }
    assertThat(changed).isGreaterThan(45);
  }

  @Test
  void policyStringsParseAsTimmDoes() {
    assertThat(RECIPE).isEqualTo(new RandAugmentSpec(9, 2, 0.5, 0.5, 10));
    assertThat(RandAugmentSpec.parse("rand-n3-m7-mstd101-mmax12-p0.3-inc1"))
        .isEqualTo(new RandAugmentSpec(7, 3, 0.3, Double.POSITIVE_INFINITY, 12));
  }
}
