package org.dtmspark.core.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.data.ViewRenderer;
import org.dtmspark.core.metrics.ProgressMeter;
import org.dtmspark.core.nn.VisionTransformer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a frozen encoder over a dataset and keeps one vector per image: the mean of the final patch
 * tokens (CLS excluded), the representation BEiT-style linear probes use.
 */
public final class FeatureExtractor {
  private static final Logger LOG = LoggerFactory.getLogger(FeatureExtractor.class);

  private FeatureExtractor() {}

  /**
   * Extracts features of every image of {@code data}, each rendered whole (no augmentation) at the
   * model's resolution.
   */
  public static Features extract(
      VisionTransformer model, ImageDataset data, int batchSize, ImageNormalization norm) {
    int n = data.size();
    int dim = model.config().embedDim();
    int size = model.config().imageSize();
    float[] out = new float[n * dim];
    int[] labels = new int[n];
    ProgressMeter progress =
        new ProgressMeter("features of " + data.id(), n, LOG, Duration.ofSeconds(10));
    NDManager parent = model.parameters().manager().getParentManager();
    for (int start = 0; start < n; start += batchSize) {
      int b = Math.min(batchSize, n - start);
      List<RgbImage> images = new ArrayList<>(b);
      List<ViewParams> views = new ArrayList<>(b);
      for (int i = 0; i < b; i++) {
        RgbImage image = data.image(start + i);
        images.add(image);
        views.add(ViewParams.fullImage(image.width(), image.height()));
        labels[start + i] = data.label(start + i);
      }
      float[] pixels = ViewRenderer.renderBatch(images, views, size);
      try (NDScope scope = new NDScope();
          NDManager m = parent.newSubManager()) {
        scope.suppressNotUsedWarning();
        NDArray x = norm.apply(m.create(pixels, new Shape(b, 3, size, size)));
        NDArray tokens = model.normalizedTokens(model.forwardFeatures(x, null, false, null));
        NDArray pooled = tokens.get(new NDIndex(":, 1:, :")).mean(new int[] {1});
        System.arraycopy(pooled.toFloatArray(), 0, out, start * dim, b * dim);
      }
      progress.update(start + b, Map.of());
    }
    progress.finish();
    return new Features(n, dim, out, labels, data.numClasses());
  }
}
