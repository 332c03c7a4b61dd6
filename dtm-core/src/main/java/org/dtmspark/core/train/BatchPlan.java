package org.dtmspark.core.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;
import org.dtmspark.core.config.ConfigError;

/**
 * Which images every rank trains on at every step: a pure function of the seed, the epoch and the
 * step, so that any step can be rebuilt alone (resume, replay) and every rank agrees on the global
 * batch without talking to the others.
 *
 * <p><b>Order.</b> The images are grouped in blocks (the shards of a sharded dataset; one block
 * otherwise). Epoch {@code e} visits the blocks in the permutation drawn from {@code (seed,
 * "order", e)} and the images of block {@code b} in the permutation drawn from {@code (seed,
 * "order", e, b)}: a two-level shuffle that reads one block at a time, as streaming loaders do,
 * while the shard job has already shuffled images across blocks.
 *
 * <p><b>Batches.</b> The global batch of step {@code s} is the slice {@code [(s mod stepsPerEpoch)
 * * G, ... + G)} of its epoch's order, {@code G = batchSize * worldSize}; rank {@code r} takes the
 * strided positions {@code r, r + R, r + 2R, ...} of that slice, so every rank has exactly {@code
 * batchSize} images, every step, and the union over ranks is the same global batch whatever the
 * number of ranks. The last partial global batch of an epoch is dropped.
 *
 * @param blocks dataset indices by block, each non-empty; together the images this plan trains on
 * @param batchSize images per rank and step, at least 1
 * @param rank this rank, {@code 0..worldSize-1}
 * @param worldSize number of ranks, at least 1
 * @param seed the run's seed
 */
public record BatchPlan(int[][] blocks, int batchSize, int rank, int worldSize, long seed) {

  public BatchPlan {
    if (batchSize < 1) {
      throw new IllegalArgumentException("Batch size must be at least 1, cannot be: " + batchSize);
    }
    if (worldSize < 1) {
      throw new IllegalArgumentException("World size must be at least 1, cannot be: " + worldSize);
    }
    if (rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException(
          "Rank must be in [0, " + worldSize + "), cannot be: " + rank);
    }
    List<int[]> copy = new ArrayList<>(blocks.length);
    for (int[] block : blocks) {
      if (block.length == 0) {
        throw new IllegalArgumentException("Blocks must not be empty");
      }
      copy.add(block.clone());
    }
    blocks = copy.toArray(new int[0][]);
  }

  /**
   * A single-rank plan over contiguous blocks of the given sizes (dataset order), keeping the
   * indices {@code keep} accepts; blocks left empty are dropped.
   */
  public static BatchPlan of(int[] blockSizes, IntPredicate keep, int batchSize, long seed) {
    List<int[]> blocks = new ArrayList<>(blockSizes.length);
    int start = 0;
    for (int size : blockSizes) {
      if (size < 0) {
        throw new IllegalArgumentException("Block sizes must be at least 0, cannot be: " + size);
      }
      int[] kept = new int[size];
      int n = 0;
      for (int i = start; i < start + size; i++) {
        if (keep.test(i)) {
          kept[n++] = i;
        }
      }
      if (n > 0) {
        blocks.add(n == size ? kept : Arrays.copyOf(kept, n));
      }
      start += size;
    }
    return new BatchPlan(blocks.toArray(new int[0][]), batchSize, 0, 1, seed);
  }

  /** A single-rank plan over all {@code size} images as one block. */
  public static BatchPlan of(int size, int batchSize, long seed) {
    return of(new int[] {size}, i -> true, batchSize, seed);
  }

  /** The same plan seen from {@code rank} of {@code worldSize}, with {@code batchSize} per rank. */
  public BatchPlan forRank(int rank, int worldSize) {
    return new BatchPlan(blocks, batchSize, rank, worldSize, seed);
  }

  /** Number of images the plan trains on. */
  public int size() {
    long n = 0;
    for (int[] block : blocks) {
      n += block.length;
    }
    return Math.toIntExact(n);
  }

  /** Images per step over all ranks, {@code batchSize * worldSize}. */
  public int globalBatch() {
    return Math.multiplyExact(batchSize, worldSize);
  }

  /**
   * Optimizer steps per epoch: whole global batches.
   *
   * @throws ConfigError naming the batch size and the ranks when not even one global batch fits
   */
  public long stepsPerEpoch() {
    long steps = size() / globalBatch();
    if (steps == 0) {
      throw new ConfigError(
          "train.batch-size ("
              + batchSize
              + " per rank) times the number of ranks ("
              + worldSize
              + ") must be at most the number of training images ("
              + size()
              + ")");
    }
    return steps;
  }

  /** Every image of the plan in the order of {@code epoch} (see the class comment). */
  public int[] epochOrder(long epoch) {
    int[] order = new int[size()];
    int[] blockOrder = Seeds.permutation(blocks.length, Seeds.rng(seed, "order", epoch));
    int n = 0;
    for (int b : blockOrder) {
      int[] block = blocks[b];
      SplittableRandom rng = Seeds.rng(seed, "order", epoch, b);
      for (int i : Seeds.permutation(block.length, rng)) {
        order[n++] = block[i];
      }
    }
    return order;
  }

  /** The epoch step {@code step} belongs to. */
  public long epochOf(long step) {
    return step / stepsPerEpoch();
  }

  /**
   * This rank's dataset indices for {@code step}, {@code [batchSize]}, given the order of its epoch
   * ({@link #epochOrder} of {@link #epochOf}).
   */
  public int[] indices(long step, int[] epochOrder) {
    long start = (step % stepsPerEpoch()) * globalBatch();
    int[] out = new int[batchSize];
    for (int i = 0; i < batchSize; i++) {
      out[i] = epochOrder[Math.toIntExact(start + globalPosition(i))];
    }
    return out;
  }

  /** The position in the global batch of this rank's {@code i}-th image. */
  public int globalPosition(int i) {
    return rank + worldSize * i;
  }
}
