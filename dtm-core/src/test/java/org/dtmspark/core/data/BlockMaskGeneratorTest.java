package org.dtmspark.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BlockMaskGeneratorTest {

  private static int countTrue(boolean[] mask) {
    int n = 0;
    for (boolean b : mask) {
      if (b) {
        n++;
      }
    }
    return n;
  }

  /** Bounding box {top, left, height, width} of the cells that are true in b but not in a. */
  private static int[] boundingBoxOfNewCells(boolean[] before, boolean[] after, int width) {
    int top = Integer.MAX_VALUE;
    int left = Integer.MAX_VALUE;
    int bottom = -1;
    int right = -1;
    for (int i = 0; i < after.length; i++) {
      if (after[i] && !before[i]) {
        top = Math.min(top, i / width);
        bottom = Math.max(bottom, i / width);
        left = Math.min(left, i % width);
        right = Math.max(right, i % width);
      }
    }
    return new int[] {top, left, bottom - top + 1, right - left + 1};
  }

  @ParameterizedTest
  @CsvSource({"14, 14, 75", "7, 7, 19", "8, 8, 24", "14, 14, 0", "14, 14, 196", "3, 5, 7"})
  void everyMaskHasExactlyTheRequestedCount(int h, int w, int numMasked) {
    BlockMaskGenerator gen = new BlockMaskGenerator(h, w, numMasked, 16, 0, 0.3, 10);
    for (long seed = 0; seed < 300; seed++) {
      boolean[] mask = gen.sample(new SplittableRandom(seed));
      assertThat(mask).hasSize(h * w);
      assertThat(countTrue(mask)).as("seed %d", seed).isEqualTo(numMasked);
    }
  }

  @Test
  void smallBlocksAlsoGiveTheExactCount() {
    BlockMaskGenerator gen = new BlockMaskGenerator(14, 14, 75, 4, 0, 0.3, 10);
    for (long seed = 0; seed < 200; seed++) {
      assertThat(countTrue(gen.sample(new SplittableRandom(seed)))).isEqualTo(75);
    }
  }

  @Test
  void sameSeedGivesSameMaskAndDifferentSeedsDiffer() {
    BlockMaskGenerator gen = new BlockMaskGenerator(14, 14, 75, 16, 0, 0.3, 10);
    boolean[] first = gen.sample(new SplittableRandom(42));
    assertThat(gen.sample(new SplittableRandom(42))).isEqualTo(first);
    assertThat(gen.sample(new SplittableRandom(43))).isNotEqualTo(first);
  }

  @Test
  void eachPlacedBlockAddsARectangleMinusAlreadyMaskedCells() {
    BlockMaskGenerator gen = new BlockMaskGenerator(14, 14, 75, 16, 0, 0.3, 10);
    int blocks = 0;
    for (long seed = 0; seed < 200; seed++) {
      SplittableRandom rng = new SplittableRandom(seed);
      boolean[] mask = new boolean[196];
      int count = 0;
      while (count < 75) {
        boolean[] before = mask.clone();
        int maxPatches = Math.min(75 - count, gen.maxBlockPatches());
        int delta = gen.placeBlock(mask, maxPatches, rng);
        if (delta == 0) {
          assertThat(mask).isEqualTo(before);
          break;
        }
        blocks++;
        assertThat(delta).isBetween(1, maxPatches);
        assertThat(countTrue(mask) - countTrue(before)).isEqualTo(delta);
        int[] box = boundingBoxOfNewCells(before, mask, 14);
        // Every cell of the bounding box is masked now: the new cells fill a rectangle's holes.
        for (int i = box[0]; i < box[0] + box[2]; i++) {
          for (int j = box[1]; j < box[1] + box[3]; j++) {
            assertThat(mask[i * 14 + j]).as("seed %d cell (%d, %d)", seed, i, j).isTrue();
          }
        }
        // No block spans the whole grid height or width (strict bound of the reference).
        assertThat(box[2]).isLessThan(14);
        assertThat(box[3]).isLessThan(14);
        count += delta;
      }
      assertThat(count).isLessThanOrEqualTo(75);
    }
    assertThat(blocks).isGreaterThan(200);
  }

  @Test
  void firstBlockOnAnEmptyGridIsARectangleWithinTheAspectLimits() {
    BlockMaskGenerator gen = new BlockMaskGenerator(14, 14, 75, 16, 0, 0.3, 10);
    for (long seed = 0; seed < 500; seed++) {
      boolean[] mask = new boolean[196];
      int delta = gen.placeBlock(mask, 75, new SplittableRandom(seed));
      assertThat(delta).isPositive();
      int[] box = boundingBoxOfNewCells(new boolean[196], mask, 14);
      assertThat(box[2] * box[3]).isEqualTo(delta).isLessThanOrEqualTo(75);
      double aspect = (double) box[2] / box[3];
      // Target aspect in [0.3, 1/0.3]; rounding of sides >= 2 widens that to about [0.2, 5].
      assertThat(aspect).isBetween(0.2, 5.0);
      // Target area >= 16; rounding each side by at most 0.5 leaves more than 11.5.
      assertThat(delta).isGreaterThanOrEqualTo(12);
    }
  }

  @Test
  void squareOnlyBlocksOfSixteenAreFourByFour() {
    BlockMaskGenerator gen = new BlockMaskGenerator(14, 14, 75, 16, 16, 1.0, 10);
    for (long seed = 0; seed < 100; seed++) {
      boolean[] mask = new boolean[196];
      assertThat(gen.placeBlock(mask, 16, new SplittableRandom(seed))).isEqualTo(16);
      int[] box = boundingBoxOfNewCells(new boolean[196], mask, 14);
      assertThat(box[2]).isEqualTo(4);
      assertThat(box[3]).isEqualTo(4);
    }
  }

  @Test
  void maxBlockPatchesBoundsEveryBlock() {
    BlockMaskGenerator gen = new BlockMaskGenerator(14, 14, 75, 4, 9, 0.3, 10);
    for (long seed = 0; seed < 100; seed++) {
      SplittableRandom rng = new SplittableRandom(seed);
      boolean[] mask = new boolean[196];
      int count = 0;
      while (count < 75) {
        int delta = gen.placeBlock(mask, Math.min(75 - count, gen.maxBlockPatches()), rng);
        if (delta == 0) {
          break;
        }
        assertThat(delta).isBetween(1, 9);
        count += delta;
      }
    }
  }

  @Test
  void blockPhaseMasksMostPatchesInBlocksOnTheDefaultGrid() {
    // The fix-up only tops up a few patches: blocks carry the mask, as in BEiT v2.
    BlockMaskGenerator gen = BlockMaskGenerator.forRatio(14, 14, 75.0 / 196);
    assertThat(gen.numMasked()).isEqualTo(75);
    long total = 0;
    for (long seed = 0; seed < 200; seed++) {
      total += gen.placeBlocks(new boolean[196], new SplittableRandom(seed));
    }
    assertThat(total / 200.0).isGreaterThan(60);
  }

  @Test
  void blocksThatCannotFitLeaveTheWholeMaskToTheFixUp() {
    // 2 x 2 grid: a block must be 1 x 1, but a target area of at least 3 never rounds to that.
    BlockMaskGenerator gen = new BlockMaskGenerator(2, 2, 3, 16, 0, 0.3, 10);
    for (long seed = 0; seed < 50; seed++) {
      assertThat(gen.placeBlocks(new boolean[4], new SplittableRandom(seed))).isZero();
      assertThat(countTrue(gen.sample(new SplittableRandom(seed)))).isEqualTo(3);
    }
  }

  @Test
  void sampleBatchStacksMasksFromTheSameStream() {
    BlockMaskGenerator gen = new BlockMaskGenerator(8, 8, 24, 16, 0, 0.3, 10);
    float[] batch = gen.sampleBatch(3, new SplittableRandom(5));
    assertThat(batch).hasSize(3 * 64);
    SplittableRandom rng = new SplittableRandom(5);
    for (int b = 0; b < 3; b++) {
      boolean[] mask = gen.sample(rng);
      for (int i = 0; i < 64; i++) {
        assertThat(batch[b * 64 + i]).isEqualTo(mask[i] ? 1f : 0f);
      }
    }
  }

  @Test
  void forRatioRoundsTheCountAndUsesTheBeitDefaults() {
    BlockMaskGenerator gen = BlockMaskGenerator.forRatio(7, 7, 0.4);
    assertThat(gen.numMasked()).isEqualTo(20);
    assertThat(gen.minBlockPatches()).isEqualTo(16);
    assertThat(gen.maxBlockPatches()).isEqualTo(20);
    assertThat(gen.minAspect()).isEqualTo(0.3);
    assertThat(gen.maxAttempts()).isEqualTo(10);
  }

  @Test
  void invalidArgumentsAreRejectedWithFieldAndValue() {
    assertThatThrownBy(() -> new BlockMaskGenerator(14, 14, 197, 16, 0, 0.3, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Number of masked patches must be in [0, 196] for a 14 x 14 grid, cannot be: 197");
    assertThatThrownBy(() -> new BlockMaskGenerator(0, 14, 0, 16, 0, 0.3, 10))
        .hasMessage("Grid height must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> new BlockMaskGenerator(14, 14, 75, 0, 0, 0.3, 10))
        .hasMessage("Minimum patches per block must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> new BlockMaskGenerator(14, 14, 75, 16, 8, 0.3, 10))
        .hasMessageContaining("Maximum patches per block")
        .hasMessageEndingWith("cannot be: 8");
    assertThatThrownBy(() -> new BlockMaskGenerator(14, 14, 75, 16, 0, 1.5, 10))
        .hasMessage("Minimum block aspect ratio must be in (0, 1], cannot be: 1.5");
    assertThatThrownBy(() -> new BlockMaskGenerator(14, 14, 75, 16, 0, 0.3, 0))
        .hasMessage("Maximum placement attempts per block must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> BlockMaskGenerator.forRatio(14, 14, 1.2))
        .hasMessage("Mask ratio must be in [0, 1], cannot be: 1.2");
  }
}
