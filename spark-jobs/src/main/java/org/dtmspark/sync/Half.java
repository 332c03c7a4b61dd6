package org.dtmspark.sync;

/**
 * IEEE 754 binary16 conversions (Java 17 has none): round to nearest, ties to even; overflow to
 * infinity; subnormals kept; NaN stays NaN with its upper payload bits.
 */
final class Half {
  private static final float[] TO_FLOAT = new float[1 << 16];

  static {
    for (int h = 0; h < TO_FLOAT.length; h++) {
      TO_FLOAT[h] = decode(h);
    }
  }

  private Half() {}

  /** The half nearest to {@code f} (ties to even), as its 16 bits. */
  static short fromFloat(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int magnitude = bits & 0x7FFFFFFF;
    if (magnitude >= 0x38800000 && magnitude < 0x47800000) {
      // Normal halves (2^-14 <= |f| < 2^16): rebias the exponent by 112 and round the 13 dropped
      // bits to nearest even by adding 0xFFF plus the lowest kept bit; a carry reaches the exponent
      // and, from 65520 up, infinity.
      int rounded = magnitude + 0xFFF + ((magnitude >>> 13) & 1);
      return (short) (sign | ((rounded - 0x38000000) >>> 13));
    }
    int exponent = (bits >>> 23) & 0xFF;
    int mantissa = bits & 0x7FFFFF;
    if (exponent == 0xFF) {
      if (mantissa == 0) {
        return (short) (sign | 0x7C00);
      }
      int payload = mantissa >>> 13;
      return (short) (sign | 0x7C00 | (payload == 0 ? 0x200 : payload));
    }
    int e = exponent - 127 + 15;
    if (e >= 0x1F) {
      return (short) (sign | 0x7C00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      // A half subnormal counts units of 2^-24: shift the 24-bit significand right by 14 - e.
      int significand = mantissa | 0x800000;
      int shift = 14 - e;
      int units = significand >>> shift;
      int rest = significand & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rest > halfway || (rest == halfway && (units & 1) == 1)) {
        units++;
      }
      return (short) (sign | units);
    }
    int half = sign | (e << 10) | (mantissa >>> 13);
    int rest = mantissa & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
      half++; // a carry out of the mantissa increments the exponent, up to infinity
    }
    return (short) half;
  }

  /** The float of the half with these 16 bits (exact). */
  static float toFloat(short half) {
    return TO_FLOAT[half & 0xFFFF];
  }

  private static float decode(int bits) {
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1F;
    int mantissa = bits & 0x3FF;
    if (exponent == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float value = mantissa * 0x1p-24f;
      return sign == 0 ? value : -value;
    }
    return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
  }
}
