package org.dtmspark.jobs.pretrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.nn.Tensors;
import org.dtmspark.core.train.GradientReducer;
import org.dtmspark.sync.AllReduce;

/**
 * Averages gradients over the ranks through an {@link AllReduce}. Parameters are matched by name:
 * {@link #prepare} exchanges every rank's sorted parameter names and shapes and fails, naming the
 * ranks and the first parameter that differs, unless all ranks agree; every step then copies the
 * gradients in sorted-name order, with the loss as the last element, into one host buffer, which
 * the ranks sum; each rank divides by the number of ranks and copies the means back to the device
 * as new arrays (closed with the step's scope). The time reported is the whole exchange:
 * device-to-host copies, the all-reduce, and host-to-device copies.
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
  public void prepare(Map<String, Shape> parameters) {
    List<String> mine = describe(parameters);
    List<byte[]> all =
        allReduce.allGather(String.join("\n", mine).getBytes(StandardCharsets.UTF_8));
    for (int rank = 0; rank < all.size(); rank++) {
      String text = new String(all.get(rank), StandardCharsets.UTF_8);
      List<String> theirs = text.isEmpty() ? List.of() : List.of(text.split("\n", -1));
      if (!theirs.equals(mine)) {
        throw new ConfigError(firstDifference(allReduce.rank(), mine, rank, theirs));
      }
    }
  }

  /** {@code name [d0, d1, ...]} of every parameter, sorted by name. */
  private static List<String> describe(Map<String, Shape> parameters) {
    List<String> out = new ArrayList<>();
    new TreeMap<>(parameters).forEach((name, shape) -> out.add(name + " " + shape));
    return out;
  }

  private static String firstDifference(int me, List<String> mine, int other, List<String> theirs) {
    int n = Math.min(mine.size(), theirs.size());
    for (int i = 0; i < n; i++) {
      if (!mine.get(i).equals(theirs.get(i))) {
        return "Rank "
            + other
            + " trains parameter "
            + theirs.get(i)
            + " where rank "
            + me
            + " has "
            + mine.get(i)
            + ": every rank must train the same parameters (model config and code)";
      }
    }
    return "Rank "
        + other
        + " has "
        + theirs.size()
        + " parameters but rank "
        + me
        + " has "
        + mine.size()
        + ": every rank must train the same parameters (model config and code)";
  }

  @Override
  public Reduced reduce(NDArray flatGradients, double loss) {
    long started = System.nanoTime();
    long total = flatGradients.size() + 1;
    if (buffer.length != total) {
      buffer = new float[Math.toIntExact(total)];
    }
    FloatBuffer data = flatGradients.toByteBuffer().asFloatBuffer();
    int n = data.remaining();
    data.get(buffer, 0, n);
    buffer[n] = (float) loss;
    allReduce.sumInPlace(buffer);
    float scale = 1f / allReduce.worldSize();
    for (int i = 0; i < buffer.length; i++) {
      buffer[i] *= scale;
    }
    float[] mean = new float[n];
    System.arraycopy(buffer, 0, mean, 0, n);
    try (NDArray averaged =
        Tensors.fromHost(flatGradients.getManager(), mean, flatGradients.getShape())) {
      flatGradients.set(new NDIndex(":"), averaged); // in place
    }
    return new Reduced(buffer[n], (System.nanoTime() - started) / 1e9);
  }
}
