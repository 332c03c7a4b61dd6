package org.dtmspark.core.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.dtmspark.core.data.ByteViewRenderer;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.data.ImageSource;
import org.dtmspark.core.data.LoaderPool;
import org.dtmspark.core.data.ViewChoice;
import org.dtmspark.core.metrics.ProgressMeter;
import org.dtmspark.core.nn.Tensors;
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
   * model's resolution by a {@link LoaderPool} (this JVM's CPUs less libtorch's intra-op threads).
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
    try (LoaderPool pool = new LoaderPool(LoaderPool.defaultThreadsForThisJvm(), data.decoders())) {
      byte[] pixels = new byte[Math.multiplyExact(batchSize, ByteViewRenderer.sampleBytes(size))];
      for (int start = 0; start < n; start += batchSize) {
        int b = Math.min(batchSize, n - start);
        List<ImageSource> images = new ArrayList<>(b);
        List<ViewChoice> views = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
          images.add(data.source(start + i));
          views.add(ViewChoice.fullImage());
          labels[start + i] = data.label(start + i);
        }
        // [b, 3, size, size] unsigned bytes, uploaded as bytes and normalised on the device.
        pool.renderChoosing(images, views, size, pixels);
        try (NDScope scope = new NDScope();
            NDManager m = parent.newSubManager()) {
          scope.suppressNotUsedWarning();
          byte[] batch = b == batchSize ? pixels : Arrays.copyOf(pixels, b * 3 * size * size);
          NDArray x = norm.apply(Tensors.pixelsFromHost(m, batch, new Shape(b, 3, size, size)));
          NDArray tokens = model.normalizedTokens(model.forwardFeatures(x, null, false, null));
          NDArray pooled = tokens.get(new NDIndex(":, 1:, :")).mean(new int[] {1});
          System.arraycopy(pooled.toFloatArray(), 0, out, start * dim, b * dim);
        }
        progress.update(start + b, Map.of());
      }
    }
    progress.finish();
    return new Features(n, dim, out, labels, data.numClasses());
  }
}
