package org.dtmspark.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.dtmspark.core.config.ConfigError;
import org.junit.jupiter.api.Test;

class BatchPlanTest {
  private static final int[] SHARDS = {7, 5, 9, 4};

  @Test
  void everyEpochVisitsEveryKeptImageOnceBlockByBlock() {
    BatchPlan plan = BatchPlan.of(SHARDS, i -> i != 3 && i != 20, 2, 11);
    for (long epoch = 0; epoch < 3; epoch++) {
      int[] order = plan.epochOrder(epoch);
      assertThat(Arrays.stream(order).sorted().toArray())
          .containsExactly(IntStream.range(0, 25).filter(i -> i != 3 && i != 20).toArray());
      // Two-level shuffle: the images of one shard are consecutive in the order.
      List<Integer> shardSequence = new ArrayList<>();
      for (int index : order) {
        int shard = shardOf(index);
        if (shardSequence.isEmpty() || shardSequence.get(shardSequence.size() - 1) != shard) {
          shardSequence.add(shard);
        }
      }
      assertThat(shardSequence).doesNotHaveDuplicates().hasSize(4);
    }
    assertThat(plan.epochOrder(0)).isNotEqualTo(plan.epochOrder(1));
    assertThat(plan.epochOrder(1))
        .isEqualTo(BatchPlan.of(SHARDS, i -> i != 3 && i != 20, 2, 11).epochOrder(1));
  }

  @Test
  void ranksSplitTheGlobalBatchStridedAndTogetherMatchOneRankWithTheWholeBatch() {
    int perRank = 3;
    BatchPlan single = BatchPlan.of(SHARDS, i -> true, perRank * 2, 5);
    BatchPlan rank0 = BatchPlan.of(SHARDS, i -> true, perRank, 5).forRank(0, 2);
    BatchPlan rank1 = BatchPlan.of(SHARDS, i -> true, perRank, 5).forRank(1, 2);
    assertThat(rank0.stepsPerEpoch()).isEqualTo(rank1.stepsPerEpoch()).isEqualTo(4);
    assertThat(single.stepsPerEpoch()).isEqualTo(4);
    for (long step = 0; step < 10; step++) {
      long epoch = single.epochOf(step);
      int[] whole = single.indices(step, single.epochOrder(epoch));
      int[] a = rank0.indices(step, rank0.epochOrder(epoch));
      int[] b = rank1.indices(step, rank1.epochOrder(epoch));
      for (int i = 0; i < perRank; i++) {
        assertThat(a[i]).isEqualTo(whole[2 * i]);
        assertThat(b[i]).isEqualTo(whole[2 * i + 1]);
        assertThat(rank0.globalPosition(i)).isEqualTo(2 * i);
        assertThat(rank1.globalPosition(i)).isEqualTo(2 * i + 1);
      }
    }
  }

  @Test
  void tooFewImagesForOneGlobalBatchIsAnErrorNamingBatchAndRanks() {
    BatchPlan plan = BatchPlan.of(new int[] {5}, i -> true, 3, 0).forRank(1, 2);
    assertThatThrownBy(plan::stepsPerEpoch)
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("train.batch-size (3 per rank)")
        .hasMessageContaining("number of ranks (2)")
        .hasMessageContaining("training images (5)");
  }

  @Test
  void rankOutsideTheWorldIsRejected() {
    BatchPlan plan = BatchPlan.of(10, 2, 0);
    assertThatThrownBy(() -> plan.forRank(2, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Rank must be in [0, 2), cannot be: 2");
  }

  private static int shardOf(int index) {
    int start = 0;
    for (int s = 0; s < SHARDS.length; s++) {
      if (index < start + SHARDS[s]) {
        return s;
      }
      start += SHARDS[s];
    }
    throw new AssertionError(index);
  }
}
