package org.dtmspark.data.plan;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.dtmspark.core.train.Seeds;

/**
 * Plans the shards: a pure function of the images, the synset list, the shard size and the seed.
 *
 * <p>The plan, exactly:
 *
 * <ol>
 *   <li>The images are sorted by {@link SourceImage#ORDER} (split, wnid, key, location); an image's
 *       id is its index in that order. Ids depend on the input only, never on the seed.
 *   <li>Each split is shuffled on its own: its {@code m} images, in id order, are permuted by
 *       Fisher–Yates with {@code rng = new SplittableRandom(Seeds.derive(seed, "shard-order:" +
 *       split))}: for {@code i = m - 1} down to {@code 1}, {@code j = rng.nextInt(i + 1)}, swap the
 *       entries at {@code i} and {@code j}. A split's order thus depends on its own images and the
 *       seed, not on the other splits.
 *   <li>The shards of a split are filled in permuted order: with {@link ShardSize.NumShards} {@code
 *       k}, shard {@code s} takes the next {@code m / k} images, plus one for {@code s < m % k};
 *       with {@link ShardSize.TargetBytes} {@code t}, a shard takes images until the next would
 *       bring its source bytes above {@code t} (a shard holds at least one image).
 *   <li>Shards are numbered per split from 0 ({@code <split>/part-00000.parquet}) and listed by
 *       split, then number; an image's {@code position} is its row in its shard.
 * </ol>
 */
public final class ShardPlanner {
  /** The purpose prefix of the per-split shuffle stream, see {@link Seeds#derive}. */
  public static final String SHUFFLE_PURPOSE = "shard-order:";

  private ShardPlanner() {}

  /**
   * Plans the shards of {@code images}.
   *
   * @param images the images, in any order; locations distinct; every non-null wnid in {@code
   *     synsets}
   * @param synsets the class list giving the labels
   * @param size the shard size
   * @param seed the shuffle seed
   * @throws IllegalArgumentException on a repeated location, an unknown wnid, or more shards than
   *     images in a split
   */
  public static ShardPlan plan(
      List<SourceImage> images, SynsetList synsets, ShardSize size, long seed) {
    List<SourceImage> sorted = new ArrayList<>(images);
    sorted.sort(SourceImage.ORDER);
    int[] labels = labels(sorted, synsets);
    int n = sorted.size();
    int[] shardOf = new int[n];
    int[] positionOf = new int[n];
    List<ShardSpec> shards = new ArrayList<>();
    int from = 0;
    while (from < n) {
      String split = sorted.get(from).split();
      int to = from;
      while (to < n && sorted.get(to).split().equals(split)) {
        to++;
      }
      int[] order = shuffle(to - from, seed, split);
      fill(sorted, from, order, split, size, shards, shardOf, positionOf);
      from = to;
    }
    List<PlannedImage> planned = new ArrayList<>(n);
    for (int id = 0; id < n; id++) {
      planned.add(new PlannedImage(id, sorted.get(id), labels[id], shardOf[id], positionOf[id]));
    }
    return new ShardPlan(planned, shards);
  }

  private static int[] labels(List<SourceImage> sorted, SynsetList synsets) {
    Set<String> locations = new HashSet<>();
    int[] labels = new int[sorted.size()];
    for (int i = 0; i < sorted.size(); i++) {
      SourceImage image = sorted.get(i);
      if (!locations.add(image.location())) {
        throw new IllegalArgumentException(
            "Image locations must be distinct, cannot repeat: " + image.location());
      }
      labels[i] = synsets.labelOf(image.wnid());
      if (image.wnid() != null && labels[i] < 0) {
        throw new IllegalArgumentException(
            "Image wnid must be in the synset list, cannot be: "
                + image.wnid()
                + " ("
                + image.location()
                + ")");
      }
    }
    return labels;
  }

  /** The permutation of {@code 0..m-1} described in the class comment. */
  static int[] shuffle(int m, long seed, String split) {
    int[] order = new int[m];
    for (int i = 0; i < m; i++) {
      order[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(Seeds.derive(seed, SHUFFLE_PURPOSE + split));
    for (int i = m - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  /** Assigns the split's images ({@code from + order[k]}) to new shards, in order. */
  private static void fill(
      List<SourceImage> sorted,
      int from,
      int[] order,
      String split,
      ShardSize size,
      List<ShardSpec> shards,
      int[] shardOf,
      int[] positionOf) {
    int m = order.length;
    int first = shards.size();
    int[] rows;
    if (size instanceof ShardSize.NumShards numShards) {
      int k = numShards.count();
      if (k > m) {
        throw new IllegalArgumentException(
            "Number of shards must be at most the number of images of split "
                + split
                + " ("
                + m
                + "), cannot be: "
                + k);
      }
      rows = new int[k];
      for (int s = 0; s < k; s++) {
        rows[s] = m / k + (s < m % k ? 1 : 0);
      }
    } else {
      long target = ((ShardSize.TargetBytes) size).bytes();
      List<Integer> counts = new ArrayList<>();
      int count = 0;
      long bytes = 0;
      for (int k = 0; k < m; k++) {
        long next = sorted.get(from + order[k]).size();
        if (count > 0 && bytes + next > target) {
          counts.add(count);
          count = 0;
          bytes = 0;
        }
        count++;
        bytes += next;
      }
      counts.add(count);
      rows = counts.stream().mapToInt(Integer::intValue).toArray();
    }
    int k = 0;
    for (int s = 0; s < rows.length; s++) {
      long bytes = 0;
      for (int r = 0; r < rows[s]; r++, k++) {
        int id = from + order[k];
        shardOf[id] = first + s;
        positionOf[id] = r;
        bytes += sorted.get(id).size();
      }
      shards.add(new ShardSpec(split, s, ShardSpec.fileName(split, s), rows[s], bytes));
    }
  }
}
