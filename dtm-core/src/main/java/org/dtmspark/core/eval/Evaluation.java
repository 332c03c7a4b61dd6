package org.dtmspark.core.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.data.ViewRenderer;
import org.dtmspark.core.nn.VisionTransformer;

/**
 * Classification accuracy of a ViT classifier, with timm's evaluation transform: the shorter side
 * resized to {@code floor(imageSize / cropRatio)} (bicubic), then the centre {@code imageSize}
 * square (see {@link #centerCropView}).
 */
public final class Evaluation {
  private Evaluation() {}

  /**
   * The view timm's evaluation transform sees ({@code Resize(floor(size / cropRatio))}, {@code
   * CenterCrop(size)}), as a crop box in source pixels rendered straight to {@code size}: a square
   * of side {@code round(min(width, height) * size / floor(size / cropRatio))}, centred (offsets
   * rounded down). Resizing the box instead of the whole image differs from timm only by the
   * sub-pixel rounding of the box to whole source pixels.
   *
   * @param cropRatio timm's {@code crop_pct}, in (0, 1]; 1 keeps the central square of the shorter
   *     side
   */
  public static ViewParams centerCropView(int width, int height, int size, double cropRatio) {
    if (!(cropRatio > 0 && cropRatio <= 1)) {
      throw new IllegalArgumentException(
          "Evaluation crop ratio must be in (0, 1], cannot be: " + cropRatio);
    }
    int scaleSize = (int) Math.floor(size / cropRatio);
    int shorter = Math.min(width, height);
    int side =
        (int) Math.max(1, Math.min(shorter, Math.round((double) shorter * size / scaleSize)));
    return new ViewParams(
        (width - side) / 2,
        (height - side) / 2,
        side,
        side,
        false,
        1f,
        1f,
        1f,
        new int[] {0, 1, 2});
  }

  /**
   * Top-1 accuracy in [0, 1] of {@code model} (which must have a classifier head), on views from
   * {@link #centerCropView}.
   *
   * @param cropRatio timm's {@code crop_pct} (0.875: resize to 256, crop 224)
   */
  public static double top1(
      VisionTransformer model,
      ImageDataset data,
      int batchSize,
      ImageNormalization norm,
      double cropRatio) {
    int size = model.config().imageSize();
    NDManager parent = model.parameters().manager().getParentManager();
    long correct = 0;
    for (int start = 0; start < data.size(); start += batchSize) {
      int b = Math.min(batchSize, data.size() - start);
      List<RgbImage> images = new ArrayList<>(b);
      List<ViewParams> views = new ArrayList<>(b);
      int[] labels = new int[b];
      for (int i = 0; i < b; i++) {
        RgbImage image = data.image(start + i);
        images.add(image);
        views.add(centerCropView(image.width(), image.height(), size, cropRatio));
        labels[i] = data.label(start + i);
      }
      float[] pixels = ViewRenderer.renderBatch(images, views, size);
      try (NDScope scope = new NDScope();
          NDManager m = parent.newSubManager()) {
        scope.suppressNotUsedWarning();
        NDArray x = norm.apply(m.create(pixels, new Shape(b, 3, size, size)));
        NDArray pred = model.classify(model.forwardFeatures(x, null, false, null)).argMax(1);
        long[] p = pred.toLongArray();
        for (int i = 0; i < b; i++) {
          if (p[i] == labels[i]) {
            correct++;
          }
        }
      }
    }
    return correct / (double) data.size();
  }
}
