package org.dtmspark.core.precision;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.util.Locale;

/**
 * The arithmetic of a training step's forward and backward: {@code fp32} everywhere, or {@code
 * fp16} mixed precision, where libtorch's autocast runs matrix products and convolutions in fp16
 * with a dynamic loss scale ({@link LossScaler}) and everything autocast keeps in fp32 in fp32.
 * Master weights, gradients and optimizer state are fp32 in every mode.
 *
 * <p>No {@code bf16}: libtorch computes in it, but DJL 0.36's PyTorch engine does not know the type
 * (a bf16 tensor reports {@code unknown} and cannot be read or converted through DJL), so a run
 * could not check or log what it computes.
 */
public enum Precision {
  FP32(null, 0),
  FP16(DataType.FLOAT16, 5);

  /** The configuration value that picks fp16 on a GPU and fp32 on a CPU. */
  public static final String AUTO = "auto";

  private final DataType computeType;
  private final int scalarType;

  Precision(DataType computeType, int scalarType) {
    this.computeType = computeType;
    this.scalarType = scalarType;
  }

  /**
   * Parses a configuration value: {@code auto}, {@code fp32} or {@code fp16}.
   *
   * @param key the configuration key, for the message
   * @param device the device the run trains on, which resolves {@code auto}
   * @throws IllegalArgumentException naming the key, the value and the accepted values
   */
  public static Precision parse(String key, String value, Device device) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals(AUTO)) {
      return device.isGpu() ? FP16 : FP32;
    }
    for (Precision p : values()) {
      if (p.configName().equals(v)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        key + " must be one of auto, fp32, fp16, cannot be: " + value);
  }

  /** The configuration value of this mode: {@code fp32} or {@code fp16}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** True for fp16: the forward runs under autocast. */
  public boolean mixed() {
    return computeType != null;
  }

  /** True for fp16: gradients need a dynamic loss scale to stay above fp16's underflow. */
  public boolean needsLossScale() {
    return this == FP16;
  }

  /** The reduced type of autocast's matrix products; null for fp32. */
  public DataType computeType() {
    return computeType;
  }

  /** c10::ScalarType of the compute type, as the autocast shim takes it. */
  int scalarType() {
    return scalarType;
  }
}
