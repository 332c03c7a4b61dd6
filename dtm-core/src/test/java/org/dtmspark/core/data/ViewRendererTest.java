package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ViewRendererTest {
  private static final int[] NO_JITTER = {0, 1, 2};

  private static RgbImage randomImage(int w, int h, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] px = new float[3 * w * h];
    for (int i = 0; i < px.length; i++) {
      px[i] = (float) rng.nextDouble();
    }
    return new RgbImage(w, h, px);
  }

  private static RgbImage image(int w, int h, PixelFunction f) {
    float[] px = new float[3 * w * h];
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          px[(c * h + y) * w + x] = f.value(c, y, x);
        }
      }
    }
    return new RgbImage(w, h, px);
  }

  private interface PixelFunction {
    float value(int c, int y, int x);
  }

  private static ViewParams crop(int x, int y, int w, int h) {
    return new ViewParams(x, y, w, h, false, 1f, 1f, 1f, NO_JITTER);
  }

  private static ViewParams jitter(float b, float c, float s, int... order) {
    return new ViewParams(0, 0, 2, 2, false, b, c, s, order);
  }

  @Test
  void fullCropAtTheSourceSizeIsTheIdentity() {
    RgbImage src = randomImage(6, 6, 1);
    float[] out = ViewRenderer.render(src, ViewParams.fullImage(6, 6), 6);
    assertThat(out).containsExactly(src.pixels(), within(1e-6f));
  }

  @Test
  void cropAtItsOwnSizeCopiesTheSubImage() {
    RgbImage src = randomImage(6, 5, 2);
    float[] out = ViewRenderer.render(src, crop(2, 1, 3, 3), 3);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < 3; y++) {
        for (int x = 0; x < 3; x++) {
          assertThat(out[(c * 3 + y) * 3 + x]).isCloseTo(src.get(c, y + 1, x + 2), within(1e-6f));
        }
      }
    }
  }

  @Test
  void constantImageStaysConstantAtAnyScale() {
    RgbImage src = image(10, 7, (c, y, x) -> 0.37f);
    for (int size : new int[] {1, 3, 5, 17}) {
      float[] out = ViewRenderer.render(src, crop(1, 2, 7, 4), size);
      assertThat(out).hasSize(3 * size * size);
      for (float v : out) {
        assertThat(v).isCloseTo(0.37f, within(1e-6f));
      }
    }
  }

  @Test
  void downsamplingAGradientByTwoMatchesHandComputedWeights() {
    // 8 x 8 source: R = x / 8, G = y / 8, B = (x + y) / 16; output 4 x 4.
    RgbImage src = image(8, 8, (c, y, x) -> c == 0 ? x / 8f : c == 1 ? y / 8f : (x + y) / 16f);
    float[] out = ViewRenderer.render(src, ViewParams.fullImage(8, 8), 4);
    // Scale 2: kernel stretched to support 4, taps at (i - center + 0.5) / 2. Cubic (a = -0.5):
    // k(0.25) = 0.8671875, k(0.75) = 0.2265625, k(1.25) = -0.0703125, k(1.75) = -0.0234375.
    // Output 0 (center 1): inputs 0..4 with k(.25), k(.25), k(.75), k(1.25), k(1.75).
    double[] w0 = {0.8671875, 0.8671875, 0.2265625, -0.0703125, -0.0234375};
    // Output 1 (center 3): inputs 0..6 with k(1.25), k(.75), k(.25), k(.25), k(.75), k(1.25),
    // k(1.75).
    double[] w1 = {-0.0703125, 0.2265625, 0.8671875, 0.8671875, 0.2265625, -0.0703125, -0.0234375};
    double[] ramp = new double[4];
    ramp[0] = weightedRamp(w0);
    ramp[1] = weightedRamp(w1);
    ramp[2] = 7 - ramp[1]; // mirror image of output 1
    ramp[3] = 7 - ramp[0];
    assertThat(ramp[0]).isCloseTo(1.015625 / 1.8671875, within(1e-12));
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        assertThat(out[y * 4 + x]).isCloseTo((float) (ramp[x] / 8), within(1e-5f));
        assertThat(out[16 + y * 4 + x]).isCloseTo((float) (ramp[y] / 8), within(1e-5f));
        assertThat(out[32 + y * 4 + x])
            .isCloseTo((float) ((ramp[x] + ramp[y]) / 16), within(1e-5f));
      }
    }
  }

  private static double weightedRamp(double[] w) {
    double sum = 0;
    double acc = 0;
    for (int i = 0; i < w.length; i++) {
      sum += w[i];
      acc += w[i] * i;
    }
    return acc / sum;
  }

  @Test
  void upsamplingAMonotoneRampStaysMonotone() {
    RgbImage src = image(4, 4, (c, y, x) -> (x + 1) / 5f);
    float[] out = ViewRenderer.render(src, ViewParams.fullImage(4, 4), 13);
    for (int y = 0; y < 13; y++) {
      for (int x = 1; x < 13; x++) {
        assertThat(out[y * 13 + x]).isGreaterThanOrEqualTo(out[y * 13 + x - 1] - 1e-3f);
      }
      assertThat(out[y * 13 + 12] - out[y * 13]).isGreaterThan(0.5f);
    }
  }

  @Test
  void matchesPillowBicubicCropAndResize() throws IOException {
    // Golden values from Pillow 9.4 (see pillow_bicubic_golden.py beside the golden file).
    RgbImage smooth =
        image(
            23,
            17,
            (c, y, x) ->
                (float) (0.5 + 0.25 * Math.sin(0.3 * x + 0.2 * y + 0.7 * c + 0.05 * x * y)));
    RgbImage bytes =
        image(23, 17, (c, y, x) -> ((x * y * 7 + x * 31 + y * 17 + c * 101) % 256) / 255f);
    int cases = 0;
    try (InputStream in = getClass().getResourceAsStream("pillow-bicubic-golden.txt");
        BufferedReader reader =
            new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
      String header;
      while ((header = reader.readLine()) != null) {
        String[] h = header.split(" ");
        String[] values = reader.readLine().split(" ");
        int size = Integer.parseInt(h[6]);
        ViewParams view =
            crop(
                Integer.parseInt(h[2]),
                Integer.parseInt(h[3]),
                Integer.parseInt(h[4]),
                Integer.parseInt(h[5]));
        boolean isSmooth = h[1].equals("smooth");
        float[] out = ViewRenderer.render(isSmooth ? smooth : bytes, view, size);
        assertThat(values).hasSize(out.length);
        // Float mode agrees to float rounding (seen: exact); 8-bit Pillow rounds to 1/255 after
        // each pass (seen: at most 1.05 / 255 apart).
        float tolerance = isSmooth ? 1e-6f : 1.25f / 255f;
        for (int i = 0; i < out.length; i++) {
          assertThat(out[i])
              .as("%s index %d", header, i)
              .isCloseTo(Float.parseFloat(values[i]), within(tolerance));
        }
        cases++;
      }
    }
    assertThat(cases).isEqualTo(10);
  }

  @Test
  void flipMirrorsEachRow() {
    RgbImage src = randomImage(9, 7, 3);
    float[] plain = ViewRenderer.render(src, crop(1, 1, 7, 5), 6);
    float[] flipped =
        ViewRenderer.render(src, new ViewParams(1, 1, 7, 5, true, 1f, 1f, 1f, NO_JITTER), 6);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < 6; y++) {
        for (int x = 0; x < 6; x++) {
          assertThat(flipped[(c * 6 + y) * 6 + x]).isEqualTo(plain[(c * 6 + y) * 6 + 5 - x]);
        }
      }
    }
  }

  // 2 x 2 image used by the jitter tests; rendered at its own size the resize is the identity.
  private static final RgbImage SMALL =
      new RgbImage(
          2,
          2,
          new float[] {
            0.2f, 0.4f, 0.6f, 0.8f, // R
            0.1f, 0.5f, 0.3f, 0.9f, // G
            0.0f, 0.25f, 0.5f, 1.0f // B
          });
  // Grayscale 0.299 R + 0.587 G + 0.114 B of each pixel, by hand.
  private static final float[] GRAY = {0.1185f, 0.4416f, 0.4125f, 0.8815f};

  @Test
  void brightnessScalesAndClamps() {
    float[] out = ViewRenderer.render(SMALL, jitter(1.5f, 1f, 1f, 0, 1, 2), 2);
    assertThat(out)
        .containsExactly(
            new float[] {0.3f, 0.6f, 0.9f, 1f, 0.15f, 0.75f, 0.45f, 1f, 0f, 0.375f, 0.75f, 1f},
            within(1e-6f));
  }

  @Test
  void contrastBlendsWithTheMeanGray() {
    float mean = (GRAY[0] + GRAY[1] + GRAY[2] + GRAY[3]) / 4; // 0.463525
    assertThat(mean).isCloseTo(0.463525f, within(1e-6f));
    float[] out = ViewRenderer.render(SMALL, jitter(1f, 0.5f, 1f, 2, 1, 0), 2);
    float[] expected = new float[12];
    for (int i = 0; i < 12; i++) {
      expected[i] = 0.5f * SMALL.pixels()[i] + 0.5f * mean;
    }
    assertThat(out[0]).isCloseTo(0.3317625f, within(1e-6f));
    assertThat(out).containsExactly(expected, within(1e-6f));
  }

  @Test
  void saturationBlendsWithThePixelGrayAndClamps() {
    float[] out = ViewRenderer.render(SMALL, jitter(1f, 1f, 2f, 1, 2, 0), 2);
    // 2 * v - gray, clamped to [0, 1].
    assertThat(out)
        .containsExactly(
            new float[] {
              0.2815f, 0.3584f, 0.7875f, 0.7185f, // R
              0.0815f, 0.5584f, 0.1875f, 0.9185f, // G
              0f, 0.0584f, 0.5875f, 1f // B
            },
            within(1e-6f));
  }

  @Test
  void zeroSaturationGivesGray() {
    float[] out = ViewRenderer.render(SMALL, jitter(1f, 1f, 0f, 0, 1, 2), 2);
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < 4; i++) {
        assertThat(out[c * 4 + i]).isCloseTo(GRAY[i], within(1e-6f));
      }
    }
  }

  @Test
  void jitterOrderMatters() {
    // Without clamping brightness and contrast commute; the clamp of 0.8 * 1.5 breaks that.
    float[] brightnessFirst = ViewRenderer.render(SMALL, jitter(1.5f, 0.5f, 1f, 0, 1, 2), 2);
    float[] contrastFirst = ViewRenderer.render(SMALL, jitter(1.5f, 0.5f, 1f, 1, 0, 2), 2);
    assertThat(brightnessFirst[0]).isNotCloseTo(contrastFirst[0], within(1e-3f));
    // Brightness first: mean gray of the brightened, clamped image, then blend.
    float[] bright = {0.3f, 0.6f, 0.9f, 1f, 0.15f, 0.75f, 0.45f, 1f, 0f, 0.375f, 0.75f, 1f};
    double sum = 0;
    for (int i = 0; i < 4; i++) {
      sum += 0.299 * bright[i] + 0.587 * bright[4 + i] + 0.114 * bright[8 + i];
    }
    float mean = (float) (sum / 4);
    assertThat(brightnessFirst[0]).isCloseTo(0.5f * 0.3f + 0.5f * mean, within(1e-6f));
    // Contrast first: 0.5 * 0.2 + 0.5 * 0.463525, then times 1.5.
    assertThat(contrastFirst[0]).isCloseTo(1.5f * 0.3317625f, within(1e-6f));
  }

  @Test
  void renderBatchConcatenatesSingleRenders() {
    RgbImage a = randomImage(9, 7, 4);
    RgbImage b = randomImage(5, 8, 5);
    ViewParams va = new ViewParams(1, 0, 6, 6, true, 1.2f, 0.8f, 1.1f, new int[] {2, 0, 1});
    ViewParams vb = ViewParams.fullImage(5, 8);
    float[] batch = ViewRenderer.renderBatch(List.of(a, b), List.of(va, vb), 4);
    float[] expected = new float[2 * 48];
    System.arraycopy(ViewRenderer.render(a, va, 4), 0, expected, 0, 48);
    System.arraycopy(ViewRenderer.render(b, vb, 4), 0, expected, 48, 48);
    assertThat(batch).containsExactly(expected);
    for (float v : batch) {
      assertThat(v).isBetween(0f, 1f);
    }
  }

  @Test
  void rejectsACropOutsideTheImageAndMismatchedBatches() {
    RgbImage src = randomImage(4, 4, 6);
    assertThatThrownBy(() -> ViewRenderer.render(src, crop(2, 0, 3, 4), 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Crop box (x=2, y=0, width=3, height=4) must lie inside the 4 x 4 image");
    assertThatThrownBy(() -> ViewRenderer.render(src, crop(0, 0, 4, 4), 0))
        .hasMessage("View size must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> ViewRenderer.renderBatch(List.of(src), List.of(), 4))
        .hasMessage("Number of views must equal the number of images (1), cannot be: 0");
  }
}
