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

/** Classification accuracy of a ViT classifier on whole images. */
public final class Evaluation {
  private Evaluation() {}

  /** Top-1 accuracy in [0, 1] of {@code model} (which must have a classifier head). */
  public static double top1(
      VisionTransformer model, ImageDataset data, int batchSize, ImageNormalization norm) {
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
        views.add(ViewParams.fullImage(image.width(), image.height()));
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
