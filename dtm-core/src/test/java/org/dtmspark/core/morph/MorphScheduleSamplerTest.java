package org.dtmspark.core.morph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MorphScheduleSamplerTest {
  @Test
  void tokensPerIterationIsCeilUnlessThatOvershootsTheTokenCount() {
    // ceil fits: ceil(195 / 14) = 14 and 14 * 14 = 196 <= 196.
    assertThat(MorphScheduleSampler.tokensPerIteration(195, 14, 196)).isEqualTo(14);
    assertThat(MorphScheduleSampler.tokensPerIteration(190, 4, 196)).isEqualTo(48);
    // ceil(196 / 3) = 66 and 66 * 3 = 198 > 196: floor, 65.
    assertThat(MorphScheduleSampler.tokensPerIteration(196, 3, 196)).isEqualTo(65);
    // ceil(10 / 4) = 3 and 12 > 10: floor, 2.
    assertThat(MorphScheduleSampler.tokensPerIteration(10, 4, 10)).isEqualTo(2);
    assertThat(MorphScheduleSampler.tokensPerIteration(0, 5, 196)).isZero();
    assertThat(MorphScheduleSampler.tokensPerIteration(196, 1, 196)).isEqualTo(196);
  }

  @Test
  void drawsRemoveThenIterationsPerLevelInThatOrder() {
    MorphScheduleSampler sampler = new MorphScheduleSampler(196, 3, 196, 14);
    for (long seed = 0; seed < 200; seed++) {
      MorphSchedule schedule = sampler.sample(new SplittableRandom(seed));
      SplittableRandom replay = new SplittableRandom(seed);
      assertThat(schedule.levels()).hasSize(3);
      for (MorphLevel level : schedule.levels()) {
        int remove = replay.nextInt(0, 197);
        int k = replay.nextInt(1, 15);
        int ceil = (remove + k - 1) / k;
        int expectedR = ceil * k > 196 ? remove / k : ceil;
        assertThat(level).isEqualTo(new MorphLevel(expectedR, k));
      }
    }
  }

  @Test
  void sampledValuesStayInRange() {
    MorphScheduleSampler sampler = new MorphScheduleSampler(49, 2, 40, 5);
    Set<Integer> ks = new HashSet<>();
    Set<Integer> rs = new HashSet<>();
    SplittableRandom rng = new SplittableRandom(7);
    for (int i = 0; i < 2000; i++) {
      for (MorphLevel level : sampler.sample(rng).levels()) {
        assertThat(level.k()).isBetween(1, 5);
        assertThat(level.r()).isBetween(0, 40);
        assertThat(level.r() * level.k()).isLessThanOrEqualTo(49);
        ks.add(level.k());
        rs.add(level.r());
      }
    }
    assertThat(ks).containsExactlyInAnyOrder(1, 2, 3, 4, 5);
    assertThat(rs).contains(0, 40);
  }

  @Test
  void sameSeedGivesSameSchedule() {
    MorphScheduleSampler sampler = MorphScheduleSampler.withDefaults(196);
    for (long seed = 0; seed < 20; seed++) {
      assertThat(sampler.sample(new SplittableRandom(seed)))
          .isEqualTo(sampler.sample(new SplittableRandom(seed)));
    }
    Set<MorphSchedule> distinct = new HashSet<>();
    for (long seed = 0; seed < 20; seed++) {
      distinct.add(sampler.sample(new SplittableRandom(seed)));
    }
    assertThat(distinct).hasSizeGreaterThan(1);
  }

  @Test
  void defaultsAreTheSpecValues() {
    MorphScheduleSampler sampler = MorphScheduleSampler.withDefaults(196);
    assertThat(sampler.numTokens()).isEqualTo(196);
    assertThat(sampler.numLevels()).isEqualTo(2);
    assertThat(sampler.maxRemove()).isEqualTo(196);
    assertThat(sampler.maxIterations()).isEqualTo(14);
  }

  @Test
  void constructor_invalidValuesAreNamed() {
    assertThatThrownBy(() -> new MorphScheduleSampler(0, 2, 196, 14))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Number of tokens must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> new MorphScheduleSampler(196, 0, 196, 14))
        .hasMessage("Number of levels must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> new MorphScheduleSampler(196, 2, -1, 14))
        .hasMessage("Maximum tokens removed per level must be in [0, 2147483646], cannot be: -1");
    assertThatThrownBy(() -> new MorphScheduleSampler(196, 2, 196, 0))
        .hasMessage("Maximum iterations per level must be in [1, 2147483646], cannot be: 0");
  }
}
