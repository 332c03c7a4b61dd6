package org.dtmspark.core.train;

import java.util.SplittableRandom;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.RgbImage;

/**
 * A deterministic in-memory dataset for machinery tests: class {@code c} images are noise around a
 * class-specific brightness pattern, so a model can learn something from them.
 */
final class SyntheticImages implements ImageDataset {
  private final RgbImage[] images;
  private final int[] labels;
  private final int classes;

  SyntheticImages(int count, int size, int classes, long seed) {
    this.images = new RgbImage[count];
    this.labels = new int[count];
    this.classes = classes;
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = 0; i < count; i++) {
      int label = i % classes;
      float[] px = new float[3 * size * size];
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < size; y++) {
          for (int x = 0; x < size; x++) {
            float base = ((x * (label + 1) / (float) size) + (c == label % 3 ? 0.3f : 0f)) % 1f;
            px[(c * size + y) * size + x] =
                Math.min(1f, Math.max(0f, base + (float) (rng.nextGaussian() * 0.05)));
          }
        }
      }
      images[i] = new RgbImage(size, size, px);
      labels[i] = label;
    }
  }

  @Override
  public String id() {
    return "synthetic";
  }

  @Override
  public int size() {
    return images.length;
  }

  @Override
  public int numClasses() {
    return classes;
  }

  @Override
  public int label(int index) {
    return labels[index];
  }

  @Override
  public RgbImage image(int index) {
    return images[index];
  }
}
