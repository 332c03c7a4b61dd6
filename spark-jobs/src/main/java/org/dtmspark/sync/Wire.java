package org.dtmspark.sync;

/** How floats travel between ranks. */
public enum Wire {
  /** IEEE binary32, little-endian: exact. */
  FP32(4),
  /**
   * IEEE binary16 (half), little-endian, rounded to nearest even: half the bytes. Ranks decode what
   * they receive to fp32 and add in fp32, so only the values on the wire are rounded: every partial
   * sum once per hop, and the final sum once before it is shared. Half has little range: magnitudes
   * from 65520 up become infinite, below 2^-14 (6.1e-5) they lose precision and up to 2^-25
   * (3.0e-8) they become zero. Scale gradients into range before summing, as fp16 training does
   * with loss scaling.
   */
  FP16(2);

  private final int bytes;

  Wire(int bytes) {
    this.bytes = bytes;
  }

  /** Bytes per value on the wire. */
  public int bytes() {
    return bytes;
  }

  /** {@code fp32} or {@code fp16}, as the command line writes it. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Parses {@code fp32} or {@code fp16} (any case); the error names the value and the choices. */
  public static Wire parse(String text) {
    for (Wire w : values()) {
      if (w.label().equalsIgnoreCase(text.trim())) {
        return w;
      }
    }
    throw new IllegalArgumentException("Wire format must be fp32 or fp16, cannot be: " + text);
  }
}
