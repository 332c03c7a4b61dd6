package org.dtmspark.jobs.shard;

import org.apache.spark.Partitioner;

/** Partition {@code i} holds the rows of shard {@code i}. */
final class ShardPartitioner extends Partitioner {
  private static final long serialVersionUID = 1L;
  private final int shards;

  ShardPartitioner(int shards) {
    this.shards = shards;
  }

  @Override
  public int numPartitions() {
    return shards;
  }

  @Override
  public int getPartition(Object key) {
    return ((ShardKey) key).shard();
  }
}
