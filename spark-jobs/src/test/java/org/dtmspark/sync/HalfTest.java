package org.dtmspark.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.dtmspark.core.train.Seeds;
import org.junit.jupiter.api.Test;

class HalfTest {
  private static int bits(float f) {
    return Half.fromFloat(f) & 0xFFFF;
  }

  @Test
  void valuesFromTheIeeeDefinitionEncodeToTheirBits() {
    assertThat(bits(1f)).isEqualTo(0x3C00);
    assertThat(bits(-2f)).isEqualTo(0xC000);
    assertThat(bits(0f)).isEqualTo(0x0000);
    assertThat(bits(-0f)).isEqualTo(0x8000);
    assertThat(bits(65504f)).isEqualTo(0x7BFF); // largest finite half
    assertThat(bits(0x1p-14f)).isEqualTo(0x0400); // smallest normal
    assertThat(bits(0x1p-24f)).isEqualTo(0x0001); // smallest subnormal
    assertThat(bits(Float.POSITIVE_INFINITY)).isEqualTo(0x7C00);
    assertThat(bits(Float.NEGATIVE_INFINITY)).isEqualTo(0xFC00);
  }

  @Test
  void roundingIsToNearestWithTiesToEven() {
    assertThat(bits(1f + 0x1p-11f)).as("tie, down to even").isEqualTo(0x3C00);
    assertThat(bits(1f + 3 * 0x1p-11f)).as("tie, up to even").isEqualTo(0x3C02);
    assertThat(bits(1f + 0x1p-11f + 0x1p-20f)).as("above the tie").isEqualTo(0x3C01);
    assertThat(bits(65519f)).as("below the overflow tie").isEqualTo(0x7BFF);
    assertThat(bits(65520f)).as("overflow tie goes to infinity").isEqualTo(0x7C00);
    assertThat(bits(1e10f)).isEqualTo(0x7C00);
    assertThat(bits(0x1p-25f)).as("half the smallest subnormal: tie to zero").isEqualTo(0);
    assertThat(bits(1.5f * 0x1p-25f)).isEqualTo(0x0001);
    assertThat(bits(3 * 0x1p-25f)).as("1.5 units: tie up to 2").isEqualTo(0x0002);
    assertThat(bits(0x1p-26f)).isEqualTo(0);
    assertThat(bits(Float.MIN_VALUE)).isEqualTo(0);
    assertThat(bits(0x1p-14f - 0x1p-25f)).as("rounds up into the normals").isEqualTo(0x0400);
  }

  @Test
  void nanStaysNan() {
    assertThat(Half.toFloat(Half.fromFloat(Float.NaN))).isNaN();
    assertThat(Half.toFloat(Half.fromFloat(Float.intBitsToFloat(0x7F800001)))).isNaN();
  }

  @Test
  void everyHalfDecodesToItsValueAndEncodesBack() {
    for (int h = 0; h < 1 << 16; h++) {
      int sign = h >>> 15;
      int exponent = (h >>> 10) & 0x1F;
      int mantissa = h & 0x3FF;
      float decoded = Half.toFloat((short) h);
      if (exponent == 0x1F) {
        assertThat(Float.isNaN(decoded)).isEqualTo(mantissa != 0);
      } else {
        double magnitude =
            exponent == 0
                ? Math.scalb((double) mantissa, -24)
                : Math.scalb(1 + mantissa / 1024.0, exponent - 15);
        assertThat((double) decoded)
            .as("half 0x%04x", h)
            .isEqualTo(sign == 0 ? magnitude : -magnitude);
      }
      if (!Float.isNaN(decoded)) {
        assertThat(bits(decoded)).as("half 0x%04x", h).isEqualTo(h);
      }
    }
  }

  @Test
  void floatsAcrossTheWholeRangeEncodeToTheNearestHalf() {
    for (long b = 0; b < 0x7F800000L; b += 251) {
      float x = Float.intBitsToFloat((int) b);
      assertNearest(x);
      assertNearest(-x);
    }
  }

  private static void assertNearest(float x) {
    int h = bits(x);
    float decoded = Half.toFloat((short) h);
    if (Float.isInfinite(decoded)) {
      if (Math.abs(x) < 65520f) {
        throw new AssertionError(x + " became infinite");
      }
      return;
    }
    double error = Math.abs(x - (double) decoded);
    for (int neighbour : new int[] {h - 1, h + 1}) {
      if ((neighbour & 0x7FFF) < 0x7C00 && (neighbour >>> 15) == (h >>> 15)) {
        double other = Math.abs(x - (double) Half.toFloat((short) neighbour));
        if (other < error || (other == error && (h & 1) == 1)) {
          throw new AssertionError(
              x + " -> 0x" + Integer.toHexString(h) + " is not the nearest even");
        }
      }
    }
  }

  @Test
  void randomFloatsEncodeToTheNearestHalf() {
    SplittableRandom rng = Seeds.rng(7, "half-test");
    for (int i = 0; i < 200_000; i++) {
      float x = (float) (rng.nextGaussian() * Math.pow(2, rng.nextInt(-26, 17)));
      int h = bits(x);
      double error = Math.abs(x - (double) Half.toFloat((short) h));
      if (Float.isInfinite(Half.toFloat((short) h))) {
        assertThat(Math.abs(x)).isGreaterThanOrEqualTo(65520f);
        continue;
      }
      // Neighbours in magnitude: no half is closer.
      for (int neighbour : new int[] {h - 1, h + 1}) {
        if ((neighbour & 0x7FFF) < 0x7C00 && (neighbour >>> 15) == (h >>> 15)) {
          double other = Math.abs(x - (double) Half.toFloat((short) neighbour));
          assertThat(error).as("x = %s", x).isLessThanOrEqualTo(other);
        }
      }
    }
  }
}
