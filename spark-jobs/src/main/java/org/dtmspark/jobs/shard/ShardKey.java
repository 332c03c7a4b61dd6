package org.dtmspark.jobs.shard;

import java.io.Serializable;
import java.util.Comparator;

/**
 * Where a row goes: the shard (global index of the plan) and its planned position in it.
 *
 * @param shard global shard index
 * @param position planned row position within the shard
 */
record ShardKey(int shard, int position) implements Serializable {
  /** Shard, then position; serializable for Spark's sort. */
  static final Comparator<ShardKey> ORDER = new Order();

  private static final class Order implements Comparator<ShardKey>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(ShardKey a, ShardKey b) {
      int c = Integer.compare(a.shard, b.shard);
      return c != 0 ? c : Integer.compare(a.position, b.position);
    }
  }
}
