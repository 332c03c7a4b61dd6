package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ByteViewRendererTest {
  /** Half a quantisation step plus float rounding, in 0..255 units. */
  private static final double TOLERANCE = 0.5 + 1e-3;

  private static RgbImage randomEightBitImage(int w, int h, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] px = new float[3 * w * h];
    for (int i = 0; i < px.length; i++) {
      px[i] = rng.nextInt(256) / 255f;
    }
    return new RgbImage(w, h, px);
  }

  /** Largest {@code |out - 255 * reference|} over the view. */
  private static double maxDifference(byte[] out, float[] reference) {
    double max = 0;
    for (int i = 0; i < reference.length; i++) {
      max = Math.max(max, Math.abs((out[i] & 0xFF) - 255.0 * reference[i]));
    }
    return max;
  }

  @Test
  void floatRendererIsWithinHalfAStepOfTheDoubleRenderer() {
    ByteViewRenderer renderer = new ByteViewRenderer();
    double worst = 0;
    int views = 0;
    for (int size : new int[] {1, 7, 32, 96}) {
      ViewSampler sampler = new ViewSampler(AugmentConfig.defaultPretrain(size));
      for (int i = 0; i < 25; i++) {
        RgbImage image = randomEightBitImage(40 + 13 * i, 30 + 9 * i, i);
        ViewParams view =
            sampler.sample(image.width(), image.height(), new SplittableRandom(size * 100L + i));
        byte[] out = new byte[3 * size * size];
        renderer.render(image, view, size, out, 0);
        worst = Math.max(worst, maxDifference(out, ViewRenderer.render(image, view, size)));
        views++;
      }
    }
    assertThat(views).isEqualTo(100);
    assertThat(worst).isLessThanOrEqualTo(TOLERANCE);
  }

  @Test
  void photoAt224IsWithinHalfAStepOfTheDoubleRendererFromAByteRaster() {
    BufferedImage photo = SyntheticPhotos.image(500, 375, 5);
    ByteRaster raster = ImageIoRasterDecoder.toByteRaster(photo);
    RgbImage reference = RgbImage.fromBufferedImage(photo);
    ViewSampler sampler = new ViewSampler(AugmentConfig.defaultPretrain(224));
    ByteViewRenderer renderer = new ByteViewRenderer();
    byte[] out = new byte[3 * 224 * 224];
    for (int i = 0; i < 6; i++) {
      ViewParams view = sampler.sample(500, 375, new SplittableRandom(i));
      renderer.render(raster, view, 224, out, 0);
      assertThat(maxDifference(out, ViewRenderer.render(reference, view, 224)))
          .as("view %s", view)
          .isLessThanOrEqualTo(TOLERANCE);
    }
  }

  @Test
  void grayRasterRendersAsItsReplicatedFloatImage() {
    SplittableRandom rng = new SplittableRandom(3);
    byte[] gray = new byte[20 * 15];
    for (int i = 0; i < gray.length; i++) {
      gray[i] = (byte) rng.nextInt(256);
    }
    ByteRaster raster = new ByteRaster(20, 15, ByteRaster.Layout.GRAY, gray);
    ViewParams view = new ViewParams(3, 2, 14, 11, true, 1.2f, 0.8f, 1.3f, new int[] {2, 0, 1});
    byte[] fromRaster = new byte[3 * 9 * 9];
    byte[] fromFloats = new byte[3 * 9 * 9];
    ByteViewRenderer renderer = new ByteViewRenderer();
    renderer.render(raster, view, 9, fromRaster, 0);
    renderer.render(raster.toRgbImage(), view, 9, fromFloats, 0);
    assertThat(fromRaster).isEqualTo(fromFloats);
    assertThat(raster.toRgbImage().get(2, 4, 5)).isEqualTo((gray[4 * 20 + 5] & 0xFF) / 255f);
  }

  @Test
  void flipMirrorsTheRows() {
    RgbImage image = randomEightBitImage(30, 20, 9);
    ViewParams plain = new ViewParams(2, 3, 20, 15, false, 1f, 1f, 1f, new int[] {0, 1, 2});
    ViewParams flipped = new ViewParams(2, 3, 20, 15, true, 1f, 1f, 1f, new int[] {0, 1, 2});
    int s = 8;
    byte[] a = new byte[3 * s * s];
    byte[] b = new byte[3 * s * s];
    ByteViewRenderer renderer = new ByteViewRenderer();
    renderer.render(image, plain, s, a, 0);
    renderer.render(image, flipped, s, b, 0);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < s; y++) {
        for (int x = 0; x < s; x++) {
          assertThat(b[(c * s + y) * s + x]).isEqualTo(a[(c * s + y) * s + (s - 1 - x)]);
        }
      }
    }
  }

  @Test
  void outputMustHoldTheViewAtTheOffset() {
    RgbImage image = randomEightBitImage(10, 10, 1);
    assertThatThrownBy(
            () ->
                new ByteViewRenderer()
                    .render(image, ViewParams.fullImage(10, 10), 4, new byte[50], 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Output of 50 bytes must hold 48 bytes at offset 10 for a 4 x 4 view");
    assertThatThrownBy(() -> ByteViewRenderer.sampleBytes(0))
        .hasMessage("View size must be at least 1, cannot be: 0");
  }
}
