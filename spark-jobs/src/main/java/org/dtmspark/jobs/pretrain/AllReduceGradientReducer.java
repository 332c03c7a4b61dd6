package org.dtmspark.jobs.pretrain;

import ai.djl.ndarray.NDArray;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dtmspark.core.nn.Tensors;
import org.dtmspark.core.train.GradientReducer;
import org.dtmspark.sync.AllReduce;

/**
 * Averages gradients over the ranks through an {@link AllReduce}: every gradient is copied to one
 * host buffer in the (name-checked, identical on every rank) parameter order, with the loss as its
 * last element; the buffer is summed across the ranks, divided by the number of ranks, and copied
 * back to the device as new arrays (closed with the step's scope).
 *
 * <p>Memory: one host buffer of all gradients, reused across steps (ViT-B: 344 MB).
 */
final class AllReduceGradientReducer implements GradientReducer {
  private final AllReduce allReduce;
  private float[] buffer = new float[0];

  AllReduceGradientReducer(AllReduce allReduce) {
    this.allReduce = allReduce;
  }

  @Override
  public Reduced reduce(Map<String, NDArray> gradients, double loss) {
    long total = 1;
    for (NDArray g : gradients.values()) {
      total += g.size();
    }
    if (buffer.length != total) {
      buffer = new float[Math.toIntExact(total)];
    }
    int offset = 0;
    for (NDArray g : gradients.values()) {
      FloatBuffer data = g.toByteBuffer().asFloatBuffer();
      int n = data.remaining();
      data.get(buffer, offset, n);
      offset += n;
    }
    buffer[offset] = (float) loss;
    allReduce.sumInPlace(buffer);
    float scale = 1f / allReduce.worldSize();
    for (int i = 0; i < buffer.length; i++) {
      buffer[i] *= scale;
    }
    Map<String, NDArray> averaged = new LinkedHashMap<>();
    offset = 0;
    for (Map.Entry<String, NDArray> e : gradients.entrySet()) {
      NDArray g = e.getValue();
      int n = Math.toIntExact(g.size());
      float[] part = new float[n];
      System.arraycopy(buffer, offset, part, 0, n);
      averaged.put(e.getKey(), Tensors.fromHost(g.getManager(), part, g.getShape()));
      offset += n;
    }
    return new Reduced(averaged, buffer[offset]);
  }
}
