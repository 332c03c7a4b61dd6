package org.dtmspark.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.dtmspark.core.config.ConfigError;
import org.junit.jupiter.api.Test;

class BatchPlanTest {
  private static final int[] SHARDS = {7, 5, 9, 4};

  /** Twelve shards of 10 images: dataset indices 10 s .. 10 s + 9 are shard s. */
  private static final int[] TWELVE = new int[12];

  static {
    Arrays.fill(TWELVE, 10);
  }

  @Test
  void oneStreamVisitsEveryKeptImageOnceShardByShard() {
    BatchPlan plan = BatchPlan.of(SHARDS, i -> i != 3 && i != 20, 1, 11);
    assertThat(plan.stepsPerEpoch()).isEqualTo(23);
    for (long epoch = 0; epoch < 3; epoch++) {
      int[] order = plan.epoch(epoch).streamIndices(0);
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
      assertThat(plan.epoch(epoch).blockSequence(0))
          .containsExactly(shardSequence.stream().mapToInt(Integer::intValue).toArray());
    }
    assertThat(plan.epoch(0).streamIndices(0)).isNotEqualTo(plan.epoch(1).streamIndices(0));
    assertThat(plan.epoch(1).streamIndices(0))
        .isEqualTo(BatchPlan.of(SHARDS, i -> i != 3 && i != 20, 1, 11).epoch(1).streamIndices(0));
  }

  @Test
  void ranksShardSetsAreDisjointAndCoverTheSplit() {
    for (int ranks : new int[] {1, 2, 3, 6}) {
      BatchPlan plan =
          BatchPlan.of(TWELVE, i -> true, 12 / ranks, 4).forRank(12 / ranks, 0, ranks, 6);
      for (long epoch = 0; epoch < 3; epoch++) {
        Set<Integer> all = new HashSet<>();
        int total = 0;
        for (int r = 0; r < ranks; r++) {
          int[] blocks = plan.blocksOf(epoch, r);
          assertThat(blocks).hasSize(12 / ranks);
          Arrays.stream(blocks).forEach(all::add);
          total += blocks.length;
        }
        assertThat(total).as("disjoint").isEqualTo(all.size());
        assertThat(all).as("covering").containsExactlyInAnyOrderElementsOf(range(12));
      }
    }
  }

  @Test
  void aRankReadsOnlyTheShardsOfItsStreams() {
    BatchPlan plan = BatchPlan.of(TWELVE, i -> true, 6, 4);
    for (int r = 0; r < 3; r++) {
      BatchPlan rank = plan.forRank(4, r, 3, 6);
      for (long epoch = 0; epoch < 2; epoch++) {
        Set<Integer> dealt = new HashSet<>();
        Arrays.stream(rank.blocksOf(epoch, r)).forEach(dealt::add);
        BatchPlan.Epoch e = rank.epoch(epoch);
        for (long step = epoch * rank.stepsPerEpoch();
            step < (epoch + 1) * rank.stepsPerEpoch();
            step++) {
          for (int index : rank.indices(step, e)) {
            assertThat(dealt).contains(index / 10);
          }
        }
      }
    }
  }

  @Test
  void ranksTogetherTakeTheGlobalBatchOfOneRankWhateverTheirNumber() {
    BatchPlan single = BatchPlan.of(TWELVE, i -> i % 7 != 0, 12, 5).forRank(12, 0, 1, 6);
    int b = single.streamBatch();
    assertThat(b).isEqualTo(2);
    for (int ranks : new int[] {2, 3, 6}) {
      List<BatchPlan> plans = new ArrayList<>();
      for (int r = 0; r < ranks; r++) {
        plans.add(single.forRank(12 / ranks, r, ranks, 6));
      }
      assertThat(plans.get(0).stepsPerEpoch()).isEqualTo(single.stepsPerEpoch());
      for (long step = 0; step < 3 * single.stepsPerEpoch(); step++) {
        long epoch = single.epochOf(step);
        int[] whole = single.indices(step, single.epoch(epoch));
        for (BatchPlan part : plans) {
          int[] mine = part.indices(step, part.epoch(epoch));
          for (int i = 0; i < mine.length; i++) {
            int stream = part.stream(i);
            assertThat(stream % ranks).isEqualTo(part.rank());
            assertThat(mine[i]).isEqualTo(whole[stream * b + i % b]);
            assertThat(part.position(step, i)).isEqualTo(single.position(step, stream * b + i % b));
          }
        }
      }
    }
  }

  @Test
  void everyEpochHasTheStepsTheSmallestDealtStreamAllows() {
    // 16 shards of 10 to 6 streams: every stream gets 2 or 3 shards, so 20 images per stream.
    int[] sixteen = new int[16];
    Arrays.fill(sixteen, 10);
    BatchPlan plan = BatchPlan.of(sixteen, i -> true, 12, 0).forRank(12, 0, 1, 6);
    assertThat(plan.stepsPerEpoch()).isEqualTo(10);
    // Shards of unequal size: the two smallest of 7 shards bound a stream of 3 streams.
    BatchPlan uneven = BatchPlan.of(new int[] {9, 3, 8, 4, 9, 9, 9}, i -> true, 3, 0);
    assertThat(uneven.forRank(3, 0, 1, 3).stepsPerEpoch()).isEqualTo(7);
  }

  @Test
  void fewerShardsThanStreamsAreCutIntoPieces() {
    BatchPlan plan = BatchPlan.of(new int[] {96}, i -> true, 6, 2).forRank(3, 1, 2, 6);
    assertThat(plan.stepsPerEpoch()).isEqualTo(16);
    assertThat(plan.blocksOf(0, 0)).containsExactly(0);
    assertThat(plan.blocksOf(0, 1)).containsExactly(0);
    Set<Integer> seen = new HashSet<>();
    for (int r = 0; r < 2; r++) {
      BatchPlan rank = plan.forRank(3, r, 2, 6);
      BatchPlan.Epoch e = rank.epoch(0);
      for (long step = 0; step < 16; step++) {
        for (int index : rank.indices(step, e)) {
          assertThat(seen.add(index)).as("image %d once per epoch", index).isTrue();
        }
      }
    }
    assertThat(seen).hasSize(96);
  }

  @Test
  void streamsNotAMultipleOfTheRanksAreAnErrorNamingBoth() {
    BatchPlan plan = BatchPlan.of(TWELVE, i -> true, 3, 0);
    assertThatThrownBy(() -> plan.forRank(3, 0, 4, 6))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("pretrain.data.streams (6)")
        .hasMessageContaining("number of ranks (4)");
  }

  @Test
  void aGlobalBatchNotAMultipleOfTheStreamsIsAnErrorNamingBoth() {
    BatchPlan plan = BatchPlan.of(TWELVE, i -> true, 3, 0);
    assertThatThrownBy(() -> plan.forRank(5, 0, 2, 4))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("train.batch-size (10)")
        .hasMessageContaining("pretrain.data.streams (4)");
  }

  @Test
  void tooFewImagesForOneGlobalBatchIsAnErrorNamingBatchRanksAndStreams() {
    BatchPlan plan = BatchPlan.of(new int[] {5}, i -> true, 3, 0).forRank(3, 1, 2, 2);
    assertThatThrownBy(plan::stepsPerEpoch)
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("train.batch-size (3 per rank)")
        .hasMessageContaining("number of ranks (2)")
        .hasMessageContaining("pretrain.data.streams (2)")
        .hasMessageContaining("of the 5 training images");
  }

  @Test
  void rankOutsideTheWorldIsRejected() {
    BatchPlan plan = BatchPlan.of(10, 2, 0);
    assertThatThrownBy(() -> plan.forRank(1, 2, 2, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Rank must be in [0, 2), cannot be: 2");
  }

  private static List<Integer> range(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  private static int shardOf(int index) {
    int start = 0;
    for (int s = 0; s < SHARDS.length; s++) {
      start += SHARDS[s];
      if (index < start) {
        return s;
      }
    }
    throw new IllegalArgumentException("index " + index);
  }
}
