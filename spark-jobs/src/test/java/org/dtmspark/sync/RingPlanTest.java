package org.dtmspark.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RingPlanTest {
  private static RingPlan[] plans(int worldSize, int length, int bucket) {
    RingPlan[] plans = new RingPlan[worldSize];
    for (int r = 0; r < worldSize; r++) {
      plans[r] = new RingPlan(worldSize, r, length, bucket);
    }
    return plans;
  }

  @Test
  void whatARankSendsIsWhatItsNextRankExpects() {
    for (int worldSize = 2; worldSize <= 5; worldSize++) {
      for (int length = 0; length <= 23; length++) {
        for (int bucket = 1; bucket <= 7; bucket++) {
          RingPlan[] plans = plans(worldSize, length, bucket);
          for (int r = 0; r < worldSize; r++) {
            RingPlan sender = plans[r];
            RingPlan receiver = plans[(r + 1) % worldSize];
            assertThat(receiver.frames()).isEqualTo(sender.frames());
            for (int k = 0; k < sender.frames(); k++) {
              assertThat(receiver.receiveStart(k)).isEqualTo(sender.sendStart(k));
              assertThat(receiver.receiveLength(k)).isEqualTo(sender.sendLength(k));
            }
          }
        }
      }
    }
  }

  /**
   * Simulates the ring with a bit set per element: bit r means "holds rank r's value". Every rank
   * must end with every bit on every element, and no addition may add a bit twice.
   */
  @Test
  void everyRankEndsWithEveryContributionExactlyOnce() {
    for (int worldSize = 2; worldSize <= 5; worldSize++) {
      for (int length = 0; length <= 23; length++) {
        for (int bucket = 1; bucket <= 7; bucket++) {
          RingPlan[] plans = plans(worldSize, length, bucket);
          long[][] held = new long[worldSize][length];
          for (int r = 0; r < worldSize; r++) {
            java.util.Arrays.fill(held[r], 1L << r);
          }
          for (int k = 0; k < plans[0].frames(); k++) {
            long[][] wire = new long[worldSize][];
            for (int r = 0; r < worldSize; r++) {
              int start = plans[r].sendStart(k);
              wire[r] =
                  java.util.Arrays.copyOfRange(held[r], start, start + plans[r].sendLength(k));
            }
            for (int r = 0; r < worldSize; r++) {
              long[] in = wire[Math.floorMod(r - 1, worldSize)];
              int start = plans[r].receiveStart(k);
              for (int i = 0; i < in.length; i++) {
                if (plans[r].reduces(k)) {
                  assertThat(held[r][start + i] & in[i]).as("double count").isZero();
                  held[r][start + i] |= in[i];
                } else {
                  held[r][start + i] = in[i];
                }
              }
            }
          }
          long all = (1L << worldSize) - 1;
          for (int r = 0; r < worldSize; r++) {
            for (int i = 0; i < length; i++) {
              assertThat(held[r][i])
                  .as(
                      "R=%d length=%d bucket=%d rank %d element %d",
                      worldSize, length, bucket, r, i)
                  .isEqualTo(all);
            }
          }
        }
      }
    }
  }

  @Test
  void aFrameWaitsForTheSameBucketsPreviousStepWhichComesEarlier() {
    RingPlan plan = new RingPlan(4, 1, 1000, 64);
    assertThat(plan.frames()).isEqualTo(16 * 6);
    for (int k = 0; k < plan.frames(); k++) {
      int after = plan.after(k);
      if (plan.step(k) == 0) {
        assertThat(after).isEqualTo(-1);
      } else {
        assertThat(after).isLessThan(k);
        assertThat(plan.bucket(after)).isEqualTo(plan.bucket(k));
        assertThat(plan.step(after)).isEqualTo(plan.step(k) - 1);
      }
    }
    // Wavefront: bucket 0's second step, then bucket 1's first.
    assertThat(new int[] {plan.bucket(1), plan.step(1), plan.bucket(2), plan.step(2)})
        .containsExactly(0, 1, 1, 0);
  }

  @Test
  void segmentsDifferByAtMostOneFloat() {
    RingPlan plan = new RingPlan(3, 0, 10, 10);
    int[] lengths = new int[3];
    for (int k = 0; k < 3; k++) {
      lengths[plan.sendSegment(k)] = plan.sendLength(k);
    }
    assertThat(lengths).containsExactly(3, 3, 4);
    assertThat(RingPlan.maxSegmentElements(3, 10)).isEqualTo(4);
  }

  @Test
  void anEmptyBufferIsOneEmptyBucket() {
    RingPlan plan = new RingPlan(3, 2, 0, 1024);
    assertThat(plan.frames()).isEqualTo(4);
    for (int k = 0; k < plan.frames(); k++) {
      assertThat(plan.sendLength(k)).isZero();
      assertThat(plan.receiveLength(k)).isZero();
    }
  }

  @Test
  void aBucketTooSmallForTheBufferIsRejectedWithTheNumbers() {
    assertThatThrownBy(() -> new RingPlan(4, 0, 100_000_000, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Bucket size of 1 floats is too small for 100000000 floats on 4 ranks: 600000000"
                + " frames, at most 67108864");
  }
}
