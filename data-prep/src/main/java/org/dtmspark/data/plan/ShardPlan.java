package org.dtmspark.data.plan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Which image goes to which row of which shard; made by {@link ShardPlanner}.
 *
 * @param images every image once, in image-id order
 * @param shards the shards, by split then split-local index; {@link PlannedImage#shard()} indexes
 *     this list
 */
public record ShardPlan(List<PlannedImage> images, List<ShardSpec> shards) {
  /** Copies the lists. */
  public ShardPlan {
    images = List.copyOf(images);
    shards = List.copyOf(shards);
  }

  /** The rows of shard {@code shard} (an index into {@link #shards()}), in row order. */
  public List<PlannedImage> rowsOf(int shard) {
    if (shard < 0 || shard >= shards.size()) {
      throw new IllegalArgumentException(
          "Shard must be in [0, " + shards.size() + "), cannot be: " + shard);
    }
    List<PlannedImage> rows = new ArrayList<>(shards.get(shard).rows());
    for (PlannedImage image : images) {
      if (image.shard() == shard) {
        rows.add(image);
      }
    }
    rows.sort(Comparator.comparingInt(PlannedImage::position));
    return rows;
  }
}
