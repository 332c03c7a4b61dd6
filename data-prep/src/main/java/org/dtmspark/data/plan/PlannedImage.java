package org.dtmspark.data.plan;

import java.io.Serializable;

/**
 * Where one image goes.
 *
 * @param imageId the image's id: its index in the planner's input sorted by {@link
 *     SourceImage#ORDER}, dense from 0 over all splits, independent of the seed
 * @param source the image
 * @param label the index of its wnid in the synset list, or {@code -1} when its wnid is unknown
 *     ({@code null})
 * @param shard the index of its shard in {@link ShardPlan#shards()} (not the split-local {@link
 *     ShardSpec#index()})
 * @param position its row within the shard, from 0
 */
public record PlannedImage(long imageId, SourceImage source, int label, int shard, int position)
    implements Serializable {
  /** Validates the numbers. */
  public PlannedImage {
    if (imageId < 0 || label < -1 || shard < 0 || position < 0) {
      throw new IllegalArgumentException(
          "Planned image id, shard and position must be at least 0 and label at least -1,"
              + " cannot be: "
              + imageId
              + ", "
              + shard
              + ", "
              + position
              + ", "
              + label);
    }
  }
}
