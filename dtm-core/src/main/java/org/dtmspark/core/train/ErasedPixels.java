package org.dtmspark.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.dtmspark.core.data.RandomErasing;
import org.dtmspark.core.nn.Tensors;

/**
 * The pixels random erasing overwrites in one batch, in normalised units: the batch travels to the
 * device as 8-bit and is normalised there, then these values are put in place with one call.
 *
 * @param index erased positions, flat in the batch's {@code [B, 3, S, S]} row-major layout
 * @param values the normalised value of each position
 */
public record ErasedPixels(long[] index, float[] values) {
  /**
   * The erasures of a batch's samples, or null when no sample lost a pixel.
   *
   * @param perSample one erasure per sample, in batch order
   * @param sampleSize values per sample, {@code 3 * S * S}
   */
  public static ErasedPixels of(RandomErasing.Erasure[] perSample, int sampleSize) {
    int total = 0;
    for (RandomErasing.Erasure e : perSample) {
      total += e.offsets().length;
    }
    if (total == 0) {
      return null;
    }
    long[] index = new long[total];
    float[] values = new float[total];
    int k = 0;
    for (int i = 0; i < perSample.length; i++) {
      RandomErasing.Erasure e = perSample[i];
      long base = (long) i * sampleSize;
      for (int j = 0; j < e.offsets().length; j++) {
        index[k] = base + e.offsets()[j];
        values[k++] = e.values()[j];
      }
    }
    return new ErasedPixels(index, values);
  }

  /**
   * {@code normalized} with the erased values put in place (a new array; one upload of the index
   * and the values, one {@code put}).
   *
   * @param normalized {@code [B, 3, S, S]} fp32, after normalisation
   */
  public NDArray applyTo(NDArray normalized) {
    NDManager m = normalized.getManager();
    NDArray at = Tensors.fromHost(m, index, new Shape(index.length)); // [E] int64
    NDArray v = Tensors.fromHost(m, values, new Shape(values.length)); // [E] fp32
    return normalized.put(at, v);
  }
}
