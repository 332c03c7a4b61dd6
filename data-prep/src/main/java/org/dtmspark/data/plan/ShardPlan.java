package org.dtmspark.data.plan;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;

/**
 * Which image goes to which row of which shard; made by {@link ShardPlanner}.
 *
 * @param images every image once, in image-id order
 * @param shards the shards, by split then split-local index; {@link PlannedImage#shard()} indexes
 *     this list
 */
public record ShardPlan(List<PlannedImage> images, List<ShardSpec> shards) implements Serializable {
  /**
   * Copies the lists and checks that they agree: ids are {@code 0..n-1} in order, and every row of
   * every shard holds exactly one image of the shard's split.
   */
  public ShardPlan {
    images = List.copyOf(images);
    shards = List.copyOf(shards);
    long[] firstRow = new long[shards.size() + 1];
    for (int s = 0; s < shards.size(); s++) {
      firstRow[s + 1] = firstRow[s] + shards.get(s).rows();
    }
    if (firstRow[shards.size()] != images.size()) {
      throw new IllegalArgumentException(
          "Shard rows must add up to the number of images ("
              + images.size()
              + "), cannot be: "
              + firstRow[shards.size()]);
    }
    BitSet taken = new BitSet(images.size());
    for (int i = 0; i < images.size(); i++) {
      PlannedImage image = images.get(i);
      if (image.imageId() != i) {
        throw new IllegalArgumentException(
            "Image ids must be 0..n-1 in order, cannot have " + image.imageId() + " at " + i);
      }
      if (image.shard() >= shards.size()
          || image.position() >= shards.get(image.shard()).rows()
          || !shards.get(image.shard()).split().equals(image.source().split())
          || taken.get((int) (firstRow[image.shard()] + image.position()))) {
        throw new IllegalArgumentException(
            "Each image must have a free row of a shard of its split, cannot have image "
                + i
                + " at shard "
                + image.shard()
                + " row "
                + image.position());
      }
      taken.set((int) (firstRow[image.shard()] + image.position()));
    }
  }

  /**
   * The rows of every shard: element {@code s} holds the images of {@code shards().get(s)} in row
   * order. One pass over the images.
   */
  public List<List<PlannedImage>> rowsByShard() {
    List<List<PlannedImage>> rows = new ArrayList<>(shards.size());
    for (ShardSpec shard : shards) {
      rows.add(new ArrayList<>(Collections.nCopies(shard.rows(), (PlannedImage) null)));
    }
    for (PlannedImage image : images) {
      rows.get(image.shard()).set(image.position(), image);
    }
    List<List<PlannedImage>> result = new ArrayList<>(rows.size());
    for (List<PlannedImage> shard : rows) {
      result.add(List.copyOf(shard));
    }
    return List.copyOf(result);
  }

  /**
   * The rows of shard {@code shard} (an index into {@link #shards()}), in row order; a pass over
   * all images, so use {@link #rowsByShard()} for many shards.
   */
  public List<PlannedImage> rowsOf(int shard) {
    if (shard < 0 || shard >= shards.size()) {
      throw new IllegalArgumentException(
          "Shard must be in [0, " + shards.size() + "), cannot be: " + shard);
    }
    return rowsByShard().get(shard);
  }
}
