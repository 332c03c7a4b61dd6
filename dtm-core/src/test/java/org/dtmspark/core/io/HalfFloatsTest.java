package org.dtmspark.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dtmspark.core.io.HalfFloats.bfloat16ToFloat;
import static org.dtmspark.core.io.HalfFloats.floatToBfloat16;
import static org.dtmspark.core.io.HalfFloats.floatToHalf;
import static org.dtmspark.core.io.HalfFloats.halfToFloat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfFloatsTest {

  private static int half(float f) {
    return floatToHalf(f) & 0xffff;
  }

  @Test
  void signedZerosKeepTheirSign() {
    assertThat(half(0f)).isEqualTo(0x0000);
    assertThat(half(-0f)).isEqualTo(0x8000);
    assertThat(Float.floatToRawIntBits(halfToFloat((short) 0x8000)))
        .isEqualTo(Float.floatToRawIntBits(-0f));
    assertThat(Float.floatToRawIntBits(halfToFloat((short) 0))).isZero();
  }

  @Test
  void largestFiniteHalfAndOverflowToInfinity() {
    assertThat(half(65504f)).isEqualTo(0x7bff);
    assertThat(halfToFloat((short) 0x7bff)).isEqualTo(65504f);
    // 65520 is halfway between 65504 and 65536 (infinity): ties go to the even pattern 0x7c00.
    assertThat(half(65519.996f)).isEqualTo(0x7bff);
    assertThat(half(65520f)).isEqualTo(0x7c00);
    assertThat(half(1e6f)).isEqualTo(0x7c00);
    assertThat(half(-1e6f)).isEqualTo(0xfc00);
    assertThat(half(Float.MAX_VALUE)).isEqualTo(0x7c00);
  }

  @Test
  void infinitiesAndNanSurvive() {
    assertThat(half(Float.POSITIVE_INFINITY)).isEqualTo(0x7c00);
    assertThat(half(Float.NEGATIVE_INFINITY)).isEqualTo(0xfc00);
    assertThat(halfToFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(halfToFloat((short) 0xfc00)).isEqualTo(Float.NEGATIVE_INFINITY);
    int nan = half(Float.NaN);
    assertThat(nan & 0x7c00).isEqualTo(0x7c00);
    assertThat(nan & 0x3ff).isNotZero();
    // A NaN whose payload lives only in the low bits must not collapse to infinity.
    assertThat(half(Float.intBitsToFloat(0x7f800001)) & 0x3ff).isNotZero();
    assertThat(halfToFloat((short) 0x7e00)).isNaN();
    assertThat(halfToFloat((short) 0xfe00)).isNaN();
  }

  @Test
  void subnormalsRoundToNearestEven() {
    float tiny = 0x1p-24f; // smallest half subnormal
    assertThat(half(tiny)).isEqualTo(0x0001);
    assertThat(halfToFloat((short) 0x0001)).isEqualTo(tiny);
    assertThat(half(0x1p-25f)).isEqualTo(0x0000); // tie between 0 and 1: even is 0
    assertThat(half(-0x1p-25f)).isEqualTo(0x8000);
    assertThat(half(0x1.000002p-25f)).isEqualTo(0x0001); // just above the tie
    assertThat(half(0x1p-26f)).isEqualTo(0x0000);
    assertThat(half(3 * 0x1p-25f)).isEqualTo(0x0002); // tie between 1 and 2: even is 2
    assertThat(half(5 * 0x1p-25f)).isEqualTo(0x0002); // tie between 2 and 3: even is 2
    assertThat(half(1023 * 0x1p-24f)).isEqualTo(0x03ff); // largest subnormal
    assertThat(half(1023.5f * 0x1p-24f)).isEqualTo(0x0400); // tie rounds up into the normals
    assertThat(half(0x1p-14f)).isEqualTo(0x0400); // smallest normal
    assertThat(halfToFloat((short) 0x03ff)).isEqualTo(1023 * 0x1p-24f);
  }

  @Test
  void normalTiesRoundToEven() {
    assertThat(half(1f)).isEqualTo(0x3c00);
    assertThat(half(1f + 0x1p-11f)).isEqualTo(0x3c00); // tie, 0x3c00 is even
    assertThat(half(1f + 0x1p-11f + 0x1p-20f)).isEqualTo(0x3c01); // above the tie
    assertThat(half(1f + 3 * 0x1p-11f)).isEqualTo(0x3c02); // tie between 0x3c01 and 0x3c02
    assertThat(half(2047f + 0.5f)).isEqualTo(half(2048f)); // carry into the exponent
    assertThat(half(-2.5f)).isEqualTo(0xc100);
  }

  @Test
  void everyHalfSurvivesARoundTripThroughFloat() {
    for (int h = 0; h < 0x10000; h++) {
      float f = halfToFloat((short) h);
      if (Float.isNaN(f)) {
        assertThat(half(f) & 0x7c00).as("pattern %04x", h).isEqualTo(0x7c00);
        assertThat(half(f) & 0x3ff).as("pattern %04x", h).isNotZero();
      } else {
        assertThat(half(f)).as("pattern %04x", h).isEqualTo(h);
      }
    }
  }

  @Test
  void narrowingPicksTheNearestHalfAndTheEvenOneOnTies() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 200_000; i++) {
      // Uniform over float bit patterns whose magnitude is within the half range.
      float f = Float.intBitsToFloat(random.nextInt(0x477fe000));
      if (random.nextBoolean()) {
        f = -f;
      }
      int h = half(f);
      double chosen = halfToFloat((short) h);
      double error = Math.abs(f - chosen);
      int magnitude = h & 0x7fff;
      for (int neighbour : new int[] {magnitude - 1, magnitude + 1}) {
        if (neighbour < 0 || neighbour > 0x7bff) {
          continue;
        }
        double other = halfToFloat((short) ((h & 0x8000) | neighbour));
        double otherError = Math.abs(f - other);
        assertThat(error).as("float %a -> %04x", f, h).isLessThanOrEqualTo(otherError);
        if (error == otherError) {
          assertThat(h & 1).as("tie for float %a -> %04x", f, h).isZero();
        }
      }
    }
  }

  @Test
  void bfloat16RoundsToNearestEvenAndWidensExactly() {
    assertThat(floatToBfloat16(1f) & 0xffff).isEqualTo(0x3f80);
    assertThat(bfloat16ToFloat((short) 0x3f80)).isEqualTo(1f);
    assertThat(floatToBfloat16(Float.intBitsToFloat(0x3f808000)) & 0xffff).isEqualTo(0x3f80);
    assertThat(floatToBfloat16(Float.intBitsToFloat(0x3f818000)) & 0xffff).isEqualTo(0x3f82);
    assertThat(floatToBfloat16(Float.intBitsToFloat(0x3f808001)) & 0xffff).isEqualTo(0x3f81);
    assertThat(floatToBfloat16(-0f) & 0xffff).isEqualTo(0x8000);
    assertThat(floatToBfloat16(Float.MAX_VALUE) & 0xffff).isEqualTo(0x7f80);
    assertThat(bfloat16ToFloat(floatToBfloat16(Float.NaN))).isNaN();
    assertThat(bfloat16ToFloat(floatToBfloat16(Float.intBitsToFloat(0x7f800001)))).isNaN();
    assertThat(bfloat16ToFloat((short) 0xff80)).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(bfloat16ToFloat((short) 0x0001)).isEqualTo(Float.intBitsToFloat(0x00010000));
  }
}
