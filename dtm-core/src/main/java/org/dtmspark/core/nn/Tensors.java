package org.dtmspark.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Tensors whose memory PyTorch owns.
 *
 * <p>On the CPU, DJL's {@code NDManager.create(float[] ...)} wraps a Java direct buffer with {@code
 * torch::from_blob}: the tensor does not own its memory, only the Java {@code NDArray} keeps the
 * buffer alive. DJL's scalar arithmetic ({@code x.div(2f)}, {@code x.mul(s)}, {@code
 * x.maximum(eps)}) creates such a scalar and closes it at once. When autograd saved that scalar for
 * the backward pass (division, multiplication and maximum all do), the backward pass reads memory
 * the JVM has freed and possibly reused: rare, garbage-collection-timed infinities in the
 * gradients.
 *
 * <p>Rule for this code base: in anything that can be differentiated, scalars come from {@link
 * #scalar} and host data from {@link #fromHost}; both are allocated by PyTorch and
 * reference-counted by autograd like any other tensor.
 */
public final class Tensors {
  private Tensors() {}

  /** A 0-d float32 tensor holding {@code value}, allocated by PyTorch. */
  public static NDArray scalar(NDManager manager, double value) {
    return manager.full(new Shape(), (float) value, DataType.FLOAT32);
  }

  /** Copies {@code data} into a PyTorch-allocated float32 tensor of {@code shape}. */
  public static NDArray fromHost(NDManager manager, float[] data, Shape shape) {
    try (NDArray staged = manager.create(data, shape)) {
      return staged.duplicate();
    }
  }

  /**
   * Uploads 8-bit pixels ({@code [B, 3, S, S]} unsigned bytes) and turns them into float32 in [0,
   * 1] on the manager's device: one byte per value crosses to the device, not four.
   */
  public static NDArray pixelsFromHost(NDManager manager, byte[] u8, Shape shape) {
    try (NDArray staged = manager.create(java.nio.ByteBuffer.wrap(u8), shape, DataType.UINT8)) {
      return staged.toType(DataType.FLOAT32, true).divi(255f);
    }
  }

  /** Copies {@code data} into a PyTorch-allocated int64 tensor of {@code shape}. */
  public static NDArray fromHost(NDManager manager, long[] data, Shape shape) {
    try (NDArray staged = manager.create(data, shape)) {
      return staged.duplicate();
    }
  }

  /** Copies {@code data} into a PyTorch-allocated int32 tensor of {@code shape}. */
  public static NDArray fromHost(NDManager manager, int[] data, Shape shape) {
    try (NDArray staged = manager.create(data, shape)) {
      return staged.duplicate();
    }
  }
}
