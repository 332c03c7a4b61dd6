package org.dtmspark.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SeedsTest {
  @Test
  void streamDependsOnlyOnSeedPurposeAndIndices() {
    assertThat(Seeds.rng(7, "view", 3).nextLong()).isEqualTo(Seeds.rng(7, "view", 3).nextLong());
    assertThat(Seeds.derive(7, "view", 3)).isNotEqualTo(Seeds.derive(7, "view", 4));
    assertThat(Seeds.derive(7, "view", 3)).isNotEqualTo(Seeds.derive(7, "mask", 3));
    assertThat(Seeds.derive(7, "view", 3)).isNotEqualTo(Seeds.derive(8, "view", 3));
    assertThat(Seeds.derive(7, "order", 1, 2)).isNotEqualTo(Seeds.derive(7, "order", 2, 1));
  }

  @Test
  void permutationHoldsEveryIndexOnce() {
    int[] p = Seeds.permutation(1000, Seeds.rng(1, "order", 0));
    int[] sorted = p.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < sorted.length; i++) {
      assertThat(sorted[i]).isEqualTo(i);
    }
    assertThat(p).isNotEqualTo(sorted);
  }
}
