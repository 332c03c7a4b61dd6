package org.dtmspark.data.plan;

/**
 * How big the shards of a split are: a fixed number of shards per split, or a target number of
 * image bytes per shard.
 */
public sealed interface ShardSize {
  /** Every split gets {@code count} shards whose row counts differ by at most one. */
  static ShardSize numShards(int count) {
    return new NumShards(count);
  }

  /**
   * Shards are filled in shuffled order until the next image would take them past {@code bytes} of
   * source image bytes; an image larger than that gets a shard of its own.
   */
  static ShardSize targetBytes(long bytes) {
    return new TargetBytes(bytes);
  }

  /**
   * A fixed number of shards per split.
   *
   * @param count shards per split, at least 1 and at most the number of images of each split
   */
  record NumShards(int count) implements ShardSize {
    /** Validates the count. */
    public NumShards {
      if (count < 1) {
        throw new IllegalArgumentException(
            "Number of shards must be at least 1, cannot be: " + count);
      }
    }
  }

  /**
   * A target shard size.
   *
   * @param bytes source image bytes per shard, at least 1
   */
  record TargetBytes(long bytes) implements ShardSize {
    /** Validates the size. */
    public TargetBytes {
      if (bytes < 1) {
        throw new IllegalArgumentException(
            "Target shard size in bytes must be at least 1, cannot be: " + bytes);
      }
    }
  }
}
