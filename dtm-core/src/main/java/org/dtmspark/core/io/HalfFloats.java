package org.dtmspark.core.io;

/**
 * Conversions between {@code float} and the two 16-bit floating-point formats, IEEE 754 binary16
 * ("half", F16) and bfloat16 (BF16), each held in the low 16 bits of a {@code short}.
 *
 * <p>Narrowing rounds to the nearest representable value, ties to even; values beyond the largest
 * finite value become infinity; NaN stays NaN (quiet) with its sign. Widening is exact.
 */
public final class HalfFloats {
  private HalfFloats() {}

  /** Widens a binary16 value to float, exactly (subnormals, signed zeros, infinities, NaN). */
  public static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      // Zero or subnormal: mant * 2^-24, exact in float.
      float magnitude = mant * 0x1p-24f;
      return sign != 0 ? -magnitude : magnitude;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** Narrows a float to binary16, rounding to nearest, ties to even. */
  public static short floatToHalf(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;
    if (exp == 0xff) {
      if (mant == 0) {
        return (short) (sign | 0x7c00);
      }
      // NaN: keep the top payload bits and force the quiet bit so it never becomes infinity.
      return (short) (sign | 0x7e00 | (mant >>> 13));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (e <= 0) {
      if (e < -10) {
        // Below half of the smallest subnormal (2^-25): rounds to a signed zero.
        return (short) sign;
      }
      int full = mant | 0x800000;
      int shift = 14 - e;
      int halfMant = full >>> shift;
      int rest = full & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rest > halfway || (rest == halfway && (halfMant & 1) != 0)) {
        halfMant++; // may carry into the exponent: the smallest normal, which is right
      }
      return (short) (sign | halfMant);
    }
    int halfMant = mant >>> 13;
    int rest = mant & 0x1fff;
    int h = sign | (e << 10) | halfMant;
    if (rest > 0x1000 || (rest == 0x1000 && (halfMant & 1) != 0)) {
      h++; // a carry out of the mantissa bumps the exponent, up to infinity: right
    }
    return (short) h;
  }

  /** Widens a bfloat16 value to float, exactly. */
  public static float bfloat16ToFloat(short bf16) {
    return Float.intBitsToFloat((bf16 & 0xffff) << 16);
  }

  /** Narrows a float to bfloat16, rounding to nearest, ties to even. */
  public static short floatToBfloat16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if ((bits & 0x7f800000) == 0x7f800000 && (bits & 0x7fffff) != 0) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7fff + lsb) >>> 16);
  }
}
