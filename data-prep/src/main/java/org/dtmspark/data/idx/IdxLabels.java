package org.dtmspark.data.idx;

import java.util.Arrays;

/**
 * Labels of an MNIST-family idx file: unsigned bytes, {@code [count]}.
 *
 * <p>The record takes ownership of {@code labels} without copying it.
 *
 * @param labels one unsigned byte per image
 */
public record IdxLabels(byte[] labels) {

  public IdxLabels {
    if (labels == null) {
      throw new IllegalArgumentException("Labels must not be null");
    }
  }

  /** Creates labels from values in {@code [0, 255]}. */
  public static IdxLabels of(int... values) {
    byte[] bytes = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] > 255) {
        throw new IllegalArgumentException(
            "Label must be in [0, 255], cannot be: " + values[i] + " (index " + i + ")");
      }
      bytes[i] = (byte) values[i];
    }
    return new IdxLabels(bytes);
  }

  /** Number of labels. */
  public int count() {
    return labels.length;
  }

  /** The unsigned label (0..255) at {@code index}. */
  public int label(int index) {
    return labels[index] & 0xff;
  }

  /** All labels as unsigned ints. */
  public int[] toIntArray() {
    int[] out = new int[labels.length];
    for (int i = 0; i < labels.length; i++) {
      out[i] = labels[i] & 0xff;
    }
    return out;
  }

  /** The labels at {@code indices}, in that order (repetitions allowed). */
  public IdxLabels select(int[] indices) {
    byte[] out = new byte[indices.length];
    for (int i = 0; i < indices.length; i++) {
      out[i] = labels[indices[i]];
    }
    return new IdxLabels(out);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IdxLabels l && Arrays.equals(labels, l.labels);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(labels);
  }

  @Override
  public String toString() {
    return "IdxLabels[count=" + labels.length + "]";
  }
}
