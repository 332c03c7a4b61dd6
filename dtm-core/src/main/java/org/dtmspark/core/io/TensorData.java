package org.dtmspark.core.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import org.dtmspark.core.nn.Tensors;

/**
 * A tensor as it is stored on disk: element type, shape (row-major, C order) and the raw
 * little-endian bytes of its elements.
 *
 * <p>The shape is copied; the data array is not (tensors are large) and belongs to this record from
 * construction on: callers must not modify it afterwards.
 *
 * @param dtype element type
 * @param shape dimensions, each at least 0; an empty shape is a scalar with one element
 * @param data {@code numel * dtype.byteSize()} bytes, little-endian, row-major
 */
public record TensorData(DType dtype, long[] shape, byte[] data) {

  public TensorData {
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(data, "data");
    shape = shape.clone();
    long expected = Math.multiplyExact(numel(shape), (long) dtype.byteSize());
    if (data.length != expected) {
      throw new IllegalArgumentException(
          "Tensor data length must equal numel * "
              + dtype.byteSize()
              + " = "
              + expected
              + " for dtype "
              + dtype
              + " and shape "
              + Arrays.toString(shape)
              + ", cannot be: "
              + data.length);
    }
  }

  /** Wraps float values as an F32 tensor of the given shape. */
  public static TensorData ofFloats(long[] shape, float[] values) {
    ByteBuffer buf = ByteBuffer.allocate(Math.multiplyExact(values.length, 4));
    buf.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
    return new TensorData(DType.F32, shape, buf.array());
  }

  /** Encodes float values as an F16 tensor, rounding each to nearest, ties to even. */
  public static TensorData ofFloatsAsHalf(long[] shape, float[] values) {
    ByteBuffer buf = ByteBuffer.allocate(Math.multiplyExact(values.length, 2));
    buf.order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      buf.putShort(HalfFloats.floatToHalf(v));
    }
    return new TensorData(DType.F16, shape, buf.array());
  }

  /**
   * Copies an NDArray's values to host memory.
   *
   * @throws IllegalArgumentException when the array's data type has no {@link DType}
   */
  public static TensorData fromNDArray(NDArray array) {
    DType dtype = DType.fromDjl(array.getDataType());
    ByteBuffer buf = array.toByteBuffer();
    byte[] bytes = new byte[buf.remaining()];
    buf.duplicate().get(bytes);
    if (buf.order() == ByteOrder.BIG_ENDIAN) {
      reverseEachElement(bytes, dtype.byteSize());
    }
    return new TensorData(dtype, array.getShape().getShape(), bytes);
  }

  /** Number of elements of {@code shape} (1 for a scalar); fails on a negative dimension. */
  public static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "Tensor dimensions must be at least 0, cannot be: " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** Number of elements. */
  public long numel() {
    return numel(shape);
  }

  /** A copy of the shape. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /**
   * Creates an NDArray with these values in {@code manager}. F16 and every other type map to the
   * same DJL type; BF16 is widened to FLOAT32 exactly (not every engine build holds bfloat16).
   *
   * @return an array of the same shape, owned by {@code manager}
   */
  public NDArray toNDArray(NDManager manager) {
    Shape djlShape = new Shape(shape);
    if (dtype == DType.BF16) {
      return Tensors.fromHost(manager, toFloatArray(), djlShape);
    }
    byte[] bytes = data;
    if (ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN) {
      bytes = data.clone();
      reverseEachElement(bytes, dtype.byteSize());
    }
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.nativeOrder());
    direct.put(bytes);
    direct.rewind();
    // Copied into PyTorch-owned memory: see Tensors for why a from_blob tensor is not kept.
    try (NDArray staged = manager.create(direct, djlShape, dtype.toDjl())) {
      return staged.duplicate();
    }
  }

  /**
   * The values as floats, in row-major order: F32 as is, F16 and BF16 widened exactly, F64 rounded
   * to nearest float.
   *
   * @throws IllegalStateException for integer and boolean tensors
   */
  public float[] toFloatArray() {
    int n = Math.toIntExact(numel());
    ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[n];
    switch (dtype) {
      case F32 -> buf.asFloatBuffer().get(out);
      case F16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = HalfFloats.halfToFloat(buf.getShort(2 * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = HalfFloats.bfloat16ToFloat(buf.getShort(2 * i));
        }
      }
      case F64 -> {
        for (int i = 0; i < n; i++) {
          out[i] = (float) buf.getDouble(8 * i);
        }
      }
      default ->
          throw new IllegalStateException(
              "Only floating-point tensors convert to float[], cannot be: " + dtype);
    }
    return out;
  }

  private static void reverseEachElement(byte[] bytes, int size) {
    for (int start = 0; start < bytes.length; start += size) {
      for (int i = 0, j = size - 1; i < j; i++, j--) {
        byte t = bytes[start + i];
        bytes[start + i] = bytes[start + j];
        bytes[start + j] = t;
      }
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorData t
        && dtype == t.dtype
        && Arrays.equals(shape, t.shape)
        && Arrays.equals(data, t.data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(dtype, Arrays.hashCode(shape), Arrays.hashCode(data));
  }

  @Override
  public String toString() {
    return "TensorData[" + dtype + " " + Arrays.toString(shape) + ", " + data.length + " bytes]";
  }
}
