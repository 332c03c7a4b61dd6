package org.dtmspark.core.eval;

/**
 * Frozen features of a dataset.
 *
 * @param count number of images, n
 * @param dim feature dimension, D
 * @param values row-major {@code [n, D]}
 * @param labels {@code [n]}
 * @param numClasses number of classes
 */
public record Features(int count, int dim, float[] values, int[] labels, int numClasses) {
  public Features {
    if (values.length != (long) count * dim || labels.length != count) {
      throw new IllegalArgumentException(
          "Features of "
              + count
              + " x "
              + dim
              + " need "
              + (long) count * dim
              + " values and "
              + count
              + " labels, got "
              + values.length
              + " and "
              + labels.length);
    }
  }
}
