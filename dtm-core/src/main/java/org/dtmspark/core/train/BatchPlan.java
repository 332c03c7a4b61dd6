package org.dtmspark.core.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;
import org.dtmspark.core.config.ConfigError;

/**
 * Which images every rank trains on at every step: a pure function of the seed, the epoch and the
 * step, so that any step can be rebuilt alone (resume, replay) and every rank agrees on the global
 * batch without talking to the others.
 *
 * <p><b>Pieces.</b> The images are grouped in blocks (the shards of a sharded dataset; one block
 * otherwise). The plan deals pieces: the blocks themselves, or, when there are fewer blocks than
 * streams, each block cut into {@code ceil(V / blocks)} contiguous pieces (two ranks may then read
 * the same shard).
 *
 * <p><b>Streams.</b> Epoch {@code e} permutes the pieces with {@code (seed, "order", e)} and deals
 * them round-robin to {@code V} virtual streams: stream {@code v} gets the pieces at positions
 * {@code v, v + V, v + 2V, ...} of the permutation, in that order, each shuffled within by {@code
 * (seed, "order", e, piece)}. With {@code V = 1} this is the classic two-level shuffle (pieces in
 * permuted order, images permuted within), which reads one shard at a time.
 *
 * <p><b>Batches.</b> The global batch of a step takes {@code b = G / V} consecutive images from
 * every stream ({@code G = batchSize * worldSize}): step {@code s} of an epoch takes positions
 * {@code [s * b, (s + 1) * b)} of each stream. Rank {@code r} of {@code N} owns streams {@code r, r
 * + N, r + 2N, ...} and trains on their images, stream after stream: {@code batchSize = b * V / N}
 * images, every step. Rank {@code r} therefore reads only the shards dealt to its streams, and the
 * union over ranks is the same global batch whatever {@code N}, as long as {@code N} divides {@code
 * V}.
 *
 * <p><b>Epoch length.</b> Every stream gets at least {@code m = floor(pieces / V)} pieces, so it
 * holds at least the sum of the {@code m} smallest piece sizes: steps per epoch is that sum divided
 * by {@code b}, the same for every epoch and every stream; the images of a stream beyond are not
 * trained on that epoch (another epoch deals them elsewhere). With pieces of equal size and their
 * number a multiple of {@code V} nothing is left out.
 *
 * <p>Per-sample random draws (view, mask) are defined by the stream and the position in it ({@link
 * #stream}, {@link #position}), never by the rank.
 */
public final class BatchPlan {
  private final int[][] blocks;
  private final int batchSize;
  private final int rank;
  private final int worldSize;
  private final int streams;
  private final long seed;
  private final int[][] pieces; // dataset indices of every piece
  private final int[] pieceBlock; // the block each piece was cut from
  private final int size;
  private final long leastPerStream; // images every stream is dealt, at least, in any epoch

  /**
   * A plan.
   *
   * @param blocks dataset indices by block, each non-empty; together the images this plan trains on
   * @param batchSize images per rank and step, at least 1
   * @param rank this rank, {@code 0..worldSize-1}
   * @param worldSize number of ranks, at least 1, dividing {@code streams}
   * @param streams number of virtual streams V, at least 1, dividing {@code batchSize * worldSize}
   * @param seed the run's seed
   * @throws ConfigError naming {@code pretrain.data.streams} and the batch size or the ranks when
   *     they do not divide as required
   */
  public BatchPlan(int[][] blocks, int batchSize, int rank, int worldSize, int streams, long seed) {
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
    if (streams < 1) {
      throw new IllegalArgumentException("Streams must be at least 1, cannot be: " + streams);
    }
    if (streams % worldSize != 0) {
      throw new ConfigError(
          "pretrain.data.streams ("
              + streams
              + ") must be a multiple of the number of ranks ("
              + worldSize
              + ")");
    }
    long global = (long) batchSize * worldSize;
    if (global % streams != 0) {
      throw new ConfigError(
          "The global batch, train.batch-size ("
              + global
              + "), must be a multiple of pretrain.data.streams ("
              + streams
              + ")");
    }
    List<int[]> copy = new ArrayList<>(blocks.length);
    long n = 0;
    for (int[] block : blocks) {
      if (block.length == 0) {
        throw new IllegalArgumentException("Blocks must not be empty");
      }
      copy.add(block.clone());
      n += block.length;
    }
    this.blocks = copy.toArray(new int[0][]);
    this.batchSize = batchSize;
    this.rank = rank;
    this.worldSize = worldSize;
    this.streams = streams;
    this.seed = seed;
    this.size = Math.toIntExact(n);
    int cuts = this.blocks.length >= streams ? 1 : ceilDiv(streams, this.blocks.length);
    List<int[]> cut = new ArrayList<>();
    List<Integer> owner = new ArrayList<>();
    for (int b = 0; b < this.blocks.length; b++) {
      int[] block = this.blocks[b];
      for (int c = 0; c < cuts; c++) {
        int from = (int) ((long) block.length * c / cuts);
        int to = (int) ((long) block.length * (c + 1) / cuts);
        if (to > from) {
          cut.add(Arrays.copyOfRange(block, from, to));
          owner.add(b);
        }
      }
    }
    this.pieces = cut.toArray(new int[0][]);
    this.pieceBlock = owner.stream().mapToInt(Integer::intValue).toArray();
    int m = pieces.length / streams;
    int[] sizes = Arrays.stream(pieces).mapToInt(p -> p.length).sorted().toArray();
    long least = 0;
    for (int i = 0; i < m; i++) {
      least += sizes[i];
    }
    this.leastPerStream = least;
  }

  /**
   * A single-rank, single-stream plan over contiguous blocks of the given sizes (dataset order),
   * keeping the indices {@code keep} accepts; blocks left empty are dropped.
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
    return new BatchPlan(blocks.toArray(new int[0][]), batchSize, 0, 1, 1, seed);
  }

  /** A single-rank plan over all {@code size} images as one block. */
  public static BatchPlan of(int size, int batchSize, long seed) {
    return of(new int[] {size}, i -> true, batchSize, seed);
  }

  /**
   * The same images seen from {@code rank} of {@code worldSize} with {@code streams} streams and
   * {@code batchSize} images per rank.
   */
  public BatchPlan forRank(int batchSize, int rank, int worldSize, int streams) {
    return new BatchPlan(blocks, batchSize, rank, worldSize, streams, seed);
  }

  public int[][] blocks() {
    int[][] out = new int[blocks.length][];
    Arrays.setAll(out, b -> blocks[b].clone());
    return out;
  }

  /** Images per rank and step. */
  public int batchSize() {
    return batchSize;
  }

  public int rank() {
    return rank;
  }

  public int worldSize() {
    return worldSize;
  }

  /** Number of virtual streams, V. */
  public int streams() {
    return streams;
  }

  public long seed() {
    return seed;
  }

  /** Number of images the plan deals. */
  public int size() {
    return size;
  }

  /** Images per step over all ranks, {@code batchSize * worldSize}. */
  public int globalBatch() {
    return Math.multiplyExact(batchSize, worldSize);
  }

  /** Images every stream gives to every global batch, {@code b = G / V}. */
  public int streamBatch() {
    return globalBatch() / streams;
  }

  /** The streams this rank owns: {@code rank, rank + N, ...}. */
  public int[] ownedStreams() {
    int[] owned = new int[streams / worldSize];
    Arrays.setAll(owned, j -> rank + j * worldSize);
    return owned;
  }

  /**
   * Optimizer steps per epoch (see the class comment).
   *
   * @throws ConfigError naming the batch size, the ranks and the streams when not even one global
   *     batch fits
   */
  public long stepsPerEpoch() {
    long least = leastPerStream;
    long steps = least / streamBatch();
    if (steps == 0) {
      throw new ConfigError(
          "train.batch-size ("
              + batchSize
              + " per rank) times the number of ranks ("
              + worldSize
              + ") must be at most the images every one of pretrain.data.streams ("
              + streams
              + ") streams is dealt per epoch ("
              + least
              + " of the "
              + size
              + " training images in "
              + pieces.length
              + " pieces)");
    }
    return steps;
  }

  /** The epoch step {@code step} belongs to. */
  public long epochOf(long step) {
    return step / stepsPerEpoch();
  }

  /** The pieces dealt to each stream in {@code epoch}: {@code [V][]} piece numbers, in order. */
  int[][] deal(long epoch) {
    int[] order = Seeds.permutation(pieces.length, Seeds.rng(seed, "order", epoch));
    int[][] dealt = new int[streams][];
    for (int v = 0; v < streams; v++) {
      int count = (pieces.length - v + streams - 1) / streams;
      dealt[v] = new int[count];
      for (int j = 0; j < count; j++) {
        dealt[v][j] = order[v + j * streams];
      }
    }
    return dealt;
  }

  /**
   * The blocks (shards) dealt in {@code epoch} to the streams of rank {@code r} of this plan's
   * world, ascending: what that rank may read.
   */
  public int[] blocksOf(long epoch, int r) {
    if (r < 0 || r >= worldSize) {
      throw new IllegalArgumentException("Rank must be in [0, " + worldSize + "), cannot be: " + r);
    }
    int[][] dealt = deal(epoch);
    return IntStream.range(0, streams)
        .filter(v -> v % worldSize == r)
        .flatMap(v -> Arrays.stream(dealt[v]))
        .map(p -> pieceBlock[p])
        .distinct()
        .sorted()
        .toArray();
  }

  /** The trained part of this rank's streams in {@code epoch}. */
  public Epoch epoch(long epoch) {
    int used = Math.toIntExact(stepsPerEpoch() * streamBatch());
    int[][] dealt = deal(epoch);
    int[] owned = ownedStreams();
    int[][] indices = new int[owned.length][];
    int[][] blockAt = new int[owned.length][];
    for (int j = 0; j < owned.length; j++) {
      int[] index = new int[used];
      int[] block = new int[used];
      int n = 0;
      for (int p : dealt[owned[j]]) {
        if (n == used) {
          break;
        }
        int[] perm = Seeds.permutation(pieces[p].length, Seeds.rng(seed, "order", epoch, p));
        for (int k = 0; k < perm.length && n < used; k++) {
          index[n] = pieces[p][perm[k]];
          block[n] = pieceBlock[p];
          n++;
        }
      }
      indices[j] = index;
      blockAt[j] = block;
    }
    return new Epoch(epoch, indices, blockAt);
  }

  /**
   * This rank's dataset indices for {@code step}, {@code [batchSize]}: {@code b} images of each of
   * its streams, stream after stream.
   *
   * @param epoch {@link #epoch} of {@link #epochOf}{@code (step)}
   */
  public int[] indices(long step, Epoch epoch) {
    int[] out = new int[batchSize];
    for (int i = 0; i < batchSize; i++) {
      out[i] = epoch.indices[i / streamBatch()][position(step, i)];
    }
    return out;
  }

  /** The stream of this rank's {@code i}-th image of a step. */
  public int stream(int i) {
    return rank + (i / streamBatch()) * worldSize;
  }

  /**
   * The position within its stream (and epoch) of this rank's {@code i}-th image of {@code step}.
   */
  public int position(long step, int i) {
    return Math.toIntExact((step % stepsPerEpoch()) * streamBatch() + i % streamBatch());
  }

  /** The block (shard) of this rank's {@code i}-th image of {@code step}. */
  public int block(long step, int i, Epoch epoch) {
    return epoch.blocks[i / streamBatch()][position(step, i)];
  }

  /**
   * The trained part of one epoch for one rank: per owned stream (in {@link #ownedStreams} order),
   * the dataset index and the block of every position.
   */
  public static final class Epoch {
    private final long epoch;
    private final int[][] indices;
    private final int[][] blocks;

    Epoch(long epoch, int[][] indices, int[][] blocks) {
      this.epoch = epoch;
      this.indices = indices;
      this.blocks = blocks;
    }

    public long epoch() {
      return epoch;
    }

    /** The blocks of owned stream {@code j} in the order it reaches them, one entry per run. */
    public int[] blockSequence(int j) {
      int[] runs = new int[blocks[j].length];
      int n = 0;
      for (int b : blocks[j]) {
        if (n == 0 || runs[n - 1] != b) {
          runs[n++] = b;
        }
      }
      return Arrays.copyOf(runs, n);
    }

    /** The index in {@link #blockSequence} of the run that holds {@code position} of stream j. */
    public int run(int j, int position) {
      int run = 0;
      for (int p = 1; p <= position; p++) {
        if (blocks[j][p] != blocks[j][p - 1]) {
          run++;
        }
      }
      return run;
    }

    /** Dataset indices of owned stream {@code j}, by position. */
    public int[] streamIndices(int j) {
      return indices[j].clone();
    }
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
