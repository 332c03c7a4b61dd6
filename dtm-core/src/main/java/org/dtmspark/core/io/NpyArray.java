package org.dtmspark.core.io;

import java.util.Arrays;

/**
 * A float array read from or written to a NumPy {@code .npy} file, in row-major (C) order.
 *
 * @param shape dimensions, each at least 0; empty for a scalar
 * @param data the values, {@code numel(shape)} of them, row-major
 */
public record NpyArray(long[] shape, float[] data) {

  public NpyArray {
    shape = shape.clone();
    long numel = TensorData.numel(shape);
    if (numel != data.length) {
      throw new IllegalArgumentException(
          "Array data length must equal the number of elements "
              + numel
              + " of shape "
              + Arrays.toString(shape)
              + ", cannot be: "
              + data.length);
    }
  }

  /** A copy of the shape. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NpyArray a && Arrays.equals(shape, a.shape) && Arrays.equals(data, a.data);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "NpyArray[shape=" + Arrays.toString(shape) + ", " + data.length + " floats]";
  }
}
