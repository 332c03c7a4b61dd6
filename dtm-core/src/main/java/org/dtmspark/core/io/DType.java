package org.dtmspark.core.io;

import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.Locale;

/**
 * Element types of saved tensors, with their size in bytes and their safetensors name. All
 * multi-byte types are stored little-endian.
 */
public enum DType {
  /** IEEE 754 binary32. */
  F32(4, "F32", DataType.FLOAT32),
  /** IEEE 754 binary16 (half precision). */
  F16(2, "F16", DataType.FLOAT16),
  /** bfloat16: the upper 16 bits of a binary32. */
  BF16(2, "BF16", DataType.BFLOAT16),
  /** IEEE 754 binary64. */
  F64(8, "F64", DataType.FLOAT64),
  /** Signed 64-bit integer. */
  I64(8, "I64", DataType.INT64),
  /** Signed 32-bit integer. */
  I32(4, "I32", DataType.INT32),
  /** Unsigned 8-bit integer. */
  U8(1, "U8", DataType.UINT8),
  /** Boolean, one byte per element, 0 or 1. */
  BOOL(1, "BOOL", DataType.BOOLEAN);

  private final int byteSize;
  private final String safetensorsName;
  private final DataType djlType;

  DType(int byteSize, String safetensorsName, DataType djlType) {
    this.byteSize = byteSize;
    this.safetensorsName = safetensorsName;
    this.djlType = djlType;
  }

  /** Number of bytes of one element. */
  public int byteSize() {
    return byteSize;
  }

  /** The name used in a safetensors header, e.g. {@code "F32"}. */
  public String safetensorsName() {
    return safetensorsName;
  }

  /** The matching DJL data type. */
  public DataType toDjl() {
    return djlType;
  }

  /** Whether this is a floating-point type (F32, F16, BF16, F64). */
  public boolean isFloating() {
    return this == F32 || this == F16 || this == BF16 || this == F64;
  }

  /**
   * The type with safetensors name {@code name}.
   *
   * @throws IllegalArgumentException naming {@code name} when it is not one of the supported types
   */
  public static DType fromSafetensorsName(String name) {
    for (DType t : values()) {
      if (t.safetensorsName.equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "Unsupported tensor dtype, must be one of "
            + Arrays.toString(values())
            + ", cannot be: "
            + name);
  }

  /**
   * The type matching the DJL data type {@code type}.
   *
   * @throws IllegalArgumentException naming {@code type} when it has no counterpart here
   */
  public static DType fromDjl(DataType type) {
    for (DType t : values()) {
      if (t.djlType == type) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "Unsupported DJL data type for saving, cannot be: "
            + String.valueOf(type).toLowerCase(Locale.ROOT));
  }
}
